// Shared helpers for the config tests: parse text and get its diagnostics, and run a block with
// the working directory set to the test data directory (relative %include depends on it).
#pragma once

#include <sabakan/config/config.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sabakan::config::test {

/// The diagnostics parse() throws for `text`; empty when it loads.
inline std::vector<diagnostic> errors_of(std::string_view text,
                                         const std::string& file = "test.ini") {
    try {
        (void)parse(text, file);
    } catch (const config_error& e) {
        return e.diagnostics();
    }
    return {};
}

/// The single diagnostic for `text`, formatted; fails the test if there is not exactly one.
inline std::string only_error(std::string_view text) {
    const std::vector<diagnostic> d = errors_of(text);
    EXPECT_EQ(d.size(), 1U) << "for: " << text;
    return d.empty() ? std::string("no error") : format(d.front());
}

/// Changes the working directory for the lifetime of the object.
class scoped_cwd {
public:
    explicit scoped_cwd(const std::filesystem::path& dir)
        : saved_(std::filesystem::current_path()) {
        std::filesystem::current_path(dir);
    }
    ~scoped_cwd() { std::filesystem::current_path(saved_); }
    scoped_cwd(const scoped_cwd&) = delete;
    scoped_cwd& operator=(const scoped_cwd&) = delete;

private:
    std::filesystem::path saved_;
};

}  // namespace sabakan::config::test

// The ini layer of the config: lines, comments, [sections], `key = value` and %include.
// Like PgBouncer, a comment is a line whose first non-blank character is ';' or '#', a value
// runs to the end of its line, and a relative %include is read from the working directory.
#include "ini_reader.hpp"

#include "values.hpp"

#include <sabakan/core/file.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

namespace sabakan::config::detail {
namespace {

// PgBouncer (libusual cfparser) stops at this include depth; a deeper chain is almost surely
// a loop through different spellings of one path.
constexpr std::size_t max_include_depth = 10;

// Two spellings of one file must compare equal, or an include loop would go unnoticed.
std::string identity(const std::string& path) {
    std::error_code ec;
    const std::filesystem::path p = std::filesystem::weakly_canonical(path, ec);
    return ec ? path : p.string();
}

bool is_key_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '*';
}

class reader {
public:
    explicit reader(std::vector<ini_item>& items) : items_(items) {}

    void read_file(const std::string& path) {
        std::string text;
        std::string why;
        if (!core::read_whole_file(path, text, why)) {
            error(path, 0, "", fmt::format("cannot read the config file: {}", why));
            return;
        }
        read_text(text, path);
    }

    void read_text(std::string_view text, const std::string& file_name) {
        open_.push_back({identity(file_name), file_name});
        int line_no = 0;
        while (!text.empty()) {
            ++line_no;
            const std::size_t eol = text.find('\n');
            read_line(trim(text.substr(0, eol)), file_name, line_no);
            text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        }
        open_.pop_back();
    }

private:
    struct open_file {
        std::string identity;
        std::string name;  // as written, for messages
    };

    void error(const std::string& file, int line, std::string_view key, std::string message) {
        items_.push_back(
            {ini_item::kind::problem, std::string(key), std::move(message), file, line});
    }

    void read_line(std::string_view line, const std::string& file, int line_no) {
        if (line.empty() || line.front() == ';' || line.front() == '#') {
            return;
        }
        if (line.starts_with("%include")) {
            const std::string_view rest = line.substr(8);
            if (rest.empty() || !is_blank(rest.front()) || trim(rest).empty()) {
                error(file, line_no, "%include",
                      "expected a file name after %include, like %include /etc/pgbouncer/db.ini");
                return;
            }
            include(std::string(trim(rest)), file, line_no);
            return;
        }
        if (line.front() == '[') {
            read_section(line, file, line_no);
            return;
        }
        read_key_value(line, file, line_no);
    }

    void read_section(std::string_view line, const std::string& file, int line_no) {
        const std::size_t close = line.find(']');
        if (close == std::string_view::npos) {
            error(file, line_no, line,
                  "section header has no closing ']'; write it like [pgbouncer]");
            return;
        }
        const std::string_view rest = trim(line.substr(close + 1));
        if (!rest.empty() && rest.front() != ';' && rest.front() != '#') {
            // Still open the section: the header itself is clear, only the rest is dropped.
            error(file, line_no, line.substr(0, close + 1),
                  "unexpected text after the section header; put each setting on its own line");
        }
        items_.push_back({ini_item::kind::section, std::string(trim(line.substr(1, close - 1))), "",
                          file, line_no});
    }

    void read_key_value(std::string_view line, const std::string& file, int line_no) {
        std::string key;
        std::size_t pos = 0;
        if (line.front() == '"') {
            // PgBouncer's docs: names with other characters are double-quoted, "" is one '"'.
            for (pos = 1;; ++pos) {
                if (pos >= line.size()) {
                    error(file, line_no, line.substr(0, line.find('=')),
                          "the quoted name has no closing '\"' (write a '\"' inside a name as "
                          "'\"\"')");
                    return;
                }
                if (line[pos] == '"') {
                    if (pos + 1 < line.size() && line[pos + 1] == '"') {
                        ++pos;
                    } else {
                        ++pos;
                        break;
                    }
                }
                key.push_back(line[pos]);
            }
        } else {
            while (pos < line.size() && is_key_char(line[pos])) {
                ++pos;
            }
            key = line.substr(0, pos);
        }
        const std::string_view rest = trim(line.substr(pos));
        if (!rest.starts_with('=')) {
            report_bad_line(line, rest, pos, file, line_no);
            return;
        }
        if (key.empty()) {
            error(file, line_no, "", "the name before '=' is empty");
            return;
        }
        items_.push_back({ini_item::kind::key_value, std::move(key),
                          std::string(trim(rest.substr(1))), file, line_no});
    }

    void report_bad_line(std::string_view line, std::string_view rest, std::size_t key_end,
                         const std::string& file, int line_no) {
        const std::size_t eq = line.find('=');
        if (key_end == 0 && eq == std::string_view::npos) {
            error(file, line_no, "",
                  "expected 'key = value', a [section] header, %include or a comment starting "
                  "with ; or #");
        } else if (eq == std::string_view::npos) {
            error(file, line_no, line, "expected '=' and a value after the key");
        } else if (line.front() == '"') {
            error(file, line_no, trim(line.substr(0, eq)),
                  "expected '=' right after the closing '\"' of the name");
        } else {
            error(file, line_no, trim(line.substr(0, eq)),
                  fmt::format("'{}' cannot appear in an unquoted name; a name with characters "
                              "other than letters, digits, _ . - * must be in double quotes, "
                              "like \"my db\" = host=...",
                              rest.front()));
        }
    }

    void include(const std::string& target, const std::string& file, int line_no) {
        const std::string id = identity(target);
        for (const open_file& f : open_) {
            if (f.identity == id) {
                std::string chain;
                for (const open_file& g : open_) {
                    chain += g.name + " -> ";
                }
                error(file, line_no, "%include",
                      fmt::format("include loop ({}{}); remove one of these %include lines", chain,
                                  target));
                return;
            }
        }
        if (open_.size() > max_include_depth) {
            error(
                file, line_no, "%include",
                fmt::format("includes nested more than {} deep; flatten them", max_include_depth));
            return;
        }
        std::string text;
        std::string why;
        if (!core::read_whole_file(target, text, why)) {
            std::string hint;
            std::error_code ec;
            if (std::filesystem::path(target).is_relative()) {
                hint = fmt::format(
                    " (a relative name is read from the working directory, {}, "
                    "as PgBouncer does; an absolute path avoids surprises)",
                    std::filesystem::current_path(ec).string());
            }
            error(file, line_no, "%include",
                  fmt::format("cannot read {}: {}{}", target, why, hint));
            return;
        }
        read_text(text, target);
    }

    std::vector<ini_item>& items_;
    std::vector<open_file> open_;  // the file being read and those including it, outermost first
};

}  // namespace

void read_ini_file(const std::string& path, std::vector<ini_item>& items) {
    reader(items).read_file(path);
}

void read_ini_text(std::string_view text, const std::string& file_name,
                   std::vector<ini_item>& items) {
    reader(items).read_text(text, file_name);
}

}  // namespace sabakan::config::detail

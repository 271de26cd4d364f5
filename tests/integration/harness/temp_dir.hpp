// A directory under $TMPDIR (else /dev/shm when roomy, else /tmp) that exists for the lifetime of
// one object and is deleted with everything in it afterwards. It does not pick names for files
// inside.
#pragma once

#include <string>

namespace sabakan::integration {

class temp_dir {
public:
    /// Creates a fresh directory named `<prefix>-XXXXXX`; throws std::runtime_error on failure.
    explicit temp_dir(const std::string& prefix);
    /// The same, in `base` instead (a test that mounts over /dev cannot use /dev/shm).
    temp_dir(const std::string& prefix, const std::string& base);
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::string& path() const noexcept { return path_; }
    /// `path()/name`.
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    /// Hands the directory to another user (initdb as `postgres` when the tests run as root).
    void give_to(unsigned uid, unsigned gid) const;

private:
    std::string path_;
};

/// The whole content of a file, or "" when it cannot be read.
std::string read_file(const std::string& path);
/// Writes `text` to `path`, replacing it; throws std::runtime_error on failure.
void write_file(const std::string& path, const std::string& text);
/// Appends `text` to `path`; throws std::runtime_error on failure.
void append_file(const std::string& path, const std::string& text);

}  // namespace sabakan::integration

// Temporary directories and small file helpers for the harness.
#include "harness/temp_dir.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace sabakan::integration {

namespace {

/// $TMPDIR, else /dev/shm when it is a memory file system with room to spare, else /tmp.
/// Every test copies a 50 MB cluster and PostgreSQL writes into it: in memory that costs
/// a tenth of what a disk-backed /tmp does (0.09 s against 0.68 s per copy, measured).
std::string temp_base() {
    const char* env = std::getenv("TMPDIR");
    if (env != nullptr && *env != '\0') {
        return env;
    }
    struct statvfs fs {};
    constexpr unsigned long long room = 2ULL << 30;  // containers often give it 64 MB
    if (::access("/dev/shm", W_OK | X_OK) == 0 && ::statvfs("/dev/shm", &fs) == 0 &&
        static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize >= room) {
        return "/dev/shm";
    }
    return "/tmp";
}

}  // namespace

temp_dir::temp_dir(const std::string& prefix) : temp_dir(prefix, temp_base()) {}

temp_dir::temp_dir(const std::string& prefix, const std::string& base) {
    std::string pattern = base + "/" + prefix + "-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
        throw std::runtime_error("mkdtemp(" + pattern + "): " + std::strerror(errno));
    }
    path_ = buf.data();
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

void temp_dir::give_to(unsigned uid, unsigned gid) const {
    if (::chown(path_.c_str(), uid, gid) != 0) {
        throw std::runtime_error("chown(" + path_ + "): " + std::strerror(errno));
    }
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) {
        throw std::runtime_error("cannot write " + path);
    }
}

void append_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << text;
    if (!out.flush()) {
        throw std::runtime_error("cannot append to " + path);
    }
}

}  // namespace sabakan::integration

// Whole-file reads through stdio: the files are small and read once per (re)load.
#include <sabakan/core/file.hpp>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>

namespace sabakan::core {

bool read_whole_file(const std::string& path, std::string& text, std::string& why) {
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{std::fopen(path.c_str(), "rb"),
                                                               &std::fclose};
    if (!file) {
        why = std::generic_category().message(errno);
        return false;
    }
    char buf[8192];
    for (;;) {
        const std::size_t n = std::fread(buf, 1, sizeof buf, file.get());
        text.append(buf, n);
        if (n < sizeof buf) {
            break;
        }
    }
    if (std::ferror(file.get()) != 0) {
        why = std::generic_category().message(errno);
        return false;
    }
    return true;
}

}  // namespace sabakan::core

// Log sink: one mutex-guarded FILE*, since log lines are rare next to forwarded messages.
#include <sabakan/core/log.hpp>

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

namespace sabakan::log {
namespace {

std::mutex mutex_;
std::FILE* file_ = nullptr;
bool to_stderr_ = true;
std::atomic<int> max_level_{static_cast<int>(level::log)};

const char* name(level lv) {
    switch (lv) {
        case level::fatal:
            return "FATAL";
        case level::error:
            return "ERROR";
        case level::warning:
            return "WARNING";
        case level::log:
            return "LOG";
        case level::debug:
            return "DEBUG";
        case level::noise:
            return "NOISE";
    }
    return "LOG";
}

}  // namespace

bool configure(const options& opts, std::string* error) {
    std::FILE* f = nullptr;
    if (!opts.file.empty()) {
        f = std::fopen(opts.file.c_str(), "a");
        if (f == nullptr) {
            if (error != nullptr) {
                *error =
                    fmt::format("cannot open log file {}: {}", opts.file, std::strerror(errno));
            }
            return false;
        }
        std::setvbuf(f, nullptr, _IOLBF, 0);
    }
    std::lock_guard lock(mutex_);
    if (file_ != nullptr) {
        std::fclose(file_);
    }
    file_ = f;
    to_stderr_ = opts.to_stderr;
    int lv = static_cast<int>(level::log) + (opts.verbose > 2 ? 2 : opts.verbose);
    max_level_.store(lv, std::memory_order_relaxed);
    return true;
}

bool enabled(level lv) noexcept {
    return static_cast<int>(lv) <= max_level_.load(std::memory_order_relaxed);
}

void write(level lv, std::string_view message) {
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    auto line = fmt::format("{}.{:03d} UTC [{}] {} {}\n", stamp, ms, ::getpid(), name(lv), message);
    std::lock_guard lock(mutex_);
    if (to_stderr_) {
        std::fwrite(line.data(), 1, line.size(), stderr);
    }
    if (file_ != nullptr) {
        std::fwrite(line.data(), 1, line.size(), file_);
    }
}

}  // namespace sabakan::log

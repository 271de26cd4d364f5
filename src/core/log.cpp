// Log sink: one mutex-guarded FILE*, since log lines are rare next to forwarded messages.
#include <sabakan/core/log.hpp>

#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iterator>
#include <mutex>
#include <utility>

namespace sabakan::log {
namespace {

std::mutex mutex_;
std::FILE* file_ = nullptr;
bool to_stderr_ = true;
std::atomic<int> max_level_{static_cast<int>(level::log)};
bool syslog_open_ = false;
std::string syslog_ident_;  // openlog() keeps the pointer, so the text lives here

int syslog_priority(level lv) {
    switch (lv) {
        case level::fatal:
            return LOG_CRIT;
        case level::error:
            return LOG_ERR;
        case level::warning:
            return LOG_WARNING;
        case level::log:
            return LOG_INFO;
        case level::debug:
        case level::noise:
            return LOG_DEBUG;
    }
    return LOG_INFO;
}

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

bool is_control(unsigned char c) noexcept {
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

// The bytes at `i` that make a control character: a C0 byte or DEL (1), or a C1 control in
// UTF-8 (2: 0xC2 0x80..0x9F, which a UTF-8 terminal takes as CSI and the like); else 0.
std::size_t control_at(std::string_view s, std::size_t i) noexcept {
    const auto c = static_cast<unsigned char>(s[i]);
    if (is_control(c)) {
        return 1;
    }
    if (c == 0xc2 && i + 1 < s.size()) {
        const auto next = static_cast<unsigned char>(s[i + 1]);
        return next >= 0x80 && next <= 0x9f ? 2 : 0;
    }
    return 0;
}

// Log lines carry client-sent text (user and database names, application_name, server
// messages), so no raw control byte may reach the log: a newline continues the line as a
// newline and a tab, as PostgreSQL's own log does, so no text can start a forged line;
// every other control byte (ESC's terminal sequences included) is written as \xNN, and a
// UTF-8 C1 control as its two bytes so.
std::string_view escaped(std::string_view message, std::string& scratch) {
    std::size_t first = 0;
    while (first < message.size() && control_at(message, first) == 0) {
        ++first;
    }
    if (first == message.size()) {
        return message;
    }
    scratch.assign(message.substr(0, first));
    for (std::size_t i = first; i < message.size(); ++i) {
        const std::size_t n = control_at(message, i);
        if (n == 0) {
            scratch += message[i];
        } else if (message[i] == '\n') {
            scratch += "\n\t";
        } else {
            for (std::size_t k = 0; k < n; ++k) {
                fmt::format_to(std::back_inserter(scratch), "\\x{:02x}",
                               static_cast<unsigned char>(message[i + k]));
            }
            i += n - 1;
        }
    }
    return scratch;
}

}  // namespace

int syslog_facility(std::string_view name) noexcept {
    static constexpr std::pair<std::string_view, int> facilities[] = {
        {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"daemon", LOG_DAEMON},
        {"user", LOG_USER},     {"local0", LOG_LOCAL0},     {"local1", LOG_LOCAL1},
        {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},     {"local4", LOG_LOCAL4},
        {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},     {"local7", LOG_LOCAL7},
    };
    for (const auto& [n, code] : facilities) {
        if (n == name) {
            return code;
        }
    }
    return -1;
}

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
    if (syslog_open_) {
        ::closelog();
        syslog_open_ = false;
    }
    if (opts.syslog) {
        const int facility = syslog_facility(opts.syslog_facility);
        syslog_ident_ = opts.syslog_ident;
        ::openlog(syslog_ident_.c_str(), LOG_PID | LOG_NDELAY,
                  facility < 0 ? LOG_DAEMON : facility);
        syslog_open_ = true;
    }
    int lv = static_cast<int>(level::log) + (opts.verbose > 2 ? 2 : opts.verbose);
    max_level_.store(lv, std::memory_order_relaxed);
    return true;
}

bool enabled(level lv) noexcept {
    return static_cast<int>(lv) <= max_level_.load(std::memory_order_relaxed);
}

void write(level lv, std::string_view raw) {
    std::string scratch;
    const std::string_view message = escaped(raw, scratch);
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
    if (syslog_open_) {
        ::syslog(syslog_priority(lv), "%.*s", static_cast<int>(message.size()), message.data());
    }
}

}  // namespace sabakan::log

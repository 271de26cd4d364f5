// Process-wide logger: PgBouncer-like lines "2026-11-22 10:16:52.123 UTC [pid] LOG message"
// to stderr and/or a log file, and the message alone to syslog, which stamps its own time
// and pid. Formatting happens only when the level is enabled.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace sabakan::log {

enum class level { fatal, error, warning, log, debug, noise };

struct options {
    std::string file;       // empty: no log file
    bool to_stderr = true;  // -q turns this off
    int verbose = 0;        // 1: debug, 2+: noise
    bool syslog = false;
    std::string syslog_ident = "sabakan";
    std::string syslog_facility = "daemon";  // one syslog_facility() knows
};

/// The syslog(3) facility code of a name PgBouncer accepts (auth, authpriv, daemon, user,
/// local0 .. local7), or -1.
int syslog_facility(std::string_view name) noexcept;

/// Applies new options; reopens the log file (SIGHUP/RELOAD). Returns false and keeps
/// logging to the old destination when the file cannot be opened.
bool configure(const options& opts, std::string* error = nullptr);

bool enabled(level lv) noexcept;
void write(level lv, std::string_view message);

template <typename... Args>
void emit(level lv, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(lv)) {
        write(lv, fmt::format(f, std::forward<Args>(args)...));
    }
}

template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
    emit(level::log, f, std::forward<Args>(args)...);
}
template <typename... Args>
void warning(fmt::format_string<Args...> f, Args&&... args) {
    emit(level::warning, f, std::forward<Args>(args)...);
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
    emit(level::error, f, std::forward<Args>(args)...);
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
    emit(level::debug, f, std::forward<Args>(args)...);
}

}  // namespace sabakan::log

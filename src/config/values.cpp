// Readers for single config values. They follow how PgBouncer reads the same text (strtol with
// base 0 for integers, strtod for seconds, case-insensitive enum names) and add only the
// spellings PgBouncer's docs promise, so a file PgBouncer accepts reads the same here.
#include "values.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <iterator>
#include <system_error>

namespace sabakan::config::detail {

bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_blank(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_blank(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

namespace {

char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

std::optional<long long> parse_integer(std::string_view s, long long lo, long long hi) noexcept {
    bool negative = false;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s.remove_prefix(2);
    } else if (s.size() > 1 && s[0] == '0') {
        base = 8;
        s.remove_prefix(1);
    }
    unsigned long long magnitude = 0;
    const char* end = s.data() + s.size();
    const auto [stop, ec] = std::from_chars(s.data(), end, magnitude, base);
    if (s.empty() || ec != std::errc{} || stop != end || magnitude > LLONG_MAX) {
        return std::nullopt;
    }
    const long long value =
        negative ? -static_cast<long long>(magnitude) : static_cast<long long>(magnitude);
    if (value < lo || value > hi) {
        return std::nullopt;
    }
    return value;
}

std::optional<long long> parse_decimal(std::string_view s, long long lo, long long hi) noexcept {
    if (s.starts_with('+')) {
        s.remove_prefix(1);
        if (s.starts_with('-')) {
            return std::nullopt;
        }
    }
    long long value = 0;
    const char* end = s.data() + s.size();
    const auto [stop, ec] = std::from_chars(s.data(), end, value);
    if (s.empty() || ec != std::errc{} || stop != end || value < lo || value > hi) {
        return std::nullopt;
    }
    return value;
}

std::optional<int> parse_file_mode(std::string_view s) noexcept {
    unsigned mode = 0;
    const char* end = s.data() + s.size();
    const auto [stop, ec] = std::from_chars(s.data(), end, mode, 8);
    if (s.empty() || ec != std::errc{} || stop != end || mode > 07777) {
        return std::nullopt;
    }
    return static_cast<int>(mode);
}

std::optional<bool> parse_bool(std::string_view s) noexcept {
    for (std::string_view word : {"yes", "on", "true"}) {
        if (iequals(s, word)) {
            return true;
        }
    }
    for (std::string_view word : {"no", "off", "false"}) {
        if (iequals(s, word)) {
            return false;
        }
    }
    if (const auto n = parse_integer(s, INT_MIN, INT_MAX)) {
        return *n != 0;
    }
    return std::nullopt;
}

std::optional<duration> parse_seconds(std::string_view s) noexcept {
    // A bound well inside int64 microseconds; no timeout needs more than ~31,000 years.
    constexpr double max_seconds = 1e12;
    if (!s.empty() && s.front() == '+') {
        s.remove_prefix(1);
    }
    double seconds = 0;
    const char* end = s.data() + s.size();
    const auto [stop, ec] = std::from_chars(s.data(), end, seconds);
    if (s.empty() || ec != std::errc{} || stop != end || !std::isfinite(seconds) || seconds < 0 ||
        seconds > max_seconds) {
        return std::nullopt;
    }
    return duration(std::llround(seconds * 1e6));
}

std::optional<pool_mode> parse_pool_mode(std::string_view s) noexcept {
    for (std::size_t i = 0; i < std::size(pool_mode_names); ++i) {
        if (iequals(s, pool_mode_names[i])) {
            return static_cast<pool_mode>(i);
        }
    }
    return std::nullopt;
}

std::optional<auth_type> parse_auth_type(std::string_view s) noexcept {
    for (std::size_t i = 0; i < std::size(auth_type_names); ++i) {
        if (iequals(s, auth_type_names[i])) {
            return static_cast<auth_type>(i);
        }
    }
    return std::nullopt;
}

std::vector<std::string> split_list(std::string_view s) {
    std::vector<std::string> items;
    while (true) {
        const std::size_t comma = s.find(',');
        const std::string_view item = trim(s.substr(0, comma));
        if (!item.empty()) {
            items.emplace_back(item);
        }
        if (comma == std::string_view::npos) {
            return items;
        }
        s.remove_prefix(comma + 1);
    }
}

std::optional<std::string_view> match_choice(std::string_view v,
                                             std::span<const std::string_view> choices) noexcept {
    for (std::string_view c : choices) {
        if (iequals(v, c)) {
            return c;
        }
    }
    return std::nullopt;
}

std::string one_of(std::span<const std::string_view> choices) {
    std::string out;
    for (std::size_t i = 0; i < choices.size(); ++i) {
        if (i > 0) {
            out += i + 1 == choices.size() ? " or " : ", ";
        }
        out += choices[i];
    }
    return out;
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            const std::size_t substitute = diagonal + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
            row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// The choice closest to `word` when it is a likely typo (case-only difference or at most
// two edits), else empty.
std::string_view closest(std::string_view word, std::span<const std::string_view> choices) {
    std::string_view best;
    std::size_t best_distance = 3;  // more than two edits is a different word, not a typo
    for (std::string_view choice : choices) {
        const std::size_t d = edit_distance(word, choice);
        if (d < best_distance && d < choice.size()) {
            best = choice;
            best_distance = d;
        }
    }
    return best;
}

}  // namespace

std::string did_you_mean(std::string_view word, std::span<const std::string_view> choices,
                         std::string_view open, std::string_view close) {
    const std::string_view guess = closest(word, choices);
    if (guess.empty()) {
        return {};
    }
    if (iequals(word, guess)) {
        return fmt::format("names are case-sensitive, write {}{}{}", open, guess, close);
    }
    return fmt::format("did you mean {}{}{}?", open, guess, close);
}

}  // namespace sabakan::config::detail

// Readers for single config values (numbers, booleans, seconds, lists, enums), shared by the
// [pgbouncer] table and the [databases]/[users]/[peers] lines. Each returns nullopt on bad
// input and leaves wording the error to the caller, who knows the key.
#pragma once

#include <sabakan/config/config.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sabakan::config::detail {

bool is_blank(char c) noexcept;
std::string_view trim(std::string_view s) noexcept;
bool iequals(std::string_view a, std::string_view b) noexcept;

/// A whole number read as C's strtol(base 0) does, as PgBouncer reads its integers:
/// `0x1f` is hex and a leading 0 means octal. nullopt if not a number or outside [lo, hi].
std::optional<long long> parse_integer(std::string_view s, long long lo, long long hi) noexcept;

/// A plain decimal whole number in [lo, hi] (connection strings: PgBouncer reads those with
/// atoi, so `05432` is 5432 there, not octal).
std::optional<long long> parse_decimal(std::string_view s, long long lo, long long hi) noexcept;

/// Octal digits with or without the leading 0 (`0777`, `777`); nullopt if > 07777.
std::optional<int> parse_file_mode(std::string_view s) noexcept;

/// 0/1 or any integer (nonzero is on, as PgBouncer reads its int flags), or yes/no, on/off,
/// true/false in any case.
std::optional<bool> parse_bool(std::string_view s) noexcept;

/// Seconds, fractions allowed (`0.5`, `1e3`), no unit; stored as microseconds.
std::optional<duration> parse_seconds(std::string_view s) noexcept;

std::optional<pool_mode> parse_pool_mode(std::string_view s) noexcept;
std::optional<auth_type> parse_auth_type(std::string_view s) noexcept;

/// Comma-separated items with blanks trimmed; empty items dropped.
std::vector<std::string> split_list(std::string_view s);

/// `choices` joined as "a, b or c", for messages that list what is allowed.
std::string one_of(std::span<const std::string_view> choices);

/// The entry of `choices` that equals `v` ignoring case (so the stored spelling is the
/// canonical one); nullopt when none does.
std::optional<std::string_view> match_choice(std::string_view v,
                                             std::span<const std::string_view> choices) noexcept;

/// "did you mean 'x'?" for a likely typo of one of `choices`, or "names are case-sensitive,
/// write 'x'" when only the case differs; empty when nothing is close. `open`/`close` wrap
/// the suggestion (quotes, or brackets for sections).
std::string did_you_mean(std::string_view word, std::span<const std::string_view> choices,
                         std::string_view open = "'", std::string_view close = "'");

inline constexpr std::string_view pool_mode_names[] = {"session", "transaction", "statement"};
inline constexpr std::string_view auth_type_names[] = {
    "cert", "md5", "scram-sha-256", "plain", "trust", "any", "hba", "ldap", "pam"};

}  // namespace sabakan::config::detail

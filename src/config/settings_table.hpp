// The [pgbouncer] section: one table row per key PgBouncer 1.25 knows, naming the field it
// fills, how its text is read and whether RELOAD may change it.
#pragma once

#include <sabakan/config/config.hpp>

#include <string>
#include <string_view>

namespace sabakan::config::detail {

/// Sets `key` in `s` from `value`. Returns an empty string on success; otherwise the message
/// for a diagnostic, saying the key is unknown or which values are allowed. `s` is unchanged
/// on failure.
std::string apply_setting(settings& s, std::string_view key, std::string_view value);

/// True when `key` is a [pgbouncer] key (exact spelling: PgBouncer's keys are case-sensitive).
bool is_setting(std::string_view key) noexcept;

}  // namespace sabakan::config::detail

// Fail closed: the values of settings that ask for behaviour sabakan does not have yet.
// Each rule names what would be missing and what to set instead; the loader turns a
// non-empty answer into a file:line diagnostic, so the start, --check, RELOAD and the
// console's SET all refuse the same values. Values that mean "off" are never refused.
#pragma once

#include <sabakan/config/config.hpp>

#include <string>
#include <string_view>

namespace sabakan::config::detail {

/// Why the [pgbouncer] key `key`, as `s` now holds it, cannot be honoured; empty when it can.
std::string unsupported_setting(const settings& s, std::string_view key);

/// Why a [databases] entry cannot be served as written (a host list, auth_user,
/// connect_query); empty when it can.
std::string unsupported_database(const database_entry& db);

}  // namespace sabakan::config::detail

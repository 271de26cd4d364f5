// Every SQLSTATE sabakan itself sends, in one place (errcodes-appendix.html).
#pragma once

#include <string_view>

namespace sabakan::protocol::sqlstate {

inline constexpr std::string_view protocol_violation = "08P01";
inline constexpr std::string_view connection_failure = "08006";
inline constexpr std::string_view cannot_connect_now = "57P03";
inline constexpr std::string_view admin_shutdown = "57P01";
inline constexpr std::string_view invalid_authorization = "28000";
inline constexpr std::string_view invalid_password = "28P01";
inline constexpr std::string_view invalid_catalog_name = "3D000";
inline constexpr std::string_view too_many_connections = "53300";
inline constexpr std::string_view feature_not_supported = "0A000";
inline constexpr std::string_view query_canceled = "57014";
inline constexpr std::string_view idle_in_transaction_timeout = "25P03";
inline constexpr std::string_view transaction_timeout = "25P04";
inline constexpr std::string_view idle_session_timeout = "57P05";
inline constexpr std::string_view program_limit_exceeded = "54000";
inline constexpr std::string_view internal_error = "XX000";
inline constexpr std::string_view reserved_name = "42939";
inline constexpr std::string_view duplicate_prepared_statement = "42P05";

}  // namespace sabakan::protocol::sqlstate

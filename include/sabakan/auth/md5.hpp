// MD5 password authentication as PostgreSQL does it (protocol-flow.html,
// AuthenticationMD5Password): the stored "md5..." secret, the salted response a client sends, and
// its verification. Nothing here talks to a socket; callers frame the PasswordMessage themselves.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace sabakan::auth {

/// Lower-case hex MD5 of `data` (32 characters).
std::string md5_hex(std::string_view data);

/// "md5" + md5_hex(password + user): what pg_authid and auth_file hold for md5 users.
std::string md5_password_secret(std::string_view password, std::string_view user);

/// True when `s` is "md5" followed by exactly 32 lower-case hex digits. Like PostgreSQL, any
/// other string (upper-case hex included) is taken to be a plain-text password.
bool is_md5_secret(std::string_view s);

/// The PasswordMessage content answering AuthenticationMD5Password with `salt`:
/// "md5" + md5_hex(inner + salt), where inner is the hex part of an md5 secret, or
/// md5_hex(password + user) when `secret_or_password` is plain text.
std::string md5_salted_response(std::string_view secret_or_password, std::string_view user,
                                std::span<const std::byte, 4> salt);

/// Checks a client's md5 response against what auth_file stores (md5 secret or plain text), in
/// constant time. Returns false for an empty stored value (an empty password never logs in) and
/// for a SCRAM secret, from which an md5 response cannot be computed.
bool verify_md5_response(std::string_view stored_secret_or_password, std::string_view user,
                         std::span<const std::byte, 4> salt, std::string_view client_response);

}  // namespace sabakan::auth

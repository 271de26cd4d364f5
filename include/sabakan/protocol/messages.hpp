// Composing the messages sabakan sends itself, and decoding the few backend messages
// it must read (Authentication, ErrorResponse, ParameterStatus, BackendKeyData).
#pragma once

#include <sabakan/protocol/bytes.hpp>
#include <sabakan/protocol/message_writer.hpp>
#include <sabakan/protocol/startup.hpp>
#include <sabakan/protocol/tags.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sabakan::protocol {

// ---- composing (backend side: to clients) ----

void append_error(byte_buffer& out, std::string_view severity, std::string_view sqlstate,
                  std::string_view message, std::string_view hint = {});
/// A NoticeResponse: severity NOTICE, SQLSTATE 00000, and a Detail field when given.
void append_notice(byte_buffer& out, std::string_view message, std::string_view detail = {});
void append_auth_request(byte_buffer& out, auth_request code, bytes_view extra = {});
void append_parameter_status(byte_buffer& out, std::string_view name, std::string_view value);
void append_backend_key_data(byte_buffer& out, cancel_key key);
/// NegotiateProtocolVersion: the newest version served for the major version asked for
/// (the docs say "minor version", but PostgreSQL sends the whole number, 3 << 16 for 3.0) and
/// the `_pq_.` options of the startup packet that are not recognised.
void append_negotiate_protocol_version(byte_buffer& out, std::int32_t newest_version,
                                       const std::vector<std::string_view>& unrecognised);
void append_ready_for_query(byte_buffer& out, transaction_status status);

// ---- composing (frontend side: to servers) ----

void append_startup(byte_buffer& out,
                    const std::vector<std::pair<std::string, std::string>>& params);
void append_cancel_request(byte_buffer& out, cancel_key key);
void append_password(byte_buffer& out, std::string_view password);
void append_sasl_initial(byte_buffer& out, std::string_view mechanism, std::string_view data);
void append_sasl_response(byte_buffer& out, std::string_view data);
void append_query(byte_buffer& out, std::string_view sql);
void append_terminate(byte_buffer& out);

// ---- decoding ----

/// The fields of an ErrorResponse or NoticeResponse that sabakan uses.
struct error_fields {
    std::string_view severity;  // 'S' (localized) or 'V'
    std::string_view sqlstate;  // 'C'
    std::string_view message;   // 'M'
};

/// Decodes the body of an 'E' or 'N' message. False if malformed.
bool decode_error(bytes_view body, error_fields& out) noexcept;

/// Decodes the body of a ParameterStatus message.
bool decode_parameter_status(bytes_view body, std::string_view& name,
                             std::string_view& value) noexcept;

bool decode_backend_key_data(bytes_view body, cancel_key& out) noexcept;

/// Decodes the body of an Authentication message: its code and the bytes after it.
bool decode_auth_request(bytes_view body, auth_request& code, bytes_view& rest) noexcept;

}  // namespace sabakan::protocol

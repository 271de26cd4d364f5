// Message type bytes of PostgreSQL's frontend/backend protocol 3.0, one enum per
// direction, because the same byte means different things each way ('S', 'D', 'C', 'E').
#pragma once

#include <cstdint>
#include <string_view>

namespace sabakan::protocol {

/// Messages a client (frontend) sends. Names follow protocol-message-formats.html.
enum class frontend_tag : char {
    bind = 'B',
    close = 'C',
    copy_data = 'd',
    copy_done = 'c',
    copy_fail = 'f',
    describe = 'D',
    execute = 'E',
    flush = 'H',
    function_call = 'F',
    parse = 'P',
    password = 'p',  // also SASLInitialResponse, SASLResponse, GSSResponse
    query = 'Q',
    sync = 'S',
    terminate = 'X',
};

/// Messages a server (backend) sends.
enum class backend_tag : char {
    authentication = 'R',
    backend_key_data = 'K',
    bind_complete = '2',
    close_complete = '3',
    command_complete = 'C',
    copy_data = 'd',
    copy_done = 'c',
    copy_in_response = 'G',
    copy_out_response = 'H',
    copy_both_response = 'W',
    data_row = 'D',
    empty_query_response = 'I',
    error_response = 'E',
    function_call_response = 'V',
    negotiate_protocol_version = 'v',
    no_data = 'n',
    notice_response = 'N',
    notification_response = 'A',
    parameter_description = 't',
    parameter_status = 'S',
    parse_complete = '1',
    portal_suspended = 's',
    ready_for_query = 'Z',
    row_description = 'T',
};

/// Authentication request codes carried in an 'R' message.
enum class auth_request : std::int32_t {
    ok = 0,
    kerberos_v5 = 2,
    cleartext_password = 3,
    md5_password = 5,
    gss = 7,
    gss_continue = 8,
    sspi = 9,
    sasl = 10,
    sasl_continue = 11,
    sasl_final = 12,
};

/// Codes of the untagged packets a client may open a connection with.
inline constexpr std::int32_t protocol_version_3 = 196608;  // 3.0
inline constexpr std::int32_t cancel_request_code = 80877102;
inline constexpr std::int32_t ssl_request_code = 80877103;
inline constexpr std::int32_t gssenc_request_code = 80877104;

/// What a Describe or a Close names.
enum class target_kind : char { statement = 'S', portal = 'P' };

/// Field type bytes of ErrorResponse and NoticeResponse (protocol-error-fields.html).
enum class error_field : char {
    severity = 'S',        // localized
    severity_plain = 'V',  // never localized
    sqlstate = 'C',
    message = 'M',
    detail = 'D',
    hint = 'H',
};

/// Transaction status byte of ReadyForQuery.
enum class transaction_status : char { idle = 'I', in_transaction = 'T', failed = 'E' };

std::string_view to_string(frontend_tag t) noexcept;
std::string_view to_string(backend_tag t) noexcept;

}  // namespace sabakan::protocol

// Message builders and the handful of backend decoders sabakan needs.
#include <sabakan/protocol/message_reader.hpp>
#include <sabakan/protocol/messages.hpp>

namespace sabakan::protocol {

namespace {

constexpr std::uint8_t field(error_field f) noexcept {
    return static_cast<std::uint8_t>(f);
}

}  // namespace

void append_error(byte_buffer& out, std::string_view severity, std::string_view sqlstate,
                  std::string_view message, std::string_view hint) {
    message_writer w{out};
    w.begin(backend_tag::error_response);
    w.u8(field(error_field::severity));
    w.cstring(severity);
    w.u8(field(error_field::severity_plain));
    w.cstring(severity);
    w.u8(field(error_field::sqlstate));
    w.cstring(sqlstate);
    w.u8(field(error_field::message));
    w.cstring(message);
    if (!hint.empty()) {
        w.u8(field(error_field::hint));
        w.cstring(hint);
    }
    w.u8(0);
    w.end();
}

void append_notice(byte_buffer& out, std::string_view message, std::string_view detail) {
    message_writer w{out};
    w.begin(backend_tag::notice_response);
    w.u8(field(error_field::severity));
    w.cstring("NOTICE");
    w.u8(field(error_field::severity_plain));
    w.cstring("NOTICE");
    w.u8(field(error_field::sqlstate));
    w.cstring("00000");
    w.u8(field(error_field::message));
    w.cstring(message);
    if (!detail.empty()) {
        w.u8(field(error_field::detail));
        w.cstring(detail);
    }
    w.u8(0);
    w.end();
}

void append_auth_request(byte_buffer& out, auth_request code, bytes_view extra) {
    message_writer w{out};
    w.begin(backend_tag::authentication);
    w.i32(static_cast<std::int32_t>(code));
    w.bytes(extra);
    w.end();
}

void append_parameter_status(byte_buffer& out, std::string_view name, std::string_view value) {
    message_writer w{out};
    w.begin(backend_tag::parameter_status);
    w.cstring(name);
    w.cstring(value);
    w.end();
}

void append_backend_key_data(byte_buffer& out, cancel_key key) {
    message_writer w{out};
    w.begin(backend_tag::backend_key_data);
    w.i32(key.pid);
    w.i32(key.secret);
    w.end();
}

void append_negotiate_protocol_version(byte_buffer& out, std::int32_t newest_version,
                                       const std::vector<std::string_view>& unrecognised) {
    message_writer w{out};
    w.begin(backend_tag::negotiate_protocol_version);
    w.i32(newest_version);
    w.i32(static_cast<std::int32_t>(unrecognised.size()));
    for (std::string_view name : unrecognised) {
        w.cstring(name);
    }
    w.end();
}

void append_ready_for_query(byte_buffer& out, transaction_status status) {
    message_writer w{out};
    w.begin(backend_tag::ready_for_query);
    w.u8(static_cast<std::uint8_t>(status));
    w.end();
}

void append_startup(byte_buffer& out,
                    const std::vector<std::pair<std::string, std::string>>& params) {
    message_writer w{out};
    w.begin_untagged();
    w.i32(protocol_version_3);
    for (const auto& [k, v] : params) {
        w.cstring(k);
        w.cstring(v);
    }
    w.u8(0);
    w.end();
}

void append_cancel_request(byte_buffer& out, cancel_key key) {
    message_writer w{out};
    w.begin_untagged();
    w.i32(cancel_request_code);
    w.i32(key.pid);
    w.i32(key.secret);
    w.end();
}

void append_password(byte_buffer& out, std::string_view password) {
    message_writer w{out};
    w.begin(frontend_tag::password);
    w.cstring(password);
    w.end();
}

void append_sasl_initial(byte_buffer& out, std::string_view mechanism, std::string_view data) {
    message_writer w{out};
    w.begin(frontend_tag::password);
    w.cstring(mechanism);
    w.i32(static_cast<std::int32_t>(data.size()));
    w.text(data);
    w.end();
}

void append_sasl_response(byte_buffer& out, std::string_view data) {
    message_writer w{out};
    w.begin(frontend_tag::password);
    w.text(data);
    w.end();
}

void append_query(byte_buffer& out, std::string_view sql) {
    message_writer w{out};
    w.begin(frontend_tag::query);
    w.cstring(sql);
    w.end();
}

void append_terminate(byte_buffer& out) {
    message_writer w{out};
    w.begin(frontend_tag::terminate);
    w.end();
}

bool decode_error(bytes_view body, error_fields& out) noexcept {
    message_reader r{body};
    out = {};
    for (;;) {
        auto code = r.u8();
        if (r.failed()) {
            return false;
        }
        if (code == 0) {
            break;
        }
        auto value = r.cstring();
        if (r.failed()) {
            return false;
        }
        switch (code) {
            case field(error_field::severity):
                if (out.severity.empty()) {
                    out.severity = value;
                }
                break;
            case field(error_field::severity_plain):
                out.severity = value;
                break;
            case field(error_field::sqlstate):
                out.sqlstate = value;
                break;
            case field(error_field::message):
                out.message = value;
                break;
            default:
                break;
        }
    }
    return r.expect_end();
}

bool decode_parameter_status(bytes_view body, std::string_view& name,
                             std::string_view& value) noexcept {
    message_reader r{body};
    name = r.cstring();
    value = r.cstring();
    return r.expect_end();
}

bool decode_backend_key_data(bytes_view body, cancel_key& out) noexcept {
    message_reader r{body};
    out.pid = r.i32();
    out.secret = r.i32();
    return r.expect_end();
}

bool decode_auth_request(bytes_view body, auth_request& code, bytes_view& rest) noexcept {
    message_reader r{body};
    code = static_cast<auth_request>(r.i32());
    rest = r.rest();
    return !r.failed();
}

}  // namespace sabakan::protocol

// Parse, Bind, Describe and Close: decoded as views into the body, composed with a name
// of the pooler's choosing.
#include <sabakan/protocol/extended.hpp>
#include <sabakan/protocol/message_reader.hpp>

namespace sabakan::protocol {

bool decode_parse(bytes_view body, parse_message& out) noexcept {
    message_reader r{body};
    out.statement = r.cstring();
    out.query = r.cstring();
    const std::size_t types_at = body.size() - r.remaining();
    const std::int16_t count = r.i16();
    if (r.failed() || count < 0) {
        return false;
    }
    r.bytes(static_cast<std::size_t>(count) * 4);
    if (!r.expect_end()) {
        return false;
    }
    out.parameter_types = body.subspan(types_at);
    return true;
}

void append_parse(byte_buffer& out, std::string_view statement, const parse_message& m) {
    message_writer w{out};
    w.begin(frontend_tag::parse);
    w.cstring(statement);
    w.cstring(m.query);
    w.bytes(m.parameter_types);
    w.end();
}

bool decode_bind_head(bytes_view body, bind_head& out) noexcept {
    message_reader r{body};
    out.portal = r.cstring();
    out.statement = r.cstring();
    if (r.failed()) {
        return false;
    }
    out.rest = r.rest();
    // The format count comes next: a Bind too short to hold it is malformed.
    return out.rest.size() >= 2;
}

void append_bind(byte_buffer& out, std::string_view statement, const bind_head& b) {
    message_writer w{out};
    w.begin(frontend_tag::bind);
    w.cstring(b.portal);
    w.cstring(statement);
    w.bytes(b.rest);
    w.end();
}

bool decode_statement_or_portal(bytes_view body, statement_or_portal& out) noexcept {
    message_reader r{body};
    out.kind = static_cast<char>(r.u8());
    out.name = r.cstring();
    return r.expect_end() && (out.kind == 'S' || out.kind == 'P');
}

void append_statement_or_portal(byte_buffer& out, frontend_tag tag,
                                const statement_or_portal& target) {
    message_writer w{out};
    w.begin(tag);
    w.u8(static_cast<std::uint8_t>(target.kind));
    w.cstring(target.name);
    w.end();
}

bool drops_prepared_statements(bytes_view command_complete_body) noexcept {
    const auto tag = as_text(command_complete_body);
    return tag == std::string_view("DISCARD ALL\0", 12) ||
           tag == std::string_view("DEALLOCATE ALL\0", 15);
}

}  // namespace sabakan::protocol

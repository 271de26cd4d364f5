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
    out.kind = static_cast<target_kind>(r.u8());
    out.name = r.cstring();
    return r.expect_end() &&
           (out.kind == target_kind::statement || out.kind == target_kind::portal);
}

void append_statement_or_portal(byte_buffer& out, frontend_tag tag,
                                const statement_or_portal& target) {
    message_writer w{out};
    w.begin(tag);
    w.u8(static_cast<std::uint8_t>(target.kind));
    w.cstring(target.name);
    w.end();
}

namespace {

bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/// Consumes `word` (compared without case) followed by a blank; false if not there.
bool take_keyword(std::string_view& s, std::string_view word) noexcept {
    if (s.size() <= word.size()) {
        return false;
    }
    for (std::size_t i = 0; i < word.size(); ++i) {
        const char c = s[i];
        if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != word[i]) {
            return false;
        }
    }
    if (!is_blank(s[word.size()])) {
        return false;
    }
    s.remove_prefix(word.size());
    while (!s.empty() && is_blank(s.front())) {
        s.remove_prefix(1);
    }
    return true;
}

}  // namespace

std::optional<std::string> deallocate_target(std::string_view q) {
    while (!q.empty() && is_blank(q.front())) {
        q.remove_prefix(1);
    }
    if (!take_keyword(q, "deallocate")) {
        return std::nullopt;
    }
    take_keyword(q, "prepare");
    std::string name;
    if (!q.empty() && q.front() == '"') {
        // A quoted identifier: "" stands for one quote; case is kept.
        q.remove_prefix(1);
        for (;;) {
            if (q.empty()) {
                return std::nullopt;
            }
            const char c = q.front();
            q.remove_prefix(1);
            if (c == '"') {
                if (q.empty() || q.front() != '"') {
                    break;
                }
                q.remove_prefix(1);
            }
            name.push_back(c);
        }
        if (name.empty()) {
            return std::nullopt;
        }
    } else {
        while (!q.empty()) {
            const char c = q.front();
            const bool first = name.empty();
            if ((c >= 'a' && c <= 'z') || c == '_' ||
                (!first && ((c >= '0' && c <= '9') || c == '$'))) {
                name.push_back(c);
            } else if (c >= 'A' && c <= 'Z') {
                name.push_back(static_cast<char>(c - 'A' + 'a'));
            } else {
                break;
            }
            q.remove_prefix(1);
        }
        if (name.empty() || name == "all") {
            return std::nullopt;
        }
    }
    while (!q.empty() && is_blank(q.front())) {
        q.remove_prefix(1);
    }
    if (!q.empty() && q.front() == ';') {
        q.remove_prefix(1);
    }
    while (!q.empty() && is_blank(q.front())) {
        q.remove_prefix(1);
    }
    if (!q.empty()) {
        return std::nullopt;  // more than one statement, or something else after the name
    }
    return name;
}

bool drops_prepared_statements(bytes_view command_complete_body) noexcept {
    const auto tag = as_text(command_complete_body);
    return tag == std::string_view("DISCARD ALL\0", 12) ||
           tag == std::string_view("DEALLOCATE ALL\0", 15);
}

}  // namespace sabakan::protocol

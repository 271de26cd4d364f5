// Proves that the extended-protocol decoders (Parse, Bind, Describe/Close bodies a client
// controls, DEALLOCATE texts, CommandComplete tags) are safe on any bytes: every view they
// return lies inside the input, and what decodes re-encodes to a message that decodes to
// the same fields.
#include <sabakan/protocol/extended.hpp>
#include <sabakan/protocol/message_writer.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using namespace sabakan::protocol;

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "extended_fuzz: invariant broken: %s\n", what);
        std::abort();
    }
}

bool inside(bytes_view outer, const void* p, std::size_t n) {
    const auto* b = reinterpret_cast<const std::byte*>(p);
    return n == 0 || (b >= outer.data() && b + n <= outer.data() + outer.size());
}

bool inside(bytes_view outer, std::string_view s) {
    return inside(outer, s.data(), s.size());
}

bool inside(bytes_view outer, bytes_view b) {
    return inside(outer, b.data(), b.size());
}

bytes_view body_of(const byte_buffer& message) {
    return bytes_view(message).subspan(5);
}

void check_parse(bytes_view body) {
    parse_message p;
    if (!decode_parse(body, p)) {
        return;
    }
    require(inside(body, p.statement) && inside(body, p.query) && inside(body, p.parameter_types),
            "Parse views inside the body");
    byte_buffer out;
    append_parse(out, "_sbk_renamed", p);
    parse_message again;
    require(decode_parse(body_of(out), again), "a re-encoded Parse decodes");
    require(again.statement == "_sbk_renamed" && again.query == p.query &&
                std::string_view(reinterpret_cast<const char*>(again.parameter_types.data()),
                                 again.parameter_types.size()) ==
                    std::string_view(reinterpret_cast<const char*>(p.parameter_types.data()),
                                     p.parameter_types.size()),
            "a re-encoded Parse keeps its fields");
}

void check_bind(bytes_view body) {
    bind_head b;
    if (!decode_bind_head(body, b)) {
        return;
    }
    require(inside(body, b.portal) && inside(body, b.statement) && inside(body, b.rest),
            "Bind views inside the body");
    byte_buffer out;
    append_bind(out, "_sbk_renamed", b);
    bind_head again;
    require(decode_bind_head(body_of(out), again), "a re-encoded Bind decodes");
    require(again.portal == b.portal && again.statement == "_sbk_renamed" &&
                again.rest.size() == b.rest.size(),
            "a re-encoded Bind keeps its fields");
}

void check_statement_or_portal(bytes_view body) {
    statement_or_portal d;
    if (!decode_statement_or_portal(body, d)) {
        return;
    }
    require(d.kind == target_kind::statement || d.kind == target_kind::portal, "kind is S or P");
    require(inside(body, d.name), "name inside the body");
    byte_buffer out;
    append_statement_or_portal(out, frontend_tag::close, d);
    statement_or_portal again;
    require(decode_statement_or_portal(body_of(out), again), "a re-encoded Close decodes");
    require(again.kind == d.kind && again.name == d.name, "a re-encoded Close keeps its fields");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const bytes_view body(reinterpret_cast<const std::byte*>(data), size);
    check_parse(body);
    check_bind(body);
    check_statement_or_portal(body);
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto name = deallocate_target(text)) {
        require(!name->empty() && name->size() <= size, "a DEALLOCATE target comes from the text");
    }
    (void)drops_prepared_statements(body);
    return 0;
}

// The clients' requests, built with the codec's own writer, and the answer scan.
#include "wire_requests.hpp"

#include <sabakan/protocol/messages.hpp>

#include <stdexcept>
#include <string>

namespace sabakan::loopback {

using protocol::backend_tag;
using protocol::frontend_tag;

namespace {

std::uint32_t u32_at(const std::byte* p) noexcept {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        v = (v << 8) | std::to_integer<std::uint32_t>(p[i]);
    }
    return v;
}

std::runtime_error failure(const std::string& what) {
    return std::runtime_error("loopback client: " + what);
}

}  // namespace

protocol::byte_buffer startup_request(std::string_view user, std::string_view database) {
    protocol::byte_buffer out;
    protocol::append_startup(out, {{"user", std::string(user)},
                                   {"database", std::string(database)},
                                   {"application_name", "loopback"}});
    return out;
}

protocol::byte_buffer simple_request() {
    protocol::byte_buffer out;
    protocol::append_query(out, "SELECT 1");
    return out;
}

protocol::byte_buffer extended_request() {
    protocol::byte_buffer out;
    protocol::message_writer w{out};
    w.begin(frontend_tag::parse);
    w.cstring("");  // the unnamed statement
    w.cstring("SELECT $1::int4");
    w.i16(0);  // no parameter types given
    w.end();
    w.begin(frontend_tag::bind);
    w.cstring("");  // the unnamed portal
    w.cstring("");
    w.i16(0);  // every parameter in text format
    w.i16(1);
    w.i32(2);
    w.text("42");
    w.i16(0);  // every result column in text format
    w.end();
    w.begin(frontend_tag::describe);
    w.u8('P');
    w.cstring("");
    w.end();
    w.begin(frontend_tag::execute);
    w.cstring("");
    w.i32(0);  // all rows
    w.end();
    w.begin(frontend_tag::sync);
    w.end();
    return out;
}

protocol::byte_buffer terminate_request() {
    protocol::byte_buffer out;
    protocol::append_terminate(out);
    return out;
}

answer_scan scan_answer(protocol::bytes_view in, std::size_t capacity) {
    answer_scan s;
    while (in.size() - s.consumed >= 5) {
        const std::byte* m = in.data() + s.consumed;
        const std::size_t total = std::size_t{u32_at(m + 1)} + 1;
        if (total < 5 || total > capacity) {
            throw failure("bad message length in the answer");
        }
        if (in.size() - s.consumed < total) {
            break;
        }
        s.consumed += total;
        const auto tag = static_cast<backend_tag>(m[0]);
        if (tag == backend_tag::error_response) {
            protocol::error_fields e;
            protocol::decode_error(protocol::bytes_view(m + 5, total - 5), e);
            throw failure("ErrorResponse " + std::string(e.sqlstate) + ": " +
                          std::string(e.message));
        }
        if (tag == backend_tag::authentication && total >= 9 && u32_at(m + 5) != 0) {
            throw failure("asked for a password; the loopback rig uses trust");
        }
        if (tag == backend_tag::ready_for_query) {
            if (s.consumed != in.size()) {
                throw failure("bytes after ReadyForQuery: the answers are out of step");
            }
            s.ready = true;
            return s;
        }
    }
    return s;
}

}  // namespace sabakan::loopback

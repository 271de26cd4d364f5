// Drives the relay core with sequences of messages the fuzzer chooses: a client's Parse,
// Bind, Describe, Close, Execute, Sync, Flush, queries and COPY data, delivered in pieces of
// any size through a small receive buffer, interleaved with server answers in any order
// (replies, errors, ReadyForQuery of any status, DISCARD ALL). Whatever the order, nothing
// crashes, every byte sent either way is a sequence of whole, well-formed messages, and a
// client never holds more statement names than its limit.
#include <sabakan/protocol/extended.hpp>
#include <sabakan/protocol/message_writer.hpp>
#include <sabakan/protocol/messages.hpp>
#include <sabakan/relay/client_relay.hpp>
#include <sabakan/relay/link.hpp>
#include <sabakan/relay/scanners.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace {

using namespace sabakan;
using protocol::backend_tag;
using protocol::byte_buffer;
using protocol::frontend_tag;

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "relay_fuzz: invariant broken: %s\n", what);
        std::abort();
    }
}

/// Whole messages only, each at least a header long.
void require_messages(protocol::bytes_view bytes, const char* what) {
    while (!bytes.empty()) {
        require(bytes.size() >= 5, what);
        std::uint32_t len = 0;
        std::memcpy(&len, bytes.data() + 1, 4);
        len = __builtin_bswap32(len);
        require(len >= 4 && len + 1 <= bytes.size(), what);
        bytes = bytes.subspan(len + 1);
    }
}

constexpr std::string_view names[] = {"", "a", "b", "_sbk_x"};
const std::string long_query = "SELECT '" + std::string(400, 'x') + "'";
const std::string_view queries[] = {"SELECT 1", "SELECT 2", "SELEC", long_query};
constexpr std::string_view simple_queries[] = {"DEALLOCATE a", "DEALLOCATE ALL", "SELECT 1",
                                               "EXECUTE _sbk_1"};
constexpr std::string_view completions[] = {"SELECT 1", "DISCARD ALL", "DEALLOCATE", "PREPARE"};
const byte_buffer no_types{std::byte{0}, std::byte{0}};
const byte_buffer no_values(6, std::byte{0});

struct client {
    client() : buf(256), sc(relay::client_scanner(256, 1u << 20)) {}
    relay::client_relay relay;
    relay::parameter_overrides parameters;
    relay::recv_buffer buf;
    protocol::frame_scanner sc;
};

struct rig {
    relay::tracked_parameters tracked{{}};
    relay::statement_registry registry;
    stats::counters stats;
    relay::link server{tracked};
    std::unique_ptr<client> c = std::make_unique<client>();
    std::unique_ptr<relay::recv_buffer> sbuf = std::make_unique<relay::recv_buffer>(4096);
    protocol::frame_scanner ssc = relay::server_scanner(4096);
    byte_buffer to_server;  // sent since the client's scanner was last at a boundary
    static constexpr std::size_t client_names = 3;

    rig() { attach(); }
    void attach() { server.attach({&c->relay.names(), &c->parameters}, true); }
    void new_client() {
        to_server.clear();
        c = std::make_unique<client>();
        attach();
    }

    void from_client(const byte_buffer& bytes, std::size_t chunk) {
        const relay::rewrite_context ctx{registry, 2, client_names, stats, 1};
        for (std::size_t at = 0; at < bytes.size();) {
            auto space = c->buf.free_space();
            const std::size_t n = std::min({chunk, space.size(), bytes.size() - at});
            require(n > 0, "the client buffer has room after every send");
            std::memcpy(space.data(), bytes.data() + at, n);
            c->buf.commit(n);
            at += n;
            const auto stop = c->relay.scan(c->buf, c->sc, &server, ctx);
            if (stop == relay::client_stop::refused) {
                new_client();
                return;
            }
            require(stop == relay::client_stop::need_more, "well-formed input scans through");
            const auto out = c->relay.output(c->buf, server);
            to_server.insert(to_server.end(), out.begin(), out.end());
            if (c->sc.at_boundary()) {
                require_messages(to_server, "whole messages to the server");
                to_server.clear();
            }
            c->relay.sent(c->buf, server, c->sc.at_boundary());
            require(c->relay.names().size() <= client_names, "names within the limit");
        }
    }

    void from_server(const byte_buffer& bytes) {
        auto space = sbuf->free_space();
        const std::size_t n = std::min(space.size(), bytes.size());
        std::memcpy(space.data(), bytes.data(), n);
        sbuf->commit(n);
        const auto stop = server.scan(*sbuf, ssc, config::pool_mode::transaction, stats);
        require(stop != relay::server_stop::bad_length, "well-formed answers scan");
        require_messages(sbuf->to_send(), "whole messages to the client");
        sbuf->mark_sent();
        if (stop == relay::server_stop::free || stop == relay::server_stop::refuse_transaction ||
            n < bytes.size()) {
            // The server goes back to the pool (or is closed): the next client gets it,
            // with nothing left over in its buffer.
            server.detach();
            sbuf = std::make_unique<relay::recv_buffer>(4096);
            ssc = relay::server_scanner(4096);
            new_client();
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rig r;
    for (std::size_t i = 0; i + 1 < size; i += 2) {
        const std::uint8_t op = data[i] % 16;
        const std::uint8_t arg = data[i + 1];
        const std::string_view name = names[arg % 4];
        const std::size_t chunk = 1 + (arg >> 4) % 8 * 37;
        byte_buffer m;
        protocol::message_writer w{m};
        switch (op) {
            case 0:
                protocol::append_parse(m, name, {name, queries[(arg >> 2) % 4], no_types});
                break;
            case 1:
                protocol::append_bind(m, name, {"", name, no_values});
                break;
            case 2:
                protocol::append_statement_or_portal(m, frontend_tag::describe,
                                                     {protocol::target_kind::statement, name});
                break;
            case 3:
                protocol::append_statement_or_portal(m, frontend_tag::close,
                                                     {protocol::target_kind::statement, name});
                break;
            case 4:
                w.begin(frontend_tag::execute);
                w.cstring("");
                w.i32(0);
                w.end();
                break;
            case 5:
                w.begin(arg % 2 == 0 ? frontend_tag::sync : frontend_tag::flush);
                w.end();
                break;
            case 6:
                protocol::append_query(m, simple_queries[arg % 4]);
                break;
            case 7:
                w.begin(frontend_tag::copy_data);
                w.text("1\n");
                w.end();
                w.begin(arg % 2 == 0 ? frontend_tag::copy_done : frontend_tag::copy_fail);
                if (arg % 2 != 0) {
                    w.cstring("stop");
                }
                w.end();
                break;
            case 8:
            case 9:
                w.begin(arg % 3 == 0   ? backend_tag::parse_complete
                        : arg % 3 == 1 ? backend_tag::bind_complete
                                       : backend_tag::close_complete);
                w.end();
                break;
            case 10:
                w.begin(backend_tag::command_complete);
                w.cstring(completions[arg % 4]);
                w.end();
                break;
            case 11:
                protocol::append_error(m, "ERROR", "42601", "syntax error");
                break;
            case 12:
            case 13:
                protocol::append_ready_for_query(
                    m, arg % 3 == 0   ? protocol::transaction_status::idle
                       : arg % 3 == 1 ? protocol::transaction_status::in_transaction
                                      : protocol::transaction_status::failed);
                break;
            case 14:
                w.begin(backend_tag::copy_in_response);
                w.u8(0);
                w.i16(0);
                w.end();
                break;
            case 15:
                protocol::append_parameter_status(m, "TimeZone", name);
                break;
        }
        if (op < 8) {
            r.from_client(m, chunk);
        } else {
            r.from_server(m);
        }
    }
    return 0;
}

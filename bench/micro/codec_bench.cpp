// The codec and buffer work the forwarding loop does per message, without sockets: the
// frame scanner over a server's answer and a client's extended-protocol batch, the receive
// buffer cycle around it, the release rule's bookkeeping, and the rarer paths a login or
// an error takes (decode_startup, building an ErrorResponse).
#include "alloc_counter.hpp"

#include <sabakan/protocol/frame_scanner.hpp>
#include <sabakan/protocol/message_writer.hpp>
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/result_set.hpp>
#include <sabakan/protocol/startup.hpp>
#include <sabakan/relay/link_state.hpp>
#include <sabakan/relay/recv_buffer.hpp>

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <string>

namespace sabakan::bench {
namespace {

namespace alloc = loopback::alloc;
using protocol::byte_buffer;
using protocol::bytes_view;
using protocol::scan_status;

// The scanners as the session layer sets them up (server_connection.cpp, client_session.cpp).
constexpr protocol::tag_set server_whole_tags{'Z', 'R', 'E', 'S', 'K', 'N', 'v'};
constexpr protocol::tag_set client_whole_tags{'p'};
constexpr std::size_t pkt_buf = 4096;  // the default receive buffer
constexpr std::uint32_t max_length = 0x7fffffff;

/// Counts the benchmark thread's allocations over the timed loop as an "allocs/iter"
/// counter. Construct right before the loop and call stop() right after it.
class alloc_meter {
public:
    explicit alloc_meter(benchmark::State& state) : state_(state) {
        alloc::record_backtraces(std::getenv("SABAKAN_ALLOC_TRACE") != nullptr);
        alloc::watch_this_thread();
        start_ = alloc::totals();
    }
    void stop() {
        const auto used = alloc::totals() - start_;
        alloc::unwatch_this_thread();
        alloc::record_backtraces(false);
        alloc::print_backtraces(STDERR_FILENO);
        state_.counters["allocs/iter"] =
            benchmark::Counter(static_cast<double>(used.news), benchmark::Counter::kAvgIterations);
    }

private:
    benchmark::State& state_;
    alloc::counts start_;
};

struct stream {
    byte_buffer bytes;
    std::int64_t messages = 0;
};

/// What PostgreSQL sends for a query returning `rows` rows of a users-table-like shape:
/// RowDescription, the DataRows, CommandComplete, ReadyForQuery.
stream server_answer(int rows) {
    stream s;
    const std::array<std::string_view, 5> names{"id", "username", "email", "created_at", "balance"};
    protocol::append_row_description(s.bytes, names, "qssTN");
    for (int i = 0; i < rows; ++i) {
        protocol::data_row_writer row{s.bytes};
        row.number(1000000 + i);
        row.text("user_" + std::to_string(i));
        row.text("someone" + std::to_string(i) + "@example.org");
        row.text("2024-05-01 12:34:56.789+00");
        row.text("1234.56");
        row.finish();
    }
    protocol::append_command_complete(s.bytes, "SELECT " + std::to_string(rows));
    protocol::append_ready_for_query(s.bytes, protocol::transaction_status::idle);
    s.messages = rows + 3;
    return s;
}

/// A client's extended-protocol batch, as libpq sends for PQexecParams.
stream client_batch() {
    stream s;
    protocol::message_writer w{s.bytes};
    w.begin(protocol::frontend_tag::parse);
    w.cstring("");
    w.cstring("SELECT id, username FROM users WHERE id = $1");
    w.i16(1);
    w.i32(20);
    w.end();
    w.begin(protocol::frontend_tag::bind);
    w.cstring("");
    w.cstring("");
    w.i16(0);
    w.i16(1);
    w.i32(7);
    w.text("1000042");
    w.i16(0);
    w.end();
    w.begin(protocol::frontend_tag::describe);
    w.u8('P');
    w.cstring("");
    w.end();
    w.begin(protocol::frontend_tag::execute);
    w.cstring("");
    w.i32(0);
    w.end();
    w.begin(protocol::frontend_tag::sync);
    w.end();
    s.messages = 5;
    return s;
}

void report(benchmark::State& state, const stream& s) {
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(s.bytes.size()));
    state.SetItemsProcessed(state.iterations() * s.messages);
}

// The scanner alone over a server's answer held in one buffer: headers read, DataRows
// passed over by length, ReadyForQuery seen whole. Argument: rows.
void BM_scan_server_answer(benchmark::State& state) {
    const auto s = server_answer(static_cast<int>(state.range(0)));
    // One scanner per connection, as in the pooler; it is at a boundary after each answer.
    protocol::frame_scanner scanner(server_whole_tags, pkt_buf, max_length);
    alloc_meter meter(state);
    for (auto _ : state) {
        bytes_view in = s.bytes;
        int seen = 0;
        while (!in.empty()) {
            auto r = scanner.next(in);
            if (r.status != scan_status::message) {
                state.SkipWithError("unexpected scan status");
                break;
            }
            in = in.subspan(r.consumed());
            ++seen;
        }
        benchmark::DoNotOptimize(seen);
    }
    meter.stop();
    report(state, s);
}
BENCHMARK(BM_scan_server_answer)->Arg(1)->Arg(100)->Arg(1000);

// What server_connection::forward does per read, minus the syscalls: the answer arrives
// in pkt_buf-sized reads into the receive buffer, is scanned (messages may straddle
// reads), and the scanned slice is handed on. Argument: rows.
void BM_forward_server_answer(benchmark::State& state) {
    const auto s = server_answer(static_cast<int>(state.range(0)));
    relay::recv_buffer buf(pkt_buf);
    protocol::frame_scanner scanner(server_whole_tags, buf.capacity(), max_length);
    // The buffer takes its memory at the first read, which a connection does once, not
    // per answer: take it before counting.
    benchmark::DoNotOptimize(buf.free_space().data());
    alloc_meter meter(state);
    for (auto _ : state) {
        bytes_view pending = s.bytes;
        std::size_t forwarded = 0;
        while (!pending.empty()) {
            auto space = buf.free_space();
            std::size_t n = std::min(space.size(), pending.size());
            std::memcpy(space.data(), pending.data(), n);  // stands in for read(2)
            pending = pending.subspan(n);
            buf.commit(n);
            for (;;) {
                auto r = scanner.next(buf.unparsed());
                if (r.status == scan_status::need_more) {
                    break;
                }
                buf.advance(r.consumed());
            }
            forwarded += buf.to_send().size();  // stands in for write(2)
            buf.mark_sent();
        }
        benchmark::DoNotOptimize(forwarded);
    }
    meter.stop();
    report(state, s);
}
BENCHMARK(BM_forward_server_answer)->Arg(1)->Arg(100)->Arg(1000);

// The client side: an extended-protocol batch scanned message by message, each message
// accounted for by the release rule, as client_session::forward does.
void BM_scan_client_batch(benchmark::State& state) {
    const auto s = client_batch();
    protocol::frame_scanner scanner(client_whole_tags, pkt_buf, max_length);
    alloc_meter meter(state);
    for (auto _ : state) {
        relay::link_state link;
        bytes_view in = s.bytes;
        while (!in.empty()) {
            if (scanner.at_boundary() && !scanner.header_ok(in)) {
                state.SkipWithError("bad header");
                break;
            }
            auto r = scanner.next(in);
            link.on_client_message(r.tag);
            in = in.subspan(r.consumed());
        }
        link.on_ready_for_query('I');
        benchmark::DoNotOptimize(link.clean());
    }
    meter.stop();
    report(state, s);
}
BENCHMARK(BM_scan_client_batch);

// A login's startup packet, as psql sends it, decoded into a fresh startup_packet (one
// per connection in the pooler; its parameter list is the one allocation).
void BM_decode_startup(benchmark::State& state) {
    byte_buffer packet;
    protocol::append_startup(packet, {{"user", "mastodon"},
                                      {"database", "mastodon_production"},
                                      {"application_name", "puma: cluster worker 0"},
                                      {"client_encoding", "UTF8"},
                                      {"DateStyle", "ISO"}});
    alloc_meter meter(state);
    for (auto _ : state) {
        protocol::startup_packet sp;
        auto e = protocol::decode_startup(packet, sp);
        benchmark::DoNotOptimize(e);
        benchmark::DoNotOptimize(sp.params.data());
    }
    meter.stop();
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(packet.size()));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_decode_startup);

// An ErrorResponse with a hint built into a reused buffer, as the pooler sends its own
// errors (query_wait_timeout and friends).
void BM_append_error(benchmark::State& state) {
    byte_buffer out;
    out.reserve(512);
    alloc_meter meter(state);
    for (auto _ : state) {
        out.clear();
        protocol::append_error(out, "ERROR", "08P01", "query_wait_timeout",
                               "no server connection became free in time: raise pool_size or "
                               "query_wait_timeout, or look for long transactions");
        benchmark::DoNotOptimize(out.data());
    }
    meter.stop();
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_append_error);

// Reading the fields of a server's ErrorResponse, as a failed server login does.
void BM_decode_error(benchmark::State& state) {
    byte_buffer msg;
    protocol::append_error(msg, "FATAL", "28P01", "password authentication failed for user x");
    const bytes_view body = bytes_view(msg).subspan(protocol::frame_scanner::header_size);
    alloc_meter meter(state);
    for (auto _ : state) {
        protocol::error_fields f;
        bool ok = protocol::decode_error(body, f);
        benchmark::DoNotOptimize(ok);
        benchmark::DoNotOptimize(f);
    }
    meter.stop();
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_decode_error);

}  // namespace
}  // namespace sabakan::bench

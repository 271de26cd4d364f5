// Transactions through a real pooler (the loopback rig: session::pooler between an
// in-process fake PostgreSQL and a client), one round trip at a time, against the same
// client talking to the fake server directly. Times are wall-clock per transaction;
// "allocs/txn" counts operator new calls on the thread that runs the pooler's loop.
#include "alloc_counter.hpp"
#include "loop_client.hpp"
#include "pooler_rig.hpp"
#include "wire_client.hpp"

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <vector>

namespace sabakan::bench {
namespace {

namespace alloc = loopback::alloc;
using loopback::layout;
using loopback::pooler_rig;
using loopback::wire_client;

// Enough for the pool, the buffers and Asio's per-thread caches to settle.
constexpr int warm_up_transactions = 200;

loopback::rig_options watched_rig(layout where, int pool_size = 2) {
    loopback::rig_options o;
    o.where = where;
    o.pool_size = pool_size;
    o.on_pooler_thread = [] { alloc::watch_this_thread(); };
    return o;
}

void set_alloc_counter(benchmark::State& state, const alloc::counts& used, int per_iteration) {
    state.counters["allocs/txn"] = benchmark::Counter(
        static_cast<double>(used.news) / per_iteration, benchmark::Counter::kAvgIterations);
}

enum class route { pooler, direct };
using request = loopback::loop_client::request;

/// One transaction of kind `kind` per iteration from one client, through the pooler or
/// straight to the fake server.
void run_one_client(benchmark::State& state, route r, layout where, request kind) {
    try {
        pooler_rig rig(watched_rig(where));
        const auto path = r == route::pooler ? rig.pooler_socket() : rig.server_socket();
        alloc::counts start;
        std::size_t bytes = 0;
        if (where == layout::single_thread) {
            // The timed loop runs inside the event loop: next() is the benchmark's loop.
            loopback::loop_client client(rig.loop(), path);
            int warm = 0;
            std::size_t warm_bytes = 0;
            rig.run_on_loop(client.run([&]() -> request {
                if (warm < warm_up_transactions) {
                    ++warm;
                    return kind;
                }
                if (warm == warm_up_transactions) {
                    ++warm;
                    warm_bytes = client.bytes_received();
                    start = alloc::totals();
                }
                return state.KeepRunning() ? kind : request::stop;
            }));
            bytes = client.bytes_received() - warm_bytes;
        } else {
            wire_client client(path, pooler_rig::user, pooler_rig::database);
            auto txn = [&] {
                return kind == request::simple_query ? client.simple_query()
                                                     : client.extended_query();
            };
            for (int i = 0; i < warm_up_transactions; ++i) {
                txn();
            }
            start = alloc::totals();
            for (auto _ : state) {
                bytes += txn();
            }
        }
        set_alloc_counter(state, alloc::totals() - start, 1);
        state.SetItemsProcessed(state.iterations());
        state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
    }
    alloc::unwatch_this_thread();  // layout::single_thread watched this thread
}

constexpr request simple = request::simple_query;
constexpr request extended = request::extended_query;

// The variants name the layout (see pooler_rig.hpp): single_thread is the CPU cost of a
// transaction, the others add the thread wake-ups a real deployment pays.
void BM_pooler_simple_query(benchmark::State& state, layout where) {
    run_one_client(state, route::pooler, where, simple);
}
BENCHMARK_CAPTURE(BM_pooler_simple_query, single_thread, layout::single_thread)->UseRealTime();
BENCHMARK_CAPTURE(BM_pooler_simple_query, server_on_pooler_thread, layout::server_on_pooler_thread)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_pooler_simple_query, own_threads, layout::own_threads)->UseRealTime();

void BM_pooler_extended_query(benchmark::State& state, layout where) {
    run_one_client(state, route::pooler, where, extended);
}
BENCHMARK_CAPTURE(BM_pooler_extended_query, single_thread, layout::single_thread)->UseRealTime();
BENCHMARK_CAPTURE(BM_pooler_extended_query, server_on_pooler_thread,
                  layout::server_on_pooler_thread)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_pooler_extended_query, own_threads, layout::own_threads)->UseRealTime();

// The baselines: the same client straight to the fake server; the difference to the
// BM_pooler_* figure of the same layout is what the pooler adds.
void BM_direct_simple_query(benchmark::State& state, layout where) {
    run_one_client(state, route::direct, where, simple);
}
BENCHMARK_CAPTURE(BM_direct_simple_query, single_thread, layout::single_thread)->UseRealTime();
BENCHMARK_CAPTURE(BM_direct_simple_query, own_threads, layout::own_threads)->UseRealTime();

void BM_direct_extended_query(benchmark::State& state, layout where) {
    run_one_client(state, route::direct, where, extended);
}
BENCHMARK_CAPTURE(BM_direct_extended_query, single_thread, layout::single_thread)->UseRealTime();
BENCHMARK_CAPTURE(BM_direct_extended_query, own_threads, layout::own_threads)->UseRealTime();

// More clients than servers: each iteration every client sends a simple query and then
// every answer is read, so all but two queue for a server of the pool of two. Argument:
// clients. Items are transactions.
void BM_pooler_queued_clients(benchmark::State& state) {
    const auto clients = static_cast<int>(state.range(0));
    try {
        pooler_rig rig(watched_rig(layout::own_threads, 2));
        std::vector<std::unique_ptr<wire_client>> cs;
        for (int i = 0; i < clients; ++i) {
            cs.push_back(std::make_unique<wire_client>(rig.pooler_socket(), pooler_rig::user,
                                                       pooler_rig::database));
        }
        auto round = [&] {
            for (auto& c : cs) {
                c->send_simple_query();
            }
            for (auto& c : cs) {
                c->read_to_ready();
            }
        };
        for (int i = 0; i < warm_up_transactions / clients + 1; ++i) {
            round();
        }
        const auto start = alloc::totals();
        for (auto _ : state) {
            round();
        }
        set_alloc_counter(state, alloc::totals() - start, clients);
        state.SetItemsProcessed(state.iterations() * clients);
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
    }
}
BENCHMARK(BM_pooler_queued_clients)->ArgName("clients")->Arg(8)->Arg(32)->UseRealTime();

}  // namespace
}  // namespace sabakan::bench

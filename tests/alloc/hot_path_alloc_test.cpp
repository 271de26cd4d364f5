// Style rule 10, checked: once warm, the pooler forwards a transaction without a single heap
// allocation. A real pooler sits between a fake PostgreSQL and a client (the loopback rig).
// Only the thread running the pooler's loop is counted, so a client on another thread cannot
// blur the count.
#include "alloc_counter.hpp"
#include "loop_client.hpp"
#include "pooler_rig.hpp"
#include "wire_client.hpp"

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sabakan::loopback {
namespace {

constexpr int warm_up_transactions = 200;
constexpr int measured_transactions = 1000;

void report(const char* what, int transactions, const alloc::counts& c) {
    if (alloc::counts_malloc()) {
        std::printf("pooler thread, %d %s: %llu operator new, %llu malloc\n", transactions, what,
                    static_cast<unsigned long long>(c.news),
                    static_cast<unsigned long long>(c.mallocs));
    } else {
        std::printf("pooler thread, %d %s: %llu operator new (malloc not counted here)\n",
                    transactions, what, static_cast<unsigned long long>(c.news));
    }
    std::fflush(stdout);
}

// Sanitized builds count operator new only (see counts_malloc).
void expect_none(const alloc::counts& c, const char* what) {
    EXPECT_EQ(c.news, 0U) << what << ": operator new calls on the pooler's thread";
    if (alloc::counts_malloc()) {
        EXPECT_EQ(c.mallocs, 0U) << what << ": malloc calls on the pooler's thread";
    }
}

// The counter itself works in this binary: the replaced operator new is the one linked, and
// a watched thread's allocation shows. Without this, a zero below could mean nothing.
TEST(AllocCounter, SeesAnAllocationOnAWatchedThread) {
    alloc::watch_this_thread();
    const auto before = alloc::totals();
    auto p = std::make_unique<int>(7);
    const auto after = alloc::totals();
    alloc::unwatch_this_thread();
    EXPECT_EQ(*p, 7);
    EXPECT_GE((after - before).news, 1U);
    // jemalloc brings an operator new of its own; mallctl is its signature symbol.
    EXPECT_EQ(::dlsym(RTLD_DEFAULT, "mallctl"), nullptr) << "this binary must not link jemalloc";
}

/// The transactions one test runs, in order, with the counts taken between phases: a
/// warm-up alternating both kinds, then the simple-query phase, then the extended one.
/// next() is called after the login and between transactions, on whichever thread drives
/// the client.
class schedule {
public:
    using request = loop_client::request;

    request next() {
        if (step_ == 0) {
            after_login_ = alloc::totals();
        }
        const int i = step_++;
        if (i < 2 * warm_up_transactions) {
            return i % 2 == 0 ? request::simple_query : request::extended_query;
        }
        const int m = i - 2 * warm_up_transactions;
        if (m == 0) {
            alloc::record_backtraces(true);
            start_ = alloc::totals();
        }
        if (m < measured_transactions) {
            return request::simple_query;
        }
        if (m == measured_transactions) {
            after_simple_ = alloc::totals();
        }
        if (m < 2 * measured_transactions) {
            return request::extended_query;
        }
        after_extended_ = alloc::totals();
        alloc::record_backtraces(false);
        return request::stop;
    }

    alloc::counts after_login() const { return after_login_; }
    alloc::counts simple() const { return after_simple_ - start_; }
    alloc::counts extended() const { return after_extended_ - after_simple_; }

private:
    int step_ = 0;
    alloc::counts after_login_, start_, after_simple_, after_extended_;
};

/// Runs the schedule through the pooler with the client the layout calls for.
void run_schedule(pooler_rig& rig, layout where, schedule& plan) {
    if (where == layout::single_thread) {
        loop_client client(rig.loop(), rig.pooler_socket());
        rig.run_on_loop(client.run([&plan] { return plan.next(); }));
        return;
    }
    wire_client client(rig.pooler_socket(), pooler_rig::user, pooler_rig::database);
    for (;;) {
        switch (plan.next()) {
            case schedule::request::simple_query:
                client.simple_query();
                break;
            case schedule::request::extended_query:
                client.extended_query();
                break;
            case schedule::request::stop:
                return;
        }
    }
}

std::string_view name(layout l) {
    switch (l) {
        case layout::own_threads:
            return "OwnThreads";
        case layout::server_on_pooler_thread:
            return "ServerOnPoolerThread";
        case layout::single_thread:
            return "SingleThread";
    }
    return "Unknown";
}

// Parameter: where the event loops run (see layout). With layout::single_thread the watched
// thread is the test's own, which runs client, pooler and fake server alike.
class HotPathAlloc : public ::testing::TestWithParam<layout> {};

// After a warm-up, 1,000 simple-query and 1,000 extended-protocol transactions through the
// pooler in transaction mode cost no allocation at all on its thread.
TEST_P(HotPathAlloc, ForwardingAllocatesNothingPerTransaction) {
    rig_options o;
    o.where = GetParam();
    o.on_pooler_thread = [] { alloc::watch_this_thread(); };
    pooler_rig rig(o);
    const auto before_login = alloc::totals();
    schedule plan;
    run_schedule(rig, GetParam(), plan);
    alloc::unwatch_this_thread();  // single_thread watched the test's own thread

    // A login (a session, its buffers, a server connection) must show up on the watched
    // thread, or the zeros below would prove nothing.
    EXPECT_GT((plan.after_login() - before_login).news, 0U) << "the pooler's thread is not counted";
    report("simple-query transactions", measured_transactions, plan.simple());
    report("extended-protocol transactions", measured_transactions, plan.extended());
    expect_none(plan.simple(), "simple query");
    expect_none(plan.extended(), "extended protocol");
    if (HasFailure()) {
        alloc::print_backtraces(STDERR_FILENO);
        std::fprintf(stderr, "---- pooler log ----\n%s\n", rig.log_text().c_str());
    }
}

// More clients than servers: each round, eight clients send a query at once to a pool of two,
// so six queue for a server (the wait timer, the pool's wait list) and are woken as servers
// are released. That path allocates nothing either.
TEST(HotPathAllocQueueing, WaitingForAServerAllocatesNothing) {
    constexpr int clients = 8;
    constexpr int rounds = 200;
    rig_options o;
    o.pool_size = 2;
    o.on_pooler_thread = [] { alloc::watch_this_thread(); };
    pooler_rig rig(o);
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
    for (int i = 0; i < rounds; ++i) {
        round();
    }
    alloc::record_backtraces(true);
    const auto start = alloc::totals();
    for (int i = 0; i < rounds; ++i) {
        round();
    }
    const auto used = alloc::totals() - start;
    alloc::record_backtraces(false);
    report("transactions queued for a server", clients * rounds, used);
    EXPECT_LE(rig.server_connections(), 2U) << "the pool did not make clients wait";
    expect_none(used, "queueing for a server");
    if (HasFailure()) {
        alloc::print_backtraces(STDERR_FILENO);
    }
    cs.clear();
}

// The periodic sweep (pool upkeep, client timeouts) runs three times a second on the same
// thread; if it allocated, a sweep landing inside a measurement above would fail it at
// random. Two sweeps over a linked-up client and an idle server allocate nothing.
TEST(HotPathAllocSweep, PeriodicSweepAllocatesNothing) {
    rig_options o;
    o.on_pooler_thread = [] { alloc::watch_this_thread(); };
    pooler_rig rig(o);
    wire_client client(rig.pooler_socket(), pooler_rig::user, pooler_rig::database);
    client.simple_query();
    alloc::record_backtraces(true);
    const auto start = alloc::totals();
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    const auto used = alloc::totals() - start;
    alloc::record_backtraces(false);
    expect_none(used, "idle sweeps");
    if (HasFailure()) {
        alloc::print_backtraces(STDERR_FILENO);
    }
}

INSTANTIATE_TEST_SUITE_P(Layout, HotPathAlloc,
                         ::testing::Values(layout::own_threads, layout::server_on_pooler_thread,
                                           layout::single_thread),
                         [](const ::testing::TestParamInfo<layout>& info) {
                             return std::string(name(info.param));
                         });

}  // namespace

// For GoogleTest's messages, found by argument-dependent lookup.
void PrintTo(layout l, std::ostream* os) {
    *os << name(l);
}

}  // namespace sabakan::loopback

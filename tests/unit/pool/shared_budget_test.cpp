// Two workers' pools for one (database, user) sharing a budget, without sockets: the bound
// holds over both, an idle server goes where clients wait, waits stay even, and a failed
// login holds back both.
#include <sabakan/pool/server_pool.hpp>
#include <sabakan/stats/counters.hpp>

#include <gtest/gtest.h>

#include "fake_waiter.hpp"

#include <memory>
#include <utility>
#include <vector>

namespace sabakan::pool {
namespace {

// One worker's side: it opens servers, and records what it asks of the other worker.
struct worker_connector : connector {
    std::vector<std::unique_ptr<server_slot>> opened;
    std::vector<std::pair<server_slot*, int>> handed;  // (server, to worker)
    std::vector<int> asked;                            // workers asked for an idle server
    void open_server(server_pool& p) override {
        opened.push_back(std::make_unique<server_slot>());
        p.add_login(*opened.back());
    }
    bool may_open(const server_pool&, bool) override { return true; }
    std::vector<server_slot*> checked;
    void check_server(server_slot& s) override { checked.push_back(&s); }
    void hand_over(server_slot& s, int worker) override { handed.emplace_back(&s, worker); }
    void ask_for_server(server_pool&, int worker) override { asked.push_back(worker); }
};

struct SharedBudgetTest : ::testing::Test {
    pool_budget budget{2};
    worker_connector conn0;
    worker_connector conn1;
    server_pool pool0{"db", "user", settings(), conn0, &budget, 0};
    server_pool pool1{"db", "user", settings(), conn1, &budget, 1};

    static pool_settings settings() {
        pool_settings s{2, config::pool_mode::transaction};
        s.server_check = false;
        return s;
    }
    // A server of `p` lent to `w` and back: idle in `p`.
    static server_slot* idle_server(server_pool& p, worker_connector& c, fake_waiter& w) {
        w.pool = &p;
        EXPECT_EQ(p.acquire(w), nullptr);
        server_slot* s = c.opened.back().get();
        EXPECT_EQ(p.login_done(*s), release_outcome::kept);
        EXPECT_EQ(p.release(*s), release_outcome::kept);
        return s;
    }
};

// pool_size 2 bounds both workers together: four waiters, two logins in all.
TEST_F(SharedBudgetTest, PoolSizeBoundsBothWorkers) {
    fake_waiter a, b, c, d;
    for (auto* w : {&a, &b}) {
        w->pool = &pool0;
        pool0.acquire(*w);
    }
    for (auto* w : {&c, &d}) {
        w->pool = &pool1;
        pool1.acquire(*w);
    }
    EXPECT_EQ(conn0.opened.size() + conn1.opened.size(), 2U);
    EXPECT_EQ(budget.taken(), 2U);
    pool0.login_failed(*conn0.opened[0], "no");  // its place is given back
    EXPECT_EQ(budget.taken(), 1U);
}

// A client waits on worker 1 while worker 0 holds the only idle server: worker 1 asks for
// it instead of logging in anew, worker 0 hands it over, and it serves the client.
TEST_F(SharedBudgetTest, IdleServerGoesToTheWorkerWhoseClientWaits) {
    fake_waiter first;
    server_slot* s = idle_server(pool0, conn0, first);
    fake_waiter w;
    w.pool = &pool1;
    EXPECT_EQ(pool1.acquire(w), nullptr);
    ASSERT_EQ(conn1.asked, std::vector<int>{0});
    EXPECT_TRUE(conn1.opened.empty()) << "logged in anew with an idle server elsewhere";
    ASSERT_TRUE(pool0.give_idle_to(1));
    ASSERT_EQ(conn0.handed.size(), 1U);
    EXPECT_EQ(conn0.handed[0], std::make_pair(s, 1));
    EXPECT_EQ(pool0.idle_count(), 0U);
    EXPECT_EQ(budget.taken(), 1U) << "a server in transit keeps its place";
    EXPECT_EQ(pool1.adopt(*s, stats::now_us(), pool0.generation_of(*s), stats::now_us()),
              release_outcome::kept);
    ASSERT_EQ(w.woken.size(), 1U);
    EXPECT_EQ(w.woken[0], s);
    EXPECT_EQ(pool1.active_count(), 1U);
}

// A RECONNECT while a server moves between workers: it arrives retired, and closes instead
// of serving (it logged in before the RECONNECT, like the servers that stayed put).
TEST_F(SharedBudgetTest, ServerMovingDuringReconnectArrivesRetired) {
    fake_waiter first;
    server_slot* s = idle_server(pool0, conn0, first);
    fake_waiter w;
    w.pool = &pool1;
    pool1.acquire(w);
    ASSERT_TRUE(pool0.give_idle_to(1));
    const std::uint64_t generation = pool0.generation_of(*s);
    pool0.retire_servers();  // RECONNECT: every worker's pools, the world stopped
    pool1.retire_servers();
    EXPECT_EQ(pool1.adopt(*s, stats::now_us(), generation, stats::now_us()),
              release_outcome::retired);
    EXPECT_TRUE(w.woken.empty());
    // Its place goes to a fresh login for the waiting client.
    EXPECT_EQ(conn1.opened.size(), 1U);
    EXPECT_EQ(budget.taken(), 1U);
}

// The ask found nothing (the idle server went elsewhere first): the asker logs in itself.
TEST_F(SharedBudgetTest, RefusedAskOpensAServer) {
    fake_waiter first;
    idle_server(pool0, conn0, first);
    fake_waiter w;
    w.pool = &pool1;
    pool1.acquire(w);
    ASSERT_EQ(conn1.asked.size(), 1U);
    pool1.ask_refused();
    EXPECT_EQ(conn1.opened.size(), 1U);
}

// With the pool full, a server released on a worker where no client waits goes to the
// worker where one does, instead of idling.
TEST_F(SharedBudgetTest, ReleaseHandsOverWhenOnlyTheOtherWorkerWaits) {
    fake_waiter a, b;
    a.pool = &pool0;
    b.pool = &pool0;
    pool0.acquire(a);
    pool0.acquire(b);
    for (auto& s : conn0.opened) {
        EXPECT_EQ(pool0.login_done(*s), release_outcome::kept);  // both lent out
    }
    fake_waiter w;
    w.pool = &pool1;
    pool1.acquire(w);  // no room, nothing idle: it waits
    EXPECT_TRUE(conn1.opened.empty());
    server_slot* s = conn0.opened[0].get();
    EXPECT_EQ(pool0.release(*s), release_outcome::moved);
    ASSERT_EQ(conn0.handed.size(), 1U);
    EXPECT_EQ(conn0.handed[0], std::make_pair(s, 1));
}

// Both workers have clients waiting, worker 1's for much longer: a server released on
// worker 0 goes there, so waits stay even however the servers are spread.
TEST_F(SharedBudgetTest, ServerGoesToTheLongerWait) {
    fake_waiter a, b, c;
    for (auto* w : {&a, &b, &c}) {
        w->pool = &pool0;
        pool0.acquire(*w);
    }
    for (auto& s : conn0.opened) {
        EXPECT_EQ(pool0.login_done(*s), release_outcome::kept);
    }
    EXPECT_TRUE(c.waiting());
    fake_waiter w;
    w.pool = &pool1;
    pool1.acquire(w);
    server_slot* s = conn0.opened[0].get();
    // Worker 0's own client arrived just now; worker 1's first has waited a second.
    budget.set_oldest_wait(1, stats::now_us() - 1'000'000);
    EXPECT_EQ(pool0.release(*s), release_outcome::moved);
    EXPECT_EQ(conn0.handed.back(), std::make_pair(s, 1));
    EXPECT_TRUE(c.waiting());
    // Even waits: the next server stays with worker 0's client.
    budget.set_oldest_wait(1, stats::now_us());
    EXPECT_EQ(pool0.release(*conn0.opened[1]), release_outcome::kept);
    ASSERT_EQ(c.woken.size(), 1U);
}

// A login refused on worker 0 starts server_login_retry on worker 1 too, with its error.
TEST_F(SharedBudgetTest, LoginRetryHoldsOnBothWorkers) {
    pool_settings s = settings();
    s.server_login_retry = 3600'000'000;
    pool0.set_settings(s);
    pool1.set_settings(s);
    fake_waiter a;
    a.pool = &pool0;
    pool0.acquire(a);
    pool0.login_failed(*conn0.opened[0], "password authentication failed");
    EXPECT_TRUE(pool1.in_login_retry(stats::now_us()));
    fake_waiter b;
    b.pool = &pool1;
    EXPECT_EQ(pool1.acquire(b), nullptr);
    ASSERT_EQ(b.woken.size(), 1U);
    EXPECT_EQ(b.woken[0], nullptr);
    EXPECT_EQ(pool1.last_error(), "password authentication failed");
    EXPECT_TRUE(conn1.opened.empty());
}

// In the login-retry window, a client on a worker with no server of its own still queues
// while another worker has one in use: that server may come to it when released.
TEST_F(SharedBudgetTest, LoginRetryWaitsForAServerInUseElsewhere) {
    pool_settings s = settings();
    s.server_login_retry = 3600'000'000;
    pool0.set_settings(s);
    pool1.set_settings(s);
    fake_waiter a, b;
    a.pool = &pool0;
    b.pool = &pool0;
    pool0.acquire(a);
    pool0.acquire(b);
    EXPECT_EQ(pool0.login_done(*conn0.opened[0]), release_outcome::kept);  // a has it
    pool0.login_failed(*conn0.opened[1], "too many connections");          // b's failed
    fake_waiter w;
    w.pool = &pool1;
    EXPECT_EQ(pool1.acquire(w), nullptr);
    EXPECT_TRUE(w.waiting()) << "refused although worker 0's server will come back";
    EXPECT_TRUE(b.waiting()) << "b too: a's server will come back";
    server_slot* server = conn0.opened[0].get();
    EXPECT_EQ(pool0.release(*server), release_outcome::kept);  // a is done: b's turn
    ASSERT_EQ(b.woken.size(), 1U);
    EXPECT_EQ(pool0.release(*server), release_outcome::moved);  // b is done: worker 1's
    EXPECT_EQ(conn0.handed.back(), std::make_pair(server, 1));
}

// A server handed over after idling past server_check_delay is checked before it serves,
// as it would have been on the worker it came from.
TEST_F(SharedBudgetTest, AdoptedServerIdleTooLongIsChecked) {
    pool_settings s = settings();
    s.server_check = true;
    s.server_check_delay = 1'000'000;
    pool1.set_settings(s);
    fake_waiter w;
    w.pool = &pool1;
    pool1.acquire(w);
    server_slot moved;
    const std::int64_t now = stats::now_us();
    EXPECT_EQ(pool1.adopt(moved, now, 0, now - 5'000'000), release_outcome::kept);
    ASSERT_EQ(conn1.checked.size(), 1U);
    EXPECT_EQ(pool1.tested_count(), 1U);
    EXPECT_TRUE(w.waiting());
    EXPECT_EQ(pool1.check_done(moved), release_outcome::kept);
    ASSERT_EQ(w.woken.size(), 1U);
    EXPECT_EQ(w.woken[0], &moved);
    pool1.remove(moved);
}

}  // namespace
}  // namespace sabakan::pool

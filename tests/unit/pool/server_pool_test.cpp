// Pool policy without sockets: the size bound, LIFO idle reuse, FIFO waiters, login
// failure wake-ups and removal of dead servers.
#include <sabakan/pool/server_pool.hpp>
#include <sabakan/stats/counters.hpp>

#include <gtest/gtest.h>

#include "fake_waiter.hpp"

#include <deque>
#include <memory>
#include <vector>

namespace sabakan::pool {
namespace {

struct fake_connector : connector {
    std::vector<std::unique_ptr<server_slot>> opened;
    bool allow = true;  // what max_db_connections / max_user_connections would say
    void open_server(server_pool& p) override {
        opened.push_back(std::make_unique<server_slot>());
        p.add_login(*opened.back());
    }
    bool may_open(const server_pool&, bool) override { return allow; }
    std::vector<server_slot*> checked;  // servers sent to server_check_query
    void check_server(server_slot& s) override { checked.push_back(&s); }
};

struct PoolTest : ::testing::Test {
    fake_connector conn;
    server_pool pool{"db", "user", pool_settings{2, config::pool_mode::transaction}, conn};
};

// With no idle server, acquire queues the client and opens one server per waiter.
TEST_F(PoolTest, OpensServersUpToPoolSize) {
    fake_waiter a;
    a.pool = &pool;
    fake_waiter b;
    b.pool = &pool;
    fake_waiter c;
    c.pool = &pool;
    EXPECT_EQ(pool.acquire(a), nullptr);
    EXPECT_EQ(pool.acquire(b), nullptr);
    EXPECT_EQ(pool.acquire(c), nullptr);
    EXPECT_EQ(conn.opened.size(), 2u);  // pool_size bounds logins too
    EXPECT_EQ(pool.login_count(), 2u);
    EXPECT_EQ(pool.waiting_count(), 3u);
}

// A finished login serves the first waiter (FIFO); the next release serves the next.
TEST_F(PoolTest, WaitersServedInOrder) {
    fake_waiter a;
    a.pool = &pool;
    fake_waiter b;
    b.pool = &pool;
    fake_waiter c;
    c.pool = &pool;
    pool.acquire(a);
    pool.acquire(b);
    pool.acquire(c);
    EXPECT_EQ(pool.login_done(*conn.opened[0]), release_outcome::kept);
    ASSERT_EQ(a.woken.size(), 1u);
    EXPECT_EQ(a.woken[0], conn.opened[0].get());
    EXPECT_EQ(conn.opened[0]->state(), server_state::active);
    EXPECT_EQ(pool.release(*conn.opened[0]), release_outcome::kept);
    ASSERT_EQ(b.woken.size(), 1u);
    EXPECT_EQ(b.woken[0], conn.opened[0].get());
    EXPECT_TRUE(c.woken.empty());
    EXPECT_EQ(pool.waiting_count(), 1u);
}

// With nobody waiting a released server becomes idle, and the most recent is reused first.
TEST_F(PoolTest, IdleReuseIsLifo) {
    fake_waiter a;
    a.pool = &pool;
    fake_waiter b;
    b.pool = &pool;
    pool.acquire(a);
    pool.acquire(b);
    EXPECT_EQ(pool.login_done(*conn.opened[0]), release_outcome::kept);
    EXPECT_EQ(pool.login_done(*conn.opened[1]), release_outcome::kept);
    EXPECT_EQ(pool.release(*conn.opened[0]), release_outcome::kept);
    EXPECT_EQ(pool.release(*conn.opened[1]), release_outcome::kept);
    EXPECT_EQ(pool.idle_count(), 2u);
    fake_waiter c;
    c.pool = &pool;
    EXPECT_EQ(pool.acquire(c), conn.opened[1].get());
    EXPECT_EQ(pool.active_count(), 1u);
    EXPECT_EQ(conn.opened.size(), 2u);  // no new server while one was idle
}

// A failed login wakes, with nullptr and the reason, only the waiters no other login in
// progress will serve.
TEST_F(PoolTest, LoginFailureWakesWaitersNoLoginCovers) {
    fake_waiter a;
    a.pool = &pool;
    fake_waiter b;
    b.pool = &pool;
    pool.acquire(a);
    pool.acquire(b);
    ASSERT_EQ(pool.login_count(), 2u);
    pool.login_failed(*conn.opened[0], "connection refused");
    // One login is still under way: it will serve a (first in line); b is told now.
    EXPECT_TRUE(a.woken.empty());
    ASSERT_EQ(b.woken.size(), 1u);
    EXPECT_EQ(b.woken[0], nullptr);
    EXPECT_EQ(pool.last_error(), "connection refused");
    EXPECT_EQ(pool.waiting_count(), 1u);
    // When that login fails too, nobody is left to serve a.
    pool.login_failed(*conn.opened[1], "connection refused");
    ASSERT_EQ(a.woken.size(), 1u);
    EXPECT_EQ(a.woken[0], nullptr);
    EXPECT_EQ(pool.waiting_count(), 0u);
    EXPECT_EQ(pool.login_count(), 0u);
}

// A failed login fails no waiter while a server in use will come back to serve them
// (a login refused near PostgreSQL's max_connections).
TEST_F(PoolTest, LoginFailureKeepsWaitersWhileServersInUse) {
    fake_waiter a;
    a.pool = &pool;
    fake_waiter b;
    b.pool = &pool;
    pool.acquire(a);
    EXPECT_EQ(pool.login_done(*conn.opened[0]), release_outcome::kept);  // a is served
    ASSERT_EQ(a.woken.size(), 1u);
    pool.acquire(b);
    ASSERT_EQ(pool.login_count(), 1u);
    pool.login_failed(*conn.opened[1], "too many connections");
    EXPECT_TRUE(b.woken.empty());
    EXPECT_EQ(pool.waiting_count(), 1u);
    EXPECT_EQ(pool.release(*conn.opened[0]),
              release_outcome::kept);  // a's transaction ends: b gets that server
    ASSERT_EQ(b.woken.size(), 1u);
    EXPECT_EQ(b.woken[0], conn.opened[0].get());
}

// A waiter that gives up leaves the queue and is never woken.
TEST_F(PoolTest, CancelWait) {
    fake_waiter a;
    a.pool = &pool;
    fake_waiter b;
    b.pool = &pool;
    pool.acquire(a);
    pool.acquire(b);
    pool.cancel_wait(a);
    EXPECT_FALSE(a.waiting());
    EXPECT_EQ(pool.login_done(*conn.opened[0]), release_outcome::kept);
    EXPECT_TRUE(a.woken.empty());
    EXPECT_EQ(b.woken.size(), 1u);
}

// Removing a dead server frees its place: a waiter gets a fresh login.
TEST_F(PoolTest, RemoveOpensReplacementForWaiters) {
    fake_waiter a;
    a.pool = &pool;
    fake_waiter b;
    b.pool = &pool;
    fake_waiter c;
    c.pool = &pool;
    pool.acquire(a);
    pool.acquire(b);
    EXPECT_EQ(pool.login_done(*conn.opened[0]), release_outcome::kept);
    EXPECT_EQ(pool.login_done(*conn.opened[1]), release_outcome::kept);
    pool.acquire(c);  // both servers busy: c waits, no room for a third
    EXPECT_EQ(conn.opened.size(), 2u);
    pool.remove(*conn.opened[0]);
    EXPECT_EQ(conn.opened[0]->state(), server_state::unlinked);
    EXPECT_EQ(conn.opened.size(), 3u);
    EXPECT_EQ(pool.server_count(), 2u);
}

// pop_idle takes an idle server out of the pool entirely.
TEST_F(PoolTest, PopIdle) {
    EXPECT_EQ(pool.pop_idle(), nullptr);
    fake_waiter a;
    a.pool = &pool;
    pool.acquire(a);
    EXPECT_EQ(pool.login_done(*conn.opened[0]), release_outcome::kept);
    EXPECT_EQ(pool.release(*conn.opened[0]), release_outcome::kept);
    EXPECT_EQ(pool.pop_idle(), conn.opened[0].get());
    EXPECT_EQ(pool.server_count(), 0u);
}

// A paused pool lends nothing and opens nothing; released servers leave it; resume serves
// the queue again.
TEST_F(PoolTest, PauseAndResume) {
    fake_waiter a;
    a.pool = &pool;
    fake_waiter b;
    b.pool = &pool;
    pool.acquire(a);
    EXPECT_EQ(pool.login_done(*conn.opened[0]), release_outcome::kept);  // a holds it
    pool.pause();
    EXPECT_EQ(pool.acquire(b), nullptr);
    EXPECT_EQ(conn.opened.size(), 1u);  // no login while paused
    EXPECT_EQ(pool.release(*conn.opened[0]), release_outcome::paused);
    EXPECT_EQ(pool.server_count(), 0u);
    EXPECT_EQ(b.wakes, 0);
    pool.resume();
    EXPECT_EQ(conn.opened.size(), 2u);  // b's server is being opened
    EXPECT_EQ(pool.login_done(*conn.opened[1]), release_outcome::kept);
    ASSERT_EQ(b.woken.size(), 1u);
    EXPECT_EQ(b.woken[0], conn.opened[1].get());
}

// Retired servers are closed at release, their place taken by a fresh login for a waiter;
// servers logged in afterwards serve as usual.
TEST_F(PoolTest, RetiredServersCloseAtRelease) {
    fake_waiter a;
    a.pool = &pool;
    fake_waiter b;
    b.pool = &pool;
    pool.acquire(a);
    EXPECT_EQ(pool.login_done(*conn.opened[0]), release_outcome::kept);
    EXPECT_FALSE(conn.opened[0]->close_needed());
    pool.retire_servers();
    EXPECT_TRUE(conn.opened[0]->close_needed());
    pool.acquire(b);  // opens a second, current server
    EXPECT_EQ(conn.opened.size(), 2u);
    EXPECT_EQ(pool.release(*conn.opened[0]), release_outcome::retired);
    EXPECT_EQ(pool.server_count(), 1u);
    EXPECT_EQ(pool.login_done(*conn.opened[1]), release_outcome::kept);
    EXPECT_EQ(b.woken.size(), 1u);
    EXPECT_EQ(pool.release(*conn.opened[1]), release_outcome::kept);
    EXPECT_EQ(pool.idle_count(), 1u);
}

// A lowered pool_size: surplus idle servers can be taken out at once, and a busy server
// beyond the size leaves the pool when released.
TEST_F(PoolTest, ShrinkGivesUpSurplusServers) {
    fake_waiter a;
    a.pool = &pool;
    fake_waiter b;
    b.pool = &pool;
    pool.acquire(a);
    pool.acquire(b);
    EXPECT_EQ(pool.login_done(*conn.opened[0]), release_outcome::kept);
    EXPECT_EQ(pool.login_done(*conn.opened[1]), release_outcome::kept);
    EXPECT_EQ(pool.release(*conn.opened[0]), release_outcome::kept);  // idle; opened[1] stays busy
    pool.set_settings(pool_settings{1, config::pool_mode::transaction});
    EXPECT_EQ(pool.pop_surplus_idle(), conn.opened[0].get());
    EXPECT_EQ(pool.pop_surplus_idle(), nullptr);  // one server left: within the size
    EXPECT_EQ(pool.release(*conn.opened[1]), release_outcome::kept);
    EXPECT_EQ(pool.idle_count(), 1u);

    pool.set_settings(pool_settings{0, config::pool_mode::transaction});
    fake_waiter c;
    c.pool = &pool;
    ASSERT_NE(pool.acquire(c), nullptr);  // the idle server is lent...
    EXPECT_EQ(pool.release(*conn.opened[1]), release_outcome::surplus);  // ...given up
    EXPECT_EQ(pool.server_count(), 0u);
}

// A raised pool_size opens servers for clients already waiting, without a new request.
TEST_F(PoolTest, GrowOpensForWaiters) {
    pool.set_settings(pool_settings{1, config::pool_mode::transaction});
    fake_waiter a;
    a.pool = &pool;
    fake_waiter b;
    b.pool = &pool;
    pool.acquire(a);
    pool.acquire(b);
    EXPECT_EQ(conn.opened.size(), 1u);
    pool.set_settings(pool_settings{2, config::pool_mode::transaction});
    EXPECT_EQ(conn.opened.size(), 2u);
}

// After a failed login, server_login_retry fails new clients at once (no new login is
// tried) while no server is up; the sweep tries again once the window has passed.
TEST_F(PoolTest, LoginRetryFailsFast) {
    pool_settings ps{2, config::pool_mode::transaction};
    ps.server_login_retry = 3600'000'000;
    pool.set_settings(ps);
    fake_waiter a;
    a.pool = &pool;
    pool.acquire(a);
    pool.login_failed(*conn.opened[0], "connection refused");
    ASSERT_EQ(a.woken.size(), 1u);
    EXPECT_EQ(a.woken[0], nullptr);
    fake_waiter b;
    b.pool = &pool;
    EXPECT_EQ(pool.acquire(b), nullptr);
    ASSERT_EQ(b.woken.size(), 1u);  // refused on the spot, not queued
    EXPECT_EQ(b.woken[0], nullptr);
    EXPECT_FALSE(b.waiting());
    EXPECT_EQ(conn.opened.size(), 1u);
    EXPECT_EQ(pool.last_error(), "connection refused");
    EXPECT_TRUE(pool.in_login_retry(stats::now_us()));
    EXPECT_FALSE(pool.in_login_retry(stats::now_us() + 3601'000'000));
}

// PostgreSQL unreachable (down, restarting): the clients queued for a query stay queued,
// and so do those that arrive during server_login_retry, for the next login try; only a
// client still logging in is told at once. The next try serves them all.
TEST_F(PoolTest, UnreachableKeepsQueryWaitersQueued) {
    pool_settings ps{2, config::pool_mode::transaction};
    ps.server_login_retry = 3600'000'000;
    pool.set_settings(ps);
    fake_waiter a;
    a.pool = &pool;
    fake_waiter login;
    login.pool = &pool;
    login.logging_in = true;
    pool.acquire(a);
    pool.acquire(login);
    ASSERT_EQ(pool.login_count(), 2u);
    pool.login_failed(*conn.opened[0], "could not connect", login_failure::unreachable);
    pool.login_failed(*conn.opened[1], "could not connect", login_failure::unreachable);
    EXPECT_TRUE(a.woken.empty());
    EXPECT_TRUE(a.waiting());
    ASSERT_EQ(login.woken.size(), 1u);
    EXPECT_EQ(login.woken[0], nullptr);

    fake_waiter b;
    b.pool = &pool;
    EXPECT_EQ(pool.acquire(b), nullptr);
    EXPECT_TRUE(b.woken.empty());  // queued for the next try, not refused
    fake_waiter late_login;
    late_login.pool = &pool;
    late_login.logging_in = true;
    EXPECT_EQ(pool.acquire(late_login), nullptr);
    ASSERT_EQ(late_login.woken.size(), 1u);  // refused on the spot with the cached error
    EXPECT_EQ(pool.waiting_count(), 2u);
    EXPECT_EQ(conn.opened.size(), 2u);  // no login during the retry window

    ps.server_login_retry = 0;  // as if the window had passed: the sweep tries again
    pool.set_settings(ps);
    ASSERT_EQ(conn.opened.size(), 4u);
    EXPECT_EQ(pool.login_done(*conn.opened[2]), release_outcome::kept);
    EXPECT_EQ(pool.login_done(*conn.opened[3]), release_outcome::kept);
    ASSERT_EQ(a.woken.size(), 1u);
    EXPECT_NE(a.woken[0], nullptr);
    ASSERT_EQ(b.woken.size(), 1u);
    EXPECT_NE(b.woken[0], nullptr);
}

// A refusal by PostgreSQL itself (password, role, database) fails the queue at once.
TEST_F(PoolTest, RefusedFailsQueryWaiters) {
    fake_waiter a;
    a.pool = &pool;
    pool.acquire(a);
    pool.login_failed(*conn.opened[0], "password authentication failed", login_failure::refused);
    ASSERT_EQ(a.woken.size(), 1u);
    EXPECT_EQ(a.woken[0], nullptr);
}

// The reserve opens only once the first waiter has waited reserve_pool_timeout.
TEST_F(PoolTest, ReserveAfterTimeout) {
    pool_settings ps{1, config::pool_mode::transaction};
    ps.reserve_pool_size = 1;
    ps.reserve_pool_timeout = 3600'000'000;
    pool.set_settings(ps);
    fake_waiter a;
    a.pool = &pool;
    fake_waiter b;
    b.pool = &pool;
    pool.acquire(a);
    pool.acquire(b);
    EXPECT_EQ(conn.opened.size(), 1u);  // pool_size only
    ps.reserve_pool_timeout = 0;        // as if the hour had passed
    pool.set_settings(ps);
    EXPECT_EQ(conn.opened.size(), 2u);  // the reserve serves b
    EXPECT_EQ(pool.login_done(*conn.opened[0]), release_outcome::kept);
    EXPECT_EQ(pool.login_done(*conn.opened[1]), release_outcome::kept);
    // The reserve server stays when released (server_idle_timeout retires it later).
    EXPECT_EQ(pool.release(*conn.opened[1]), release_outcome::kept);
    EXPECT_EQ(pool.release(*conn.opened[0]), release_outcome::kept);
    EXPECT_EQ(pool.idle_count(), 2u);
}

// The sweep takes out idle servers past server_idle_timeout (keeping min_pool_size) and
// past server_lifetime, and opens servers up to min_pool_size.
TEST_F(PoolTest, MaintainRetiresAndRefills) {
    pool_settings ps{3, config::pool_mode::transaction};
    ps.server_idle_timeout = 10'000'000;
    ps.server_lifetime = 100'000'000;
    ps.min_pool_size = 1;
    pool.set_settings(ps);
    const std::int64_t now = stats::now_us();
    EXPECT_EQ(pool.maintain(now), nullptr);
    ASSERT_EQ(conn.opened.size(), 1u);  // min_pool_size opened one
    EXPECT_EQ(pool.login_done(*conn.opened[0]), release_outcome::kept);
    EXPECT_EQ(pool.idle_count(), 1u);
    // Idle for 20 s: kept, as it is the min_pool_size server.
    EXPECT_EQ(pool.maintain(now + 20'000'000), nullptr);
    EXPECT_EQ(pool.idle_count(), 1u);
    // Past server_lifetime it goes anyway, and the next sweep opens a fresh one.
    EXPECT_EQ(pool.maintain(now + 200'000'000), conn.opened[0].get());
    EXPECT_EQ(pool.maintain(now + 200'000'000), nullptr);
    EXPECT_EQ(conn.opened.size(), 2u);
}

// With min_pool_size 0, idle servers past server_idle_timeout all go.
TEST_F(PoolTest, MaintainClosesIdle) {
    fake_waiter a;
    a.pool = &pool;
    pool.acquire(a);
    EXPECT_EQ(pool.login_done(*conn.opened[0]), release_outcome::kept);
    EXPECT_EQ(pool.release(*conn.opened[0]), release_outcome::kept);
    const std::int64_t now = stats::now_us();
    EXPECT_EQ(pool.maintain(now + 1'000'000), nullptr);  // idle for 1 s: fine
    EXPECT_EQ(pool.maintain(now + 601'000'000), conn.opened[0].get());
    EXPECT_EQ(pool.server_count(), 0u);
}

// A limit wider than the pool (max_db_connections) holds back new logins until it allows.
TEST_F(PoolTest, WiderLimitHoldsLogins) {
    conn.allow = false;
    fake_waiter a;
    a.pool = &pool;
    pool.acquire(a);
    EXPECT_EQ(conn.opened.size(), 0u);
    EXPECT_TRUE(a.waiting());
    conn.allow = true;
    EXPECT_EQ(pool.maintain(stats::now_us()), nullptr);
    EXPECT_EQ(conn.opened.size(), 1u);
}

// An idle server past server_check_delay is checked before reuse: the client waits for the
// check, and gets that server once it passes; a fresh one is lent at once.
TEST_F(PoolTest, StaleServerCheckedBeforeReuse) {
    pool_settings ps{2, config::pool_mode::transaction};
    ps.server_check_delay = 3600'000'000;
    pool.set_settings(ps);
    fake_waiter a;
    a.pool = &pool;
    pool.acquire(a);
    EXPECT_EQ(pool.login_done(*conn.opened[0]), release_outcome::kept);
    EXPECT_EQ(pool.release(*conn.opened[0]), release_outcome::kept);
    fake_waiter b;
    b.pool = &pool;
    EXPECT_EQ(pool.acquire(b), conn.opened[0].get());  // idle for less than the delay
    EXPECT_TRUE(conn.checked.empty());
    EXPECT_EQ(pool.release(*conn.opened[0]), release_outcome::kept);

    ps.server_check_delay = 0;  // as if it had been idle for the whole delay
    pool.set_settings(ps);
    fake_waiter c;
    c.pool = &pool;
    EXPECT_EQ(pool.acquire(c), nullptr);
    ASSERT_EQ(conn.checked.size(), 1u);
    EXPECT_EQ(conn.checked[0], conn.opened[0].get());
    EXPECT_EQ(pool.tested_count(), 1u);
    EXPECT_EQ(conn.opened.size(), 1u);  // the check covers c: no new login
    EXPECT_EQ(pool.check_done(*conn.opened[0]), release_outcome::kept);
    ASSERT_EQ(c.woken.size(), 1u);
    EXPECT_EQ(c.woken[0], conn.opened[0].get());

    ps.server_check = false;  // server_check_query = "" turns checks off
    pool.set_settings(ps);
    EXPECT_EQ(pool.release(*conn.opened[0]), release_outcome::kept);
    fake_waiter d;
    d.pool = &pool;
    EXPECT_EQ(pool.acquire(d), conn.opened[0].get());
    EXPECT_EQ(conn.checked.size(), 1u);
}

// In the login retry window, waiters kept for a server in use are told at once when that
// server dies instead of coming back.
TEST_F(PoolTest, LastServerLostDuringLoginRetry) {
    pool_settings ps{2, config::pool_mode::transaction};
    ps.server_login_retry = 3600'000'000;
    pool.set_settings(ps);
    fake_waiter a;
    a.pool = &pool;
    fake_waiter b;
    b.pool = &pool;
    pool.acquire(a);
    EXPECT_EQ(pool.login_done(*conn.opened[0]), release_outcome::kept);  // a holds it
    pool.acquire(b);  // b queues; a second login starts for it...
    pool.login_failed(*conn.opened[1], "role is not permitted to log in");  // ...and fails
    EXPECT_TRUE(b.woken.empty());  // still hoping for a's server
    pool.remove(*conn.opened[0]);  // a's server dies
    ASSERT_EQ(b.woken.size(), 1u);
    EXPECT_EQ(b.woken[0], nullptr);
}

// A server under server_check_query counts as one that may serve: neither the login-retry
// fast failure nor a failed login fails the client it covers.
TEST_F(PoolTest, CheckInProgressCoversWaiter) {
    pool_settings ps{2, config::pool_mode::transaction};
    ps.server_login_retry = 3600'000'000;
    ps.server_check_delay = 0;  // every idle server is checked before reuse
    pool.set_settings(ps);
    fake_waiter a;
    a.pool = &pool;
    pool.acquire(a);
    EXPECT_EQ(pool.login_done(*conn.opened[0]), release_outcome::kept);
    EXPECT_EQ(pool.release(*conn.opened[0]), release_outcome::kept);  // idle
    fake_waiter b;
    b.pool = &pool;
    pool.acquire(b);  // the idle server goes to its check; b waits for it
    ASSERT_EQ(conn.checked.size(), 1u);
    EXPECT_TRUE(b.waiting());
    fake_waiter c;
    c.pool = &pool;
    pool.acquire(c);  // a login starts for c...
    ASSERT_EQ(conn.opened.size(), 2u);
    pool.login_failed(*conn.opened[1], "too many connections");  // ...and fails
    ASSERT_EQ(c.woken.size(), 1u);                               // c: nothing covers it
    EXPECT_EQ(c.woken[0], nullptr);
    EXPECT_TRUE(b.waiting());  // b: the check covers it
    fake_waiter d;
    d.pool = &pool;
    pool.acquire(d);  // in the retry window, but a server is under check: d queues
    EXPECT_TRUE(d.waiting());
    EXPECT_EQ(pool.check_done(*conn.opened[0]), release_outcome::kept);
    ASSERT_EQ(b.woken.size(), 1u);
    EXPECT_EQ(b.woken[0], conn.opened[0].get());
}

}  // namespace
}  // namespace sabakan::pool

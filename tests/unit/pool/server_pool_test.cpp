// Pool policy without sockets: the size bound, LIFO idle reuse, FIFO waiters, login
// failure wake-ups and removal of dead servers.
#include <sabakan/pool/server_pool.hpp>

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <vector>

namespace sabakan::pool {
namespace {

struct fake_connector : connector {
    std::vector<std::unique_ptr<server_slot>> opened;
    void open_server(server_pool& p) override {
        opened.push_back(std::make_unique<server_slot>());
        p.add_login(*opened.back());
    }
};

struct fake_waiter : waiter {
    server_pool* pool = nullptr;
    std::vector<server_slot*> woken;  // nullptr entries are failures
    int wakes = 0;
    ~fake_waiter() {
        if (pool != nullptr) {
            pool->cancel_wait(*this);  // as a client session does when it ends
        }
    }
    void wake(server_slot* s) override {
        ++wakes;
        woken.push_back(s);
    }
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
    EXPECT_TRUE(pool.login_done(*conn.opened[0]));
    ASSERT_EQ(a.woken.size(), 1u);
    EXPECT_EQ(a.woken[0], conn.opened[0].get());
    EXPECT_EQ(conn.opened[0]->state(), server_state::active);
    EXPECT_TRUE(pool.release(*conn.opened[0]));
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
    EXPECT_TRUE(pool.login_done(*conn.opened[0]));
    EXPECT_TRUE(pool.login_done(*conn.opened[1]));
    EXPECT_TRUE(pool.release(*conn.opened[0]));
    EXPECT_TRUE(pool.release(*conn.opened[1]));
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
    EXPECT_TRUE(pool.login_done(*conn.opened[0]));  // a is served
    ASSERT_EQ(a.woken.size(), 1u);
    pool.acquire(b);
    ASSERT_EQ(pool.login_count(), 1u);
    pool.login_failed(*conn.opened[1], "too many connections");
    EXPECT_TRUE(b.woken.empty());
    EXPECT_EQ(pool.waiting_count(), 1u);
    EXPECT_TRUE(pool.release(*conn.opened[0]));  // a's transaction ends: b gets that server
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
    EXPECT_TRUE(pool.login_done(*conn.opened[0]));
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
    EXPECT_TRUE(pool.login_done(*conn.opened[0]));
    EXPECT_TRUE(pool.login_done(*conn.opened[1]));
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
    EXPECT_TRUE(pool.login_done(*conn.opened[0]));
    EXPECT_TRUE(pool.release(*conn.opened[0]));
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
    EXPECT_TRUE(pool.login_done(*conn.opened[0]));  // a holds it
    pool.pause();
    EXPECT_EQ(pool.acquire(b), nullptr);
    EXPECT_EQ(conn.opened.size(), 1u);  // no login while paused
    EXPECT_FALSE(pool.release(*conn.opened[0]));
    EXPECT_EQ(pool.server_count(), 0u);
    EXPECT_EQ(b.wakes, 0);
    pool.resume();
    EXPECT_EQ(conn.opened.size(), 2u);  // b's server is being opened
    EXPECT_TRUE(pool.login_done(*conn.opened[1]));
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
    EXPECT_TRUE(pool.login_done(*conn.opened[0]));
    EXPECT_FALSE(conn.opened[0]->close_needed());
    pool.retire_servers();
    EXPECT_TRUE(conn.opened[0]->close_needed());
    pool.acquire(b);  // opens a second, current server
    EXPECT_EQ(conn.opened.size(), 2u);
    EXPECT_FALSE(pool.release(*conn.opened[0]));
    EXPECT_EQ(pool.server_count(), 1u);
    EXPECT_TRUE(pool.login_done(*conn.opened[1]));
    EXPECT_EQ(b.woken.size(), 1u);
    EXPECT_TRUE(pool.release(*conn.opened[1]));
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
    EXPECT_TRUE(pool.login_done(*conn.opened[0]));
    EXPECT_TRUE(pool.login_done(*conn.opened[1]));
    EXPECT_TRUE(pool.release(*conn.opened[0]));  // idle; opened[1] stays busy
    pool.set_settings(pool_settings{1, config::pool_mode::transaction});
    EXPECT_EQ(pool.pop_surplus_idle(), conn.opened[0].get());
    EXPECT_EQ(pool.pop_surplus_idle(), nullptr);  // one server left: within the size
    EXPECT_TRUE(pool.release(*conn.opened[1]));
    EXPECT_EQ(pool.idle_count(), 1u);

    pool.set_settings(pool_settings{0, config::pool_mode::transaction});
    fake_waiter c;
    c.pool = &pool;
    ASSERT_NE(pool.acquire(c), nullptr);          // the idle server is lent...
    EXPECT_FALSE(pool.release(*conn.opened[1]));  // ...and given up when released
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

}  // namespace
}  // namespace sabakan::pool

// What the pool promises about its servers: a client that cannot get one in time is told
// so (query_wait_timeout), servers outlive the clients that used them, and session mode
// resets a server (server_reset_query) before the next client gets it.
#include "harness/fixture.hpp"
#include "harness/sockets.hpp"
#include "harness/wait.hpp"

#include <sys/socket.h>

#include <gmock/gmock.h>

#include <vector>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;

class PoolLimitsTest : public sabakan_test {};

// With the only server held by a transaction, another query fails with query_wait_timeout.
TEST_F(PoolLimitsTest, QueryWaitTimeout) {
    sabakan_options o;
    o.default_pool_size = 1;
    o.query_wait_timeout = 1;
    start_sabakan(o);
    auto holder = connect_pooled();
    pq::run(holder.get(), "BEGIN");
    pq::run(holder.get(), "SELECT 1");

    auto waiter = connect_pooled();
    pq::result r(PQexec(waiter.get(), "SELECT 1"));
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
    EXPECT_THAT(pq::error(waiter.get()), HasSubstr("query_wait_timeout"));

    pq::run(holder.get(), "COMMIT");
    auto later = connect_pooled();
    EXPECT_EQ(pq::value(later.get(), "SELECT 1"), "1");
}

// Clients beyond max_client_conn are refused with SQLSTATE 53300; the others keep working.
// The console stays reachable over TCP and the unix socket, even when silent connections
// (waiting out client_login_timeout) fill the limit.
TEST_F(PoolLimitsTest, MaxClientConn) {
    sabakan_options o;
    o.max_client_conn = 2;
    start_sabakan(o);
    auto a = connect_pooled();
    auto b = connect_pooled();
    auto c = pq::connect(pooled_conninfo());
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(c.get()), HasSubstr("53300"));
    EXPECT_THAT(pq::error(c.get()), HasSubstr("max_client_conn"));
    EXPECT_EQ(pq::value(a.get(), "SELECT 1"), "1");
    EXPECT_EQ(pq::value(b.get(), "SELECT 2"), "2");

    std::vector<raw_socket> silent;
    for (int i = 0; i < 20; ++i) {
        silent.emplace_back(sabakan().port());
    }
    auto tcp = pq::connect(sabakan().conninfo("pgbouncer", "password", "pgbouncer"));
    ASSERT_EQ(PQstatus(tcp.get()), CONNECTION_OK) << pq::error(tcp.get());
    EXPECT_FALSE(pq::value(tcp.get(), "SHOW VERSION").empty());
    auto local = pq::connect(sabakan().unix_conninfo("pgbouncer", "password", "pgbouncer"));
    ASSERT_EQ(PQstatus(local.get()), CONNECTION_OK) << pq::error(local.get());
    EXPECT_FALSE(pq::value(local.get(), "SHOW VERSION").empty());
}

// A client hanging up while queued never has its query run, and the server is not closed.
TEST_F(PoolLimitsTest, ClientLeavesWhileWaiting) {
    auto direct = connect_direct();
    pq::run(direct.get(), "UPDATE counters SET n = 0 WHERE id = 7");
    sabakan_options o;
    o.default_pool_size = 1;
    start_sabakan(o);
    auto holder = connect_pooled();
    pq::run(holder.get(), "BEGIN");
    std::string pid = pq::value(holder.get(), "SELECT pg_backend_pid()");

    auto quitter = connect_pooled();
    ASSERT_EQ(PQsendQuery(quitter.get(), "UPDATE counters SET n = n + 1 WHERE id = 7"), 1);
    ASSERT_EQ(PQflush(quitter.get()), 0);
    // A full login through sabakan's single event loop takes several turns of it, so
    // once it is done sabakan has read the query above and queued its client.
    connect_pooled();
    ASSERT_EQ(::shutdown(PQsocket(quitter.get()), SHUT_RDWR), 0);
    quitter.reset();

    pq::run(holder.get(), "COMMIT");
    EXPECT_EQ(pq::value(holder.get(), "SELECT pg_backend_pid()"), pid);
    EXPECT_EQ(app_backends(direct.get()), 1);
    EXPECT_EQ(pq::value(direct.get(), "SELECT n FROM counters WHERE id = 7"), "0");
}

// In transaction mode a server stays open and is reused after its clients disconnect.
TEST_F(PoolLimitsTest, ServerOutlivesItsClients) {
    start_sabakan();
    std::string first;
    for (int i = 0; i < 10; ++i) {
        auto c = connect_pooled();
        std::string pid = pq::value(c.get(), "SELECT pg_backend_pid()");
        if (i == 0) {
            first = pid;
        }
        EXPECT_EQ(pid, first) << "client " << i << " got a new backend";
    }
    auto direct = connect_direct();
    EXPECT_EQ(app_backends(direct.get()), 1);
}

// In session mode the next client on a server finds none of the last client's session state.
TEST_F(PoolLimitsTest, SessionStateResetBetweenClients) {
    sabakan_options o;
    o.pool_mode = "session";
    o.default_pool_size = 1;
    start_sabakan(o);
    std::string pid;
    {
        auto a = connect_pooled();
        pid = pq::value(a.get(), "SELECT pg_backend_pid()");
        pq::run(a.get(), "SET search_path TO leftover");
        pq::run(a.get(), "PREPARE leftover AS SELECT 1");
    }
    auto b = connect_pooled();
    EXPECT_EQ(pq::value(b.get(), "SELECT pg_backend_pid()"), pid);  // the same server
    EXPECT_EQ(pq::value(b.get(), "SHOW search_path"), "\"$user\", public");
    pq::result r(PQexec(b.get(), "EXECUTE leftover"));
    EXPECT_EQ(pq::sqlstate(r.get()), "26000");  // undefined prepared statement
}

// A reset query that fails leaves the server unclean: it is closed, never handed on, and the
// next client gets a fresh backend with no leftover state.
TEST_F(PoolLimitsTest, FailedResetClosesServer) {
    sabakan_options o;
    o.pool_mode = "session";
    o.default_pool_size = 1;
    o.extra = {{"server_reset_query", "SELECT 1/0"}};
    start_sabakan(o);
    std::string pid;
    {
        auto a = connect_pooled();
        pid = pq::value(a.get(), "SELECT pg_backend_pid()");
        pq::run(a.get(), "SET search_path TO leftover");
    }
    auto b = connect_pooled();
    EXPECT_NE(pq::value(b.get(), "SELECT pg_backend_pid()"), pid);
    EXPECT_EQ(pq::value(b.get(), "SHOW search_path"), "\"$user\", public");
    EXPECT_TRUE(wait_until(
        [&] { return sabakan().logs().find("server_reset_query failed") != std::string::npos; },
        std::chrono::seconds(10)));
}

}  // namespace
}  // namespace sabakan::integration

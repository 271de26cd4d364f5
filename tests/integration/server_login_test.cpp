// sabakan's own login to PostgreSQL failing: clients get an error naming the cause right
// away, rather than waiting out query_wait_timeout.
#include "harness/fixture.hpp"
#include "harness/sockets.hpp"

#include <gmock/gmock.h>

#include <chrono>
#include <string>
#include <vector>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;

class ServerLoginTest : public sabakan_test {};

// A wrong password in [databases] fails the client's login with PostgreSQL's reason.
TEST_F(ServerLoginTest, WrongServerPassword) {
    sabakan_options o;
    o.server_password = "not-the-password";
    start_sabakan(o);
    auto c = pq::connect(pooled_conninfo());
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(c.get()), HasSubstr("server login failed"));
    EXPECT_THAT(pq::error(c.get()), HasSubstr("password authentication failed"));
}

// A [databases] entry pointing at a port nobody listens on fails the login at once.
TEST_F(ServerLoginTest, ServerNotListening) {
    sabakan_options o;
    o.server_port = free_tcp_port();
    start_sabakan(o);
    auto c = pq::connect(pooled_conninfo());
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(c.get()), HasSubstr("server login failed"));
    EXPECT_THAT(pq::error(c.get()), HasSubstr("could not connect"));
}

// The server password changes in PostgreSQL and an operator runs RECONNECT: clients that
// were connected and now need a server get the login error at once (as after
// server_lifetime), not a wait until query_wait_timeout, even while a transaction holds a
// retired server.
TEST_F(ServerLoginTest, ReconnectAfterPasswordChangeFailsWaiters) {
    sabakan_options o;
    o.query_wait_timeout = 20;
    start_sabakan(o);
    std::vector<pq::connection> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(connect_pooled());
        EXPECT_EQ(pq::value(clients.back().get(), "SELECT 1"), "1");
    }
    // A long transaction keeps its (now retired) server in use: it will never serve anyone
    // else, so the queue must not wait for it.
    auto holder = connect_pooled();
    pq::run(holder.get(), "BEGIN");
    pq::run(holder.get(), "SELECT 1");
    auto direct = connect_direct();
    pq::run(direct.get(), std::string("ALTER ROLE ") + app_user + " PASSWORD 'changed'");
    auto admin = connect_admin();
    pq::run(admin.get(), "RECONNECT");
    for (auto& c : clients) {
        const auto started = std::chrono::steady_clock::now();
        pq::result r(PQexec(c.get(), "SELECT 1"));
        const auto waited = std::chrono::steady_clock::now() - started;
        EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
        EXPECT_THAT(pq::error(c.get()), HasSubstr("password authentication failed"));
        EXPECT_LT(waited, std::chrono::seconds(10)) << "the client waited for query_wait_timeout";
    }
    pq::run(direct.get(),
            std::string("ALTER ROLE ") + app_user + " PASSWORD '" + app_password + "'");
}

}  // namespace
}  // namespace sabakan::integration

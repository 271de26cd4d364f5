// sabakan's own login to PostgreSQL failing: clients get an error naming the cause right
// away, rather than waiting out query_wait_timeout.
#include "harness/fixture.hpp"
#include "harness/sockets.hpp"

#include <gmock/gmock.h>

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

}  // namespace
}  // namespace sabakan::integration

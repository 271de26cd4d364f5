// sabakan's unix socket in unix_socket_dir, as local clients (psql without -h) use it.
#include "harness/fixture.hpp"

#include <gmock/gmock.h>

namespace sabakan::integration {
namespace {

class UnixSocketTest : public transaction_pool_test {};

// A client connecting with host=<unix_socket_dir> logs in with md5 and runs transactions.
TEST_F(UnixSocketTest, LoginAndQuery) {
    auto c = pq::connect(sabakan().unix_conninfo(app_user, app_password, app_database));
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK) << pq::error(c.get());
    EXPECT_EQ(pq::value(c.get(), "SELECT current_user"), "mastodon");
    pq::run(c.get(), "BEGIN");
    EXPECT_EQ(pq::value(c.get(), "SELECT 40 + 2"), "42");
    pq::run(c.get(), "COMMIT");
}

// The unix socket checks passwords like TCP does.
TEST_F(UnixSocketTest, WrongPasswordRefused) {
    auto c = pq::connect(sabakan().unix_conninfo(app_user, "wrong", app_database));
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(c.get()),
                ::testing::HasSubstr("password authentication failed for user \"mastodon\""));
}

}  // namespace
}  // namespace sabakan::integration

// Client login through sabakan: the md5 secrets of userlist.txt, and the errors (text and
// SQLSTATE) a refused client sees. libpq has no result for a failed connection, so the
// SQLSTATE is read from the VERBOSE error text.
#include "harness/fixture.hpp"

#include <gmock/gmock.h>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;

class LoginTest : public pool_mode_test {};

// The right password is accepted via the md5 secret, and queries then reach PostgreSQL.
TEST_P(LoginTest, Md5PasswordAccepted) {
    auto c = pq::connect(pooled_conninfo());
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK) << pq::error(c.get());
    EXPECT_TRUE(PQconnectionUsedPassword(c.get()));
    EXPECT_EQ(pq::value(c.get(), "SELECT current_user"), "mastodon");
    EXPECT_EQ(pq::value(c.get(), "SELECT current_database()"), "mastodon_production");
    EXPECT_GE(PQserverVersion(c.get()), 150000);
    const char* encoding = PQparameterStatus(c.get(), "server_encoding");
    ASSERT_NE(encoding, nullptr);
    EXPECT_STREQ(encoding, "UTF8");
}

// A client that offers no password is asked for one and does not get in.
TEST_P(LoginTest, PasswordRequired) {
    auto c = pq::connect("host=127.0.0.1 port=" + std::to_string(sabakan().port()) +
                         " user=mastodon dbname=mastodon_production passfile=/dev/null");
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_BAD);
    EXPECT_TRUE(PQconnectionNeedsPassword(c.get())) << pq::error(c.get());
}

// A wrong password is refused with PostgreSQL's wording and SQLSTATE 28P01.
TEST_P(LoginTest, WrongPasswordRefused) {
    auto c = pq::connect(sabakan().conninfo("mastodon", "wrong", "mastodon_production"));
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_BAD);
    std::string message = pq::error(c.get());
    EXPECT_THAT(message, HasSubstr("password authentication failed for user \"mastodon\""));
    EXPECT_THAT(message, HasSubstr("28P01"));
}

// A user missing from userlist.txt gets the same refusal, so user names cannot be probed.
TEST_P(LoginTest, UnknownUserRefused) {
    auto c = pq::connect(sabakan().conninfo("nobody", "password", "mastodon_production"));
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_BAD);
    std::string message = pq::error(c.get());
    EXPECT_THAT(message, HasSubstr("password authentication failed for user \"nobody\""));
    EXPECT_THAT(message, HasSubstr("28P01"));
}

// A database not in [databases] is refused by name with SQLSTATE 3D000.
TEST_P(LoginTest, UnknownDatabaseRefused) {
    auto c = pq::connect(sabakan().conninfo("mastodon", "password", "nosuchdb"));
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_BAD);
    std::string message = pq::error(c.get());
    EXPECT_THAT(message, HasSubstr("no such database: nosuchdb"));
    EXPECT_THAT(message, HasSubstr("3D000"));
}

// Refused logins leave sabakan serving: a good login right after them works.
TEST_P(LoginTest, ServesAfterRefusals) {
    for (int i = 0; i < 5; ++i) {
        auto bad = pq::connect(sabakan().conninfo("mastodon", "wrong", "mastodon_production"));
        EXPECT_EQ(PQstatus(bad.get()), CONNECTION_BAD);
    }
    auto c = connect_pooled();
    EXPECT_EQ(pq::value(c.get(), "SELECT 1"), "1");
}

SABAKAN_FOR_EACH_POOL_MODE(LoginTest);

}  // namespace
}  // namespace sabakan::integration

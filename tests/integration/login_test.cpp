// Client login through sabakan: the md5 secrets of userlist.txt, and the errors (text and
// SQLSTATE) a refused client sees. libpq has no result for a failed connection, so the
// SQLSTATE is read from the VERBOSE error text.
#include "harness/fixture.hpp"
#include "harness/sockets.hpp"

#include <gmock/gmock.h>

#include <chrono>
#include <cstdint>
#include <string>

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

// A database not in [databases] is refused by name with SQLSTATE 3D000, but only once the
// password is right: before, which databases exist is not told.
TEST_P(LoginTest, UnknownDatabaseRefused) {
    auto c = pq::connect(sabakan().conninfo("mastodon", "password", "nosuchdb"));
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_BAD);
    std::string message = pq::error(c.get());
    EXPECT_THAT(message, HasSubstr("no such database: nosuchdb"));
    EXPECT_THAT(message, HasSubstr("3D000"));
    auto wrong = pq::connect(sabakan().conninfo("mastodon", "wrong", "nosuchdb"));
    ASSERT_EQ(PQstatus(wrong.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(wrong.get()), HasSubstr("password authentication failed"));
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

// A raw client: the startup packet, then the answer to what sabakan asks.
std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
}

std::string startup_packet(const std::string& user) {
    using namespace std::string_literals;
    const std::string body =
        be32(196608) + "user\0"s + user + "\0database\0"s + std::string(app_database) + "\0\0"s;
    return be32(static_cast<std::uint32_t>(body.size() + 4)) + body;
}

std::string password_message(const std::string& password) {
    return "p" + be32(static_cast<std::uint32_t>(password.size() + 5)) + password + '\0';
}

class EmptyPasswordTest : public sabakan_test {
protected:
    void start(const std::string& auth_type) {
        sabakan_options o;
        o.extra = {{"auth_type", auth_type}};
        // "blank" has an empty entry: a user for auth_type = trust, never a password.
        o.userlist_text = "\"mastodon\" \"password\"\n\"blank\" \"\"\n\"pgbouncer\" \"password\"\n";
        start_sabakan(o);
    }
};

// auth_type = plain: an empty password is refused with PostgreSQL's text and 28P01, for a
// user whose entry is empty, a user with a password and an unknown user alike.
TEST_F(EmptyPasswordTest, PlainRefusesEmptyPassword) {
    start("plain");
    for (const std::string user : {"blank", "mastodon", "nobody"}) {
        raw_socket s(sabakan().port());
        ASSERT_TRUE(s.send_all(startup_packet(user) + password_message("")));
        bool closed = false;
        const std::string reply = s.read_until_closed(std::chrono::seconds(10), closed);
        EXPECT_TRUE(closed) << user;
        // AuthenticationCleartextPassword, then the refusal; never AuthenticationOk.
        EXPECT_THAT(reply, ::testing::StartsWith("R" + be32(8) + be32(3))) << user;
        EXPECT_THAT(reply, HasSubstr("empty password returned by client")) << user;
        EXPECT_THAT(reply, HasSubstr("C28P01")) << user;
        EXPECT_EQ(reply.find("R" + be32(8) + be32(0)), std::string::npos) << user;
    }
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 1"), "1");
}

}  // namespace
}  // namespace sabakan::integration

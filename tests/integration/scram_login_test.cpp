// Clients logging in to sabakan with SCRAM-SHA-256: auth_type = scram-sha-256 against a
// plain password in auth_file, and a SCRAM secret in auth_file under auth_type = md5 (the
// secret cannot answer md5, so that client is asked for SCRAM, as PgBouncer does).
#include "harness/fixture.hpp"
#include "harness/sockets.hpp"

#include <gmock/gmock.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;

class ScramLoginTest : public sabakan_test {};

// auth_type = scram-sha-256 with a plain password: the right one gets in, others do not.
TEST_F(ScramLoginTest, ScramAgainstPlainPassword) {
    sabakan_options o;
    o.extra = {{"auth_type", "scram-sha-256"}};
    o.userlist_text = "\"mastodon\" \"password\"\n";
    start_sabakan(o);
    auto c = pq::connect(sabakan().conninfo("mastodon", "password", "mastodon_production"));
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK) << pq::error(c.get());
    EXPECT_EQ(pq::value(c.get(), "SELECT current_user"), "mastodon");

    auto wrong = pq::connect(sabakan().conninfo("mastodon", "wrong", "mastodon_production"));
    ASSERT_EQ(PQstatus(wrong.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(wrong.get()), HasSubstr("28P01"));
    auto unknown = pq::connect(sabakan().conninfo("nobody", "password", "mastodon_production"));
    ASSERT_EQ(PQstatus(unknown.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(unknown.get()),
                HasSubstr("password authentication failed for user \"nobody\""));
}

// A SCRAM secret copied from pg_authid into auth_file works under auth_type = md5.
TEST_F(ScramLoginTest, ScramSecretUnderMd5) {
    auto direct = connect_direct();
    const std::string secret =
        pq::value(direct.get(), "SELECT rolpassword FROM pg_authid WHERE rolname = 'mastodon'");
    ASSERT_EQ(secret.rfind("SCRAM-SHA-256$", 0), 0U) << secret;
    sabakan_options o;
    o.userlist_text = "\"mastodon\" \"" + secret + "\"\n";
    start_sabakan(o);
    auto c = pq::connect(sabakan().conninfo("mastodon", "password", "mastodon_production"));
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK) << pq::error(c.get());
    EXPECT_EQ(pq::value(c.get(), "SELECT 1"), "1");
    auto wrong = pq::connect(sabakan().conninfo("mastodon", "wrong", "mastodon_production"));
    ASSERT_EQ(PQstatus(wrong.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(wrong.get()), HasSubstr("28P01"));
}

std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
}

// The "s=" salt sabakan sends `user` in its SCRAM server-first message.
std::string salt_for(int port, const std::string& user) {
    using namespace std::string_literals;
    const std::string params = "user\0"s + user + "\0database\0"s + app_database + "\0\0"s;
    const std::string first = "n,,n=,r=abcdefghijklmnopqrstuvwx";
    const std::string sasl =
        "SCRAM-SHA-256\0"s + be32(static_cast<std::uint32_t>(first.size())) + first;
    raw_socket s(port);
    s.send_all(be32(static_cast<std::uint32_t>(8 + params.size())) + be32(196608) + params + "p" +
               be32(static_cast<std::uint32_t>(4 + sasl.size())) + sasl);
    bool closed = false;
    const std::string reply = s.read_until_closed(std::chrono::seconds(5), closed, 200);
    const auto at = reply.find(",s=");
    if (at == std::string::npos) {
        return "<no salt in " + std::to_string(reply.size()) + " bytes>";
    }
    return reply.substr(at + 3, reply.find(',', at + 3) - at - 3);
}

// The salt an unknown user is sent is the same after a restart, as a stored secret's is,
// so restarting does not tell who exists; a user with a plain password likewise.
TEST_F(ScramLoginTest, StandInSaltStableAcrossRestarts) {
    sabakan_options o;
    o.extra = {{"auth_type", "scram-sha-256"}};
    o.userlist_text = "\"mastodon\" \"password\"\n";
    start_sabakan(o);
    const std::string nobody = salt_for(sabakan().port(), "nobody");
    const std::string known = salt_for(sabakan().port(), "mastodon");
    ASSERT_EQ(nobody.size(), 24U) << nobody;  // 16 bytes in base64
    EXPECT_NE(nobody, known);
    start_sabakan(o);  // a new process, the same files
    EXPECT_EQ(salt_for(sabakan().port(), "nobody"), nobody);
    EXPECT_EQ(salt_for(sabakan().port(), "mastodon"), known);
}

}  // namespace
}  // namespace sabakan::integration

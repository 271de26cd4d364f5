// Clients logging in to sabakan with SCRAM-SHA-256: auth_type = scram-sha-256 against a
// plain password in auth_file, and a SCRAM secret in auth_file under auth_type = md5 (the
// secret cannot answer md5, so that client is asked for SCRAM, as PgBouncer does).
#include "harness/fixture.hpp"

#include <gmock/gmock.h>

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

}  // namespace
}  // namespace sabakan::integration

// Session parameters in transaction mode: what a client set (at startup or with SET outside
// a transaction) is what it sees on every server it borrows, and never what another
// client set. One server for all, so every client's query runs where others' did.
#include "harness/console.hpp"
#include "harness/fixture.hpp"
#include "harness/pg_cluster.hpp"

#include <gmock/gmock.h>

#include <string>
#include <vector>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;

class SessionParamsTest : public sabakan_test {
protected:
    void SetUp() override {
        sabakan_test::SetUp();
        if (!HasFatalFailure()) {
            sabakan_options o;
            o.default_pool_size = 1;
            start_sabakan(o);
        }
    }
    pq::connection connect_with(const std::string& extra) const {
        return pq::connect_ok(pooled_conninfo() + " " + extra);
    }
};

class SessionModeParamsTest : public sabakan_test {
protected:
    void SetUp() override {
        sabakan_test::SetUp();
        if (!HasFatalFailure()) {
            sabakan_options o;
            o.pool_mode = "session";
            o.default_pool_size = 1;
            start_sabakan(o);
        }
    }
};

// Session mode: a client that changed reported parameters leaves, and the
// server_reset_query after it (DISCARD ALL) makes PostgreSQL report the defaults once the
// client is gone. Those reports update the server's tracked values only: the client may be
// freed by then, and the sanitizer pass fails on any write to it. The next client, which
// waits for the one server, sees the defaults.
TEST_F(SessionModeParamsTest, ResetAfterTheClientLeftReachesOnlyTheServer) {
    for (int i = 0; i < 3; ++i) {
        {
            auto leaving = connect_pooled();
            pq::run(leaving.get(), "SET application_name = 'leaving'");
            pq::run(leaving.get(), "SET TIME ZONE 'Asia/Tokyo'");
        }
        auto next = connect_pooled();
        EXPECT_EQ(pq::value(next.get(), "SELECT current_setting('application_name')"), "");
        EXPECT_NE(pq::value(next.get(), "SHOW TimeZone"), "Asia/Tokyo");
    }
}

// SET TIME ZONE and SET application_name outside a transaction stay with their client.
TEST_F(SessionParamsTest, SetDoesNotLeakToOtherClients) {
    auto a = connect_pooled();
    auto b = connect_pooled();
    const std::string tz_default = pq::value(b.get(), "SHOW TimeZone");
    ASSERT_NE(tz_default, "Asia/Tokyo");
    pq::run(a.get(), "SET TIME ZONE 'Asia/Tokyo'");
    pq::run(a.get(), "SET application_name = 'alpha'");
    EXPECT_STREQ(PQparameterStatus(a.get(), "TimeZone"), "Asia/Tokyo");
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(pq::value(b.get(), "SHOW TimeZone"), tz_default);
        EXPECT_EQ(pq::value(b.get(), "SELECT current_setting('application_name')"), "");
        EXPECT_EQ(pq::value(a.get(), "SHOW TimeZone"), "Asia/Tokyo");
        EXPECT_EQ(pq::value(a.get(), "SELECT current_setting('application_name')"), "alpha");
    }
    EXPECT_STREQ(PQparameterStatus(b.get(), "TimeZone"), tz_default.c_str());
    // RESET brings the client back to the default, on whatever server it gets next.
    pq::run(a.get(), "RESET TIME ZONE");
    EXPECT_EQ(pq::value(b.get(), "SELECT 1"), "1");
    EXPECT_EQ(pq::value(a.get(), "SHOW TimeZone"), tz_default);
}

// Startup parameters are the client's: the welcome reports them and its queries run with
// them, while a client that asked for nothing gets the server's defaults.
TEST_F(SessionParamsTest, StartupParametersAreApplied) {
    auto latin = connect_with("client_encoding=LATIN1 application_name=reporting");
    auto plain = connect_pooled();
    EXPECT_STREQ(PQparameterStatus(latin.get(), "client_encoding"), "LATIN1");
    EXPECT_STREQ(PQparameterStatus(latin.get(), "application_name"), "reporting");
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(pq::value(latin.get(), "SHOW client_encoding"), "LATIN1");
        EXPECT_EQ(pq::value(latin.get(), "SELECT current_setting('application_name')"),
                  "reporting");
        EXPECT_EQ(pq::value(plain.get(), "SHOW client_encoding"), "UTF8");
        EXPECT_EQ(pq::value(plain.get(), "SELECT current_setting('application_name')"), "");
    }
    // LATIN1 really is in effect: é comes back as one byte.
    EXPECT_EQ(pq::value(latin.get(), "SELECT octet_length(convert_to(chr(233), 'LATIN1'))"), "1");
    EXPECT_EQ(pq::value(latin.get(), "SELECT chr(233)"), std::string(1, '\xe9'));
}

// Settings in `options` (PGOPTIONS) count as startup parameters: a tracked one is applied,
// one neither tracked nor ignored is refused with its name.
TEST_F(SessionParamsTest, OptionsSettings) {
    auto tokyo = connect_with("options='-c TimeZone=Asia/Tokyo'");
    auto plain = connect_pooled();
    EXPECT_STREQ(PQparameterStatus(tokyo.get(), "TimeZone"), "Asia/Tokyo");
    EXPECT_EQ(pq::value(tokyo.get(), "SHOW TimeZone"), "Asia/Tokyo");
    EXPECT_NE(pq::value(plain.get(), "SHOW TimeZone"), "Asia/Tokyo");
    EXPECT_EQ(pq::value(tokyo.get(), "SHOW TimeZone"), "Asia/Tokyo");
    auto refused = pq::connect(pooled_conninfo() + " options='-c work_mem=64MB'");
    EXPECT_EQ(PQstatus(refused.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(refused.get()),
                HasSubstr("unsupported startup parameter in options: work_mem"));
}

// application_name_add_host: the client's address and port follow its application_name.
TEST_F(SessionParamsTest, ApplicationNameAddHost) {
    sabakan_options o;
    o.default_pool_size = 1;
    o.extra = {{"application_name_add_host", "1"}};
    start_sabakan(o);
    auto c = connect_with("application_name=web");
    const std::string want = "web - 127.0.0.1:" + std::to_string(local_port(c.get()));
    EXPECT_EQ(pq::value(c.get(), "SELECT current_setting('application_name')"), want);
    EXPECT_STREQ(PQparameterStatus(c.get(), "application_name"), want.c_str());
}

// Ten clients with their own application_name take turns on one server: each sees its own.
TEST_F(SessionParamsTest, ManyClientsTakeTurns) {
    std::vector<pq::connection> clients;
    for (int i = 0; i < 10; ++i) {
        clients.push_back(connect_with("application_name=worker" + std::to_string(i)));
    }
    for (int round = 0; round < 5; ++round) {
        for (int i = 0; i < 10; ++i) {
            ASSERT_EQ(pq::value(clients[i].get(), "SELECT current_setting('application_name')"),
                      "worker" + std::to_string(i));
        }
    }
    auto direct = connect_direct();
    EXPECT_EQ(pq::number(direct.get(),
                         "SELECT count(*) FROM pg_stat_activity WHERE usename = 'mastodon'"),
              1);
}

// A startup value PostgreSQL rejects fails that client with PostgreSQL's reason at its
// first query; the server and other clients are unharmed.
TEST_F(SessionParamsTest, InvalidStartupValueFailsThatClient) {
    auto good = connect_with("application_name=ok");
    auto bogus = pq::connect(pooled_conninfo() + " client_encoding=NOT_AN_ENCODING");
    ASSERT_EQ(PQstatus(bogus.get()), CONNECTION_OK) << pq::error(bogus.get());
    pq::result r(PQexec(bogus.get(), "SELECT 1"));
    EXPECT_NE(PQresultStatus(r.get()), PGRES_TUPLES_OK);
    EXPECT_THAT(pq::error(bogus.get()), HasSubstr("client_encoding"));
    EXPECT_EQ(pq::value(good.get(), "SELECT current_setting('application_name')"), "ok");
}

}  // namespace
}  // namespace sabakan::integration

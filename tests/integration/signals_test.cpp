// Signals as PgBouncer's: SIGUSR1 pauses and SIGUSR2 resumes, SIGINT exits once servers
// are released, SIGTERM once clients have left (a second one of either exits at once),
// SIGQUIT exits at once, SIGHUP reloads. Also SUSPEND/RESUME from the console.
#include "harness/fixture.hpp"
#include "harness/sockets.hpp"
#include "harness/temp_dir.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>

#include <chrono>
#include <csignal>
#include <string>

namespace sabakan::integration {
namespace {

using namespace std::chrono_literals;

class SignalsTest : public sabakan_test {
protected:
    void SetUp() override {
        sabakan_test::SetUp();
        if (!HasFatalFailure()) {
            start_sabakan();
        }
    }

    /// The value of one key of SHOW STATE.
    std::string state(const std::string& key) {
        auto admin = connect_admin();
        auto r = pq::run(admin.get(), "SHOW STATE");
        for (int i = 0; i < PQntuples(r.get()); ++i) {
            if (key == PQgetvalue(r.get(), i, 0)) {
                return PQgetvalue(r.get(), i, 1);
            }
        }
        return "";
    }

    /// Sends a query without waiting; true once its result has arrived.
    static bool answered(PGconn* c) {
        if (PQconsumeInput(c) == 0) {
            return true;  // the connection broke: that is an answer too
        }
        return PQisBusy(c) == 0;
    }
};

// SIGUSR1 pauses every database: queries wait; SIGUSR2 resumes and they complete.
TEST_F(SignalsTest, Usr1PausesUsr2Resumes) {
    auto client = connect_pooled();
    EXPECT_EQ(pq::value(client.get(), "SELECT 1"), "1");
    sabakan().signal(SIGUSR1);
    ASSERT_TRUE(wait_until([&] { return state("paused") == "yes"; }, 10s));
    ASSERT_EQ(PQsendQuery(client.get(), "SELECT 42"), 1);
    // Paused: the servers were closed and no new one is lent, so nothing comes back.
    EXPECT_TRUE(wait_until([&] { return app_backends(connect_direct().get()) == 0; }, 10s));
    EXPECT_FALSE(answered(client.get()));
    sabakan().signal(SIGUSR2);
    ASSERT_TRUE(wait_until([&] { return answered(client.get()); }, 10s));
    pq::result r(PQgetResult(client.get()));
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << pq::error(client.get());
    EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "42");
    EXPECT_TRUE(pq::no_more_results(client.get()));
    EXPECT_EQ(state("paused"), "no");
}

// SIGINT: no new connections, the open transaction finishes, then sabakan exits cleanly.
TEST_F(SignalsTest, SigintWaitsForServers) {
    auto client = connect_pooled();
    pq::run(client.get(), "BEGIN");
    pq::run(client.get(), "SELECT 1");
    sabakan().signal(SIGINT);
    EXPECT_TRUE(wait_until([&] { return !accepts_tcp(sabakan().port()); }, 10s));
    EXPECT_FALSE(sabakan().wait_exit(300ms)) << "exited with a transaction still open";
    EXPECT_EQ(pq::value(client.get(), "SELECT 2"), "2");
    pq::run(client.get(), "COMMIT");
    auto status = sabakan().wait_exit(10s);
    ASSERT_TRUE(status) << "still running after the last server was released";
    EXPECT_EQ(*status, 0);
}

// A second SIGINT exits at once, even with a transaction open.
TEST_F(SignalsTest, SecondSigintExitsNow) {
    auto client = connect_pooled();
    pq::run(client.get(), "BEGIN");
    sabakan().signal(SIGINT);
    EXPECT_TRUE(wait_until([&] { return !accepts_tcp(sabakan().port()); }, 10s));
    sabakan().signal(SIGINT);
    auto status = sabakan().wait_exit(10s);
    ASSERT_TRUE(status);
    EXPECT_EQ(*status, 0);
}

// SIGTERM: no new connections; a connected client is still served; sabakan exits when
// the last client has left.
TEST_F(SignalsTest, SigtermWaitsForClients) {
    auto client = connect_pooled();
    sabakan().signal(SIGTERM);
    EXPECT_TRUE(wait_until([&] { return !accepts_tcp(sabakan().port()); }, 10s));
    EXPECT_EQ(pq::value(client.get(), "SELECT 3"), "3");
    EXPECT_FALSE(sabakan().wait_exit(300ms)) << "exited with a client still connected";
    client.reset();
    auto status = sabakan().wait_exit(10s);
    ASSERT_TRUE(status) << "still running after the last client left";
    EXPECT_EQ(*status, 0);
}

// A second SIGTERM exits at once, clients or not.
TEST_F(SignalsTest, SecondSigtermExitsNow) {
    auto client = connect_pooled();
    sabakan().signal(SIGTERM);
    EXPECT_TRUE(wait_until([&] { return !accepts_tcp(sabakan().port()); }, 10s));
    sabakan().signal(SIGTERM);
    auto status = sabakan().wait_exit(10s);
    ASSERT_TRUE(status);
    EXPECT_EQ(*status, 0);
}

// SIGQUIT exits at once, even in the middle of a transaction.
TEST_F(SignalsTest, SigquitExitsNow) {
    auto client = connect_pooled();
    pq::run(client.get(), "BEGIN");
    sabakan().signal(SIGQUIT);
    auto status = sabakan().wait_exit(10s);
    ASSERT_TRUE(status);
    EXPECT_EQ(*status, 0);
}

// SIGHUP re-reads the config: a changed default_pool_size shows in SHOW CONFIG.
TEST_F(SignalsTest, SighupReloads) {
    sabakan_options o;
    o.default_pool_size = 7;
    sabakan().rewrite_config(cluster(), o);
    sabakan().signal(SIGHUP);
    EXPECT_TRUE(wait_until(
        [&] {
            auto admin = connect_admin();
            auto r = pq::run(admin.get(), "SHOW CONFIG");
            for (int i = 0; i < PQntuples(r.get()); ++i) {
                if (std::string(PQgetvalue(r.get(), i, 0)) == "default_pool_size") {
                    return std::string(PQgetvalue(r.get(), i, 1)) == "7";
                }
            }
            return false;
        },
        10s));
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 1"), "1");
}

// SIGHUP reopens the log file (logrotate moves it away first) and re-reads auth_file: a
// changed password applies to the next login.
TEST_F(SignalsTest, SighupReopensLogAndRereadsAuthFile) {
    const std::string log = sabakan().dir() + "/sabakan.log";
    ASSERT_EQ(std::rename(log.c_str(), (log + ".1").c_str()), 0);
    // The md5 secret of password "newpass" for user mastodon: md5("newpassmastodon").
    write_file(sabakan().dir() + "/userlist.txt",
               "\"mastodon\" \"md56d92b5d8c743c5ff42c33e465cf989a9\"\n"
               "\"pgbouncer\" \"md5a45753afaca0db833a6f7c7b2864b9d9\"\n");
    sabakan().signal(SIGHUP);
    ASSERT_TRUE(wait_until(
        [&] { return read_file(log).find("configuration reloaded") != std::string::npos; }, 10s))
        << "no new log file after SIGHUP";
    auto refused = pq::connect(sabakan().conninfo(app_user, app_password, app_database));
    EXPECT_NE(PQstatus(refused.get()), CONNECTION_OK) << "the old password still works";
    auto client = pq::connect_ok(sabakan().conninfo(app_user, "newpass", app_database));
    EXPECT_EQ(pq::value(client.get(), "SELECT 1"), "1");
}

// SUSPEND stops all traffic (a query sent meanwhile gets no answer) until RESUME.
TEST_F(SignalsTest, SuspendAndResume) {
    auto client = connect_pooled();
    EXPECT_EQ(pq::value(client.get(), "SELECT 1"), "1");
    auto admin = connect_admin();
    auto r = pq::run(admin.get(), "SUSPEND");
    EXPECT_STREQ(PQcmdStatus(r.get()), "SUSPEND");
    EXPECT_THAT(pq::value(admin.get(), "SHOW VERSION"), ::testing::StartsWith("sabakan"))
        << "the console itself must keep answering";
    ASSERT_EQ(PQsendQuery(client.get(), "SELECT 5"), 1);
    EXPECT_FALSE(wait_until([&] { return answered(client.get()); }, 500ms));
    r = pq::run(admin.get(), "SHOW STATE");
    EXPECT_STREQ(PQgetvalue(r.get(), 2, 1), "yes");  // suspended
    r = pq::run(admin.get(), "RESUME");
    EXPECT_STREQ(PQcmdStatus(r.get()), "RESUME");
    ASSERT_TRUE(wait_until([&] { return answered(client.get()); }, 10s));
    pq::result answer(PQgetResult(client.get()));
    ASSERT_EQ(PQresultStatus(answer.get()), PGRES_TUPLES_OK) << pq::error(client.get());
    EXPECT_STREQ(PQgetvalue(answer.get(), 0, 0), "5");
    EXPECT_TRUE(pq::no_more_results(client.get()));
}

}  // namespace
}  // namespace sabakan::integration

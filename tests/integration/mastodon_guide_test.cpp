// The "done when" of sabakan: the Mastodon guide's pgbouncer.ini and userlist.txt, changed
// only where a test machine must (ports, the auth_file path, the unix socket's dir), in
// front of PostgreSQL 15 with its default SCRAM passwords, serve the operator's real
// clients: psql, and pgbench over the simple and extended query protocols and with
// prepared statements.
#include "harness/client_run.hpp"
#include "harness/fixture.hpp"
#include "harness/pg_environment.hpp"
#include "harness/temp_dir.hpp"
#include "harness/wait.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;

// /etc/pgbouncer/pgbouncer.ini, byte for byte as the guide gives it.
constexpr const char* guide_ini = R"([databases]
mastodon_production = host=127.0.0.1 port=5432 dbname=mastodon_production user=mastodon password=password

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = 6432
auth_type = md5
auth_file = /etc/pgbouncer/userlist.txt
admin_users = pgbouncer
pool_mode = transaction
max_client_conn = 100
default_pool_size = 20
)";

// /etc/pgbouncer/userlist.txt, byte for byte as the guide gives it.
constexpr const char* guide_userlist = R"("mastodon" "md5d75bb2be2d7086c6148944261a00f605"
"pgbouncer" "md5a45753afaca0db833a6f7c7b2864b9d9"
)";

constexpr int guide_pool_size = 20;  // the guide's default_pool_size

/// `text` with its only occurrence of `from` replaced by `to`; throws when `from` does not
/// occur exactly once, so an edit of the guide's text cannot slip past the test.
std::string replace_once(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    if (at == std::string::npos || text.find(from, at + 1) != std::string::npos) {
        throw std::runtime_error("the guide's ini must hold \"" + from + "\" exactly once");
    }
    return text.replace(at, from.size(), to);
}

/// The guide's ini with only what a test machine must change.
std::string guide_ini_for_test(int pg_port, int listen_port, const std::string& dir) {
    std::string ini = guide_ini;
    // The cluster and sabakan listen on free ports, not on 5432 and 6432.
    ini = replace_once(ini, "port=5432", "port=" + std::to_string(pg_port));
    ini = replace_once(ini, "listen_port = 6432", "listen_port = " + std::to_string(listen_port));
    // The userlist lives in the temp dir; /etc/pgbouncer is not ours to write.
    ini = replace_once(ini, "auth_file = /etc/pgbouncer/userlist.txt",
                       "auth_file = " + dir + "/userlist.txt");
    // Needed: the default unix_socket_dir is /tmp, shared by the whole machine. sabakan
    // unlinks an existing /tmp/.s.PGSQL.<port> unchecked before binding (so it could take
    // the socket of another server that listens there but not on TCP 127.0.0.1), and a
    // sabakan killed by a ctest timeout would leave its socket file behind in /tmp. In the
    // temp dir the socket cannot collide and is deleted with the dir. Clients here use TCP.
    ini += "unix_socket_dir = " + dir + "\n";
    return ini;
}

class MastodonGuideTest : public sabakan_test {
protected:
    // Checks the premise (SCRAM-only TCP logins to PostgreSQL, a SCRAM-stored password
    // for mastodon), then starts sabakan on the guide's files.
    void SetUp() override {
        sabakan_test::SetUp();
        if (HasFatalFailure()) {
            return;
        }
        auto direct = connect_direct();
        ASSERT_EQ(
            pq::value(direct.get(),
                      "SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'mastodon'"),
            "SCRAM-SHA-256$");
        ASSERT_GT(
            pq::number(direct.get(), "SELECT count(*) FROM pg_hba_file_rules WHERE type = 'host'"),
            0);
        ASSERT_EQ(pq::number(direct.get(),
                             "SELECT count(*) FROM pg_hba_file_rules"
                             " WHERE type = 'host' AND auth_method <> 'scram-sha-256'"),
                  0);

        sabakan_options o;
        o.ini_text = [pg_port = cluster().port()](int listen_port, const std::string& dir) {
            return guide_ini_for_test(pg_port, listen_port, dir);
        };
        o.userlist_text = guide_userlist;
        start_sabakan(std::move(o));
    }

    /// A file for a client's output, in sabakan's temp dir.
    std::string output_file(const std::string& name) { return sabakan().dir() + "/" + name; }

    /// `argv` run with the guide's password in PGPASSWORD, as an operator's shell would.
    static std::vector<std::string> with_password(std::vector<std::string> argv) {
        argv.insert(argv.begin(), {"/usr/bin/env", std::string("PGPASSWORD=") + app_password});
        return argv;
    }
};

// psql logs in through sabakan with the guide's md5 userlist and runs a query on PostgreSQL.
TEST_F(MastodonGuideTest, PsqlLogsInAndQueries) {
    auto r = run_client(
        with_password({"/usr/bin/psql", "-h", "127.0.0.1", "-p", std::to_string(sabakan().port()),
                       "-U", "mastodon", "mastodon_production", "-c",
                       "SELECT current_user || '@' || current_database() || ' on PostgreSQL ' || "
                       "current_setting('server_version_num')::int / 10000 AS who"}),
        output_file("psql.out"), std::chrono::seconds(30));
    ASSERT_FALSE(r.timed_out) << "psql did not finish:\n" << r.output;
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr(" mastodon@mastodon_production on PostgreSQL 15\n"))
        << r.output;
    EXPECT_THAT(r.output, HasSubstr("(1 row)")) << r.output;
}

class MastodonGuidePgbenchTest : public MastodonGuideTest,
                                 public ::testing::WithParamInterface<const char*> {};

// pgbench's TPC-B (BEGIN..END) with 20 clients commits all 1000 transactions without a
// failure, and PostgreSQL never sees more than default_pool_size (20) mastodon backends.
TEST_P(MastodonGuidePgbenchTest, TpcbThroughPooler) {
    const std::string mode = GetParam();
    const std::string pgbench = pg_tool("pgbench");

    // The tables are made straight in PostgreSQL (over its unix socket, local trust) by
    // mastodon, who thus owns them; the migrations bypass the pooler the same way.
    auto init =
        run_client({pgbench, "-i", "-s", "1", "-h", cluster().socket_dir(), "-p",
                    std::to_string(cluster().port()), "-U", "mastodon", "mastodon_production"},
                   output_file("pgbench-init.out"), std::chrono::seconds(90));
    ASSERT_FALSE(init.timed_out) << "pgbench -i did not finish:\n" << init.output;
    ASSERT_EQ(init.status, 0) << init.output;
    auto direct = connect_direct();
    ASSERT_EQ(pq::number(direct.get(),
                         "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'pgbench\\_%'"
                         " AND tableowner = 'mastodon'"),
              4);
    // pgbench -i's own backend is gone before counting sabakan's.
    ASSERT_TRUE(
        wait_until([&] { return app_backends(direct.get()) == 0; }, std::chrono::seconds(15)));

    long long most = 0;
    long long samples = 0;
    auto run =
        run_client(with_password({pgbench, "-n", "-M", mode, "-c", "20", "-j", "4", "-t", "50",
                                  "-h", "127.0.0.1", "-p", std::to_string(sabakan().port()), "-U",
                                  "mastodon", "mastodon_production"}),
                   output_file("pgbench.out"), std::chrono::seconds(90), [&] {
                       most = std::max(most, app_backends(direct.get()));
                       ++samples;
                   });
    std::printf("pgbench -M %s through sabakan: %s\n", mode.c_str(),
                line_starting(run.output, "tps = ").c_str());

    ASSERT_FALSE(run.timed_out) << "pgbench did not finish:\n" << run.output;
    ASSERT_EQ(run.status, 0) << run.output;
    EXPECT_THAT(run.output, HasSubstr("transaction type: <builtin: TPC-B (sort of)>"));
    EXPECT_THAT(run.output, HasSubstr("query mode: " + mode));
    EXPECT_THAT(run.output, HasSubstr("number of clients: 20"));
    EXPECT_THAT(run.output, HasSubstr("number of transactions actually processed: 1000/1000"))
        << run.output;
    EXPECT_THAT(run.output, HasSubstr("number of failed transactions: 0 (0.000%)")) << run.output;
    EXPECT_NE(line_starting(run.output, "tps = "), "") << run.output;

    // Every transaction committed exactly once: one history row each, and the balances
    // of accounts, tellers and branches all add up to the history's deltas.
    EXPECT_EQ(pq::number(direct.get(), "SELECT count(*) FROM pgbench_history"), 1000);
    EXPECT_EQ(pq::value(direct.get(),
                        "SELECT (SELECT sum(abalance) FROM pgbench_accounts) ="
                        " (SELECT sum(delta) FROM pgbench_history) AND"
                        " (SELECT sum(tbalance) FROM pgbench_tellers) ="
                        " (SELECT sum(delta) FROM pgbench_history) AND"
                        " (SELECT sum(bbalance) FROM pgbench_branches) ="
                        " (SELECT sum(delta) FROM pgbench_history)"),
              "t");

    EXPECT_GT(samples, 0);
    EXPECT_GE(most, 1);
    EXPECT_LE(most, guide_pool_size) << "PostgreSQL saw more backends than default_pool_size";
    EXPECT_LE(app_backends(direct.get()), guide_pool_size);
}

INSTANTIATE_TEST_SUITE_P(Protocol, MastodonGuidePgbenchTest,
                         ::testing::Values("simple", "extended", "prepared"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                             return std::string(info.param);
                         });

}  // namespace
}  // namespace sabakan::integration

// A rolling restart with so_reuseport, as an upgrade runs it: a second sabakan starts on
// the same port (taking over the unix socket file too), the first gets SIGTERM (shut down once its
// clients have left) and exits when they have. Two pgbench runs go on throughout, one connecting
// anew for every transaction, one keeping its connections; neither may lose a connection or a
// transaction, and every transaction pgbench counts is in the table exactly once.
#include "harness/child_process.hpp"
#include "harness/client_run.hpp"
#include "harness/fixture.hpp"
#include "harness/pg_cluster.hpp"
#include "harness/pg_environment.hpp"
#include "harness/sockets.hpp"
#include "harness/temp_dir.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>

#include <csignal>
#include <string>

namespace sabakan::integration {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

/// `text` with the value of its `key = ...` line replaced.
std::string with_setting(std::string text, const std::string& key, const std::string& value) {
    const std::string start = "\n" + key + " = ";
    const auto at = text.find(start);
    if (at == std::string::npos) {
        return text + start.substr(1) + value + "\n";
    }
    const auto from = at + start.size();
    return text.replace(from, text.find('\n', from) - from, value);
}

/// pgbench's "number of transactions actually processed: N", or -1.
long long processed(const std::string& output) {
    const std::string label = "actually processed: ";
    const auto at = output.find(label);
    return at == std::string::npos ? -1 : std::stoll(output.substr(at + label.size()));
}

class RollingRestartTest : public sabakan_test {
protected:
    void SetUp() override {
        sabakan_test::SetUp();
        if (HasFatalFailure()) {
            return;
        }
        sabakan_options o;
        o.workers = 2;
        // The metrics port is shared too, or the successor could not start.
        o.extra = {{"so_reuseport", "1"},
                   {"metrics_listen", "127.0.0.1:" + std::to_string(free_tcp_port())}};
        start_sabakan(o);
    }

    std::vector<std::string> pgbench(std::vector<std::string> args) {
        std::vector<std::string> argv = {"/usr/bin/env",
                                         std::string("PGPASSWORD=") + app_password,
                                         pg_tool("pgbench"),
                                         "-n",
                                         "-h",
                                         "127.0.0.1",
                                         "-p",
                                         std::to_string(sabakan().port()),
                                         "-U",
                                         app_user,
                                         "-f",
                                         dir_.file("insert.sql")};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back(app_database);
        return argv;
    }

    temp_dir dir_{"sabakan-restart"};
};

TEST_F(RollingRestartTest, PgbenchLosesNothing) {
    auto direct = connect_direct();
    pq::run(direct.get(), "DROP TABLE IF EXISTS restart_log");
    pq::run(direct.get(), "CREATE TABLE restart_log (client int, n int)");
    pq::run(direct.get(), "GRANT INSERT ON restart_log TO mastodon");
    // One row per transaction: what pgbench counts can be checked against the table.
    write_file(dir_.file("insert.sql"),
               "\\set n random(1, 1000000)\n"
               "INSERT INTO restart_log VALUES (:client_id, :n);\n");

    child_process churn;  // a new connection for every transaction (-C)
    churn.spawn(pgbench({"-C", "-c", "4", "-j", "2", "-T", "12"}), dir_.file("churn.out"));
    child_process steady;  // connections kept for the whole run
    steady.spawn(pgbench({"-c", "4", "-j", "2", "-T", "12"}), dir_.file("steady.out"));
    auto rows = [&] { return pq::number(direct.get(), "SELECT count(*) FROM restart_log"); };
    ASSERT_TRUE(wait_until([&] { return rows() >= 200; }, 30s)) << "no traffic";

    // The new process: the same config (the same port and unix socket), its own log.
    temp_dir next_dir("sabakan-next");
    const std::string next_log = next_dir.file("sabakan.log");
    write_file(next_dir.file("sabakan.ini"),
               with_setting(read_file(sabakan().config_path()), "logfile", next_log));
    child_process next;
    next.spawn({sabakan_binary(), next_dir.file("sabakan.ini")}, next_dir.file("stderr.log"));
    ASSERT_TRUE(wait_until(
        [&] { return read_file(next_log).find(" started (pid") != std::string::npos; }, 20s))
        << read_file(next_dir.file("stderr.log")) << read_file(next_log);
    EXPECT_THAT(read_file(next_log), HasSubstr("took over unix socket"));

    // The old one stops listening and leaves once its clients have.
    const long long before_signal = rows();
    sabakan().signal(SIGTERM);
    ASSERT_TRUE(wait_until([&] { return !churn.running() && !steady.running(); }, 60s));
    const std::string churn_out = read_file(dir_.file("churn.out"));
    const std::string steady_out = read_file(dir_.file("steady.out"));
    EXPECT_EQ(churn.status(), 0) << churn_out;
    EXPECT_EQ(steady.status(), 0) << steady_out;
    EXPECT_THAT(churn_out, HasSubstr("number of failed transactions: 0 (0.000%)")) << churn_out;
    EXPECT_THAT(steady_out, HasSubstr("number of failed transactions: 0 (0.000%)")) << steady_out;
    EXPECT_THAT(churn_out + steady_out, ::testing::Not(HasSubstr("abort")));

    // The old process exits once the steady clients have gone; the new one served the
    // connections made after the signal.
    EXPECT_EQ(sabakan().wait_exit(20s), 0) << "the old process did not exit by itself";
    const long long total = rows();
    EXPECT_GT(total, before_signal);
    EXPECT_EQ(total, processed(churn_out) + processed(steady_out))
        << "every transaction pgbench counted is in the table exactly once";
    // The unix socket, taken over, is the new process's, and the old one left it in place.
    auto next_admin =
        pq::connect_ok("host=" + sabakan().dir() + " port=" + std::to_string(sabakan().port()) +
                       " user=pgbouncer password=password dbname=pgbouncer");
    auto stats = pq::run(next_admin.get(), "SHOW STATS_TOTALS");
    long long served = 0;
    for (int i = 0; i < PQntuples(stats.get()); ++i) {
        if (std::string(PQgetvalue(stats.get(), i, 0)) == app_database) {
            served = std::stoll(PQgetvalue(stats.get(), i, PQfnumber(stats.get(), "xact_count")));
        }
    }
    EXPECT_GT(served, 0) << "the new process served no transaction";
    std::printf("rolling restart: %lld transactions, %lld of them through the new process\n", total,
                served);
    EXPECT_EQ(next.stop(20s), 0) << read_file(next_dir.file("sabakan.log"));
}

}  // namespace
}  // namespace sabakan::integration

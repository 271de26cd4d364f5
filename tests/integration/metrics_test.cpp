// The Prometheus endpoint (metrics_listen) scraped by a real HTTP client, curl: the same
// figures as the admin console's SHOW at the same moment, under the community exporter's
// metric names, in a text format a parser accepts line by line; and HTTP's error answers.
#include "harness/client_run.hpp"
#include "harness/fixture.hpp"
#include "harness/pg_environment.hpp"
#include "harness/sockets.hpp"
#include "harness/temp_dir.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>

namespace sabakan::integration {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class MetricsTest : public sabakan_test {
protected:
    void SetUp() override {
        sabakan_test::SetUp();
        if (HasFatalFailure()) {
            return;
        }
        metrics_port_ = free_tcp_port();
        sabakan_options o;
        o.workers = 2;  // the scrape reads both workers' figures
        o.extra = {{"metrics_listen", "127.0.0.1:" + std::to_string(metrics_port_)}};
        start_sabakan(o);
    }

    /// curl's whole answer, headers included (-i), for `path` with `method`.
    client_run curl(const std::string& path, const std::string& method = "GET") {
        return run_client({"curl", "-sS", "-i", "-X", method, "--max-time", "20",
                           "http://127.0.0.1:" + std::to_string(metrics_port_) + path},
                          dir_.file("curl.out"), 30s);
    }

    /// The samples of a scrape: "name{labels}" -> value. Fails the test on any line that is
    /// neither a comment nor a well-formed sample. (gtest's POSIX regex, not std::regex:
    /// GCC 12 warns inside <regex> under the sanitizers.)
    static std::map<std::string, double> samples(const std::string& body) {
        const auto series = ::testing::MatchesRegex(
            R"([a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\]|\\.)*",?)*\})?)");
        const auto number = ::testing::MatchesRegex(R"([-+]?[0-9.]+([eE][-+]?[0-9]+)?|NaN)");
        std::map<std::string, double> out;
        std::istringstream lines(body);
        std::string line;
        while (std::getline(lines, line)) {
            if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
                continue;
            }
            const auto space = line.rfind(' ');
            if (space == std::string::npos || !::testing::Matches(series)(line.substr(0, space)) ||
                !::testing::Matches(number)(line.substr(space + 1))) {
                ADD_FAILURE() << "not a sample line: " << line;
                continue;
            }
            out[line.substr(0, space)] = std::stod(line.substr(space + 1));
        }
        return out;
    }

    /// One column of the console's SHOW `what` for the row whose first columns are `keys`.
    /// Through one console connection for the whole test: a connection per question would
    /// leave the previous one still counted while sabakan has yet to see it close.
    std::string console_value(const std::string& what, const std::vector<std::string>& keys,
                              const std::string& column) {
        if (!admin_) {
            admin_ = connect_admin();
        }
        auto r = pq::run(admin_.get(), "SHOW " + what);
        const int col = PQfnumber(r.get(), column.c_str());
        EXPECT_GE(col, 0) << column;
        for (int i = 0; i < PQntuples(r.get()); ++i) {
            bool match = true;
            for (std::size_t k = 0; k < keys.size(); ++k) {
                match = match && keys[k] == PQgetvalue(r.get(), i, static_cast<int>(k));
            }
            if (match) {
                return PQgetvalue(r.get(), i, col);
            }
        }
        return "(no row)";
    }

    int metrics_port_ = 0;
    pq::connection admin_;
    temp_dir dir_{"sabakan-metrics"};
};

std::string body_of(const std::string& response) {
    auto at = response.find("\r\n\r\n");
    return at == std::string::npos ? "" : response.substr(at + 4);
}

// After some traffic and with one client inside a transaction, the scrape shows what SHOW
// STATS_TOTALS, POOLS, DATABASES, LISTS and CONFIG show, each under its exporter name.
TEST_F(MetricsTest, ScrapeShowsTheConsoleFigures) {
    for (int i = 0; i < 5; ++i) {
        auto c = connect_pooled();
        EXPECT_EQ(pq::value(c.get(), "SELECT " + std::to_string(i)), std::to_string(i));
    }
    auto holder = connect_pooled();
    pq::run(holder.get(), "BEGIN");
    pq::run(holder.get(), "SELECT 1");
    // The five finished clients' closes reach sabakan in their own time: until they have,
    // the scrape and the console could count different clients. Two are left: the holder
    // and the console's own connection.
    ASSERT_TRUE(
        wait_until([&] { return console_value("LISTS", {"used_clients"}, "items") == "2"; }, 10s))
        << console_value("LISTS", {"used_clients"}, "items");

    auto scrape = curl("/metrics");
    ASSERT_FALSE(scrape.timed_out);
    ASSERT_EQ(scrape.status, 0) << scrape.output;
    EXPECT_THAT(scrape.output, HasSubstr("HTTP/1.1 200 OK"));
    EXPECT_THAT(scrape.output, HasSubstr("Content-Type: text/plain; version=0.0.4"));
    const std::string body = body_of(scrape.output);
    EXPECT_THAT(body, HasSubstr("# TYPE pgbouncer_stats_sql_transactions_pooled_total counter"));
    EXPECT_THAT(body, HasSubstr("# TYPE pgbouncer_pools_server_active_connections gauge"));
    auto m = samples(body);

    const std::string db = "{database=\"" + std::string(app_database) + "\"}";
    const std::string pool =
        "{database=\"" + std::string(app_database) + "\",user=\"" + std::string(app_user) + "\"}";
    EXPECT_EQ(m["pgbouncer_up"], 1);
    EXPECT_EQ(m["pgbouncer_pools_server_active_connections" + pool], 1);
    EXPECT_EQ(m["pgbouncer_pools_client_active_connections" + pool],
              std::stod(console_value("POOLS", {app_database, app_user}, "cl_active")));
    EXPECT_EQ(m["pgbouncer_pools_server_active_connections" + pool],
              std::stod(console_value("POOLS", {app_database, app_user}, "sv_active")));
    EXPECT_EQ(m["pgbouncer_pools_server_idle_connections" + pool],
              std::stod(console_value("POOLS", {app_database, app_user}, "sv_idle")));
    // Five finished transactions, the open one not yet counted.
    EXPECT_EQ(m["pgbouncer_stats_sql_transactions_pooled_total" + db], 5);
    EXPECT_EQ(m["pgbouncer_stats_sql_transactions_pooled_total" + db],
              std::stod(console_value("STATS_TOTALS", {app_database}, "xact_count")));
    EXPECT_EQ(m["pgbouncer_stats_queries_pooled_total" + db],
              std::stod(console_value("STATS_TOTALS", {app_database}, "query_count")));
    EXPECT_EQ(m["pgbouncer_stats_received_bytes_total" + db],
              std::stod(console_value("STATS_TOTALS", {app_database}, "bytes_received")));
    // Microseconds on the console, seconds here.
    EXPECT_NEAR(m["pgbouncer_stats_server_in_transaction_seconds_total" + db],
                std::stod(console_value("STATS_TOTALS", {app_database}, "xact_time")) / 1e6, 1e-9);
    // The console's connection was open during the scrape too: both count it.
    EXPECT_EQ(m["pgbouncer_used_clients"], 2);
    EXPECT_EQ(m["pgbouncer_used_clients"],
              std::stod(console_value("LISTS", {"used_clients"}, "items")));
    EXPECT_EQ(m["pgbouncer_config_max_client_connections"], 300);
    // SHOW DATABASES carries its identifying columns as labels.
    bool found_database = false;
    for (const auto& [key, value] : m) {
        if (key.rfind("pgbouncer_databases_pool_size{name=\"" + std::string(app_database), 0) ==
            0) {
            found_database = true;
            EXPECT_EQ(value, 5);
            EXPECT_THAT(key, HasSubstr("pool_mode="));
        }
    }
    EXPECT_TRUE(found_database) << body;
    pq::run(holder.get(), "COMMIT");
}

// Only GET/HEAD of /metrics is served; other paths, methods and non-HTTP bytes get HTTP's
// error codes, and a scraper that connects and says nothing does not hold up the next one.
TEST_F(MetricsTest, HttpErrorsAndSilentClients) {
    raw_socket silent(metrics_port_);  // never sends a byte

    auto wrong_path = curl("/");
    EXPECT_THAT(wrong_path.output, HasSubstr("HTTP/1.1 404"));
    auto wrong_method = curl("/metrics", "POST");
    EXPECT_THAT(wrong_method.output, HasSubstr("HTTP/1.1 405"));
    EXPECT_THAT(wrong_method.output, HasSubstr("Allow: GET, HEAD"));
    auto head = run_client({"curl", "-sS", "-I", "--max-time", "20",
                            "http://127.0.0.1:" + std::to_string(metrics_port_) + "/metrics"},
                           dir_.file("head.out"), 30s);
    EXPECT_THAT(head.output, HasSubstr("HTTP/1.1 200"));
    EXPECT_EQ(body_of(head.output), "");

    raw_socket garbage(metrics_port_);
    ASSERT_TRUE(garbage.send_all("\x16\x03\x01 not http\r\n\r\n"));
    bool closed = false;
    EXPECT_THAT(garbage.read_until_closed(10s, closed), HasSubstr("HTTP/1.1 400"));
    EXPECT_TRUE(closed);

    auto scrape = curl("/metrics");
    EXPECT_THAT(scrape.output, HasSubstr("HTTP/1.1 200 OK"));
    // The pooler itself is unaffected.
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 1"), "1");
}

// A metrics port another process holds stops the start with a message naming the setting.
TEST_F(MetricsTest, PortInUseIsRefusedByName) {
    const std::string ini = dir_.file("second.ini");
    write_file(ini,
               "[databases]\nx = host=127.0.0.1\n[pgbouncer]\nlisten_addr = 127.0.0.1\n"
               "unix_socket_dir =\nauth_type = trust\nlisten_port = " +
                   std::to_string(free_tcp_port()) +
                   "\nmetrics_listen = 127.0.0.1:" + std::to_string(metrics_port_) + "\n");
    auto second = run_client({sabakan_binary(), "-q", ini}, dir_.file("second.out"), 30s);
    EXPECT_EQ(second.status, 1);
    EXPECT_THAT(second.output, HasSubstr("metrics_listen: cannot listen on 127.0.0.1:" +
                                         std::to_string(metrics_port_)));
}

}  // namespace
}  // namespace sabakan::integration

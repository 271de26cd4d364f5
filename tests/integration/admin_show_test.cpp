// The admin console's listings and login rules, as PgBouncer's users and tools rely on them:
// every SHOW has PgBouncer's columns in PgBouncer's order and types, the figures follow from
// what the clients really did, only admin_users and stats_users get in (and stats_users may
// only look), and the parser accepts and refuses what PgBouncer's does. The expected column
// lists are copied from the PgBouncer reference (§2.2), not from sabakan's source.
#include "harness/console.hpp"
#include "harness/fixture.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sabakan::integration {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;
using namespace std::chrono_literals;

// PostgreSQL type OIDs of PgBouncer's column type letters.
constexpr Oid text_oid = 25;       // s, T
constexpr Oid int4_oid = 23;       // i
constexpr Oid int8_oid = 20;       // q
constexpr Oid numeric_oid = 1700;  // N
constexpr Oid bytea_oid = 17;      // b

using row = std::map<std::string, std::string>;

/// One SHOW answer, read whole: header, types, rows (NULL read as "") and command tag.
struct listing {
    std::string tag;
    std::vector<std::string> columns;
    std::vector<Oid> types;
    std::vector<row> rows;

    Oid type_of(const std::string& column) const {
        auto it = std::find(columns.begin(), columns.end(), column);
        if (it == columns.end()) {
            throw std::runtime_error("no column " + column);
        }
        return types[static_cast<std::size_t>(it - columns.begin())];
    }
    /// The values of one column, in row order.
    std::vector<std::string> column(const std::string& name) const {
        std::vector<std::string> out;
        for (const auto& r : rows) {
            out.push_back(r.at(name));
        }
        return out;
    }
    /// The rows whose `column` is `value`.
    std::vector<row> where(const std::string& column, const std::string& value) const {
        std::vector<row> out;
        for (const auto& r : rows) {
            if (r.at(column) == value) {
                out.push_back(r);
            }
        }
        return out;
    }
    /// The one row whose `column` is `value`, or nullopt when there is none or several.
    std::optional<row> find(const std::string& column, const std::string& value) const {
        auto matches = where(column, value);
        if (matches.size() != 1) {
            return std::nullopt;
        }
        return matches.front();
    }
};

/// Runs a console command that must answer rows; throws with libpq's message otherwise.
listing show(PGconn* c, const std::string& sql) {
    pq::result r = pq::exec(c, sql);
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
        throw std::runtime_error("\"" + sql + "\" did not return rows: " + pq::error(c));
    }
    listing l;
    l.tag = PQcmdStatus(r.get());
    for (int i = 0; i < PQnfields(r.get()); ++i) {
        l.columns.emplace_back(PQfname(r.get(), i));
        l.types.push_back(PQftype(r.get(), i));
    }
    for (int t = 0; t < PQntuples(r.get()); ++t) {
        row values;
        for (int i = 0; i < PQnfields(r.get()); ++i) {
            values[l.columns[static_cast<std::size_t>(i)]] = PQgetvalue(r.get(), t, i);
        }
        l.rows.push_back(std::move(values));
    }
    return l;
}

/// The one row whose `key_column` is `key`; throws when there is none or several.
row row_of(const listing& l, const std::string& key_column, const std::string& key) {
    auto r = l.find(key_column, key);
    if (!r) {
        throw std::runtime_error("no single row with " + key_column + " = " + key);
    }
    return *r;
}

long long num(const row& r, const std::string& column) {
    return std::stoll(r.at(column));
}

/// Notices a connection received, as "primary message\ndetail".
struct notice_log {
    std::vector<std::string> notices;
    static void receive(void* self, const PGresult* r) {
        const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
        static_cast<notice_log*>(self)->notices.push_back(
            std::string(primary != nullptr ? primary : "") + "\n" +
            (detail != nullptr ? detail : ""));
    }
};

// ---- column lists, copied from the reference §2.2 ----

const std::vector<std::string> stats_columns{"database",
                                             "total_server_assignment_count",
                                             "total_xact_count",
                                             "total_query_count",
                                             "total_received",
                                             "total_sent",
                                             "total_xact_time",
                                             "total_query_time",
                                             "total_wait_time",
                                             "total_client_parse_count",
                                             "total_server_parse_count",
                                             "total_bind_count",
                                             "total_client_login_count",
                                             "avg_server_assignment_count",
                                             "avg_xact_count",
                                             "avg_query_count",
                                             "avg_recv",
                                             "avg_sent",
                                             "avg_xact_time",
                                             "avg_query_time",
                                             "avg_wait_time",
                                             "avg_client_parse_count",
                                             "avg_server_parse_count",
                                             "avg_bind_count",
                                             "avg_client_login_count"};

const std::vector<std::string> stats_totals_columns{"database",           "server_assignment_count",
                                                    "xact_count",         "query_count",
                                                    "bytes_received",     "bytes_sent",
                                                    "xact_time",          "query_time",
                                                    "wait_time",          "client_parse_count",
                                                    "server_parse_count", "bind_count",
                                                    "client_login_count"};

const std::vector<std::string> stats_averages_columns{"database",
                                                      "server_assignment_count",
                                                      "xact_count",
                                                      "query_count",
                                                      "bytes_received",
                                                      "bytes_sent",
                                                      "xact_time",
                                                      "query_time",
                                                      "wait_time",
                                                      "avg_client_parse_count",
                                                      "avg_server_parse_count",
                                                      "avg_bind_count",
                                                      "avg_client_login_count"};

const std::vector<std::string> totals_names{"total_server_assignment_count",
                                            "total_xact_count",
                                            "total_query_count",
                                            "total_client_bytes",
                                            "total_server_bytes",
                                            "total_xact_time",
                                            "total_query_time",
                                            "total_wait_time",
                                            "total_ps_client_parse_count",
                                            "total_ps_server_parse_count",
                                            "total_ps_bind_count",
                                            "total_client_login_count",
                                            "avg_server_assignment_count",
                                            "avg_xact_count",
                                            "avg_query_count",
                                            "avg_client_bytes",
                                            "avg_server_bytes",
                                            "avg_xact_time",
                                            "avg_query_time",
                                            "avg_wait_time",
                                            "avg_ps_client_parse_count",
                                            "avg_ps_server_parse_count",
                                            "avg_ps_bind_count",
                                            "avg_client_login_count"};

const std::vector<std::string> pools_columns{"database",
                                             "user",
                                             "cl_active",
                                             "cl_waiting",
                                             "cl_active_cancel_req",
                                             "cl_waiting_cancel_req",
                                             "sv_active",
                                             "sv_active_cancel",
                                             "sv_being_canceled",
                                             "sv_idle",
                                             "sv_used",
                                             "sv_tested",
                                             "sv_login",
                                             "maxwait",
                                             "maxwait_us",
                                             "pool_mode",
                                             "load_balance_hosts"};

const std::vector<std::string> connection_columns{"type",
                                                  "user",
                                                  "database",
                                                  "replication",
                                                  "state",
                                                  "addr",
                                                  "port",
                                                  "local_addr",
                                                  "local_port",
                                                  "connect_time",
                                                  "request_time",
                                                  "wait",
                                                  "wait_us",
                                                  "close_needed",
                                                  "ptr",
                                                  "link",
                                                  "remote_pid",
                                                  "tls",
                                                  "application_name",
                                                  "prepared_statements",
                                                  "id"};

std::vector<std::string> socket_columns() {
    auto c = connection_columns;
    for (const char* extra : {"recv_pos", "pkt_pos", "pkt_remain", "send_pos", "send_remain",
                              "pkt_avail", "send_avail"}) {
        c.emplace_back(extra);
    }
    return c;
}

const std::vector<std::string> databases_columns{"name",
                                                 "host",
                                                 "port",
                                                 "database",
                                                 "force_user",
                                                 "pool_size",
                                                 "min_pool_size",
                                                 "reserve_pool_size",
                                                 "server_lifetime",
                                                 "pool_mode",
                                                 "load_balance_hosts",
                                                 "max_connections",
                                                 "current_connections",
                                                 "max_client_connections",
                                                 "current_client_connections",
                                                 "paused",
                                                 "disabled"};

const std::vector<std::string> users_columns{"name",
                                             "pool_size",
                                             "reserve_pool_size",
                                             "pool_mode",
                                             "max_user_connections",
                                             "current_connections",
                                             "max_user_client_connections",
                                             "current_client_connections"};

const std::vector<std::string> lists_names{
    "databases",    "users",        "peers",         "pools",        "peer_pools",
    "free_clients", "used_clients", "login_clients", "free_servers", "used_servers",
    "dns_names",    "dns_zones",    "dns_queries",   "dns_pending"};

const std::vector<std::string> fds_columns{
    "fd",        "task",     "user",     "database",         "addr",
    "port",      "cancel",   "link",     "client_encoding",  "std_strings",
    "datestyle", "timezone", "password", "scram_client_key", "scram_server_key"};

class AdminShowTest : public sabakan_test {};
class AdminShowLoginTest : public sabakan_test {};
class AdminShowParserTest : public sabakan_test {};

// Every SHOW answers PgBouncer's column names in PgBouncer's order, with tag SHOW.
TEST_F(AdminShowTest, ColumnNamesAndOrder) {
    start_sabakan();
    auto client = connect_pooled();
    pq::run(client.get(), "SELECT 1");  // a pool, a server and a client to list
    auto admin = connect_admin();
    auto a = admin.get();

    const std::map<std::string, std::vector<std::string>> expected{
        {"STATS", stats_columns},
        {"STATS_TOTALS", stats_totals_columns},
        {"STATS_AVERAGES", stats_averages_columns},
        {"TOTALS", {"name", "value"}},
        {"POOLS", pools_columns},
        {"CLIENTS", connection_columns},
        {"SERVERS", connection_columns},
        {"SOCKETS", socket_columns()},
        {"ACTIVE_SOCKETS", socket_columns()},
        {"DATABASES", databases_columns},
        {"USERS", users_columns},
        {"LISTS", {"list", "items"}},
        {"CONFIG", {"key", "value", "default", "changeable"}},
        {"MEM", {"name", "size", "used", "free", "memtotal"}},
        {"VERSION", {"version"}},
        {"STATE", {"key", "value"}},
        {"PEERS", {"peer_id", "host", "port", "pool_size"}},
        {"PEER_POOLS",
         {"peer_id", "cl_active_cancel_req", "cl_waiting_cancel_req", "sv_active_cancel",
          "sv_login"}},
        {"FDS", fds_columns},
        {"DNS_HOSTS", {"hostname", "ttl", "addrs"}},
        {"DNS_ZONES", {"zonename", "serial", "count"}},
    };
    for (const auto& [what, columns] : expected) {
        SCOPED_TRACE("SHOW " + what);
        listing l = show(a, "SHOW " + what);
        EXPECT_THAT(l.columns, ElementsAreArray(columns));
        EXPECT_EQ(l.tag, "SHOW");
    }

    EXPECT_THAT(show(a, "SHOW TOTALS").column("name"), ElementsAreArray(totals_names));
    EXPECT_THAT(show(a, "SHOW LISTS").column("list"), ElementsAreArray(lists_names));
    EXPECT_THAT(show(a, "SHOW STATE").column("key"), ElementsAre("active", "paused", "suspended"));
    EXPECT_THAT(
        show(a, "SHOW MEM").column("name"),
        ElementsAre("user_cache", "credentials_cache", "db_cache", "peer_cache", "peer_pool_cache",
                    "pool_cache", "outstanding_request_cache", "server_cache", "client_cache",
                    "iobuf_cache", "var_list_cache", "server_prepared_statement_cache"));
    listing config = show(a, "SHOW CONFIG");
    // PgBouncer's 100 keys and sabakan's `workers`, `metrics_listen` and
    // `max_client_prepared_statements`
    EXPECT_EQ(config.rows.size(), 103u);
    auto keys = config.column("key");
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end())) << "SHOW CONFIG is not alphabetical";
    for (const auto& r : config.rows) {
        EXPECT_TRUE(r.at("changeable") == "yes" || r.at("changeable") == "no")
            << r.at("key") << " changeable = " << r.at("changeable");
    }
}

// Column types follow PgBouncer's type strings: s/T text, i int4, N numeric, q int8, b bytea.
TEST_F(AdminShowTest, ColumnTypes) {
    start_sabakan();
    auto client = connect_pooled();
    pq::run(client.get(), "SELECT 1");
    auto admin = connect_admin();
    auto a = admin.get();

    listing stats = show(a, "SHOW STATS");  // sNNN...
    EXPECT_EQ(stats.type_of("database"), text_oid);
    for (std::size_t i = 1; i < stats_columns.size(); ++i) {
        EXPECT_EQ(stats.type_of(stats_columns[i]), numeric_oid) << stats_columns[i];
    }
    for (const char* what : {"SHOW STATS_TOTALS", "SHOW STATS_AVERAGES"}) {  // sNNNNNNNNNNNN
        listing l = show(a, what);
        EXPECT_EQ(l.types.front(), text_oid) << what;
        for (std::size_t i = 1; i < l.types.size(); ++i) {
            EXPECT_EQ(l.types[i], numeric_oid) << what << " " << l.columns[i];
        }
    }
    listing totals = show(a, "SHOW TOTALS");  // sN
    EXPECT_EQ(totals.type_of("name"), text_oid);
    EXPECT_EQ(totals.type_of("value"), numeric_oid);

    listing pools = show(a, "SHOW POOLS");  // ssiiiiiiiiiiiiiss
    EXPECT_EQ(pools.type_of("database"), text_oid);
    EXPECT_EQ(pools.type_of("user"), text_oid);
    for (const char* c :
         {"cl_active", "cl_waiting", "sv_active", "sv_idle", "sv_login", "maxwait", "maxwait_us"}) {
        EXPECT_EQ(pools.type_of(c), int4_oid) << c;
    }
    EXPECT_EQ(pools.type_of("pool_mode"), text_oid);
    EXPECT_EQ(pools.type_of("load_balance_hosts"), text_oid);

    for (const char* what : {"SHOW CLIENTS", "SHOW SERVERS"}) {  // ssssssisiTTiiississii
        SCOPED_TRACE(what);
        listing l = show(a, what);
        const std::string types = "ssssssisiTTiiississii";
        ASSERT_EQ(l.types.size(), types.size());
        for (std::size_t i = 0; i < types.size(); ++i) {
            EXPECT_EQ(l.types[i], types[i] == 'i' ? int4_oid : text_oid) << l.columns[i];
        }
    }
    listing sockets = show(a, "SHOW SOCKETS");
    EXPECT_EQ(sockets.type_of("port"), int4_oid);
    EXPECT_EQ(sockets.type_of("recv_pos"), int4_oid);
    EXPECT_EQ(sockets.type_of("send_avail"), int4_oid);

    listing dbs = show(a, "SHOW DATABASES");  // ssissiiiissiiiiii
    EXPECT_EQ(dbs.type_of("host"), text_oid);
    EXPECT_EQ(dbs.type_of("port"), int4_oid);
    EXPECT_EQ(dbs.type_of("force_user"), text_oid);
    EXPECT_EQ(dbs.type_of("pool_size"), int4_oid);
    EXPECT_EQ(dbs.type_of("pool_mode"), text_oid);
    EXPECT_EQ(dbs.type_of("disabled"), int4_oid);

    listing users = show(a, "SHOW USERS");  // ssssiiii: pool_size is text in PgBouncer
    EXPECT_EQ(users.type_of("pool_size"), text_oid);
    EXPECT_EQ(users.type_of("reserve_pool_size"), text_oid);
    EXPECT_EQ(users.type_of("max_user_connections"), int4_oid);
    EXPECT_EQ(users.type_of("current_client_connections"), int4_oid);

    listing lists = show(a, "SHOW LISTS");  // si
    EXPECT_EQ(lists.type_of("list"), text_oid);
    EXPECT_EQ(lists.type_of("items"), int4_oid);
    listing config = show(a, "SHOW CONFIG");  // ssss
    for (const auto& c : config.columns) {
        EXPECT_EQ(config.type_of(c), text_oid) << c;
    }
    listing mem = show(a, "SHOW MEM");  // siiii
    EXPECT_EQ(mem.type_of("name"), text_oid);
    for (const char* c : {"size", "used", "free", "memtotal"}) {
        EXPECT_EQ(mem.type_of(c), int4_oid) << c;
    }
    EXPECT_EQ(show(a, "SHOW VERSION").type_of("version"), text_oid);  // s
    listing state = show(a, "SHOW STATE");                            // ss
    EXPECT_EQ(state.type_of("key"), text_oid);
    EXPECT_EQ(state.type_of("value"), text_oid);
    listing fds = show(a, "SHOW FDS");  // issssiqisssssbb
    EXPECT_EQ(fds.type_of("fd"), int4_oid);
    EXPECT_EQ(fds.type_of("task"), text_oid);
    EXPECT_EQ(fds.type_of("cancel"), int8_oid);
    EXPECT_EQ(fds.type_of("link"), int4_oid);
    EXPECT_EQ(fds.type_of("scram_client_key"), bytea_oid);
    EXPECT_EQ(fds.type_of("scram_server_key"), bytea_oid);
}

// Counts follow the workload: N autocommit statements are N xacts and N queries, and a
// BEGIN/SELECT/SELECT/COMMIT block is one xact of four queries; logins and bytes count too.
TEST_F(AdminShowTest, StatsFollowWorkload) {
    start_sabakan();
    auto c = connect_pooled();
    auto admin = connect_admin();
    auto stats = [&] { return row_of(show(admin.get(), "SHOW STATS"), "database", app_database); };

    const row before = stats();
    EXPECT_EQ(num(before, "total_client_login_count"), 1);  // c's login
    constexpr int n = 25;
    for (int i = 0; i < n; ++i) {
        pq::run(c.get(), "SELECT " + std::to_string(i));
    }
    auto delta = [&](const row& now, const char* column) {
        return num(now, column) - num(before, column);
    };
    EXPECT_TRUE(wait_until([&] { return delta(stats(), "total_query_count") >= n; }, 10s));
    row after = stats();
    EXPECT_EQ(delta(after, "total_xact_count"), n);
    EXPECT_EQ(delta(after, "total_query_count"), n);
    EXPECT_GE(delta(after, "total_server_assignment_count"), 1);
    EXPECT_LE(delta(after, "total_server_assignment_count"), n);
    EXPECT_GT(num(after, "total_received"), num(before, "total_received"));
    EXPECT_GT(num(after, "total_sent"), num(before, "total_sent"));
    EXPECT_GT(num(after, "total_query_time"), 0);
    EXPECT_GT(num(after, "total_xact_time"), 0);
    EXPECT_EQ(delta(after, "total_client_login_count"), 0);

    const row mid = after;
    pq::run(c.get(), "BEGIN");
    pq::run(c.get(), "SELECT 1");
    pq::run(c.get(), "SELECT 2");
    pq::run(c.get(), "COMMIT");
    EXPECT_TRUE(wait_until(
        [&] { return num(stats(), "total_query_count") >= num(mid, "total_query_count") + 4; },
        10s));
    after = stats();
    EXPECT_EQ(num(after, "total_xact_count") - num(mid, "total_xact_count"), 1);
    EXPECT_EQ(num(after, "total_query_count") - num(mid, "total_query_count"), 4);

    auto c2 = connect_pooled();
    auto c3 = connect_pooled();
    EXPECT_EQ(num(stats(), "total_client_login_count"), 3);

    // STATS_TOTALS repeats the totals of STATS under its own names.
    const row totals_row = row_of(show(admin.get(), "SHOW STATS_TOTALS"), "database", app_database);
    const row stats_row = stats();
    EXPECT_EQ(totals_row.at("xact_count"), stats_row.at("total_xact_count"));
    EXPECT_EQ(totals_row.at("query_count"), stats_row.at("total_query_count"));
    EXPECT_EQ(totals_row.at("bytes_received"), stats_row.at("total_received"));
    EXPECT_EQ(totals_row.at("bytes_sent"), stats_row.at("total_sent"));
    EXPECT_EQ(totals_row.at("client_login_count"), stats_row.at("total_client_login_count"));
}

// A pipeline of ten autocommit statements, each with its own Sync, counts ten
// transactions and ten queries, as ten separate round trips would.
TEST_F(AdminShowTest, PipelineCountsEachTransaction) {
    start_sabakan();
    auto c = connect_pooled();
    auto admin = connect_admin();
    auto stats = [&] { return row_of(show(admin.get(), "SHOW STATS"), "database", app_database); };
    EXPECT_EQ(pq::value(c.get(), "SELECT 1"), "1");
    const row before = stats();
    ASSERT_EQ(PQenterPipelineMode(c.get()), 1);
    constexpr int n = 10;
    for (int i = 0; i < n; ++i) {
        ASSERT_EQ(PQsendQueryParams(c.get(), "SELECT 1", 0, nullptr, nullptr, nullptr, nullptr, 0),
                  1);
        ASSERT_EQ(PQpipelineSync(c.get()), 1);
    }
    int syncs = 0;
    while (syncs < n) {
        pq::result r(PQgetResult(c.get()));
        if (r && PQresultStatus(r.get()) == PGRES_PIPELINE_SYNC) {
            ++syncs;
        } else if (r) {
            ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << pq::error(c.get());
        }
    }
    ASSERT_EQ(PQexitPipelineMode(c.get()), 1);
    auto delta = [&](const row& now, const char* column) {
        return num(now, column) - num(before, column);
    };
    EXPECT_TRUE(wait_until([&] { return delta(stats(), "total_query_count") >= n; }, 10s));
    const row after = stats();
    EXPECT_EQ(delta(after, "total_query_count"), n);
    EXPECT_EQ(delta(after, "total_xact_count"), n);
}
// SHOW TOTALS is the sum of the SHOW STATS rows (the console's own pgbouncer row included,
// which counts the SHOW TOTALS query itself as one more transaction and query).
TEST_F(AdminShowTest, TotalsAreSumsOfStats) {
    start_sabakan();
    auto c = connect_pooled();
    for (int i = 0; i < 10; ++i) {
        pq::run(c.get(), "SELECT 1");
    }
    auto admin = connect_admin();
    listing stats = show(admin.get(), "SHOW STATS");
    ASSERT_TRUE(stats.find("database", "pgbouncer")) << "SHOW STATS has no pgbouncer row";
    ASSERT_TRUE(stats.find("database", app_database));
    listing totals = show(admin.get(), "SHOW TOTALS");
    auto sum = [&](const std::string& column) {
        long long s = 0;
        for (const auto& r : stats.rows) {
            s += num(r, column);
        }
        return s;
    };
    auto total = [&](const std::string& name) {
        return num(row_of(totals, "name", name), "value");
    };
    // Figures the console's own queries do not move are equal.
    EXPECT_EQ(total("total_server_assignment_count"), sum("total_server_assignment_count"));
    EXPECT_EQ(total("total_xact_time"), sum("total_xact_time"));
    EXPECT_EQ(total("total_query_time"), sum("total_query_time"));
    EXPECT_EQ(total("total_wait_time"), sum("total_wait_time"));
    EXPECT_EQ(total("total_ps_client_parse_count"), sum("total_client_parse_count"));
    EXPECT_EQ(total("total_ps_server_parse_count"), sum("total_server_parse_count"));
    EXPECT_EQ(total("total_ps_bind_count"), sum("total_bind_count"));
    EXPECT_EQ(total("total_client_login_count"), sum("total_client_login_count"));
    // The SHOW TOTALS query came in between: at most one more of each.
    EXPECT_GE(total("total_xact_count"), sum("total_xact_count"));
    EXPECT_LE(total("total_xact_count"), sum("total_xact_count") + 1);
    EXPECT_GE(total("total_query_count"), sum("total_query_count"));
    EXPECT_LE(total("total_query_count"), sum("total_query_count") + 1);
    EXPECT_GE(total("total_client_bytes"), sum("total_received"));
    EXPECT_GE(total("total_server_bytes"), sum("total_sent"));
    EXPECT_GE(total("total_xact_count"), 10);
}

// With stats_period = 1 the averages fill in while traffic runs, and log_stats logs them.
TEST_F(AdminShowTest, AveragesAndStatsLog) {
    sabakan_options o;
    o.extra = {{"stats_period", "1"}, {"log_stats", "1"}};
    start_sabakan(o);
    auto c = connect_pooled();
    auto admin = connect_admin();
    long long xacts_per_second = 0;
    bool filled = wait_until(
        [&] {
            for (int i = 0; i < 20; ++i) {
                pq::run(c.get(), "SELECT 1");
            }
            row r = row_of(show(admin.get(), "SHOW STATS_AVERAGES"), "database", app_database);
            xacts_per_second = num(r, "xact_count");
            return xacts_per_second > 0 && num(r, "query_count") > 0;
        },
        15s);
    EXPECT_TRUE(filled) << "SHOW STATS_AVERAGES stayed at 0 xacts/s";
    row stats = row_of(show(admin.get(), "SHOW STATS"), "database", app_database);
    EXPECT_GT(num(stats, "avg_xact_count"), 0);
    EXPECT_GT(num(stats, "avg_query_count"), 0);
    EXPECT_GT(num(stats, "avg_recv"), 0);

    auto has_stats_line = [&] {
        std::string logs = sabakan().logs();
        std::size_t pos = 0;
        while ((pos = logs.find("stats: ", pos)) != std::string::npos) {
            std::size_t end = logs.find('\n', pos);
            if (logs.substr(pos, end - pos).find("xacts/s") != std::string::npos) {
                return true;
            }
            ++pos;
        }
        return false;
    };
    EXPECT_TRUE(wait_until(has_stats_line, 10s)) << "no \"stats: ... xacts/s\" line in the log";
}

// With the only server held, a second client waits: POOLS counts it and its wait grows,
// CLIENTS and SERVERS show who holds what; when the holder commits, the waiter is served.
TEST_F(AdminShowTest, PoolsWhileExhausted) {
    sabakan_options o;
    o.default_pool_size = 1;
    start_sabakan(o);
    auto holder = pq::connect_ok(pooled_conninfo() + " application_name=holder");
    pq::run(holder.get(), "BEGIN");
    pq::run(holder.get(), "SELECT 1");
    auto waiter = pq::connect_ok(pooled_conninfo() + " application_name=waiter");
    ASSERT_EQ(PQsendQuery(waiter.get(), "SELECT 42"), 1);
    ASSERT_EQ(PQflush(waiter.get()), 0);

    auto admin = connect_admin();
    auto pool = [&] { return row_of(show(admin.get(), "SHOW POOLS"), "database", app_database); };
    ASSERT_TRUE(wait_until(
        [&] {
            row r = pool();
            return r.at("cl_waiting") == "1" && r.at("sv_active") == "1";
        },
        10s))
        << "SHOW POOLS never showed one waiting client and one active server";
    row r = pool();
    EXPECT_EQ(r.at("user"), app_user);
    EXPECT_EQ(r.at("cl_active"), "1");
    EXPECT_EQ(r.at("sv_idle"), "0");
    EXPECT_EQ(r.at("pool_mode"), "transaction");
    auto waited_us = [](const row& p) {
        return num(p, "maxwait") * 1000000 + num(p, "maxwait_us");
    };
    const long long first_wait = waited_us(r);
    EXPECT_GE(first_wait, 0);
    EXPECT_LT(num(r, "maxwait_us"), 1000000);
    EXPECT_TRUE(wait_until([&] { return waited_us(pool()) > first_wait + 20000; }, 10s))
        << "maxwait did not grow while the client waited";

    listing clients = show(admin.get(), "SHOW CLIENTS");
    auto a = clients.find("application_name", "holder");
    auto b = clients.find("application_name", "waiter");
    ASSERT_TRUE(a && b) << "SHOW CLIENTS lacks the holder or the waiter";
    EXPECT_EQ(a->at("state"), "active");
    EXPECT_EQ(b->at("state"), "waiting");
    EXPECT_EQ(b->at("link"), "");
    EXPECT_GT(num(*b, "wait") * 1000000 + num(*b, "wait_us"), 0);
    listing servers = show(admin.get(), "SHOW SERVERS");
    ASSERT_EQ(servers.rows.size(), 1u);
    const row& s = servers.rows.front();
    EXPECT_EQ(s.at("state"), "active");
    EXPECT_EQ(s.at("link"), a->at("ptr"));
    EXPECT_EQ(a->at("link"), s.at("ptr"));
    EXPECT_THAT(s.at("ptr"), StartsWith("0x"));

    pq::run(holder.get(), "COMMIT");
    pq::result done(PQgetResult(waiter.get()));
    ASSERT_EQ(PQresultStatus(done.get()), PGRES_TUPLES_OK) << pq::error(waiter.get());
    EXPECT_STREQ(PQgetvalue(done.get(), 0, 0), "42");
    EXPECT_TRUE(pq::no_more_results(waiter.get()));
    EXPECT_TRUE(wait_until(
        [&] {
            row p = pool();
            return p.at("cl_waiting") == "0" && p.at("maxwait") == "0" && p.at("maxwait_us") == "0";
        },
        10s));
    EXPECT_EQ(pool().at("cl_active"), "2");
}

// SHOW CLIENTS describes a real client (address, ports, application_name); SHOW SERVERS
// a real backend, whose remote_pid PostgreSQL itself reports.
TEST_F(AdminShowTest, ClientsAndServersDescribeRealConnections) {
    start_sabakan();
    auto c = pq::connect_ok(pooled_conninfo() + " application_name=show_me");
    const std::string backend_pid = pq::value(c.get(), "SELECT pg_backend_pid()");
    auto admin = connect_admin();

    listing clients = show(admin.get(), "SHOW CLIENTS");
    auto me = clients.find("application_name", "show_me");
    ASSERT_TRUE(me) << "no client with application_name show_me";
    EXPECT_EQ(me->at("type"), "C");
    EXPECT_EQ(me->at("user"), app_user);
    EXPECT_EQ(me->at("database"), app_database);
    EXPECT_EQ(me->at("replication"), "none");
    EXPECT_EQ(me->at("state"), "idle");  // between transactions, no server linked
    EXPECT_EQ(me->at("addr"), "127.0.0.1");
    EXPECT_EQ(num(*me, "port"), local_port(c.get()));
    EXPECT_EQ(me->at("local_addr"), "127.0.0.1");
    EXPECT_EQ(num(*me, "local_port"), sabakan().port());
    // gtest's POSIX regex, not std::regex: GCC 12 warns inside <regex> under the sanitizers.
    const auto time_format =
        MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC");
    EXPECT_THAT(me->at("connect_time"), time_format);
    EXPECT_THAT(me->at("request_time"), time_format);
    EXPECT_THAT(me->at("ptr"), StartsWith("0x"));
    EXPECT_THAT(me->at("id"), MatchesRegex("[0-9]+"));
    // The admin connection is a client too, of the pgbouncer database.
    auto console = clients.where("database", "pgbouncer");
    ASSERT_EQ(console.size(), 1u);
    EXPECT_EQ(console.front().at("user"), "pgbouncer");
    EXPECT_NE(console.front().at("id"), me->at("id"));
    EXPECT_EQ(num(console.front(), "port"), local_port(admin.get()));

    listing servers = show(admin.get(), "SHOW SERVERS");
    ASSERT_EQ(servers.rows.size(), 1u);
    const row& s = servers.rows.front();
    EXPECT_EQ(s.at("type"), "S");
    EXPECT_EQ(s.at("user"), app_user);
    EXPECT_EQ(s.at("database"), app_database);
    EXPECT_EQ(s.at("state"), "idle");
    EXPECT_EQ(s.at("addr"), "127.0.0.1");
    EXPECT_EQ(num(s, "port"), cluster().port());
    EXPECT_EQ(s.at("remote_pid"), backend_pid);
    auto direct = connect_direct();
    EXPECT_EQ(pq::value(direct.get(),
                        "SELECT pid FROM pg_stat_activity WHERE usename = 'mastodon' "
                        "AND backend_type = 'client backend'"),
              s.at("remote_pid"));
}

// DATABASES, USERS, CONFIG, VERSION and MEM reflect the config and the live connections.
TEST_F(AdminShowTest, DatabasesUsersConfigVersionMem) {
    sabakan_options o;
    o.default_pool_size = 7;
    start_sabakan(o);
    auto c = connect_pooled();
    pq::run(c.get(), "SELECT 1");
    auto admin = connect_admin();

    listing dbs = show(admin.get(), "SHOW DATABASES");
    row app = row_of(dbs, "name", app_database);
    EXPECT_EQ(app.at("host"), "127.0.0.1");
    EXPECT_EQ(num(app, "port"), cluster().port());
    EXPECT_EQ(app.at("database"), app_database);
    EXPECT_EQ(app.at("force_user"), app_user);
    EXPECT_EQ(app.at("pool_size"), "7");
    EXPECT_EQ(app.at("current_connections"), "1");
    EXPECT_EQ(app.at("current_client_connections"), "1");
    EXPECT_EQ(app.at("paused"), "0");
    EXPECT_EQ(app.at("disabled"), "0");
    row console = row_of(dbs, "name", "pgbouncer");
    EXPECT_EQ(console.at("pool_mode"), "statement");
    EXPECT_EQ(num(console, "port"), sabakan().port());

    listing users = show(admin.get(), "SHOW USERS");
    row mastodon = row_of(users, "name", app_user);
    EXPECT_EQ(mastodon.at("current_client_connections"), "1");

    listing config = show(admin.get(), "SHOW CONFIG");
    row pool_size = row_of(config, "key", "default_pool_size");
    EXPECT_EQ(pool_size.at("value"), "7");
    EXPECT_EQ(pool_size.at("default"), "20");
    EXPECT_EQ(pool_size.at("changeable"), "yes");
    row listen_port = row_of(config, "key", "listen_port");
    EXPECT_EQ(listen_port.at("value"), std::to_string(sabakan().port()));
    EXPECT_EQ(listen_port.at("changeable"), "no");
    EXPECT_EQ(row_of(config, "key", "pool_mode").at("value"), "transaction");

    listing version = show(admin.get(), "SHOW VERSION");
    ASSERT_EQ(version.rows.size(), 1u);
    EXPECT_THAT(version.rows.front().at("version"), StartsWith("sabakan "));

    listing mem = show(admin.get(), "SHOW MEM");
    row clients = row_of(mem, "name", "client_cache");
    row servers = row_of(mem, "name", "server_cache");
    EXPECT_GE(num(clients, "used"), 1);
    EXPECT_GE(num(servers, "used"), 1);
    EXPECT_GT(num(clients, "size"), 0);
    EXPECT_GE(num(clients, "memtotal"), num(clients, "size") * num(clients, "used"));

    listing state = show(admin.get(), "SHOW STATE");
    EXPECT_EQ(row_of(state, "key", "active").at("value"), "yes");
    EXPECT_EQ(row_of(state, "key", "paused").at("value"), "no");
    EXPECT_EQ(row_of(state, "key", "suspended").at("value"), "no");
}

// ---- login rules ----

sabakan_options with_watcher() {
    sabakan_options o;
    o.userlist_text =
        "\"pgbouncer\" \"md5a45753afaca0db833a6f7c7b2864b9d9\"\n"
        "\"mastodon\" \"md5d75bb2be2d7086c6148944261a00f605\"\n"
        "\"watcher\" \"password\"\n";
    o.extra = {{"stats_users", "watcher"}};
    return o;
}

// A stats_users member may SHOW, but RELOAD, PAUSE and SHOW FDS need admin rights; the
// refusals leave the connection usable and change nothing.
TEST_F(AdminShowLoginTest, StatsUserIsReadOnly) {
    start_sabakan(with_watcher());
    auto w = connect_admin("watcher", "password");
    listing pools = show(w.get(), "SHOW POOLS");
    EXPECT_TRUE(pools.find("database", "pgbouncer"));
    for (const char* cmd : {"RELOAD", "PAUSE", "SHOW FDS"}) {
        SCOPED_TRACE(cmd);
        pq::result r = pq::exec(w.get(), cmd);
        EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
        EXPECT_THAT(pq::error(w.get()), HasSubstr("admin access needed"));
        EXPECT_EQ(PQstatus(w.get()), CONNECTION_OK);
        EXPECT_THAT(show(w.get(), "SHOW VERSION").rows.front().at("version"),
                    StartsWith("sabakan "));
    }
    EXPECT_EQ(row_of(show(w.get(), "SHOW STATE"), "key", "paused").at("value"), "no");
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 1"), "1");
    // The admin user may run what the watcher may not.
    auto admin = connect_admin();
    show(admin.get(), "SHOW FDS");
}

// A user with a valid password but in neither admin_users nor stats_users is turned away.
TEST_F(AdminShowLoginTest, UnlistedUserNotAllowed) {
    start_sabakan(with_watcher());
    auto c = pq::connect(sabakan().conninfo("mastodon", "password", "pgbouncer"));
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(c.get()), HasSubstr("not allowed"));
    // The same user still reaches its own database.
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT current_user"), "mastodon");
}

// A wrong password for the console's own user over TCP fails like any other login.
TEST_F(AdminShowLoginTest, WrongAdminPasswordOverTcp) {
    start_sabakan(with_watcher());
    auto c = pq::connect(sabakan().conninfo("pgbouncer", "wrong", "pgbouncer"));
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(c.get()), HasSubstr("password authentication failed"));
    auto nopass =
        pq::connect("host=127.0.0.1 port=" + std::to_string(sabakan().port()) +
                    " user=pgbouncer dbname=pgbouncer passfile=/dev/null connect_timeout=10");
    EXPECT_EQ(PQstatus(nopass.get()), CONNECTION_BAD);
    auto w = pq::connect(sabakan().conninfo("watcher", "wrong", "pgbouncer"));
    EXPECT_EQ(PQstatus(w.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(w.get()), HasSubstr("password authentication failed"));
}

// On the unix socket, pgbouncer run by sabakan's own OS user needs no password at all, and
// has admin rights.
TEST_F(AdminShowLoginTest, OwnUserOnUnixSocketNeedsNoPassword) {
    start_sabakan(with_watcher());
    auto wrong = pq::connect(sabakan().unix_conninfo("pgbouncer", "wrong", "pgbouncer"));
    ASSERT_EQ(PQstatus(wrong.get()), CONNECTION_OK) << pq::error(wrong.get());
    EXPECT_FALSE(PQconnectionUsedPassword(wrong.get()));
    EXPECT_EQ(show(wrong.get(), "SHOW STATE").rows.size(), 3u);
    show(wrong.get(), "SHOW FDS");  // admin only

    auto none =
        pq::connect("host=" + sabakan().dir() + " port=" + std::to_string(sabakan().port()) +
                    " user=pgbouncer dbname=pgbouncer passfile=/dev/null connect_timeout=10");
    ASSERT_EQ(PQstatus(none.get()), CONNECTION_OK) << pq::error(none.get());
    EXPECT_EQ(show(none.get(), "SHOW VERSION").rows.size(), 1u);
    listing clients = show(none.get(), "SHOW CLIENTS");
    auto console = clients.where("database", "pgbouncer");
    ASSERT_EQ(console.size(), 2u);
    EXPECT_EQ(console[0].at("addr"), "unix");
    EXPECT_EQ(console[1].at("addr"), "unix");

    // The exception is the console's: the same user over TCP must still give a password.
    auto tcp = pq::connect(sabakan().conninfo("pgbouncer", "wrong", "pgbouncer"));
    EXPECT_EQ(PQstatus(tcp.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(tcp.get()), HasSubstr("password authentication failed"));
    // ... and so must other users on the unix socket.
    auto other = pq::connect(sabakan().unix_conninfo("watcher", "wrong", "pgbouncer"));
    EXPECT_EQ(PQstatus(other.get()), CONNECTION_BAD);
}

// ---- parser ----

// Case, a trailing semicolon and extra whitespace do not matter.
TEST_F(AdminShowParserTest, CaseSemicolonAndWhitespace) {
    start_sabakan();
    auto admin = connect_admin();
    for (const char* q :
         {"show pools", "SHOW POOLS;", "  SHOW   POOLS ;  ", "Show Pools", "\tSHOW\tPOOLS\n"}) {
        SCOPED_TRACE(q);
        listing l = show(admin.get(), q);
        EXPECT_THAT(l.columns, ElementsAreArray(pools_columns));
        EXPECT_EQ(l.tag, "SHOW");
    }
}

// An unknown command is an ERROR naming it, and the connection goes on.
TEST_F(AdminShowParserTest, UnknownCommandKeepsConnection) {
    start_sabakan();
    auto admin = connect_admin();
    pq::result r = pq::exec(admin.get(), "FOO");
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
    const char* severity = PQresultErrorField(r.get(), PG_DIAG_SEVERITY_NONLOCALIZED);
    EXPECT_STREQ(severity != nullptr ? severity : "", "ERROR");
    const char* message = PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY);
    EXPECT_STREQ(message != nullptr ? message : "", "invalid command 'FOO', use SHOW HELP;");
    EXPECT_EQ(pq::sqlstate(r.get()), "08P01");  // PgBouncer's code for console errors
    EXPECT_EQ(PQstatus(admin.get()), CONNECTION_OK);
    EXPECT_THAT(show(admin.get(), "SHOW VERSION").rows.front().at("version"),
                StartsWith("sabakan "));

    for (const char* bad : {"SHOW SERVERS extra", "SHOW NOSUCHTHING", "SHOW", "SHOW POOLS;;"}) {
        SCOPED_TRACE(bad);
        pq::result e = pq::exec(admin.get(), bad);
        EXPECT_EQ(PQresultStatus(e.get()), PGRES_FATAL_ERROR);
        EXPECT_THAT(pq::error(admin.get()), HasSubstr("invalid command"));
        EXPECT_EQ(PQstatus(admin.get()), CONNECTION_OK);
    }
    EXPECT_EQ(show(admin.get(), "SHOW STATE").rows.size(), 3u);
}

// SELECT x is SHOW x.
TEST_F(AdminShowParserTest, SelectIsShow) {
    start_sabakan();
    auto admin = connect_admin();
    listing via_select = show(admin.get(), "SELECT VERSION");
    listing via_show = show(admin.get(), "SHOW VERSION");
    EXPECT_EQ(via_select.columns, via_show.columns);
    ASSERT_EQ(via_select.rows.size(), 1u);
    EXPECT_EQ(via_select.rows.front(), via_show.rows.front());
    EXPECT_THAT(show(admin.get(), "select pools").columns, ElementsAreArray(pools_columns));
}

// Drivers' SET client_encoding is accepted with a NOTICE; SHOW client_encoding answers a row.
TEST_F(AdminShowParserTest, FakeSetAndShow) {
    start_sabakan();
    auto admin = connect_admin();
    notice_log log;
    PQsetNoticeReceiver(admin.get(), &notice_log::receive, &log);
    for (const char* set : {"SET client_encoding = 'UTF8'", "SET client_encoding TO 'UTF8'",
                            "set DateStyle = ISO;"}) {
        SCOPED_TRACE(set);
        log.notices.clear();
        pq::result r = pq::exec(admin.get(), set);
        ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << pq::error(admin.get());
        EXPECT_STREQ(PQcmdStatus(r.get()), "SET");
        ASSERT_EQ(log.notices.size(), 1u);
        EXPECT_THAT(log.notices.front(), HasSubstr("SET ignored"));
    }
    for (const char* var : {"client_encoding", "standard_conforming_strings", "timezone",
                            "datestyle", "default_transaction_isolation"}) {
        SCOPED_TRACE(var);
        listing l = show(admin.get(), std::string("SHOW ") + var);
        ASSERT_EQ(l.rows.size(), 1u);
        EXPECT_EQ(l.columns.size(), 1u);
        EXPECT_FALSE(l.rows.front().begin()->second.empty());
    }
    EXPECT_EQ(show(admin.get(), "SHOW standard_conforming_strings").rows.front().begin()->second,
              "on");
}

// SHOW HELP answers a NOTICE listing the commands, with tag SHOW and no rows.
TEST_F(AdminShowParserTest, Help) {
    start_sabakan();
    auto admin = connect_admin();
    notice_log log;
    PQsetNoticeReceiver(admin.get(), &notice_log::receive, &log);
    pq::result r = pq::exec(admin.get(), "SHOW HELP");
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << pq::error(admin.get());
    EXPECT_STREQ(PQcmdStatus(r.get()), "SHOW");
    ASSERT_EQ(log.notices.size(), 1u);
    EXPECT_THAT(log.notices.front(), HasSubstr("SHOW"));
    EXPECT_THAT(log.notices.front(), HasSubstr("POOLS"));
    EXPECT_THAT(log.notices.front(), HasSubstr("RELOAD"));
    EXPECT_EQ(PQstatus(admin.get()), CONNECTION_OK);
}

// The extended query protocol is refused with a message, and the connection is closed.
TEST_F(AdminShowParserTest, ExtendedProtocolRefused) {
    start_sabakan();
    auto admin = connect_admin();
    pq::result r(PQprepare(admin.get(), "s1", "SHOW POOLS", 0, nullptr));
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
    EXPECT_THAT(pq::error(admin.get()), HasSubstr("extended query protocol"));
    pq::result next = pq::exec(admin.get(), "SHOW VERSION");
    EXPECT_NE(PQresultStatus(next.get()), PGRES_TUPLES_OK);
    EXPECT_EQ(PQstatus(admin.get()), CONNECTION_BAD);

    // PQexecParams is refused the same way; sabakan itself goes on.
    auto again = connect_admin();
    pq::result p(
        PQexecParams(again.get(), "SHOW VERSION", 0, nullptr, nullptr, nullptr, nullptr, 0));
    EXPECT_EQ(PQresultStatus(p.get()), PGRES_FATAL_ERROR);
    EXPECT_THAT(pq::error(again.get()), HasSubstr("extended query protocol"));
    EXPECT_TRUE(wait_until(
        [&] {
            pq::result x = pq::exec(again.get(), "SHOW VERSION");
            return PQstatus(again.get()) == CONNECTION_BAD;
        },
        5s));
    EXPECT_THAT(show(connect_admin().get(), "SHOW VERSION").rows.front().at("version"),
                StartsWith("sabakan "));
}

}  // namespace
}  // namespace sabakan::integration

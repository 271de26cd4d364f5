// The janitor's sweep and the limits around it, against a real PostgreSQL: query_timeout,
// transaction_timeout, idle_transaction_timeout and client_idle_timeout end the clients
// they name (and only those); server_idle_timeout, server_lifetime and min_pool_size shape
// the set of backends; server_login_retry fails clients fast after a refused login; the
// reserve pool opens after reserve_pool_timeout; max_db/user_connections bound servers and
// max_db/user_client_connections bound logins across pools; [users] overrides apply per
// user; and a config too big for the open-files limit is warned about at startup.
#include "harness/console.hpp"
#include "harness/end_watch.hpp"
#include "harness/fixture.hpp"
#include "harness/ini_builder.hpp"
#include "harness/pg_environment.hpp"
#include "harness/wait.hpp"

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

/// A second role the tests log in as; its md5 secret is md5("password" + name).
constexpr const char* other_user = "limits_other";
const std::string mastodon_md5 = "\"mastodon\" \"md5d75bb2be2d7086c6148944261a00f605\"\n";
const std::string other_md5 = "\"limits_other\" \"md54c39a8d650a4b9c39cb1a15a11cf97f1\"\n";
const std::string admin_md5 = "\"pgbouncer\" \"md5a45753afaca0db833a6f7c7b2864b9d9\"\n";
/// Plain passwords: what a server login without a forced user needs against SCRAM.
const std::string plain_users =
    "\"mastodon\" \"password\"\n\"limits_other\" \"password\"\n" + admin_md5;

/// What a test varies in sabakan.ini; the rest mirrors the harness's generated config.
struct ini_spec {
    std::string databases;  // [databases] lines, see database_line()
    std::string pgbouncer;  // more [pgbouncer] lines
    std::string users;      // [users] lines; no section when empty
    int default_pool_size = 5;
    int query_wait_timeout = 60;
};

/// A [databases] line reaching the test cluster's mastodon_production; `params` adds to
/// host, port and dbname (a forced user, pool settings).
std::string database_line(const std::string& name, const std::string& params) {
    return integration::database_line(name, cluster().port(),
                                      "dbname=mastodon_production " + params);
}
const std::string forced_user = "user=mastodon password=password";

/// Options whose sabakan.ini is `spec`, laid out as harness/sabakan_process.cpp writes it.
sabakan_options options_for(ini_spec spec, std::string userlist = "") {
    sabakan_options o;
    o.userlist_text = std::move(userlist);
    ini_builder ini;
    ini.databases = spec.databases;
    ini.default_pool_size = spec.default_pool_size;
    ini.query_wait_timeout = spec.query_wait_timeout;
    ini.more = spec.pgbouncer;
    ini.users = spec.users;
    o.ini_text = [ini = std::move(ini)](int port, const std::string& dir) {
        return ini.render(port, dir);
    };
    return o;
}

/// Creates the second login role in the cluster once (it lives as long as the cluster).
void ensure_other_role(PGconn* direct) {
    pq::run(direct,
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'limits_other') "
            "THEN CREATE ROLE limits_other LOGIN PASSWORD 'password'; END IF; END $$");
}

/// PostgreSQL's count of client backends matching `where` (over pg_stat_activity).
long long backends(PGconn* direct, const std::string& where) {
    return pq::number(direct,
                      "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client "
                      "backend' AND " +
                          where);
}

/// How many times PostgreSQL's log says it refused a login for a wrong password.
std::size_t login_refusals() {
    const std::string needle = "password authentication failed";
    const std::string log = cluster().logs();
    std::size_t n = 0;
    for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

/// How long since `t`.
std::chrono::milliseconds since(steady::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t);
}

/// The first result of `sql`, the rest read and dropped. When sabakan ends the client
/// mid-query, the first result carries its ErrorResponse (SQLSTATE and all); PQexec would
/// return libpq's own "server closed the connection" after it instead.
pq::result first_result(PGconn* c, const std::string& sql) {
    if (PQsendQuery(c, sql.c_str()) != 1) {
        throw std::runtime_error("cannot send \"" + sql + "\": " + pq::error(c));
    }
    pq::result r(PQgetResult(c));
    while (PGresult* more = PQgetResult(c)) {
        PQclear(more);
    }
    return r;
}

/// Errors collected from worker threads, checked by the test's own thread.
class error_log {
public:
    void add(std::string e) {
        std::lock_guard lock(mutex_);
        errors_.push_back(std::move(e));
    }
    std::vector<std::string> take() {
        std::lock_guard lock(mutex_);
        return std::move(errors_);
    }

private:
    std::mutex mutex_;
    std::vector<std::string> errors_;
};

/// Runs `body` on its own thread, recording an exception it throws as an error.
std::thread worker(error_log& errors, std::function<void()> body) {
    return std::thread([&errors, body = std::move(body)] {
        try {
            body();
        } catch (const std::exception& e) {
            errors.add(e.what());
        }
    });
}

/// Samples a backend count on its own direct connection until stopped; keeps the highest.
class backend_sampler {
public:
    explicit backend_sampler(std::string where)
        : thread_([this, where = std::move(where)] {
              try {
                  auto direct = pq::connect_ok(cluster().direct_conninfo());
                  while (!stop_) {
                      long long n = backends(direct.get(), where);
                      highest_ = std::max(highest_.load(), n);
                      ++samples_;
                  }
              } catch (const std::exception&) {
                  highest_ = -1;
              }
          }) {}
    ~backend_sampler() { stop(); }
    backend_sampler(const backend_sampler&) = delete;
    backend_sampler& operator=(const backend_sampler&) = delete;

    /// Stops sampling; the highest count seen (-1 when sampling failed).
    long long stop() {
        stop_ = true;
        if (thread_.joinable()) {
            thread_.join();
        }
        return highest_;
    }
    long long samples() const noexcept { return samples_; }

private:
    std::atomic<bool> stop_{false};
    std::atomic<long long> highest_{0};
    std::atomic<long long> samples_{0};
    std::thread thread_;
};

/// One client per conninfo, all at once, each running `rounds` short transactions
/// (BEGIN; SELECT pg_sleep(0.05); COMMIT). Returns the errors of all of them.
std::vector<std::string> run_transactions(const std::vector<std::string>& conninfos, int rounds) {
    error_log errors;
    std::vector<std::thread> threads;
    for (const auto& conninfo : conninfos) {
        threads.push_back(worker(errors, [&conninfo, rounds] {
            auto c = pq::connect_ok(conninfo);
            for (int i = 0; i < rounds; ++i) {
                pq::run(c.get(), "BEGIN");
                pq::run(c.get(), "SELECT pg_sleep(0.05)");
                pq::run(c.get(), "COMMIT");
            }
        }));
    }
    for (auto& t : threads) {
        t.join();
    }
    return errors.take();
}

/// Two transactions at once through `conninfo`, then committed: the pool is left with two
/// idle servers (and its two clients stay connected, so the pool stays in use).
std::vector<pq::connection> hold_two_servers(const std::string& conninfo) {
    std::vector<pq::connection> clients;
    clients.push_back(pq::connect_ok(conninfo));
    clients.push_back(pq::connect_ok(conninfo));
    for (auto& c : clients) {
        pq::run(c.get(), "BEGIN");
        pq::run(c.get(), "SELECT 1");
    }
    for (auto& c : clients) {
        pq::run(c.get(), "COMMIT");
    }
    return clients;
}

const std::string app_where = "usename = 'mastodon'";
const std::string both_users_where = "usename IN ('mastodon', 'limits_other')";

class TimeoutsSweepTest : public sabakan_test {};
class LimitsTest : public sabakan_test {};

// query_timeout ends a query running too long with 57014 naming the setting and closes its
// server (the backend exits when pg_sleep returns and finds no client, where a server kept
// open would sit idle in the pool); other clients' short queries are unaffected.
TEST_F(TimeoutsSweepTest, QueryTimeout) {
    sabakan_options o;
    o.extra = {{"query_timeout", "1"}};
    start_sabakan(o);
    auto direct = connect_direct();
    auto slow = connect_pooled();
    auto other = connect_pooled();

    std::atomic<bool> done{false};
    error_log errors;
    std::thread steady_client = worker(errors, [&] {
        while (!done) {
            pq::run(other.get(), "SELECT pg_sleep(0.2)");
        }
    });

    const auto started = steady::now();
    ASSERT_EQ(PQsendQuery(slow.get(), "SELECT pg_sleep(4)"), 1);
    std::string pid;
    ASSERT_TRUE(wait_until(
        [&] {
            pq::result r = pq::run(direct.get(),
                                   "SELECT pid FROM pg_stat_activity WHERE usename = 'mastodon' "
                                   "AND state = 'active' AND query = 'SELECT pg_sleep(4)'");
            pid = PQntuples(r.get()) == 1 ? PQgetvalue(r.get(), 0, 0) : "";
            return !pid.empty();
        },
        3s));
    pq::result r(PQgetResult(slow.get()));
    const auto took = since(started);
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
    EXPECT_EQ(pq::sqlstate(r.get()), "57014");
    EXPECT_THAT(pq::error(slow.get()), HasSubstr("query_timeout"));
    EXPECT_GE(took, 900ms) << "ended before query_timeout";
    EXPECT_LT(took, 3s) << "query_timeout = 1 took " << took.count() << " ms";
    EXPECT_TRUE(wait_until([&] { return !backend_alive(direct.get(), pid); }, 6s))
        << "backend " << pid << " outlived its pg_sleep(4): its server connection was kept";

    done = true;
    steady_client.join();
    EXPECT_THAT(errors.take(), ::testing::IsEmpty());
    EXPECT_EQ(pq::value(other.get(), "SELECT 1"), "1");
    EXPECT_NE(pq::value(connect_pooled().get(), "SELECT pg_backend_pid()"), pid);
}

// query_timeout closes the server: a query still streaming rows is stopped in PostgreSQL at
// once (its next send fails). The client is then mid-row, as PostgreSQL flushes 8 kB at a
// time, so it cannot parse sabakan's ErrorResponse: only the failure is checked.
TEST_F(TimeoutsSweepTest, QueryTimeoutClosesTheServer) {
    sabakan_options o;
    o.extra = {{"query_timeout", "1"}};
    start_sabakan(o);
    auto direct = connect_direct();
    auto slow = connect_pooled();
    const std::string pid = pq::value(slow.get(), "SELECT pg_backend_pid()");
    // 200 rows of 10 kB, one every 50 ms: every row makes PostgreSQL write to the socket.
    const auto started = steady::now();
    pq::result r = pq::exec(
        slow.get(), "SELECT pg_sleep(0.05), repeat('x', 10000) FROM generate_series(1, 200)");
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
    EXPECT_EQ(PQstatus(slow.get()), CONNECTION_BAD);
    // Cut in the middle of a row, the stream just ends: no ErrorResponse glued onto half a
    // DataRow, which libpq would read as a broken message.
    EXPECT_THAT(pq::error(slow.get()), HasSubstr("server closed the connection"))
        << pq::error(slow.get());
    EXPECT_GE(since(started), 900ms);
    EXPECT_LT(since(started), 3s);
    EXPECT_TRUE(wait_until([&] { return !backend_alive(direct.get(), pid); }, 2s))
        << "backend " << pid << " still streams after its server connection was closed";
}

// transaction_timeout ends a transaction open too long with 25P04, idle or busy, and rolls
// it back; a client committing quickly all the while is unaffected.
TEST_F(TimeoutsSweepTest, TransactionTimeout) {
    auto direct = connect_direct();
    pq::run(direct.get(), "UPDATE counters SET n = 0 WHERE id IN (1, 2)");
    sabakan_options o;
    o.extra = {{"transaction_timeout", "1"}};
    start_sabakan(o);

    auto idle = connect_pooled();
    end_watch idle_end(idle.get());
    auto busy = connect_pooled();
    auto quick = connect_pooled();
    pq::run(idle.get(), "BEGIN");
    pq::run(idle.get(), "UPDATE counters SET n = n + 1 WHERE id = 1");
    const auto started = steady::now();
    pq::run(busy.get(), "BEGIN");
    pq::run(busy.get(), "UPDATE counters SET n = n + 1 WHERE id = 2");
    ASSERT_EQ(PQsendQuery(busy.get(), "SELECT pg_sleep(1.5)"), 1);

    int committed = 0;
    while (since(started) < 2500ms) {
        pq::run(quick.get(), "BEGIN");
        pq::run(quick.get(), "SELECT 1");
        pq::run(quick.get(), "COMMIT");
        ++committed;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_GT(committed, 10);

    EXPECT_TRUE(idle_end.closed_within(2s)) << "an idle transaction outlived transaction_timeout";
    EXPECT_EQ(idle_end.sqlstate(), "25P04");
    EXPECT_THAT(idle_end.message(), HasSubstr("transaction timeout"));

    pq::result r(PQgetResult(busy.get()));
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR) << "a busy transaction outlived it";
    EXPECT_EQ(pq::sqlstate(r.get()), "25P04");

    EXPECT_TRUE(
        wait_until([&] { return app_backends(direct.get(), "idle in transaction") == 0; }, 5s));
    EXPECT_EQ(pq::value(direct.get(), "SELECT n FROM counters WHERE id = 1"), "0");
    EXPECT_TRUE(wait_until(
        [&] { return pq::value(direct.get(), "SELECT n FROM counters WHERE id = 2") == "0"; }, 5s));
    EXPECT_EQ(pq::value(quick.get(), "SELECT 3"), "3");
}

// idle_transaction_timeout ends a transaction left idle with 25P03 and rolls it back; a
// transaction busy in one query longer than the timeout commits, and so does a quick one.
TEST_F(TimeoutsSweepTest, IdleTransactionTimeout) {
    auto direct = connect_direct();
    pq::run(direct.get(), "UPDATE counters SET n = 0 WHERE id IN (3, 4)");
    sabakan_options o;
    o.extra = {{"idle_transaction_timeout", "1"}};
    start_sabakan(o);

    auto idle = connect_pooled();
    end_watch idle_end(idle.get());
    auto busy = connect_pooled();
    pq::run(idle.get(), "BEGIN");
    pq::run(idle.get(), "UPDATE counters SET n = n + 1 WHERE id = 3");
    const auto started = steady::now();

    pq::run(busy.get(), "BEGIN");
    pq::run(busy.get(), "UPDATE counters SET n = n + 1 WHERE id = 4");
    pq::run(busy.get(), "SELECT pg_sleep(2)");  // busy, not idle, for twice the timeout
    pq::run(busy.get(), "COMMIT");

    EXPECT_TRUE(idle_end.closed_within(3s)) << "an idle transaction outlived the timeout";
    EXPECT_GE(since(started), 900ms);
    EXPECT_EQ(idle_end.sqlstate(), "25P03");
    EXPECT_THAT(idle_end.message(), HasSubstr("idle transaction timeout"));
    EXPECT_TRUE(
        wait_until([&] { return app_backends(direct.get(), "idle in transaction") == 0; }, 5s));
    EXPECT_EQ(pq::value(direct.get(), "SELECT n FROM counters WHERE id = 3"), "0");
    EXPECT_EQ(pq::value(direct.get(), "SELECT n FROM counters WHERE id = 4"), "1");

    auto quick = connect_pooled();
    pq::run(quick.get(), "BEGIN");
    pq::run(quick.get(), "SELECT 1");
    pq::run(quick.get(), "COMMIT");
}

// client_idle_timeout closes a logged-in client that sends nothing (57P05, naming the
// setting); a client querying every 200 ms is kept well past the timeout.
TEST_F(TimeoutsSweepTest, ClientIdleTimeout) {
    sabakan_options o;
    o.extra = {{"client_idle_timeout", "1"}};
    start_sabakan(o);
    auto idle = connect_pooled();
    end_watch idle_end(idle.get());
    auto busy = connect_pooled();
    const auto started = steady::now();
    while (since(started) < 2500ms) {
        EXPECT_EQ(pq::value(busy.get(), "SELECT 1"), "1");
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_TRUE(idle_end.closed_within(2s)) << "an idle client outlived client_idle_timeout";
    EXPECT_EQ(idle_end.sqlstate(), "57P05");
    EXPECT_THAT(idle_end.message(), HasSubstr("client_idle_timeout"));
    EXPECT_EQ(PQresultStatus(pq::exec(idle.get(), "SELECT 1").get()), PGRES_FATAL_ERROR);
    EXPECT_EQ(pq::value(busy.get(), "SELECT 2"), "2");
}

// server_idle_timeout closes a server nobody used for that long; the next query logs in a
// fresh one.
TEST_F(TimeoutsSweepTest, ServerIdleTimeout) {
    sabakan_options o;
    o.extra = {{"server_idle_timeout", "1"}};
    start_sabakan(o);
    auto direct = connect_direct();
    auto c = connect_pooled();
    const std::string pid = pq::value(c.get(), "SELECT pg_backend_pid()");
    const auto released = steady::now();
    EXPECT_TRUE(wait_until([&] { return app_backends(direct.get()) == 0; }, 5s))
        << "the idle server outlived server_idle_timeout";
    EXPECT_GE(since(released), 900ms);
    EXPECT_NE(pq::value(c.get(), "SELECT pg_backend_pid()"), pid);
}

// server_lifetime replaces an idle server older than that with a new backend.
TEST_F(TimeoutsSweepTest, ServerLifetimeReplacesIdleServer) {
    sabakan_options o;
    o.extra = {{"server_lifetime", "1"}};
    start_sabakan(o);
    auto direct = connect_direct();
    auto c = connect_pooled();
    const std::string pid = pq::value(c.get(), "SELECT pg_backend_pid()");
    EXPECT_TRUE(wait_until([&] { return !backend_alive(direct.get(), pid); }, 5s))
        << "an idle server outlived server_lifetime";
    EXPECT_NE(pq::value(c.get(), "SELECT pg_backend_pid()"), pid);
}

// A server older than server_lifetime is not closed under a transaction: it serves it to
// COMMIT and is closed when released.
TEST_F(TimeoutsSweepTest, ServerLifetimeWaitsForCommit) {
    sabakan_options o;
    o.extra = {{"server_lifetime", "1"}};
    start_sabakan(o);
    auto direct = connect_direct();
    auto c = connect_pooled();
    pq::run(c.get(), "BEGIN");
    const std::string pid = pq::value(c.get(), "SELECT pg_backend_pid()");
    const auto started = steady::now();
    while (since(started) < 2500ms) {
        EXPECT_EQ(pq::value(c.get(), "SELECT pg_backend_pid()"), pid);
        std::this_thread::sleep_for(250ms);
    }
    pq::run(c.get(), "COMMIT");
    EXPECT_TRUE(wait_until([&] { return !backend_alive(direct.get(), pid); }, 3s))
        << "a server past server_lifetime was kept after its transaction";
    EXPECT_NE(pq::value(c.get(), "SELECT pg_backend_pid()"), pid);
}

// min_pool_size: the pool's first client brings it to 3 backends, server_idle_timeout does
// not take it below that, and a backend that dies is replaced.
TEST_F(TimeoutsSweepTest, MinPoolSize) {
    sabakan_options o;
    o.extra = {{"min_pool_size", "3"}, {"server_idle_timeout", "1"}};
    start_sabakan(o);
    auto direct = connect_direct();
    auto c = connect_pooled();
    EXPECT_TRUE(wait_until([&] { return app_backends(direct.get()) == 3; }, 5s))
        << app_backends(direct.get()) << " backends, not min_pool_size";
    // Must NOT happen within 2 s (twice server_idle_timeout): dropping below 3.
    const auto started = steady::now();
    while (since(started) < 2s) {
        ASSERT_EQ(app_backends(direct.get()), 3) << "after " << since(started).count() << " ms";
        std::this_thread::sleep_for(100ms);
    }

    const std::string killed =
        pq::value(direct.get(),
                  "SELECT pg_terminate_backend(pid)::text || ' ' || pid FROM pg_stat_activity "
                  "WHERE usename = 'mastodon' AND backend_type = 'client backend' LIMIT 1");
    ASSERT_EQ(killed.rfind("true ", 0), 0U) << killed;
    const std::string pid = killed.substr(5);
    EXPECT_TRUE(wait_until(
        [&] { return !backend_alive(direct.get(), pid) && app_backends(direct.get()) == 3; }, 5s))
        << app_backends(direct.get()) << " backends after one was terminated";
    EXPECT_EQ(pq::value(c.get(), "SELECT 1"), "1");
}

// As in PgBouncer 1.25, a database with a forced user and min_pool_size opens its minimum
// at startup, before any client comes.
TEST_F(TimeoutsSweepTest, MinPoolSizeWithoutClients) {
    sabakan_options o;
    o.extra = {{"min_pool_size", "2"}};
    start_sabakan(o);
    auto direct = connect_direct();
    EXPECT_TRUE(wait_until([&] { return app_backends(direct.get()) == 2; }, 5s))
        << app_backends(direct.get()) << " backends without clients; min_pool_size is 2";
}

// server_login_retry: after the server refused the login, the next client is refused at
// once with the same reason, and no new login is tried within the window.
TEST_F(LimitsTest, ServerLoginRetryFailsFast) {
    sabakan_options o;
    o.server_password = "wrong";
    o.extra = {{"server_login_retry", "5"}};
    start_sabakan(o);
    const std::string refused = "password authentication failed";
    auto first = pq::connect(pooled_conninfo());
    ASSERT_EQ(PQstatus(first.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(first.get()), HasSubstr(refused));

    const std::size_t refusals = login_refusals();
    ASSERT_GE(refusals, 1U);

    const auto started = steady::now();
    auto second = pq::connect(pooled_conninfo());
    const auto took = since(started);
    ASSERT_EQ(PQstatus(second.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(second.get()), HasSubstr(refused));
    EXPECT_LT(took, 500ms) << "a client in the server_login_retry window was not refused fast";
    // Must NOT happen within 1 s: another login attempt at PostgreSQL.
    EXPECT_FALSE(wait_until([&] { return login_refusals() > refusals; }, 1s))
        << "sabakan tried a login inside the server_login_retry window";
    EXPECT_TRUE(sabakan().running());
}

// The server_login_retry window ends: a client after it makes sabakan try the login again.
TEST_F(LimitsTest, ServerLoginRetryWindowEnds) {
    sabakan_options o;
    o.server_password = "wrong";
    o.extra = {{"server_login_retry", "1"}};
    start_sabakan(o);
    const std::string refused = "password authentication failed";
    auto first = pq::connect(pooled_conninfo());
    ASSERT_EQ(PQstatus(first.get()), CONNECTION_BAD);
    const std::size_t refusals = login_refusals();
    const auto failed = steady::now();
    // The next login attempt comes from a client after the window; poll with clients.
    EXPECT_TRUE(wait_until(
        [&] {
            auto c = pq::connect(pooled_conninfo());
            EXPECT_THAT(pq::error(c.get()), HasSubstr(refused));
            return login_refusals() > refusals;
        },
        4s, 100ms))
        << "no new login was tried after server_login_retry = 1";
    EXPECT_GE(since(failed), 900ms) << "a login was tried inside the window";
}

// After a refused login, fixing the password and RELOAD lets the next client in.
TEST_F(LimitsTest, ServerLoginRetryEndsAfterFix) {
    sabakan_options o;
    o.server_password = "wrong";
    o.extra = {{"server_login_retry", "1"}};
    start_sabakan(o);
    auto admin = connect_admin();
    auto first = pq::connect(pooled_conninfo());
    ASSERT_EQ(PQstatus(first.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(first.get()), HasSubstr("password authentication failed"));

    o.server_password = "password";
    sabakan().rewrite_config(cluster(), o);
    pq::result r = pq::exec(admin.get(), "RELOAD");
    ASSERT_STREQ(PQcmdStatus(r.get()), "RELOAD") << pq::error(admin.get());
    const auto fixed = steady::now();
    std::string last_error;
    EXPECT_TRUE(wait_until(
        [&] {
            auto c = pq::connect(pooled_conninfo());
            if (PQstatus(c.get()) != CONNECTION_OK) {
                last_error = pq::error(c.get());
                return false;
            }
            return pq::value(c.get(), "SELECT 1") == "1";
        },
        5s, 100ms))
        << "no client got in after the fix: " << last_error;
    EXPECT_LT(since(fixed), 3s);
}

// reserve_pool_size: a client waiting longer than reserve_pool_timeout on a full pool gets
// a reserve server while the pool's only server is still held.
TEST_F(LimitsTest, ReservePool) {
    sabakan_options o;
    o.default_pool_size = 1;
    o.extra = {{"reserve_pool_size", "1"}, {"reserve_pool_timeout", "1"}};
    start_sabakan(o);
    auto direct = connect_direct();
    auto holder = connect_pooled();
    pq::run(holder.get(), "BEGIN");
    const std::string held = pq::value(holder.get(), "SELECT pg_backend_pid()");

    auto waiter = connect_pooled();
    const auto started = steady::now();
    const std::string served = pq::value(waiter.get(), "SELECT pg_backend_pid()");
    const auto waited = since(started);
    EXPECT_NE(served, held);
    EXPECT_GE(waited, 900ms) << "the reserve was used before reserve_pool_timeout";
    EXPECT_LT(waited, 4s);
    EXPECT_EQ(app_backends(direct.get(), "idle in transaction"), 1);
    EXPECT_EQ(pq::value(holder.get(), "SELECT pg_backend_pid()"), held);
    pq::run(holder.get(), "COMMIT");
}

// max_db_connections = 2 bounds a pool of 5: ten busy clients all succeed, and PostgreSQL
// never sees more than 2 backends.
TEST_F(LimitsTest, MaxDbConnections) {
    sabakan_options o;
    o.query_wait_timeout = 10;
    o.extra = {{"max_db_connections", "2"}};
    start_sabakan(o);
    backend_sampler sampler(app_where);
    auto errors = run_transactions(std::vector<std::string>(10, pooled_conninfo()), 5);
    const long long highest = sampler.stop();
    EXPECT_THAT(errors, ::testing::IsEmpty());
    EXPECT_GT(sampler.samples(), 10);
    EXPECT_EQ(highest, 2) << "max_db_connections = 2";
}

// max_db_connections counts the servers of every pool of the database: with mastodon's pool
// holding both allowed servers idle, limits_other's first client is still served (as
// PgBouncer does, an idle server of the other pool gives way), and under load from both
// users PostgreSQL never sees more than 2 backends.
TEST_F(LimitsTest, MaxDbConnectionsAcrossPools) {
    auto direct = connect_direct();
    ensure_other_role(direct.get());
    ini_spec spec;
    spec.databases = database_line("mastodon_production", "");
    spec.pgbouncer = "max_db_connections = 2\n";
    spec.query_wait_timeout = 5;
    start_sabakan(options_for(spec, plain_users));
    const std::string mastodon = sabakan().conninfo("mastodon", "password", app_database);
    const std::string other = sabakan().conninfo(other_user, "password", app_database);

    auto holders = hold_two_servers(mastodon);
    ASSERT_EQ(backends(direct.get(), both_users_where), 2);
    const auto started = steady::now();
    auto starved = pq::connect(other);
    EXPECT_EQ(PQstatus(starved.get()), CONNECTION_OK)
        << "limits_other waited " << since(started).count()
        << " ms while mastodon's pool kept both servers idle: " << pq::error(starved.get());
    EXPECT_LT(since(started), 3s);
    starved.reset();

    std::vector<std::string> conninfos;
    for (int i = 0; i < 5; ++i) {
        conninfos.push_back(mastodon);
        conninfos.push_back(other);
    }
    backend_sampler sampler(both_users_where);
    auto errors = run_transactions(conninfos, 5);
    const long long highest = sampler.stop();
    EXPECT_THAT(errors, ::testing::IsEmpty());
    EXPECT_LE(highest, 2) << "max_db_connections = 2";
}

// max_user_connections = 2 bounds a pool of 5 the same way.
TEST_F(LimitsTest, MaxUserConnections) {
    sabakan_options o;
    o.query_wait_timeout = 10;
    o.extra = {{"max_user_connections", "2"}};
    start_sabakan(o);
    backend_sampler sampler(app_where);
    auto errors = run_transactions(std::vector<std::string>(10, pooled_conninfo()), 5);
    const long long highest = sampler.stop();
    EXPECT_THAT(errors, ::testing::IsEmpty());
    EXPECT_EQ(highest, 2) << "max_user_connections = 2";
}

// max_user_connections counts the user's servers in every database: with one database's
// pool holding both allowed servers idle, the other database's first client is still
// served, and under load on both PostgreSQL never sees more than 2 backends.
TEST_F(LimitsTest, MaxUserConnectionsAcrossDatabases) {
    auto direct = connect_direct();
    ini_spec spec;
    spec.databases = database_line("mastodon_production", forced_user) +
                     database_line("mastodon_second", forced_user);
    spec.pgbouncer = "max_user_connections = 2\n";
    spec.query_wait_timeout = 5;
    start_sabakan(options_for(spec));
    const std::string first = sabakan().conninfo("mastodon", "password", app_database);
    const std::string second = sabakan().conninfo("mastodon", "password", "mastodon_second");

    auto holders = hold_two_servers(first);
    ASSERT_EQ(app_backends(direct.get()), 2);
    const auto started = steady::now();
    auto starved = pq::connect(second);
    EXPECT_EQ(PQstatus(starved.get()), CONNECTION_OK)
        << "mastodon_second waited " << since(started).count()
        << " ms while mastodon_production's pool kept both servers idle: "
        << pq::error(starved.get());
    EXPECT_LT(since(started), 3s);
    starved.reset();

    std::vector<std::string> conninfos;
    for (int i = 0; i < 5; ++i) {
        conninfos.push_back(first);
        conninfos.push_back(second);
    }
    backend_sampler sampler(app_where);
    auto errors = run_transactions(conninfos, 5);
    const long long highest = sampler.stop();
    EXPECT_THAT(errors, ::testing::IsEmpty());
    EXPECT_LE(highest, 2) << "max_user_connections = 2";
}

// max_db_client_connections = 2: two clients (of two users) log in, the third is refused
// with 53300 naming the setting, and a place freed by a client leaving is taken again.
TEST_F(LimitsTest, MaxDbClientConnections) {
    ini_spec spec;
    spec.databases = database_line("mastodon_production", forced_user);
    spec.pgbouncer = "max_db_client_connections = 2\n";
    start_sabakan(options_for(spec, mastodon_md5 + other_md5 + admin_md5));
    auto a = connect_pooled();
    auto b = pq::connect_ok(sabakan().conninfo(other_user, "password", app_database));
    auto refused = pq::connect(pooled_conninfo());
    ASSERT_EQ(PQstatus(refused.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(refused.get()), HasSubstr("53300"));
    EXPECT_THAT(pq::error(refused.get()), HasSubstr("max_db_client_connections"));
    EXPECT_EQ(pq::value(a.get(), "SELECT 1"), "1");
    EXPECT_EQ(pq::value(b.get(), "SELECT 2"), "2");

    a.reset();
    EXPECT_TRUE(wait_until(
        [&] { return PQstatus(pq::connect(pooled_conninfo()).get()) == CONNECTION_OK; }, 5s, 50ms))
        << "the place of a client that left was not freed";
}

// max_user_client_connections = 2 counts a user's clients in every database; another
// user still gets in, and a place freed by a client leaving is taken again.
TEST_F(LimitsTest, MaxUserClientConnections) {
    ini_spec spec;
    spec.databases = database_line("mastodon_production", forced_user) +
                     database_line("mastodon_second", forced_user);
    spec.pgbouncer = "max_user_client_connections = 2\n";
    start_sabakan(options_for(spec, mastodon_md5 + other_md5 + admin_md5));
    auto a = connect_pooled();
    auto b = pq::connect_ok(sabakan().conninfo("mastodon", "password", "mastodon_second"));
    auto refused = pq::connect(pooled_conninfo());
    ASSERT_EQ(PQstatus(refused.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(refused.get()), HasSubstr("53300"));
    EXPECT_THAT(pq::error(refused.get()), HasSubstr("max_user_client_connections"));
    auto other = pq::connect_ok(sabakan().conninfo(other_user, "password", app_database));
    EXPECT_EQ(pq::value(other.get(), "SELECT 1"), "1");
    EXPECT_EQ(pq::value(b.get(), "SELECT 2"), "2");

    b.reset();
    EXPECT_TRUE(wait_until(
        [&] { return PQstatus(pq::connect(pooled_conninfo()).get()) == CONNECTION_OK; }, 5s, 50ms))
        << "the place of a client that left was not freed";
}

// [users] mastodon = query_timeout=1 idle_transaction_timeout=1 ends mastodon's slow query
// and idle transaction; limits_other, in its own pool, runs the same unharmed.
TEST_F(TimeoutsSweepTest, UserTimeoutsApplyToThatUserOnly) {
    ensure_other_role(connect_direct().get());
    ini_spec spec;
    spec.databases = database_line("mastodon_production", "");
    spec.users = "mastodon = query_timeout=1 idle_transaction_timeout=1\n";
    start_sabakan(options_for(spec, plain_users));
    auto mastodon = pq::connect_ok(sabakan().conninfo("mastodon", "password", app_database));
    auto other = pq::connect_ok(sabakan().conninfo(other_user, "password", app_database));
    ASSERT_EQ(pq::value(other.get(), "SELECT current_user"), other_user);

    error_log errors;
    std::thread other_client = worker(errors, [&] {
        pq::run(other.get(), "SELECT pg_sleep(2)");
        pq::run(other.get(), "BEGIN");
        pq::run(other.get(), "SELECT 1");
        std::this_thread::sleep_for(2s);  // idle in its transaction for twice the timeout
        pq::run(other.get(), "COMMIT");
    });

    const auto started = steady::now();
    pq::result r = first_result(mastodon.get(), "SELECT pg_sleep(5)");
    EXPECT_EQ(pq::sqlstate(r.get()), "57014") << pq::error(mastodon.get());
    EXPECT_LT(since(started), 4s);

    auto idle = pq::connect_ok(sabakan().conninfo("mastodon", "password", app_database));
    end_watch idle_end(idle.get());
    pq::run(idle.get(), "BEGIN");
    EXPECT_TRUE(idle_end.closed_within(4s));
    EXPECT_EQ(idle_end.sqlstate(), "25P03");

    other_client.join();
    EXPECT_THAT(errors.take(), ::testing::IsEmpty());
    EXPECT_EQ(pq::value(other.get(), "SELECT 1"), "1");
}

// [users] mastodon = query_wait_timeout=1 overrides the global 60 s for that user.
TEST_F(TimeoutsSweepTest, UserQueryWaitTimeout) {
    ini_spec spec;
    spec.databases = database_line("mastodon_production", forced_user);
    spec.default_pool_size = 1;
    spec.users = "mastodon = query_wait_timeout=1\n";
    start_sabakan(options_for(spec));
    auto holder = connect_pooled();
    pq::run(holder.get(), "BEGIN");
    pq::run(holder.get(), "SELECT 1");
    auto waiter = connect_pooled();
    const auto started = steady::now();
    pq::result r = pq::exec(waiter.get(), "SELECT 1");
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
    EXPECT_THAT(pq::error(waiter.get()), HasSubstr("query_wait_timeout"));
    EXPECT_LT(since(started), 4s);
    pq::run(holder.get(), "COMMIT");
}

// [users] mastodon = client_idle_timeout=1 closes mastodon's idle client (57P05);
// limits_other, in its own pool and with no override, stays connected.
TEST_F(TimeoutsSweepTest, UserClientIdleTimeout) {
    ensure_other_role(connect_direct().get());
    ini_spec spec;
    spec.databases = database_line("mastodon_production", "");
    spec.users = "mastodon = client_idle_timeout=1\n";
    start_sabakan(options_for(spec, plain_users));
    auto mastodon = pq::connect_ok(sabakan().conninfo("mastodon", "password", app_database));
    end_watch mastodon_end(mastodon.get());
    auto other = pq::connect_ok(sabakan().conninfo(other_user, "password", app_database));
    end_watch other_end(other.get());
    EXPECT_TRUE(mastodon_end.closed_within(4s)) << "mastodon's client_idle_timeout = 1 unused";
    EXPECT_EQ(mastodon_end.sqlstate(), "57P05");
    // Must NOT happen within 1 s more: limits_other closed.
    EXPECT_FALSE(other_end.closed_within(1s)) << "limits_other has no client_idle_timeout";
    EXPECT_EQ(pq::value(other.get(), "SELECT 1"), "1");
}

// A [users] client_idle_timeout that a RELOAD (here SIGHUP) adds reaches clients already
// logged in: their limits are resolved again at each reload, not only at login.
TEST_F(TimeoutsSweepTest, UserClientIdleTimeoutAddedByReload) {
    ini_spec spec;
    spec.databases = database_line("mastodon_production", "");
    const auto before = options_for(spec, plain_users);
    start_sabakan(before);
    auto mastodon = pq::connect_ok(sabakan().conninfo("mastodon", "password", app_database));
    end_watch mastodon_end(mastodon.get());
    EXPECT_FALSE(mastodon_end.closed_within(1500ms)) << "closed with no client_idle_timeout set";
    spec.users = "mastodon = client_idle_timeout=1\n";
    sabakan().rewrite_config(cluster(), options_for(spec, plain_users));
    sabakan().signal(SIGHUP);
    EXPECT_TRUE(mastodon_end.closed_within(4s)) << "the reloaded client_idle_timeout = 1 unused";
    EXPECT_EQ(mastodon_end.sqlstate(), "57P05");
}

// As in PgBouncer, a client-side [users] setting follows the user the client logged in as,
// also when the database forces another server user: limits_other's idle client is closed
// by its client_idle_timeout, mastodon's is not.
TEST_F(TimeoutsSweepTest, UserClientIdleTimeoutFollowsLoginUser) {
    ini_spec spec;
    spec.databases = database_line("mastodon_production", forced_user);
    spec.users = "limits_other = client_idle_timeout=1\n";
    start_sabakan(options_for(spec, mastodon_md5 + other_md5 + admin_md5));
    auto other = pq::connect_ok(sabakan().conninfo(other_user, "password", app_database));
    end_watch other_end(other.get());
    auto mastodon = connect_pooled();
    end_watch mastodon_end(mastodon.get());
    EXPECT_TRUE(other_end.closed_within(4s)) << "limits_other's client_idle_timeout = 1 unused";
    EXPECT_THAT(other_end.message(), HasSubstr("client_idle_timeout"));
    EXPECT_FALSE(mastodon_end.closed_within(1s)) << "mastodon has no client_idle_timeout";
    EXPECT_EQ(pq::value(mastodon.get(), "SELECT 1"), "1");
}

// max_client_conn beyond the open-files limit draws a startup warning about file descriptors.
TEST_F(LimitsTest, FdLimitWarning) {
    sabakan_options o;
    o.max_client_conn = 2000000000;
    start_sabakan(o);
    EXPECT_TRUE(wait_until(
        [&] { return sabakan().logs().find("file descriptors") != std::string::npos; }, 5s));
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 1"), "1");
}

// A config that fits the open-files limit starts without that warning.
TEST_F(LimitsTest, NoFdLimitWarning) {
    start_sabakan();
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 1"), "1");
    EXPECT_THAT(sabakan().logs(), Not(HasSubstr("file descriptors")));
}

}  // namespace
}  // namespace sabakan::integration

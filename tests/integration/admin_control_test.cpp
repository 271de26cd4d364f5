// The admin console's control commands, checked by their effect on real clients and on
// PostgreSQL (pg_stat_activity), not by their answers alone: PAUSE/RESUME, DISABLE/ENABLE,
// RECONNECT/WAIT_CLOSE, KILL, KILL_CLIENT, SET, the three SHUTDOWNs, and who may run them.
#include "harness/console.hpp"
#include "harness/fixture.hpp"
#include "harness/ini_builder.hpp"
#include "harness/pg_environment.hpp"
#include "harness/wait.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

/// How long a negative check ("this has not happened yet") watches before it believes it.
constexpr auto still_waiting = 300ms;

/// The harness's generated config with a second [databases] entry, `other_db`, that
/// reaches PostgreSQL's `postgres` database, so its backends can be told apart.
std::string two_database_ini(int pg_port, int listen_port, const std::string& dir) {
    ini_builder ini;
    ini.databases =
        database_line("mastodon_production", pg_port,
                      "dbname=mastodon_production user=mastodon password=password") +
        database_line("other_db", pg_port, "dbname=postgres user=mastodon password=password");
    return ini.render(listen_port, dir);
}

class AdminControlTest : public sabakan_test {
protected:
    /// The number of clients of mastodon_production queued for a server (SHOW POOLS).
    static long long waiting_clients(PGconn* admin) {
        return std::stoll(
            show_cell(admin, "POOLS", "database", app_database, "cl_waiting").value_or("-1"));
    }
};

// PAUSE waits for the open transaction to commit, closes every server, holds new queries
// until RESUME; SHOW DATABASES and SHOW STATE say paused; RESUME when not paused is an error.
TEST_F(AdminControlTest, PauseAllWaitsForTransactionAndHoldsQueries) {
    start_sabakan();
    auto direct = connect_direct();
    auto admin = connect_admin();
    auto pauser = connect_admin();

    auto in_tx = connect_pooled();
    pq::run(in_tx.get(), "BEGIN");
    const std::string tx_pid = pq::value(in_tx.get(), "SELECT pg_backend_pid()");
    auto idle = connect_pooled();
    EXPECT_EQ(pq::value(idle.get(), "SELECT 1"), "1");  // a second server, idle afterwards
    ASSERT_EQ(app_backends(direct.get()), 2);

    pending_query pause(pauser.get(), "PAUSE");
    // The idle server goes at once: that is how we know PAUSE is being carried out.
    ASSERT_TRUE(wait_until([&] { return app_backends(direct.get()) == 1; }, 10s))
        << "PAUSE did not close the idle server";
    EXPECT_TRUE(backend_alive(direct.get(), tx_pid));
    EXPECT_EQ(show_cell(admin.get(), "STATE", "key", "paused", "value"), "yes");
    EXPECT_EQ(show_cell(admin.get(), "DATABASES", "name", app_database, "paused"), "1");

    // The transaction goes on on its server; PAUSE does not answer meanwhile.
    EXPECT_EQ(pq::value(in_tx.get(), "SELECT pg_backend_pid()"), tx_pid);
    pq::run(in_tx.get(), "UPDATE counters SET n = n + 1 WHERE id = 3");
    EXPECT_FALSE(pause.wait(still_waiting)) << "PAUSE returned while a transaction was open";

    // A query sent now is queued, not run.
    auto queued = connect_pooled();
    pending_query held(queued.get(), "SELECT 42");
    ASSERT_TRUE(wait_until([&] { return waiting_clients(admin.get()) == 1; }, 10s))
        << "the new client's query was not queued";

    pq::run(in_tx.get(), "COMMIT");
    ASSERT_TRUE(pause.wait(10s)) << "PAUSE did not return after the commit";
    pq::result paused = pause.take();
    EXPECT_EQ(PQresultStatus(paused.get()), PGRES_COMMAND_OK) << pq::error(pauser.get());
    EXPECT_STREQ(PQcmdStatus(paused.get()), "PAUSE");
    // Once PAUSE has answered sabakan holds no server; PostgreSQL needs a moment to reap.
    EXPECT_EQ(show_cell(admin.get(), "SERVERS", "database", app_database, "remote_pid"),
              std::nullopt);
    EXPECT_TRUE(wait_until([&] { return app_backends(direct.get()) == 0; }, 10s))
        << app_backends(direct.get()) << " backends left after PAUSE";
    EXPECT_FALSE(held.wait(still_waiting)) << "a query ran while paused";
    EXPECT_EQ(waiting_clients(admin.get()), 1);
    EXPECT_EQ(app_backends(direct.get()), 0);

    EXPECT_EQ(tag_of(admin.get(), "RESUME"), "RESUME");
    ASSERT_TRUE(held.wait(10s)) << "RESUME did not let the queued query run";
    pq::result r = held.take();
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << pq::error(queued.get());
    EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "42");
    EXPECT_EQ(show_cell(admin.get(), "STATE", "key", "paused", "value"), "no");
    EXPECT_EQ(show_cell(admin.get(), "DATABASES", "name", app_database, "paused"), "0");
    EXPECT_NE(pq::value(in_tx.get(), "SELECT pg_backend_pid()"), tx_pid);

    EXPECT_THAT(error_of(admin.get(), "RESUME"), HasSubstr("not paused"));
}

// PAUSE of one database waits for its transaction and drains only its servers; another
// database keeps serving, SHOW STATE is not paused, and RESUME of it lets queued queries on.
TEST_F(AdminControlTest, PauseOneDatabase) {
    sabakan_options o;
    o.ini_text = [pg_port = cluster().port()](int listen_port, const std::string& dir) {
        return two_database_ini(pg_port, listen_port, dir);
    };
    start_sabakan(std::move(o));
    auto direct = connect_direct();
    auto admin = connect_admin();
    auto pauser = connect_admin();
    auto other = pq::connect_ok(sabakan().conninfo(app_user, app_password, "other_db"));
    EXPECT_EQ(pq::value(other.get(), "SELECT current_database()"), "postgres");

    auto in_tx = connect_pooled();
    pq::run(in_tx.get(), "BEGIN");
    EXPECT_EQ(pq::value(in_tx.get(), "SELECT current_database()"), "mastodon_production");

    pending_query pause(pauser.get(), "PAUSE mastodon_production");
    ASSERT_TRUE(wait_until(
        [&] { return show_cell(admin.get(), "DATABASES", "name", app_database, "paused") == "1"; },
        10s));
    EXPECT_EQ(show_cell(admin.get(), "DATABASES", "name", "other_db", "paused"), "0");
    EXPECT_EQ(show_cell(admin.get(), "STATE", "key", "paused", "value"), "no");
    EXPECT_EQ(pq::value(other.get(), "SELECT 7"), "7");  // not held
    EXPECT_EQ(pq::value(in_tx.get(), "SELECT 8"), "8");  // its transaction goes on
    EXPECT_FALSE(pause.wait(still_waiting)) << "PAUSE returned while a transaction was open";

    auto queued = connect_pooled();
    pending_query held(queued.get(), "SELECT 9");
    ASSERT_TRUE(wait_until([&] { return waiting_clients(admin.get()) == 1; }, 10s));

    pq::run(in_tx.get(), "COMMIT");
    ASSERT_TRUE(pause.wait(10s)) << "PAUSE did not return after the commit";
    pq::result paused = pause.take();
    EXPECT_EQ(PQresultStatus(paused.get()), PGRES_COMMAND_OK) << pq::error(pauser.get());
    EXPECT_STREQ(PQcmdStatus(paused.get()), "PAUSE");
    EXPECT_TRUE(wait_until([&] { return backends_in(direct.get(), app_database) == 0; }, 10s));
    EXPECT_EQ(backends_in(direct.get(), "postgres"), 1) << "the other database's server was closed";
    EXPECT_EQ(pq::value(other.get(), "SELECT 10"), "10");
    EXPECT_FALSE(held.wait(still_waiting)) << "a query ran while its database was paused";

    EXPECT_THAT(error_of(admin.get(), "RESUME other_db"), HasSubstr("not paused"));
    EXPECT_EQ(tag_of(admin.get(), "RESUME mastodon_production"), "RESUME");
    ASSERT_TRUE(held.wait(10s)) << "RESUME did not let the queued query run";
    pq::result r = held.take();
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << pq::error(queued.get());
    EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "9");
    EXPECT_EQ(show_cell(admin.get(), "DATABASES", "name", app_database, "paused"), "0");
}

// DISABLE refuses new logins to the database but not its connected clients; ENABLE lets
// them in again; DISABLE needs a known database name.
TEST_F(AdminControlTest, DisableAndEnable) {
    start_sabakan();
    auto admin = connect_admin();
    auto before = connect_pooled();
    pq::run(before.get(), "BEGIN");
    EXPECT_EQ(pq::value(before.get(), "SELECT 1"), "1");

    EXPECT_EQ(tag_of(admin.get(), "DISABLE mastodon_production"), "DISABLE");
    EXPECT_EQ(show_cell(admin.get(), "DATABASES", "name", app_database, "disabled"), "1");
    auto refused = pq::connect(pooled_conninfo());
    EXPECT_EQ(PQstatus(refused.get()), CONNECTION_BAD);
    EXPECT_THAT(pq::error(refused.get()), HasSubstr("disabled"));

    // The client that was already in keeps working, inside and after its transaction.
    EXPECT_EQ(pq::value(before.get(), "SELECT 2"), "2");
    pq::run(before.get(), "COMMIT");
    EXPECT_EQ(pq::value(before.get(), "SELECT 3"), "3");

    EXPECT_EQ(tag_of(admin.get(), "ENABLE mastodon_production"), "ENABLE");
    EXPECT_EQ(show_cell(admin.get(), "DATABASES", "name", app_database, "disabled"), "0");
    auto after = connect_pooled();
    EXPECT_EQ(pq::value(after.get(), "SELECT 4"), "4");

    EXPECT_THAT(error_of(admin.get(), "DISABLE"), HasSubstr("a database is required"));
    EXPECT_THAT(error_of(admin.get(), "DISABLE no_such_db"), HasSubstr("no such database"));
    EXPECT_THAT(error_of(admin.get(), "ENABLE no_such_db"), HasSubstr("no such database"));
}

// RECONNECT closes an idle server at once: the next transaction runs on another backend.
TEST_F(AdminControlTest, ReconnectReplacesIdleServer) {
    start_sabakan();
    auto direct = connect_direct();
    auto admin = connect_admin();
    auto client = connect_pooled();
    const std::string pid = pq::value(client.get(), "SELECT pg_backend_pid()");
    EXPECT_EQ(show_cell(admin.get(), "SERVERS", "remote_pid", pid, "state"), "idle");

    EXPECT_EQ(tag_of(admin.get(), "RECONNECT"), "RECONNECT");
    EXPECT_TRUE(wait_until([&] { return !backend_alive(direct.get(), pid); }, 10s))
        << "the idle server's backend " << pid << " survived RECONNECT";
    const std::string next = pq::value(client.get(), "SELECT pg_backend_pid()");
    EXPECT_NE(next, pid);
    EXPECT_EQ(show_cell(admin.get(), "SERVERS", "remote_pid", next, "close_needed"), "0");
    EXPECT_EQ(tag_of(admin.get(), "WAIT_CLOSE"), "WAIT_CLOSE");  // nothing left to close
    EXPECT_EQ(app_backends(direct.get()), 1);
}

// RECONNECT during a transaction marks its server close_needed; the transaction finishes on
// it, WAIT_CLOSE answers only after the commit, and the server is then closed.
TEST_F(AdminControlTest, ReconnectClosesBusyServerAtCommit) {
    start_sabakan();
    auto direct = connect_direct();
    auto admin = connect_admin();
    auto waiter = connect_admin();
    auto client = connect_pooled();
    pq::run(client.get(), "BEGIN");
    const std::string pid = pq::value(client.get(), "SELECT pg_backend_pid()");
    EXPECT_EQ(show_cell(admin.get(), "SERVERS", "remote_pid", pid, "close_needed"), "0");

    EXPECT_EQ(tag_of(admin.get(), "RECONNECT mastodon_production"), "RECONNECT");
    EXPECT_EQ(show_cell(admin.get(), "SERVERS", "remote_pid", pid, "close_needed"), "1");
    EXPECT_EQ(pq::value(client.get(), "SELECT pg_backend_pid()"), pid);
    pq::run(client.get(), "UPDATE counters SET n = n + 1 WHERE id = 4");

    pending_query wait_close(waiter.get(), "WAIT_CLOSE mastodon_production");
    EXPECT_FALSE(wait_close.wait(still_waiting)) << "WAIT_CLOSE returned before the commit";
    EXPECT_TRUE(backend_alive(direct.get(), pid));

    pq::run(client.get(), "COMMIT");
    ASSERT_TRUE(wait_close.wait(10s)) << "WAIT_CLOSE did not return after the commit";
    pq::result r = wait_close.take();
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << pq::error(waiter.get());
    EXPECT_STREQ(PQcmdStatus(r.get()), "WAIT_CLOSE");
    EXPECT_TRUE(wait_until([&] { return !backend_alive(direct.get(), pid); }, 10s))
        << "the server was not closed at commit";
    EXPECT_NE(pq::value(client.get(), "SELECT pg_backend_pid()"), pid);
    EXPECT_EQ(pq::value(direct.get(), "SELECT n FROM counters WHERE id = 4"), "1");
}

// KILL of a database drops its clients and servers (not the console); new clients' queries
// then wait until RESUME.
TEST_F(AdminControlTest, KillDatabase) {
    start_sabakan();
    auto direct = connect_direct();
    auto admin = connect_admin();
    auto in_tx = connect_pooled();
    pq::run(in_tx.get(), "BEGIN");
    pq::run(in_tx.get(), "UPDATE counters SET n = n + 1 WHERE id = 5");
    auto idle = connect_pooled();
    EXPECT_EQ(pq::value(idle.get(), "SELECT 1"), "1");  // a second server, idle afterwards
    ASSERT_EQ(app_backends(direct.get()), 2);

    EXPECT_EQ(tag_of(admin.get(), "KILL mastodon_production"), "KILL");
    EXPECT_EQ(PQresultStatus(pq::exec(idle.get(), "SELECT 2").get()), PGRES_FATAL_ERROR);
    EXPECT_EQ(PQresultStatus(pq::exec(in_tx.get(), "COMMIT").get()), PGRES_FATAL_ERROR);
    EXPECT_TRUE(wait_until([&] { return app_backends(direct.get()) == 0; }, 10s))
        << app_backends(direct.get()) << " backends left after KILL";
    EXPECT_EQ(pq::value(direct.get(), "SELECT n FROM counters WHERE id = 5"), "0");
    EXPECT_EQ(show_cell(admin.get(), "DATABASES", "name", app_database, "paused"), "1");

    auto newcomer = connect_pooled();
    pending_query held(newcomer.get(), "SELECT 3");
    ASSERT_TRUE(wait_until([&] { return waiting_clients(admin.get()) == 1; }, 10s))
        << "the new client's query was not queued";
    EXPECT_FALSE(held.wait(still_waiting)) << "a query ran after KILL without RESUME";
    EXPECT_EQ(app_backends(direct.get()), 0);

    EXPECT_EQ(tag_of(admin.get(), "RESUME mastodon_production"), "RESUME");
    ASSERT_TRUE(held.wait(10s)) << "RESUME did not let the queued query run";
    pq::result r = held.take();
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << pq::error(newcomer.get());
    EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), "3");
}

// KILL_CLIENT with an id from SHOW CLIENTS drops that client and its server only; an
// unknown id is "client not found".
TEST_F(AdminControlTest, KillClientById) {
    start_sabakan();
    auto direct = connect_direct();
    auto admin = connect_admin();
    auto victim = connect_pooled();
    pq::run(victim.get(), "BEGIN");
    const std::string victim_pid = pq::value(victim.get(), "SELECT pg_backend_pid()");
    auto bystander = connect_pooled();
    pq::run(bystander.get(), "BEGIN");
    const std::string bystander_pid = pq::value(bystander.get(), "SELECT pg_backend_pid()");

    auto id =
        show_cell(admin.get(), "CLIENTS", "port", std::to_string(local_port(victim.get())), "id");
    ASSERT_TRUE(id.has_value()) << "SHOW CLIENTS does not list the client";
    auto other_id = show_cell(admin.get(), "CLIENTS", "port",
                              std::to_string(local_port(bystander.get())), "id");
    ASSERT_TRUE(other_id.has_value());
    ASSERT_NE(*id, *other_id);

    EXPECT_EQ(tag_of(admin.get(), "KILL_CLIENT " + *id), "KILL_CLIENT");
    EXPECT_EQ(PQresultStatus(pq::exec(victim.get(), "SELECT 1").get()), PGRES_FATAL_ERROR);
    EXPECT_TRUE(wait_until([&] { return !backend_alive(direct.get(), victim_pid); }, 10s))
        << "the killed client's server was not closed";
    EXPECT_EQ(show_cell(admin.get(), "CLIENTS", "id", *id, "id"), std::nullopt);

    EXPECT_EQ(pq::value(bystander.get(), "SELECT pg_backend_pid()"), bystander_pid);
    pq::run(bystander.get(), "COMMIT");
    EXPECT_EQ(show_cell(admin.get(), "CLIENTS", "id", *other_id, "id"), *other_id);

    EXPECT_THAT(error_of(admin.get(), "KILL_CLIENT 987654321"), HasSubstr("client not found"));
    EXPECT_EQ(pq::value(bystander.get(), "SELECT 2"), "2");
}

/// What run_load() saw: client errors, and the most Mastodon backends PostgreSQL had at
/// once, all of them and those not idle (in a transaction or running a query).
struct load_result {
    std::vector<std::string> errors;
    long long most = 0;
    long long most_busy = 0;
};

/// Runs `clients` threads of `transactions` short transactions each through `conninfo`
/// while a direct connection samples pg_stat_activity.
load_result run_load(const std::string& conninfo, int clients, int transactions) {
    load_result out;
    std::mutex m;
    auto report = [&](std::string e) {
        std::lock_guard lock(m);
        out.errors.push_back(std::move(e));
    };
    std::latch connected(clients);
    std::atomic<bool> done{false};
    std::vector<std::thread> workers;
    for (int i = 0; i < clients; ++i) {
        workers.emplace_back([&, i] {
            pq::connection c;
            try {
                c = pq::connect_ok(conninfo);
            } catch (const std::exception& e) {
                report(e.what());
            }
            connected.arrive_and_wait();
            if (!c) {
                return;
            }
            for (int t = 0; t < transactions; ++t) {
                for (const char* sql : {"BEGIN", "SELECT pg_sleep(0.002)", "COMMIT"}) {
                    pq::result r(PQexec(c.get(), sql));
                    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK &&
                        PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
                        report("client " + std::to_string(i) + ": " + sql + ": " +
                               pq::error(c.get()));
                        return;
                    }
                }
            }
        });
    }
    std::thread sampler([&] {
        try {
            auto direct = pq::connect_ok(cluster().direct_conninfo());
            while (!done) {
                long long all = app_backends(direct.get());
                long long busy = all - app_backends(direct.get(), "idle");
                out.most = std::max(out.most, all);
                out.most_busy = std::max(out.most_busy, busy);
                std::this_thread::sleep_for(2ms);
            }
        } catch (const std::exception& e) {
            report(std::string("sampler: ") + e.what());
        }
    });
    for (auto& w : workers) {
        w.join();
    }
    done = true;
    sampler.join();
    return out;
}

// SET default_pool_size = 2 answers "SET default_pool_size=2", shows in SHOW CONFIG, and
// from then on 10 busy clients get at most 2 backends.
TEST_F(AdminControlTest, SetPoolSizeLimitsNewServers) {
    start_sabakan();
    auto admin = connect_admin();
    pq::result r = pq::exec(admin.get(), "SET default_pool_size = 2");
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << pq::error(admin.get());
    EXPECT_STREQ(PQcmdStatus(r.get()), "SET default_pool_size=2");
    EXPECT_EQ(config_value(admin.get(), "default_pool_size"), "2");
    EXPECT_EQ(show_cell(admin.get(), "DATABASES", "name", app_database, "pool_size"), "2");

    load_result load = run_load(pooled_conninfo(), 10, 30);
    ASSERT_TRUE(load.errors.empty())
        << load.errors.size() << " errors, the first: " << load.errors.front();
    EXPECT_GE(load.most, 1);
    EXPECT_LE(load.most, 2) << "PostgreSQL saw more backends than the SET pool size";
}

// After SET default_pool_size = 2 on a pool that already holds 5 servers, at most 2 of them
// are used (and kept) afterwards, as PgBouncer's janitor closes the surplus.
TEST_F(AdminControlTest, SetPoolSizeShrinksWarmPool) {
    start_sabakan();
    auto direct = connect_direct();
    auto admin = connect_admin();
    {
        std::vector<pq::connection> holders;
        for (int i = 0; i < 5; ++i) {
            holders.push_back(connect_pooled());
            pq::run(holders.back().get(), "BEGIN");
            pq::run(holders.back().get(), "SELECT 1");
        }
        for (auto& h : holders) {
            pq::run(h.get(), "COMMIT");
        }
    }
    ASSERT_EQ(app_backends(direct.get()), 5);

    EXPECT_EQ(tag_of(admin.get(), "SET default_pool_size = 2"), "SET default_pool_size=2");
    EXPECT_TRUE(wait_until([&] { return app_backends(direct.get()) <= 2; }, 10s))
        << app_backends(direct.get()) << " servers kept on a pool of 2";

    load_result load = run_load(pooled_conninfo(), 10, 30);
    ASSERT_TRUE(load.errors.empty())
        << load.errors.size() << " errors, the first: " << load.errors.front();
    EXPECT_LE(load.most_busy, 2) << "more than 2 servers were in use at once after the SET";
    EXPECT_LE(load.most, 2) << "PostgreSQL saw more backends than the SET pool size";
}

// SET of an unknown key, of a bad value, and of a restart-only key are errors that change
// nothing; the console stays usable.
TEST_F(AdminControlTest, SetRejectsBadSettings) {
    start_sabakan();
    auto admin = connect_admin();
    const std::string port = config_value(admin.get(), "listen_port");

    EXPECT_THAT(error_of(admin.get(), "SET no_such_setting = 1"), HasSubstr("no_such_setting"));
    EXPECT_NE(error_of(admin.get(), "SET default_pool_size = lots"), "");
    EXPECT_NE(error_of(admin.get(), "SET default_pool_size = -3"), "");
    EXPECT_THAT(error_of(admin.get(), "SET listen_port = 1"), HasSubstr("restart"));
    EXPECT_EQ(config_value(admin.get(), "default_pool_size"), "5");
    EXPECT_EQ(config_value(admin.get(), "listen_port"), port);

    EXPECT_EQ(tag_of(admin.get(), "SET default_pool_size = 3"), "SET default_pool_size=3");
    EXPECT_EQ(config_value(admin.get(), "default_pool_size"), "3");
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 1"), "1");
}

// SHUTDOWN WAIT_FOR_CLIENTS stops taking TCP connections, lets a connected client go on, and
// exits (status 0) only when it has left; admins still get in over the unix socket.
TEST_F(AdminControlTest, ShutdownWaitForClients) {
    start_sabakan();
    auto admin = connect_admin();
    auto client = connect_pooled();
    EXPECT_EQ(pq::value(client.get(), "SELECT 1"), "1");

    EXPECT_EQ(tag_of(admin.get(), "SHUTDOWN WAIT_FOR_CLIENTS"), "SHUTDOWN");
    auto refused = pq::connect(pooled_conninfo());
    EXPECT_NE(PQstatus(refused.get()), CONNECTION_OK) << "a new TCP client got in";
    auto unix_admin = pq::connect(sabakan().unix_conninfo("pgbouncer", "password", "pgbouncer"));
    ASSERT_EQ(PQstatus(unix_admin.get()), CONNECTION_OK) << pq::error(unix_admin.get());
    EXPECT_EQ(show_cell(unix_admin.get(), "STATE", "key", "active", "value"), "yes");
    unix_admin.reset();

    pq::run(client.get(), "BEGIN");
    pq::run(client.get(), "UPDATE counters SET n = n + 1 WHERE id = 6");
    pq::run(client.get(), "COMMIT");
    EXPECT_EQ(pq::value(client.get(), "SELECT n FROM counters WHERE id = 6"), "1");
    EXPECT_EQ(sabakan().wait_exit(still_waiting), std::nullopt)
        << "sabakan exited while a client was connected";

    client.reset();
    EXPECT_EQ(sabakan().wait_exit(10s), 0) << "sabakan did not exit after the last client left";
}

// SHUTDOWN WAIT_FOR_SERVERS lets the open transaction finish and exits (status 0) once its
// server is released; a connected client that starts a new transaction meanwhile is told at
// once ("server shutting down"), not queued behind the open one.
TEST_F(AdminControlTest, ShutdownWaitForServers) {
    sabakan_options o;
    o.query_wait_timeout = 5;  // a wrongly queued client fails after this, not at once
    start_sabakan(o);
    auto direct = connect_direct();
    auto admin = connect_admin();
    auto client = connect_pooled();
    auto idle = connect_pooled();
    pq::run(client.get(), "BEGIN");
    pq::run(client.get(), "UPDATE counters SET n = n + 1 WHERE id = 8");

    EXPECT_EQ(tag_of(admin.get(), "SHUTDOWN WAIT_FOR_SERVERS"), "SHUTDOWN");
    EXPECT_NE(PQstatus(pq::connect(pooled_conninfo()).get()), CONNECTION_OK)
        << "a new TCP client got in";
    pq::result refused(PQexec(idle.get(), "SELECT 1"));
    EXPECT_EQ(PQresultStatus(refused.get()), PGRES_FATAL_ERROR);
    EXPECT_THAT(pq::error(idle.get()), HasSubstr("server shutting down"));
    EXPECT_TRUE(wait_until(
        [&] {
            return sabakan().logs().find("closing because: server shutting down") !=
                   std::string::npos;
        },
        10s));
    pq::run(client.get(), "UPDATE counters SET n = n + 1 WHERE id = 8");
    EXPECT_EQ(sabakan().wait_exit(still_waiting), std::nullopt)
        << "sabakan exited during a transaction";

    pq::run(client.get(), "COMMIT");
    EXPECT_EQ(sabakan().wait_exit(10s), 0) << "sabakan did not exit after the commit";
    EXPECT_EQ(pq::value(direct.get(), "SELECT n FROM counters WHERE id = 8"), "2");
    EXPECT_TRUE(wait_until([&] { return app_backends(direct.get()) == 0; }, 10s));
}

// Plain SHUTDOWN exits at once (status 0), even with a transaction open; it is rolled back.
TEST_F(AdminControlTest, ShutdownImmediate) {
    start_sabakan();
    auto direct = connect_direct();
    auto admin = connect_admin();
    auto client = connect_pooled();
    pq::run(client.get(), "BEGIN");
    pq::run(client.get(), "UPDATE counters SET n = n + 1 WHERE id = 9");

    pq::exec(admin.get(), "SHUTDOWN");  // its answer may be the connection closing
    EXPECT_EQ(sabakan().wait_exit(10s), 0) << "sabakan did not exit on SHUTDOWN";
    EXPECT_EQ(PQresultStatus(pq::exec(client.get(), "COMMIT").get()), PGRES_FATAL_ERROR);
    EXPECT_TRUE(wait_until([&] { return app_backends(direct.get()) == 0; }, 10s));
    EXPECT_EQ(pq::value(direct.get(), "SELECT n FROM counters WHERE id = 9"), "0");
}

// A stats_users user may SHOW but not run RELOAD, PAUSE, KILL, SET or SHUTDOWN ("admin
// access needed"), and nothing changes when it tries.
TEST_F(AdminControlTest, StatsUserCannotControl) {
    sabakan_options o;
    o.extra = {{"stats_users", "monitor"}};
    o.userlist_text =
        "\"mastodon\" \"md5d75bb2be2d7086c6148944261a00f605\"\n"
        "\"pgbouncer\" \"md5a45753afaca0db833a6f7c7b2864b9d9\"\n"
        "\"monitor\" \"md59454d167c08b2b5ae3d117f5393702eb\"\n";
    start_sabakan(std::move(o));
    auto admin = connect_admin();
    auto monitor = connect_admin("monitor", "password");
    EXPECT_EQ(show_cell(monitor.get(), "STATE", "key", "paused", "value"), "no");

    for (const char* sql : {"RELOAD", "PAUSE", "PAUSE mastodon_production", "KILL",
                            "SET default_pool_size = 1", "SHUTDOWN"}) {
        EXPECT_THAT(error_of(monitor.get(), sql), HasSubstr("admin access needed")) << sql;
    }
    EXPECT_EQ(show_cell(admin.get(), "STATE", "key", "paused", "value"), "no");
    EXPECT_EQ(config_value(admin.get(), "default_pool_size"), "5");
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 1"), "1");
    EXPECT_TRUE(sabakan().running());
}

// RESUME from another admin while PAUSE waits cancels the PAUSE: it answers an error at
// once instead of waiting for servers that will no longer be closed.
TEST_F(AdminControlTest, PauseCancelledByResume) {
    start_sabakan();
    auto in_tx = connect_pooled();
    pq::run(in_tx.get(), "BEGIN");
    auto pauser = connect_admin();
    pending_query pause(pauser.get(), "PAUSE");
    EXPECT_FALSE(pause.wait(still_waiting)) << "PAUSE returned with a transaction open";
    auto other = connect_admin();
    EXPECT_EQ(tag_of(other.get(), "RESUME"), "RESUME");
    ASSERT_TRUE(pause.wait(10s)) << "PAUSE still waits after RESUME";
    pq::result r = pause.take();
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
    EXPECT_THAT(pq::error(pauser.get()), HasSubstr("PAUSE cancelled"));
    pq::run(in_tx.get(), "COMMIT");
    EXPECT_EQ(pq::value(in_tx.get(), "SELECT 1"), "1");
}

// An admin that hangs up while its PAUSE waits does not leave its session behind.
TEST_F(AdminControlTest, PauseAbandonedByItsAdmin) {
    start_sabakan();
    auto in_tx = connect_pooled();
    pq::run(in_tx.get(), "BEGIN");
    auto pauser = connect_admin();
    pending_query pause(pauser.get(), "PAUSE");
    EXPECT_FALSE(pause.wait(still_waiting));
    pauser.reset();  // hangs up mid-PAUSE
    auto other = connect_admin();
    EXPECT_TRUE(wait_until(
        [&] {
            pq::result c = pq::run(other.get(), "SHOW CLIENTS");
            int db = PQfnumber(c.get(), "database");
            int admins = 0;
            for (int i = 0; i < PQntuples(c.get()); ++i) {
                admins += std::string(PQgetvalue(c.get(), i, db)) == "pgbouncer" ? 1 : 0;
            }
            return admins == 1;
        },
        10s))
        << "the admin session that hung up during PAUSE is still listed";
    EXPECT_EQ(tag_of(other.get(), "RESUME"), "RESUME");
    pq::run(in_tx.get(), "COMMIT");
}

// RESUME cannot undo a shutdown in progress: it is refused, and the shutdown completes.
TEST_F(AdminControlTest, ResumeRefusedDuringShutdown) {
    start_sabakan();
    auto in_tx = connect_pooled();
    pq::run(in_tx.get(), "BEGIN");
    auto admin = connect_admin();
    EXPECT_EQ(tag_of(admin.get(), "SHUTDOWN WAIT_FOR_SERVERS"), "SHUTDOWN");
    EXPECT_THAT(error_of(admin.get(), "RESUME"), HasSubstr("shutting down"));
    pq::run(in_tx.get(), "COMMIT");
    auto status = sabakan().wait_exit(10s);
    ASSERT_TRUE(status) << "still running after the last server was released";
    EXPECT_EQ(*status, 0);
}

// A client killed while the pooler is suspended never gets what it sent meanwhile run.
TEST_F(AdminControlTest, KilledWhileSuspendedRunsNothing) {
    start_sabakan();
    auto direct = connect_direct();
    auto client = connect_pooled();
    EXPECT_EQ(pq::value(client.get(), "SELECT 1"), "1");
    const int port = local_port(client.get());
    auto admin = connect_admin();
    EXPECT_EQ(tag_of(admin.get(), "SUSPEND"), "SUSPEND");
    pending_query update(client.get(), "UPDATE counters SET n = n + 1 WHERE id = 6");
    EXPECT_FALSE(update.wait(still_waiting)) << "a query ran while suspended";
    auto id = show_cell(admin.get(), "CLIENTS", "port", std::to_string(port), "id");
    ASSERT_TRUE(id);
    EXPECT_EQ(tag_of(admin.get(), "KILL_CLIENT " + *id), "KILL_CLIENT");
    EXPECT_EQ(tag_of(admin.get(), "RESUME"), "RESUME");
    ASSERT_TRUE(update.wait(10s));
    EXPECT_NE(PQresultStatus(update.take().get()), PGRES_COMMAND_OK);
    // Give a wrongly forwarded UPDATE every chance to land before looking.
    auto probe = connect_pooled();
    EXPECT_EQ(pq::value(probe.get(), "SELECT 1"), "1");
    EXPECT_EQ(pq::value(direct.get(), "SELECT n FROM counters WHERE id = 6"), "0");
}

// A client dropped by KILL is told why (FATAL 57P01 naming KILL), not just disconnected.
TEST_F(AdminControlTest, KilledClientIsToldWhy) {
    start_sabakan();
    auto client = connect_pooled();
    EXPECT_EQ(pq::value(client.get(), "SELECT 1"), "1");
    auto admin = connect_admin();
    EXPECT_EQ(tag_of(admin.get(), "KILL mastodon_production"), "KILL");
    pq::result r = pq::exec(client.get(), "SELECT 2");
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
    EXPECT_THAT(pq::error(client.get()), HasSubstr("KILL"));
    EXPECT_EQ(tag_of(admin.get(), "RESUME mastodon_production"), "RESUME");
}

}  // namespace
}  // namespace sabakan::integration

// RELOAD and SIGHUP, as an operator uses them on a live Mastodon pooler: the edited file
// takes effect without a failed transaction, a bad file keeps the running config, changed
// [databases] entries move to new servers as the old ones are released, and restart-only
// settings keep their running values.
#include "harness/console.hpp"
#include "harness/fixture.hpp"
#include "harness/ini_builder.hpp"
#include "harness/pg_environment.hpp"
#include "harness/temp_dir.hpp"
#include "harness/wait.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
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

/// What a test varies in sabakan.ini; the rest mirrors the harness's generated config.
struct ini_spec {
    int pool_size = 5;
    std::string dbname = "mastodon_production";  // the server database of mastodon_production
    std::string user = "mastodon";               // the forced server user of that entry
    bool second_database = false;                // mastodon_reloaded, reaching "postgres"
    std::vector<std::string> bouncer_lines;      // more raw [pgbouncer] lines
};

/// sabakan.ini for `s`, laid out as the harness writes its generated config.
std::string render(const ini_spec& s, int pg_port, int listen_port, const std::string& dir) {
    ini_builder ini;
    ini.databases = database_line("mastodon_production", pg_port,
                                  "dbname=" + s.dbname + " user=" + s.user + " password=password");
    if (s.second_database) {
        ini.databases += database_line("mastodon_reloaded", pg_port,
                                       "dbname=postgres user=mastodon password=password");
    }
    ini.default_pool_size = s.pool_size;
    for (const auto& line : s.bouncer_lines) {
        ini.more += line + "\n";
    }
    return ini.render(listen_port, dir);
}

/// How many times `needle` occurs in `text`.
std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

/// `text` with its one occurrence of `from` replaced by `to`; throws otherwise.
std::string replace_once(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    if (at == std::string::npos || text.find(from, at + 1) != std::string::npos) {
        throw std::runtime_error("the ini must hold \"" + from + "\" exactly once");
    }
    return text.replace(at, from.size(), to);
}

class ReloadTest : public sabakan_test {
protected:
    void start(const ini_spec& spec) {
        sabakan_options o;
        o.ini_text = [spec, pg_port = cluster().port()](int listen_port, const std::string& dir) {
            return render(spec, pg_port, listen_port, dir);
        };
        start_sabakan(std::move(o));
    }
    /// The file as `spec` gives it, with the running listen port and dir.
    std::string text_for(const ini_spec& spec) {
        return render(spec, cluster().port(), sabakan().port(), sabakan().dir());
    }
    /// Replaces sabakan.ini, as an operator's editor does before a RELOAD.
    void edit_config(const std::string& text) { write_file(sabakan().config_path(), text); }
};

// RELOAD in the middle of 50 busy clients (pool 5 -> 10, a new database): no transaction
// fails, no update is lost, backends grow above 5 but never past 10, the new name works.
TEST_F(ReloadTest, UnderLoad) {
    constexpr int clients = 50;
    auto direct = connect_direct();
    pq::run(direct.get(), "UPDATE counters SET n = 0");
    ini_spec spec;
    start(spec);
    auto admin = connect_admin();

    std::mutex errors_mutex;
    std::vector<std::string> errors;
    auto report = [&](std::string e) {
        std::lock_guard lock(errors_mutex);
        errors.push_back(std::move(e));
    };
    std::atomic<bool> stop{false};
    std::atomic<long long> committed{0};
    std::atomic<int> phase{0};  // 0 before the edit, 1 until RELOAD answered, 2 after
    std::atomic<long long> most_before{0};
    std::atomic<long long> most_after{0};
    std::atomic<long long> most_overall{0};
    auto raise = [](std::atomic<long long>& most, long long n) {
        long long cur = most.load();
        while (n > cur && !most.compare_exchange_weak(cur, n)) {
        }
    };

    std::vector<std::thread> workers;
    workers.reserve(clients);
    for (int i = 0; i < clients; ++i) {
        workers.emplace_back([&, i] {
            pq::connection c;
            try {
                c = connect_pooled();
            } catch (const std::exception& e) {
                report(e.what());
                return;
            }
            const std::string update =
                "UPDATE counters SET n = n + 1 WHERE id = " + std::to_string(i % 16 + 1);
            while (!stop) {
                for (const std::string& sql :
                     {std::string("BEGIN"), update, std::string("SELECT pg_sleep(0.001)"),
                      std::string("COMMIT")}) {
                    pq::result r(PQexec(c.get(), sql.c_str()));
                    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK &&
                        PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
                        report("client " + std::to_string(i) + ": " + sql + ": " +
                               pq::error(c.get()));
                        return;
                    }
                }
                ++committed;
            }
        });
    }
    std::thread sampler([&] {
        try {
            auto d = connect_direct();
            while (!stop) {
                // A sample counts for a phase only if it was taken wholly inside it.
                const int started = phase;
                long long n = backends_in(d.get(), app_database);
                const int ended = phase;
                raise(most_overall, n);
                if (ended == 0) {
                    raise(most_before, n);
                }
                if (started == 2) {
                    raise(most_after, n);
                }
                std::this_thread::sleep_for(2ms);
            }
        } catch (const std::exception& e) {
            report(std::string("sampler: ") + e.what());
        }
    });
    auto finish = [&] {
        stop = true;
        for (auto& w : workers) {
            w.join();
        }
        sampler.join();
    };

    bool busy = wait_until([&] { return committed >= 300 && most_before == 5; }, 60s);
    if (!busy) {
        finish();
        FAIL() << "the load never filled the pool of 5 (" << committed << " commits)";
    }

    ini_spec bigger = spec;
    bigger.pool_size = 10;
    bigger.second_database = true;
    phase = 1;
    edit_config(text_for(bigger));
    pq::result r = pq::exec(admin.get(), "RELOAD");
    phase = 2;
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << pq::error(admin.get());
    EXPECT_STREQ(PQcmdStatus(r.get()), "RELOAD");

    // The new database is there at once, for a client that logs in now.
    try {
        auto newcomer =
            pq::connect_ok(sabakan().conninfo(app_user, app_password, "mastodon_reloaded"));
        EXPECT_EQ(pq::value(newcomer.get(), "SELECT current_database()"), "postgres");
    } catch (const std::exception& e) {
        ADD_FAILURE() << "the reloaded database is not usable: " << e.what();
    }
    EXPECT_EQ(config_value(admin.get(), "default_pool_size"), "10");

    const long long at_reload = committed;
    EXPECT_TRUE(wait_until([&] { return most_after > 5; }, 60s))
        << "the pool did not grow past 5 after RELOAD";
    EXPECT_TRUE(wait_until([&] { return committed >= at_reload + 500; }, 60s));
    finish();

    ASSERT_TRUE(errors.empty()) << errors.size() << " errors, the first: " << errors.front();
    EXPECT_EQ(most_before.load(), 5);
    EXPECT_GT(most_after.load(), 5);
    EXPECT_LE(most_after.load(), 10) << "PostgreSQL saw more backends than the new pool size";
    EXPECT_LE(most_overall.load(), 10);
    EXPECT_EQ(pq::number(direct.get(), "SELECT sum(n) FROM counters"), committed.load());
}

// SIGHUP reloads like RELOAD: the new default_pool_size shows in SHOW CONFIG and new clients
// get servers past the old limit.
TEST_F(ReloadTest, SighupChangesPoolSize) {
    sabakan_options o;
    o.default_pool_size = 1;
    start_sabakan(o);
    auto admin = connect_admin();
    auto holder = connect_pooled();
    pq::run(holder.get(), "BEGIN");
    const std::string first = pq::value(holder.get(), "SELECT pg_backend_pid()");

    o.default_pool_size = 3;
    sabakan().rewrite_config(cluster(), o);
    sabakan().signal(SIGHUP);
    ASSERT_TRUE(
        wait_until([&] { return config_value(admin.get(), "default_pool_size") == "3"; }, 10s))
        << "SIGHUP did not change default_pool_size";

    // Two more transactions at once, each on its own backend, while the first stays open.
    auto second = connect_pooled();
    auto third = connect_pooled();
    pq::run(second.get(), "BEGIN");
    pq::run(third.get(), "BEGIN");
    const std::string p2 = pq::value(second.get(), "SELECT pg_backend_pid()");
    const std::string p3 = pq::value(third.get(), "SELECT pg_backend_pid()");
    EXPECT_NE(p2, first);
    EXPECT_NE(p3, first);
    EXPECT_NE(p2, p3);
    for (auto* c : {holder.get(), second.get(), third.get()}) {
        pq::run(c, "COMMIT");
    }
    EXPECT_TRUE(sabakan().running());
}

// A client already queued on a full pool is served as soon as RELOAD makes the pool bigger,
// not only when the busy server comes back.
TEST_F(ReloadTest, BiggerPoolServesQueuedClient) {
    ini_spec spec;
    spec.pool_size = 1;
    start(spec);
    auto admin = connect_admin();
    auto holder = connect_pooled();
    pq::run(holder.get(), "BEGIN");
    pq::run(holder.get(), "SELECT 1");
    auto queued = connect_pooled();
    pending_query held(queued.get(), "SELECT 5");
    ASSERT_TRUE(wait_until(
        [&] {
            return show_cell(admin.get(), "POOLS", "database", app_database, "cl_waiting") == "1";
        },
        10s));

    spec.pool_size = 2;
    edit_config(text_for(spec));
    pq::result r = pq::exec(admin.get(), "RELOAD");
    EXPECT_STREQ(PQcmdStatus(r.get()), "RELOAD") << pq::error(admin.get());
    EXPECT_TRUE(held.wait(10s)) << "the queued client still waits with a free place in the pool";
    pq::run(holder.get(), "COMMIT");
    ASSERT_TRUE(held.wait(10s));
    pq::result done = held.take();
    EXPECT_EQ(PQresultStatus(done.get()), PGRES_TUPLES_OK) << pq::error(queued.get());
}

// A file with an unknown key: RELOAD fails with F0000 and "RELOAD failed, see logs for
// additional details", the log names file and line, the running config and clients go on;
// SIGHUP with it also keeps running; a fixed file then reloads.
TEST_F(ReloadTest, InvalidConfigKeepsRunningOne) {
    sabakan_options o;
    start_sabakan(o);
    auto admin = connect_admin();
    auto client = connect_pooled();
    pq::run(client.get(), "BEGIN");
    pq::run(client.get(), "SELECT 1");

    sabakan_options bad = o;
    bad.default_pool_size = 7;
    bad.extra = {{"bogus_key", "1"}};
    sabakan().rewrite_config(cluster(), bad);
    const std::string text = read_file(sabakan().config_path());
    const auto at = text.find("bogus_key");
    ASSERT_NE(at, std::string::npos);
    const std::string where = sabakan().config_path() + ":" +
                              std::to_string(1 + std::count(text.begin(), text.begin() + at, '\n'));

    pq::result r = pq::exec(admin.get(), "RELOAD");
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR) << "RELOAD of a bad file succeeded";
    EXPECT_EQ(pq::sqlstate(r.get()), "F0000");
    const char* message = PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY);
    EXPECT_STREQ(message, "RELOAD failed, see logs for additional details");
    EXPECT_TRUE(wait_until([&] { return sabakan().logs().find(where) != std::string::npos; }, 10s))
        << "the log does not name " << where;
    EXPECT_EQ(config_value(admin.get(), "default_pool_size"), "5");
    EXPECT_EQ(pq::value(client.get(), "SELECT 2"), "2");
    pq::run(client.get(), "COMMIT");
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 3"), "3");

    const auto errors_before = occurrences(sabakan().logs(), where);
    sabakan().signal(SIGHUP);
    EXPECT_TRUE(
        wait_until([&] { return occurrences(sabakan().logs(), where) > errors_before; }, 10s))
        << "SIGHUP with the bad file logged nothing";
    EXPECT_TRUE(sabakan().running());
    EXPECT_EQ(config_value(admin.get(), "default_pool_size"), "5");
    EXPECT_EQ(pq::value(client.get(), "SELECT 4"), "4");

    bad.extra.clear();
    sabakan().rewrite_config(cluster(), bad);
    pq::result fixed = pq::exec(admin.get(), "RELOAD");
    EXPECT_STREQ(PQcmdStatus(fixed.get()), "RELOAD") << pq::error(admin.get());
    EXPECT_EQ(config_value(admin.get(), "default_pool_size"), "7");
}

// RELOAD and SET validate as the start does: a file asking for auth_type = hba (which would
// lock out every login, the console's included) fails RELOAD with F0000 and the log names
// file and line; the running config keeps serving; SET of a refused value is an error that
// says so, and the value stays.
TEST_F(ReloadTest, UnsupportedSettingRefusedByReloadAndSet) {
    sabakan_options o;
    start_sabakan(o);
    auto admin = connect_admin();
    sabakan_options bad = o;
    bad.extra = {{"auth_type", "hba"}};
    sabakan().rewrite_config(cluster(), bad);
    const std::string text = read_file(sabakan().config_path());
    const auto at = text.find("auth_type = hba");
    ASSERT_NE(at, std::string::npos) << text;
    const std::string where =
        sabakan().config_path() + ":" +
        std::to_string(1 + std::count(text.begin(), text.begin() + at, '\n')) +
        ": auth_type: auth_type = hba is not supported yet";

    pq::result r = pq::exec(admin.get(), "RELOAD");
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR) << "RELOAD of auth_type = hba succeeded";
    EXPECT_EQ(pq::sqlstate(r.get()), "F0000");
    EXPECT_TRUE(wait_until([&] { return sabakan().logs().find(where) != std::string::npos; }, 10s))
        << "the log does not say " << where;
    EXPECT_EQ(config_value(admin.get(), "auth_type"), "md5");
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 1"), "1");
    EXPECT_EQ(pq::value(connect_admin().get(), "SHOW VERSION"),
              pq::value(admin.get(), "SHOW VERSION"));

    for (const char* set : {"SET auth_type = 'hba'", "SET client_tls_sslmode = 'require'",
                            "SET server_tls_sslmode = 'verify-full'"}) {
        pq::result refused = pq::exec(admin.get(), set);
        EXPECT_EQ(PQresultStatus(refused.get()), PGRES_FATAL_ERROR) << set;
        EXPECT_THAT(pq::error(admin.get()), ::testing::HasSubstr("is not supported yet")) << set;
    }
    EXPECT_EQ(config_value(admin.get(), "auth_type"), "md5");
    EXPECT_EQ(config_value(admin.get(), "client_tls_sslmode"), "disable");
    EXPECT_EQ(config_value(admin.get(), "server_tls_sslmode"), "prefer");
}

// A changed [databases] entry (dbname) closes idle servers at once; a transaction keeps its
// server until commit, which then closes; the next transaction runs on the new target.
TEST_F(ReloadTest, ChangedDatabaseEntryRetiresServers) {
    ini_spec spec;
    start(spec);
    auto direct = connect_direct();
    auto admin = connect_admin();
    auto in_tx = connect_pooled();
    pq::run(in_tx.get(), "BEGIN");
    const std::string tx_pid = pq::value(in_tx.get(), "SELECT pg_backend_pid()");
    auto idle = connect_pooled();
    const std::string idle_pid = pq::value(idle.get(), "SELECT pg_backend_pid()");
    ASSERT_NE(tx_pid, idle_pid);

    ini_spec moved = spec;
    moved.dbname = "postgres";
    edit_config(text_for(moved));
    pq::result r = pq::exec(admin.get(), "RELOAD");
    EXPECT_STREQ(PQcmdStatus(r.get()), "RELOAD") << pq::error(admin.get());

    EXPECT_TRUE(wait_until([&] { return !backend_alive(direct.get(), idle_pid); }, 10s))
        << "the idle server of the old entry was not closed";
    EXPECT_EQ(show_cell(admin.get(), "SERVERS", "remote_pid", tx_pid, "close_needed"), "1");
    EXPECT_EQ(pq::value(in_tx.get(), "SELECT pg_backend_pid()"), tx_pid);
    EXPECT_EQ(pq::value(in_tx.get(), "SELECT current_database()"), "mastodon_production");
    EXPECT_TRUE(backend_alive(direct.get(), tx_pid));

    pq::run(in_tx.get(), "COMMIT");
    EXPECT_TRUE(wait_until([&] { return !backend_alive(direct.get(), tx_pid); }, 10s))
        << "the old entry's server was not closed at commit";
    EXPECT_EQ(pq::value(in_tx.get(), "SELECT current_database()"), "postgres");
    EXPECT_NE(pq::value(in_tx.get(), "SELECT pg_backend_pid()"), tx_pid);
    EXPECT_EQ(pq::value(idle.get(), "SELECT current_database()"), "postgres");
    EXPECT_EQ(backends_in(direct.get(), app_database), 0);
}

// An entry whose forced user= changes: new clients log in as the new user, while a client
// already in the old pool keeps working as the old user (its servers are not re-targeted
// with the new user's password).
TEST_F(ReloadTest, ChangedForcedUser) {
    ini_spec spec;
    start(spec);
    auto direct = connect_direct();
    pq::run(direct.get(),
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'other') THEN "
            "CREATE ROLE other LOGIN PASSWORD 'password'; END IF; END $$");
    auto admin = connect_admin();
    auto old_client = connect_pooled();
    pq::run(old_client.get(), "BEGIN");
    EXPECT_EQ(pq::value(old_client.get(), "SELECT current_user"), "mastodon");

    ini_spec moved = spec;
    moved.user = "other";
    edit_config(text_for(moved));
    pq::result r = pq::exec(admin.get(), "RELOAD");
    EXPECT_STREQ(PQcmdStatus(r.get()), "RELOAD") << pq::error(admin.get());

    auto new_client = connect_pooled();
    EXPECT_EQ(pq::value(new_client.get(), "SELECT current_user"), "other");
    EXPECT_EQ(pq::value(old_client.get(), "SELECT current_user"), "mastodon");
    pq::run(old_client.get(), "COMMIT");
    // Its next transaction needs a new server of the old pool: it must still log in.
    EXPECT_EQ(pq::value(old_client.get(), "SELECT current_user"), "mastodon");
}

// listen_port and pkt_buf changed in the file keep their running values (the log says they
// need a restart), while a reloadable key in the same edit takes effect.
TEST_F(ReloadTest, RestartOnlySettingsKept) {
    ini_spec spec;
    start(spec);
    auto admin = connect_admin();
    const std::string port = std::to_string(sabakan().port());
    EXPECT_EQ(config_value(admin.get(), "listen_port"), port);
    const std::string pkt_buf = config_value(admin.get(), "pkt_buf");
    ASSERT_NE(pkt_buf, "8192");

    ini_spec edited = spec;
    edited.pool_size = 6;
    edited.bouncer_lines = {"pkt_buf = 8192"};
    const std::string other_port =
        std::to_string(sabakan().port() == 65535 ? 1025 : sabakan().port() + 1);
    edit_config(
        replace_once(text_for(edited), "listen_port = " + port, "listen_port = " + other_port));
    pq::result r = pq::exec(admin.get(), "RELOAD");
    EXPECT_STREQ(PQcmdStatus(r.get()), "RELOAD") << pq::error(admin.get());

    EXPECT_EQ(config_value(admin.get(), "default_pool_size"), "6");
    EXPECT_EQ(config_value(admin.get(), "listen_port"), port);
    EXPECT_EQ(config_value(admin.get(), "pkt_buf"), pkt_buf);
    EXPECT_TRUE(wait_until(
        [&] {
            const std::string logs = sabakan().logs();
            return logs.find("listen_port changed") != std::string::npos &&
                   logs.find("pkt_buf changed") != std::string::npos;
        },
        10s))
        << "the log does not say which settings were kept";
    EXPECT_THAT(sabakan().logs(), HasSubstr("only after a restart"));
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 1"), "1");  // still on the old port
}

}  // namespace
}  // namespace sabakan::integration

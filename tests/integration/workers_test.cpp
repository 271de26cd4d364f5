// Several workers (`workers = N`): the pool bound holds across them, a server idle on one
// serves clients of another, a cancel finds its query on whichever worker runs it, and the
// admin console, the signals and the limits see one process.
#include "harness/console.hpp"
#include "harness/fixture.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>

#include <csignal>
#include <mutex>
#include <set>
#include <thread>

namespace sabakan::integration {
namespace {

using namespace std::chrono_literals;
using ::testing::IsEmpty;

class WorkersTest : public sabakan_test {
protected:
    void start(int workers, int pool_size,
               std::vector<std::pair<std::string, std::string>> extra = {}) {
        sabakan_options o;
        o.workers = workers;
        o.default_pool_size = pool_size;
        o.query_wait_timeout = 30;
        o.extra = std::move(extra);
        start_sabakan(o);
    }

    /// `clients` threads, each on its own connection, each running `rounds` transactions
    /// that note their backend's pid. Returns the errors; `pids` gets every pid seen.
    std::vector<std::string> run_clients(int clients, int rounds, std::set<std::string>& pids) {
        std::mutex m;
        std::vector<std::string> errors;
        std::vector<std::thread> threads;
        const std::string conninfo = pooled_conninfo();
        for (int i = 0; i < clients; ++i) {
            threads.emplace_back([&] {
                try {
                    auto c = pq::connect_ok(conninfo);
                    for (int r = 0; r < rounds; ++r) {
                        pq::run(c.get(), "BEGIN");
                        std::string pid = pq::value(c.get(), "SELECT pg_backend_pid()");
                        pq::run(c.get(), "SELECT pg_sleep(0.002)");
                        pq::run(c.get(), "COMMIT");
                        std::lock_guard lock(m);
                        pids.insert(std::move(pid));
                    }
                } catch (const std::exception& e) {
                    std::lock_guard lock(m);
                    errors.emplace_back(e.what());
                }
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        return errors;
    }
};

// Forty clients on four workers and a pool of 3: every transaction succeeds, and no more
// than 3 backends ever exist (a closed and reopened server would show a fourth pid).
TEST_F(WorkersTest, PoolSizeBoundsEveryWorkerTogether) {
    start(4, 3);
    std::set<std::string> pids;
    EXPECT_THAT(run_clients(40, 10, pids), IsEmpty());
    EXPECT_LE(pids.size(), 3U);
    EXPECT_GE(pids.size(), 1U);
    auto direct = connect_direct();
    EXPECT_LE(app_backends(direct.get()), 3);
}

// With a pool of 1 and clients arriving on both workers one after another, the single
// server moves to wherever the next client is: one backend serves them all.
TEST_F(WorkersTest, IdleServerMovesToAClientOnAnotherWorker) {
    start(2, 1);
    std::set<std::string> pids;
    for (int i = 0; i < 24; ++i) {
        auto c = connect_pooled();
        pids.insert(pq::value(c.get(), "SELECT pg_backend_pid()"));
    }
    EXPECT_EQ(pids.size(), 1U);
    auto direct = connect_direct();
    EXPECT_EQ(app_backends(direct.get()), 1);
    // The move was real: the console counts the server once, on one worker.
    auto admin = connect_admin();
    EXPECT_EQ(show_cell(admin.get(), "POOLS", "database", "mastodon_production", "sv_idle"), "1");
}

// A pool of 1 shared by clients on three workers at once: the server keeps moving between
// them and every client gets its turn, none waits for query_wait_timeout.
TEST_F(WorkersTest, OneServerTakesTurnsAcrossWorkers) {
    start(3, 1);
    std::set<std::string> pids;
    EXPECT_THAT(run_clients(12, 8, pids), IsEmpty());
    EXPECT_EQ(pids.size(), 1U);
}

// A cancel request lands on any worker; it must reach the query wherever it runs. Eight
// tries on four workers: at least some cross workers (all on one would be 1 in 4^7).
TEST_F(WorkersTest, CancelReachesTheQueryOnAnyWorker) {
    start(4, 8);
    auto direct = connect_direct();
    for (int i = 0; i < 8; ++i) {
        SCOPED_TRACE("try " + std::to_string(i));
        auto c = connect_pooled();
        pending_query q(c.get(), "SELECT pg_sleep(30)");
        ASSERT_TRUE(wait_until(
            [&] {
                return pq::number(direct.get(),
                                  "SELECT count(*) FROM pg_stat_activity WHERE usename = "
                                  "'mastodon' AND query = 'SELECT pg_sleep(30)' AND state = "
                                  "'active'") == 1;
            },
            10s));
        PGcancel* key = PQgetCancel(c.get());
        ASSERT_NE(key, nullptr);
        char err[256] = {};
        EXPECT_EQ(PQcancel(key, err, sizeof err), 1) << err;
        PQfreeCancel(key);
        ASSERT_TRUE(q.wait(10s)) << "the cancel did not reach the query";
        pq::result r = q.take();
        EXPECT_EQ(pq::sqlstate(r.get()), "57014");
    }
}

// The console answers for the whole process, whichever worker its client is on: clients,
// pools and statistics add up over the workers.
TEST_F(WorkersTest, ConsoleSeesEveryWorker) {
    start(4, 5);
    std::vector<pq::connection> clients;
    for (int i = 0; i < 12; ++i) {
        clients.push_back(connect_pooled());
        for (int t = 0; t < 5; ++t) {
            pq::value(clients.back().get(), "SELECT 1");
        }
    }
    std::vector<pq::connection> admins;  // kept open: a closed one may still be listed
    for (int a = 0; a < 4; ++a) {        // admins land on various workers; each sees all
        SCOPED_TRACE("admin " + std::to_string(a));
        admins.push_back(connect_admin());
        PGconn* admin = admins.back().get();
        pq::result r = pq::run(admin, "SHOW CLIENTS");
        EXPECT_EQ(PQntuples(r.get()), 12 + a + 1);  // + the admins so far
        EXPECT_EQ(show_cell(admin, "POOLS", "database", "mastodon_production", "cl_active"), "12");
        EXPECT_EQ(show_cell(admin, "STATS", "database", "mastodon_production", "total_xact_count"),
                  "60");
        EXPECT_EQ(show_cell(admin, "LISTS", "list", "used_clients", "items"),
                  std::to_string(12 + a + 1));
        EXPECT_EQ(show_cell(admin, "DATABASES", "name", "mastodon_production",
                            "current_client_connections"),
                  "12");
    }
}

// PAUSE waits for the servers of every worker, queues the clients of every worker, and
// RESUME lets them all go on; KILL drops the clients of every worker.
TEST_F(WorkersTest, PauseResumeAndKillReachEveryWorker) {
    start(3, 5);
    std::vector<pq::connection> clients;
    for (int i = 0; i < 9; ++i) {
        clients.push_back(connect_pooled());
        pq::value(clients.back().get(), "SELECT 1");
    }
    auto direct = connect_direct();
    auto admin = connect_admin();
    EXPECT_EQ(tag_of(admin.get(), "PAUSE"), "PAUSE");
    // PAUSE answered once every worker closed its servers; PostgreSQL's backends end soon after.
    EXPECT_TRUE(wait_until([&] { return app_backends(direct.get()) == 0; }, 5s));
    std::vector<pending_query> queued;
    for (auto& c : clients) {
        queued.emplace_back(c.get(), "SELECT 2");
    }
    std::this_thread::sleep_for(200ms);  // a paused pool holds queries; none may finish
    for (auto& q : queued) {
        EXPECT_FALSE(q.ready());
    }
    EXPECT_EQ(tag_of(admin.get(), "RESUME"), "RESUME");
    for (auto& q : queued) {
        ASSERT_TRUE(q.wait(10s));
        pq::result r = q.take();
        EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK);
    }
    EXPECT_EQ(tag_of(admin.get(), "KILL mastodon_production"), "KILL");
    for (auto& c : clients) {
        pq::result r(PQexec(c.get(), "SELECT 3"));
        EXPECT_NE(PQresultStatus(r.get()), PGRES_TUPLES_OK) << "a client survived KILL";
    }
}

// max_client_conn counts the clients of every worker together.
TEST_F(WorkersTest, MaxClientConnCountsEveryWorker) {
    sabakan_options o;
    o.workers = 4;
    o.max_client_conn = 3;
    start_sabakan(o);
    std::vector<pq::connection> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(connect_pooled());
    }
    for (int i = 0; i < 4; ++i) {
        auto extra = pq::connect(pooled_conninfo());
        EXPECT_EQ(PQstatus(extra.get()), CONNECTION_BAD);
        EXPECT_THAT(pq::error(extra.get()), ::testing::HasSubstr("53300"));
    }
}

// SIGHUP reloads every worker: admins on any worker see the new value, and new pool sizes
// apply to every worker's share.
TEST_F(WorkersTest, ReloadReachesEveryWorker) {
    sabakan_options o;
    o.workers = 4;
    start_sabakan(o);
    o.default_pool_size = 7;
    sabakan().rewrite_config(cluster(), o);
    sabakan().signal(SIGHUP);
    ASSERT_TRUE(wait_until(
        [&] {
            for (int a = 0; a < 6; ++a) {
                auto admin = connect_admin();
                if (config_value(admin.get(), "default_pool_size") != "7") {
                    return false;
                }
            }
            return true;
        },
        10s));
}

// SIGTERM with clients on several workers: sabakan exits once the last has left, and not
// before.
TEST_F(WorkersTest, ShutdownWaitsForTheClientsOfEveryWorker) {
    start(4, 5);
    std::vector<pq::connection> clients;
    for (int i = 0; i < 8; ++i) {
        clients.push_back(connect_pooled());
        pq::value(clients.back().get(), "SELECT 1");
    }
    sabakan().signal(SIGTERM);
    while (!clients.empty()) {
        EXPECT_FALSE(sabakan().wait_exit(100ms).has_value())
            << "exited with " << clients.size() << " clients left";
        EXPECT_EQ(pq::value(clients.back().get(), "SELECT 1"), "1");
        clients.pop_back();
    }
    EXPECT_EQ(sabakan().wait_exit(10s), std::optional<int>(0));
}

}  // namespace
}  // namespace sabakan::integration

// Backends that die under sabakan (pg_terminate_backend, as a restart or an operator
// does): the affected client learns of it, nobody else does, and the pool heals.
#include "harness/fixture.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>

namespace sabakan::integration {
namespace {

// Kills every backend sabakan holds and waits until PostgreSQL has let them go.
bool terminate_app_backends(PGconn* direct) {
    pq::run(direct,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE usename = 'mastodon' AND backend_type = 'client backend'");
    return wait_until([&] { return app_backends(direct) == 0; }, std::chrono::seconds(10));
}

class ServerLossTest : public pool_mode_test {};

// A backend killed mid-transaction fails its client's connection; new clients get a new backend.
TEST_P(ServerLossTest, BackendKilledInTransaction) {
    auto direct = connect_direct();
    auto c = connect_pooled();
    pq::run(c.get(), "BEGIN");
    std::string pid = pq::value(c.get(), "SELECT pg_backend_pid()");
    ASSERT_TRUE(terminate_app_backends(direct.get()));

    pq::result r(PQexec(c.get(), "SELECT 1"));
    EXPECT_NE(PQresultStatus(r.get()), PGRES_TUPLES_OK);
    EXPECT_EQ(PQstatus(c.get()), CONNECTION_BAD) << pq::error(c.get());

    auto next = connect_pooled();
    std::string new_pid = pq::value(next.get(), "SELECT pg_backend_pid()");
    EXPECT_NE(new_pid, pid);
}

SABAKAN_FOR_EACH_POOL_MODE(ServerLossTest);

class IdleServerLossTest : public transaction_pool_test {};

// Idle pooled backends killed by PostgreSQL are dropped: clients' next queries just work.
TEST_F(IdleServerLossTest, IdleBackendsKilled) {
    auto direct = connect_direct();
    auto a = connect_pooled();
    auto b = connect_pooled();
    std::string old_pid = pq::value(a.get(), "SELECT pg_backend_pid()");
    EXPECT_EQ(pq::value(b.get(), "SELECT 1"), "1");
    const long long servers = app_backends(direct.get());
    ASSERT_TRUE(terminate_app_backends(direct.get()));
    // A pooler learns that an idle server died only when it reads the server's goodbye;
    // a query that comes first meets the dead server (as with any pooler). Wait for that.
    EXPECT_TRUE(wait_until(
        [&] {
            const std::string log = sabakan().logs();
            long long seen = 0;
            for (auto at = log.find("administrator command"); at != std::string::npos;
                 at = log.find("administrator command", at + 1)) {
                ++seen;
            }
            return seen >= servers;
        },
        std::chrono::seconds(10)))
        << "sabakan did not notice the killed idle servers";

    EXPECT_NE(pq::value(a.get(), "SELECT pg_backend_pid()"), old_pid);
    EXPECT_EQ(pq::value(b.get(), "SELECT 2"), "2");
}

}  // namespace
}  // namespace sabakan::integration

// Clients that leave in the middle of a transaction: sabakan must not keep their backend
// "idle in transaction" holding locks, nor hand that backend to another client.
#include "harness/fixture.hpp"
#include "harness/wait.hpp"

#include <sys/socket.h>

namespace sabakan::integration {
namespace {

class ClientCrashTest : public pool_mode_test {
protected:
    // Opens a transaction that updates counter 3 and leaves it open; returns the client.
    pq::connection client_in_transaction(PGconn* direct) {
        pq::run(direct, "UPDATE counters SET n = 0 WHERE id = 3");
        auto c = connect_pooled();
        pq::run(c.get(), "BEGIN");
        pq::run(c.get(), "UPDATE counters SET n = n + 100 WHERE id = 3");
        bool seen = wait_until([&] { return app_backends(direct, "idle in transaction") == 1; },
                               std::chrono::seconds(10));
        EXPECT_TRUE(seen) << "the open transaction never showed in pg_stat_activity";
        return c;
    }

    // No backend is left idle in transaction, the lock on counter 3 is free (another
    // client updates it at once), and the abandoned +100 was rolled back.
    void expect_rolled_back(PGconn* direct) {
        bool gone = wait_until([&] { return app_backends(direct, "idle in transaction") == 0; },
                               std::chrono::seconds(10));
        EXPECT_TRUE(gone) << "a backend is still idle in transaction";
        auto c = connect_pooled();
        pq::run(c.get(), "BEGIN");
        pq::run(c.get(), "SET LOCAL lock_timeout = '5s'");
        pq::run(c.get(), "UPDATE counters SET n = n + 1 WHERE id = 3");
        pq::run(c.get(), "COMMIT");
        EXPECT_EQ(pq::number(c.get(), "SELECT n FROM counters WHERE id = 3"), 1);
    }
};

// A socket dying mid-transaction (no Terminate) rolls the transaction back, freeing its lock.
TEST_P(ClientCrashTest, AbruptCloseRollsBack) {
    auto direct = connect_direct();
    auto c = client_in_transaction(direct.get());
    ASSERT_FALSE(HasFailure());
    ASSERT_EQ(::shutdown(PQsocket(c.get()), SHUT_RDWR), 0);
    c.reset();  // PQfinish's Terminate can no longer go out
    expect_rolled_back(direct.get());
}

// A client that sends Terminate mid-transaction gets the same clean-up.
TEST_P(ClientCrashTest, TerminateInTransactionRollsBack) {
    auto direct = connect_direct();
    auto c = client_in_transaction(direct.get());
    ASSERT_FALSE(HasFailure());
    c.reset();
    expect_rolled_back(direct.get());
}

// A client gone mid-query: its busy backend goes to nobody else, and the next client works.
TEST_P(ClientCrashTest, CloseDuringQuery) {
    auto direct = connect_direct();
    auto c = connect_pooled();
    ASSERT_EQ(PQsendQuery(c.get(), "SELECT pg_sleep(0.5)"), 1);
    bool running = wait_until([&] { return app_backends(direct.get(), "active") == 1; },
                              std::chrono::seconds(10));
    ASSERT_TRUE(running);
    ASSERT_EQ(::shutdown(PQsocket(c.get()), SHUT_RDWR), 0);
    c.reset();
    auto next = connect_pooled();
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(pq::value(next.get(), "SELECT " + std::to_string(i)), std::to_string(i));
    }
    bool quiet = wait_until([&] { return app_backends(direct.get(), "active") == 0; },
                            std::chrono::seconds(10));
    EXPECT_TRUE(quiet);
}

SABAKAN_FOR_EACH_POOL_MODE(ClientCrashTest);

}  // namespace
}  // namespace sabakan::integration

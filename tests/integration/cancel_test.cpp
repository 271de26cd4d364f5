// Query cancellation through sabakan: libpq sends the CancelRequest to sabakan with the
// key sabakan gave it, and sabakan must pass it to the backend running that client's
// query, and to no other.
#include "harness/fixture.hpp"
#include "harness/wait.hpp"

#include <thread>
#include <vector>

namespace sabakan::integration {
namespace {

class CancelTest : public pool_mode_test {
protected:
    // Waits until PostgreSQL runs exactly `n` statements with the text `sql`.
    static bool wait_running(PGconn* direct, const std::string& sql, long long n) {
        return wait_until(
            [&] {
                return pq::number(direct,
                                  "SELECT count(*) FROM pg_stat_activity WHERE usename = "
                                  "'mastodon' AND state = 'active' AND query = '" +
                                      sql + "'") == n;
            },
            std::chrono::seconds(10));
    }

    // Sends the cancel for `c` from another thread while this one waits for the result,
    // as an application's watchdog would. Returns the result; `elapsed` is the wait.
    static pq::result cancel_and_wait(PGconn* c, std::chrono::steady_clock::duration& elapsed) {
        PGcancel* key = PQgetCancel(c);
        EXPECT_NE(key, nullptr);
        if (key == nullptr) {
            return nullptr;
        }
        auto started = std::chrono::steady_clock::now();
        std::string cancel_error;
        bool sent = false;
        std::thread canceller([&] {
            char err[256] = {};
            sent = PQcancel(key, err, sizeof err) == 1;
            cancel_error = err;
        });
        pq::result r(PQgetResult(c));  // blocks until the query ends
        elapsed = std::chrono::steady_clock::now() - started;
        canceller.join();
        PQfreeCancel(key);
        EXPECT_TRUE(sent) << cancel_error;
        return r;
    }
};

// PQcancel stops one of two running pg_sleep(30) early with 57014; the other keeps running.
TEST_P(CancelTest, CancelsTheRightRunningQuery) {
    const std::string sleep = "SELECT pg_sleep(30)";
    auto direct = connect_direct();
    auto target = connect_pooled();
    auto bystander = connect_pooled();
    ASSERT_EQ(PQsendQuery(target.get(), sleep.c_str()), 1) << pq::error(target.get());
    ASSERT_EQ(PQsendQuery(bystander.get(), sleep.c_str()), 1) << pq::error(bystander.get());
    ASSERT_TRUE(wait_running(direct.get(), sleep, 2)) << "the queries never started";

    std::chrono::steady_clock::duration elapsed{};
    pq::result r = cancel_and_wait(target.get(), elapsed);
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
    EXPECT_EQ(pq::sqlstate(r.get()), "57014") << pq::error(target.get());
    EXPECT_LT(elapsed, std::chrono::seconds(20)) << "the cancel did not stop the query";
    EXPECT_TRUE(pq::no_more_results(target.get()));
    EXPECT_EQ(pq::value(target.get(), "SELECT 1"), "1");

    EXPECT_TRUE(wait_running(direct.get(), sleep, 1)) << "the other client's query was hit";
    pq::result other = cancel_and_wait(bystander.get(), elapsed);
    EXPECT_EQ(pq::sqlstate(other.get()), "57014") << pq::error(bystander.get());
    EXPECT_TRUE(pq::no_more_results(bystander.get()));
    EXPECT_EQ(pq::value(bystander.get(), "SELECT 2"), "2");
}

// A late cancel from an idle client never hits a query now running on its former backend.
TEST_P(CancelTest, CancelFromIdleClientHitsNobody) {
    auto direct = connect_direct();
    auto idle = connect_pooled();
    EXPECT_EQ(pq::value(idle.get(), "SELECT 1"), "1");
    auto busy = connect_pooled();
    const std::string sleep = "SELECT pg_sleep(0.5)";
    ASSERT_EQ(PQsendQuery(busy.get(), sleep.c_str()), 1);
    ASSERT_TRUE(wait_running(direct.get(), sleep, 1));

    // PQcancel returns once sabakan has dealt with the request, so a wrongly forwarded
    // cancel would already have stopped the sleep.
    PGcancel* key = PQgetCancel(idle.get());
    ASSERT_NE(key, nullptr);
    char err[256] = {};
    EXPECT_EQ(PQcancel(key, err, sizeof err), 1) << err;
    PQfreeCancel(key);

    pq::result r(PQgetResult(busy.get()));
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << pq::error(busy.get());
    EXPECT_TRUE(pq::no_more_results(busy.get()));
    EXPECT_EQ(pq::value(idle.get(), "SELECT 2"), "2");
}

SABAKAN_FOR_EACH_POOL_MODE(CancelTest);

class LateCancelTest : public sabakan_test {};

// A burst of cancels for one client's query as it ends, on a pool of one server: the server
// goes to the next client only once every cancel forwarded for the first has reached
// PostgreSQL, so none of them stops the next client's query.
TEST_F(LateCancelTest, CancelsInFlightNeverHitTheNextClient) {
    sabakan_options o;
    o.default_pool_size = 1;
    start_sabakan(o);
    auto first = connect_pooled();
    auto next = connect_pooled();
    PGcancel* key = PQgetCancel(first.get());
    ASSERT_NE(key, nullptr);
    int hit = 0;
    for (int round = 0; round < 5; ++round) {
        ASSERT_EQ(PQsendQuery(first.get(), "SELECT pg_sleep(0.1)"), 1);
        std::vector<std::thread> cancellers;
        for (int i = 0; i < 100; ++i) {
            cancellers.emplace_back([key, i] {
                // Spread over the query's end: some while it runs, some as it finishes.
                std::this_thread::sleep_for(std::chrono::milliseconds(80 + i / 4));
                char err[256] = {};
                PQcancel(key, err, sizeof err);
            });
        }
        while (pq::result r{PQgetResult(first.get())}) {
        }
        pq::result r(PQexec(next.get(), "SELECT pg_sleep(0.3)"));
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
            ++hit;
            ADD_FAILURE() << "round " << round << ": " << pq::error(next.get());
        }
        for (auto& t : cancellers) {
            t.join();
        }
    }
    PQfreeCancel(key);
    EXPECT_EQ(hit, 0);
}

}  // namespace
}  // namespace sabakan::integration

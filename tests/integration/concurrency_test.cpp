// Many clients on a small pool, as a Mastodon web tier does it: no update may be lost,
// and PostgreSQL must never see more backends than the pool allows.
#include "harness/fixture.hpp"

#include <atomic>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

namespace sabakan::integration {
namespace {

class ConcurrencyTest : public sabakan_test {};

// 200 clients on a pool of 5: no update is lost and PostgreSQL never sees more than 5 backends.
TEST_F(ConcurrencyTest, TwoHundredClientsShareFiveServers) {
    constexpr int clients = 200;
    constexpr int transactions = 50;  // per client
    constexpr int counter_rows = 10;
    constexpr int pool_size = 5;
    {
        auto direct = connect_direct();
        pq::run(direct.get(), "UPDATE counters SET n = 0");
    }
    sabakan_options o;
    o.default_pool_size = pool_size;
    o.max_client_conn = 300;
    start_sabakan(o);

    std::mutex errors_mutex;
    std::vector<std::string> errors;
    auto report = [&](std::string e) {
        std::lock_guard lock(errors_mutex);
        errors.push_back(std::move(e));
    };

    // Every client connects first, then all start together, so the pool is contended.
    std::latch connected(clients);
    std::atomic<long long> committed{0};
    std::vector<std::thread> workers;
    workers.reserve(clients);
    for (int i = 0; i < clients; ++i) {
        workers.emplace_back([&, i] {
            pq::connection c;
            try {
                c = connect_pooled();
            } catch (const std::exception& e) {
                report(e.what());
            }
            connected.arrive_and_wait();
            if (!c) {
                return;
            }
            const std::string update =
                "UPDATE counters SET n = n + 1 WHERE id = " + std::to_string(i % counter_rows + 1);
            for (int t = 0; t < transactions; ++t) {
                for (const std::string& sql :
                     {std::string("BEGIN"), update, std::string("COMMIT")}) {
                    pq::result r(PQexec(c.get(), sql.c_str()));
                    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
                        report("client " + std::to_string(i) + ": " + sql + ": " +
                               pq::error(c.get()));
                        return;
                    }
                }
                ++committed;
            }
        });
    }

    // Meanwhile a direct connection samples how many backends sabakan holds.
    std::atomic<bool> done{false};
    long long most = 0;
    long long samples = 0;
    std::thread sampler([&] {
        try {
            auto direct = connect_direct();
            while (!done) {
                long long n = app_backends(direct.get());
                most = std::max(most, n);
                ++samples;
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
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

    ASSERT_TRUE(errors.empty()) << errors.size() << " errors, the first: " << errors.front();
    EXPECT_EQ(committed.load(), clients * transactions);
    auto direct = connect_direct();
    EXPECT_EQ(pq::number(direct.get(), "SELECT sum(n) FROM counters"), clients * transactions);
    EXPECT_GT(samples, 0);
    EXPECT_GE(most, 1);
    EXPECT_LE(most, pool_size) << "PostgreSQL saw more backends than default_pool_size";
    EXPECT_LE(app_backends(direct.get()), pool_size);
}

}  // namespace
}  // namespace sabakan::integration

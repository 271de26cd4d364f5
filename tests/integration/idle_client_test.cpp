// Idle clients are parked: after a second without traffic a client gives back its receive
// buffer and its coroutine frames, so that thousands of idle application connections cost
// little memory. SHOW MEM's iobuf_cache row counts the buffers in use, which makes the
// parking visible from outside. A parked client must behave exactly as before: its next
// query, a transaction, KILL and client_idle_timeout all work on it.
#include "harness/console.hpp"
#include "harness/end_watch.hpp"
#include "harness/fixture.hpp"
#include "harness/pg_environment.hpp"
#include "harness/wait.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <gmock/gmock.h>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class IdleClientTest : public sabakan_test {};

/// I/O buffers held right now, from SHOW MEM (-1 when the row is missing).
long long buffers_in_use(PGconn* admin) {
    auto used = show_cell(admin, "MEM", "name", "iobuf_cache", "used");
    return used ? std::stoll(*used) : -1;
}

TEST_F(IdleClientTest, IdleClientsGiveBackTheirBuffersAndStillWork) {
    start_sabakan();
    auto admin = connect_admin();
    std::vector<pq::connection> clients;
    for (int i = 0; i < 20; ++i) {
        clients.push_back(connect_pooled());
        EXPECT_EQ(pq::value(clients.back().get(), "SELECT " + std::to_string(i)),
                  std::to_string(i));
    }
    // 20 clients, at most 5 servers and the console: well over 6 buffers while active.
    // Parked, only the servers and the console (which is never parked) hold one.
    ASSERT_TRUE(wait_until([&] { return buffers_in_use(admin.get()) <= 6; }, 10s, 50ms))
        << buffers_in_use(admin.get()) << " buffers still held by idle clients";

    for (int i = 0; i < 20; ++i) {
        PGconn* c = clients[static_cast<std::size_t>(i)].get();
        EXPECT_EQ(pq::value(c, "SELECT " + std::to_string(100 + i)), std::to_string(100 + i));
        pq::run(c, "BEGIN");
        EXPECT_EQ(pq::value(c, "SELECT n FROM counters WHERE id = 1"),
                  pq::value(c, "SELECT n FROM counters WHERE id = 1"));
        pq::run(c, "COMMIT");
    }
    // And they park again once idle.
    EXPECT_TRUE(wait_until([&] { return buffers_in_use(admin.get()) <= 6; }, 10s, 50ms))
        << buffers_in_use(admin.get()) << " buffers held after the second round";
    EXPECT_EQ(pq::value(clients.front().get(), "SELECT 'still here'"), "still here");
}

// A parked client that is killed hears why, as an active idle one does.
TEST_F(IdleClientTest, ParkedClientIsKilledWithAReason) {
    start_sabakan();
    auto admin = connect_admin();
    auto c = connect_pooled();
    EXPECT_EQ(pq::value(c.get(), "SELECT 1"), "1");
    ASSERT_TRUE(wait_until([&] { return buffers_in_use(admin.get()) <= 2; }, 10s, 50ms))
        << "the idle client was not parked";
    end_watch watch(c.get());
    EXPECT_EQ(tag_of(admin.get(), "KILL " + std::string(app_database)), "KILL");
    EXPECT_TRUE(watch.closed_within(5s)) << "KILL left the parked client connected";
    EXPECT_EQ(watch.sqlstate(), "57P01");
    EXPECT_EQ(tag_of(admin.get(), "RESUME " + std::string(app_database)), "RESUME");
}

// client_idle_timeout ends a parked client too, with its own SQLSTATE.
TEST_F(IdleClientTest, ClientIdleTimeoutEndsAParkedClient) {
    sabakan_options o;
    o.extra = {{"client_idle_timeout", "3"}};
    start_sabakan(o);
    auto admin = connect_admin();
    auto c = connect_pooled();
    end_watch watch(c.get());
    EXPECT_EQ(pq::value(c.get(), "SELECT 1"), "1");
    ASSERT_TRUE(wait_until([&] { return buffers_in_use(admin.get()) <= 2; }, 10s, 50ms))
        << "the idle client was not parked before client_idle_timeout";
    EXPECT_TRUE(watch.closed_within(10s)) << "the parked client outlived client_idle_timeout";
    EXPECT_EQ(watch.sqlstate(), "57P05");
    EXPECT_THAT(watch.message(), HasSubstr("client_idle_timeout"));
}

}  // namespace
}  // namespace sabakan::integration

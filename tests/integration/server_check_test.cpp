// server_check_delay and server_check_query: a server idle longer than the delay runs the
// check query before it serves again; one that fails the check is replaced, invisibly to
// the client.
#include "harness/fixture.hpp"

#include <gmock/gmock.h>

#include <chrono>
#include <string>
#include <thread>

namespace sabakan::integration {
namespace {

using namespace std::chrono_literals;

class ServerCheckTest : public sabakan_test {
protected:
    /// The backend pid that serves the next transaction of `c`.
    static std::string backend(PGconn* c) { return pq::value(c, "SELECT pg_backend_pid()"); }
};

// A passing check (the default empty query) keeps the server: after the delay the same
// backend serves again.
TEST_F(ServerCheckTest, PassingCheckKeepsServer) {
    sabakan_options o;
    o.default_pool_size = 1;
    o.extra = {{"server_check_delay", "0.5"}};
    start_sabakan(o);
    auto c = connect_pooled();
    const std::string first = backend(c.get());
    std::this_thread::sleep_for(1s);  // idle past server_check_delay on purpose
    EXPECT_EQ(backend(c.get()), first);
}

// A failing check closes the stale server; the client's query runs on a fresh one without
// seeing any error. Within the delay no check runs, so the server is reused as it is.
TEST_F(ServerCheckTest, FailingCheckReplacesServer) {
    sabakan_options o;
    o.default_pool_size = 1;
    o.extra = {{"server_check_delay", "0.5"}, {"server_check_query", "SELECT 1/0"}};
    start_sabakan(o);
    auto c = connect_pooled();
    const std::string first = backend(c.get());
    EXPECT_EQ(backend(c.get()), first);  // reused at once: no check
    std::this_thread::sleep_for(1s);     // idle past server_check_delay on purpose
    const std::string second = backend(c.get());
    EXPECT_NE(second, first);
    auto direct = connect_direct();
    EXPECT_EQ(
        pq::number(direct.get(), "SELECT count(*) FROM pg_stat_activity WHERE pid = " + first), 0);
}

// server_check_query = "" turns checks off: even the failing query above never runs.
TEST_F(ServerCheckTest, EmptyQueryDisablesChecks) {
    sabakan_options o;
    o.default_pool_size = 1;
    o.extra = {{"server_check_delay", "0.5"}, {"server_check_query", ""}};
    start_sabakan(o);
    auto c = connect_pooled();
    const std::string first = backend(c.get());
    std::this_thread::sleep_for(1s);
    EXPECT_EQ(backend(c.get()), first);
}

}  // namespace
}  // namespace sabakan::integration

// The tcp_* settings reach the sockets: keepalive timers as configured, on the client side
// and on the server side, as the kernel reports them (ss -o).
#include "harness/fixture.hpp"
#include "harness/pg_environment.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>

#include <cstdio>
#include <string>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;

/// What `ss -tnoH` prints for established TCP sockets matching `filter`.
std::string ss(const std::string& filter) {
    std::string out;
    std::FILE* p = ::popen(("ss -tnoH state established '" + filter + "' 2>&1").c_str(), "r");
    if (p == nullptr) {
        return out;
    }
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p) != nullptr) {
        out += buf;
    }
    ::pclose(p);
    return out;
}

class TcpOptionsTest : public sabakan_test {};

// tcp_keepidle = 77 gives both of sabakan's sockets a keepalive timer of about 77 s (the
// kernel's default would be two hours), so dead peers are found as configured.
TEST_F(TcpOptionsTest, KeepaliveTimers) {
    sabakan_options o;
    o.extra = {{"tcp_keepalive", "1"},
               {"tcp_keepidle", "77"},
               {"tcp_keepintvl", "11"},
               {"tcp_keepcnt", "3"}};
    start_sabakan(o);
    auto client = connect_pooled();
    EXPECT_EQ(pq::value(client.get(), "SELECT 1"), "1");
    // sabakan's end of the client connection, and its end of the server connection. While
    // bytes are unacknowledged the kernel shows its retransmit timer instead: wait for that
    // to pass.
    const std::string client_filter = "( sport = :" + std::to_string(sabakan().port()) + " )";
    const std::string server_filter = "( dport = :" + std::to_string(cluster().port()) + " )";
    const std::string keepalive = "timer:(keepalive,1min";
    EXPECT_TRUE(wait_until([&] { return ss(client_filter).find(keepalive) != std::string::npos; },
                           std::chrono::seconds(5)))
        << ss(client_filter);
    EXPECT_TRUE(wait_until([&] { return ss(server_filter).find(keepalive) != std::string::npos; },
                           std::chrono::seconds(5)))
        << ss(server_filter);
}

// With tcp_keepalive = 0 no keepalive timer runs on sabakan's sockets.
TEST_F(TcpOptionsTest, KeepaliveOff) {
    sabakan_options o;
    o.extra = {{"tcp_keepalive", "0"}};
    start_sabakan(o);
    auto client = connect_pooled();
    EXPECT_EQ(pq::value(client.get(), "SELECT 1"), "1");
    const std::string client_side = ss("( sport = :" + std::to_string(sabakan().port()) + " )");
    EXPECT_FALSE(client_side.empty());
    EXPECT_THAT(client_side, ::testing::Not(HasSubstr("keepalive"))) << client_side;
}

}  // namespace
}  // namespace sabakan::integration

// Logins that never finish are bounded: a client that stalls before logging in is closed
// after client_login_timeout, and a server that accepts but never answers fails its login
// after server_connect_timeout, with a message that names the setting.
#include "harness/fixture.hpp"
#include "harness/sockets.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class TimeoutsTest : public sabakan_test {};

// A connection that sends nothing is closed after client_login_timeout; others are served.
TEST_F(TimeoutsTest, ClientLoginTimeout) {
    sabakan_options o;
    o.extra = {{"client_login_timeout", "1"}};
    start_sabakan(o);
    raw_socket silent(sabakan().port());
    const auto started = std::chrono::steady_clock::now();
    bool closed = false;
    std::string reply = silent.read_until_closed(20s, closed);
    EXPECT_TRUE(closed) << "sabakan kept a silent connection open";
    EXPECT_LT(std::chrono::steady_clock::now() - started, 15s);
    EXPECT_TRUE(wait_until(
        [&] {
            return sabakan().logs().find("closing because: client_login_timeout") !=
                   std::string::npos;
        },
        10s));
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 1"), "1");
}

// A listening socket nobody accepts on: TCP connects complete in the kernel's backlog, but
// no byte ever comes back, like a hung server.
class black_hole {
public:
    black_hole() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(fd_, 16) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            throw std::runtime_error("cannot set up the black-hole listener");
        }
        port_ = ntohs(a.sin_port);
    }
    ~black_hole() { ::close(fd_); }
    black_hole(const black_hole&) = delete;
    black_hole& operator=(const black_hole&) = delete;
    int port() const noexcept { return port_; }

private:
    int fd_;
    int port_ = 0;
};

// A server login that never gets an answer fails after server_connect_timeout, and the
// client is told so instead of waiting for query_wait_timeout.
TEST_F(TimeoutsTest, ServerConnectTimeout) {
    black_hole hung;
    sabakan_options o;
    o.server_port = hung.port();
    o.query_wait_timeout = 60;
    o.extra = {{"server_connect_timeout", "1"}};
    start_sabakan(o);
    const auto started = std::chrono::steady_clock::now();
    auto c = pq::connect(pooled_conninfo() + " connect_timeout=30");
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_BAD);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
    EXPECT_THAT(pq::error(c.get()), HasSubstr("server_connect_timeout"));
    EXPECT_TRUE(sabakan().running());
}

}  // namespace
}  // namespace sabakan::integration

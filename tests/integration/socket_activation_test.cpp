// Socket activation (sabakan.socket): the service manager binds the port and starts sabakan
// at the first connection, passing the listening socket. systemd's own test tool,
// systemd-socket-activate, plays the service manager: sabakan serves on the socket it was
// given and binds nothing of its own.
#include "harness/child_process.hpp"
#include "harness/fixture.hpp"
#include "harness/pg_cluster.hpp"
#include "harness/pg_environment.hpp"
#include "harness/sockets.hpp"
#include "harness/temp_dir.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>

#include <chrono>
#include <string>

namespace sabakan::integration {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class SocketActivationTest : public sabakan_test {
protected:
    temp_dir dir_{"sabakan-activation"};
};

TEST_F(SocketActivationTest, ServesOnThePassedSocket) {
    const int activated = free_tcp_port();
    const int configured = free_tcp_port();
    const std::string ini = dir_.file("sabakan.ini");
    const std::string log = dir_.file("sabakan.log");
    write_file(ini, "[databases]\nmastodon_production = host=127.0.0.1 port=" +
                        std::to_string(cluster().port()) +
                        " dbname=mastodon_production user=mastodon password=password\n"
                        "[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = " +
                        std::to_string(configured) + "\nunix_socket_dir = " + dir_.path() +
                        "\nauth_type = trust\npool_mode = transaction\nlogfile = " + log + "\n");
    child_process manager;
    manager.spawn({"systemd-socket-activate", "-l", "127.0.0.1:" + std::to_string(activated),
                   sabakan_binary(), ini},
                  dir_.file("manager.out"));
    ASSERT_TRUE(wait_until([&] { return accepts_tcp(activated); }, 10s))
        << read_file(dir_.file("manager.out"));

    // The first connection starts sabakan, which then answers it.
    auto c = pq::connect_ok("host=127.0.0.1 port=" + std::to_string(activated) +
                            " user=mastodon dbname=mastodon_production connect_timeout=20");
    EXPECT_EQ(pq::value(c.get(), "SELECT 6 * 7"), "42");
    EXPECT_THAT(read_file(log),
                HasSubstr("listening on inherited 127.0.0.1:" + std::to_string(activated)));
    // Nothing of its own: neither the configured port nor a unix socket.
    EXPECT_FALSE(accepts_tcp(configured));
    EXPECT_FALSE(accepts_unix(dir_.file(".s.PGSQL." + std::to_string(configured))));
    c.reset();
    EXPECT_EQ(manager.stop(10s), 0) << read_file(dir_.file("manager.out")) << read_file(log);
}

}  // namespace
}  // namespace sabakan::integration

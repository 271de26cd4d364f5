// syslog = 1 sends each log line to syslog with syslog_ident and syslog_facility. The test
// stands in for the syslog daemon: sabakan runs in a private mount namespace whose /dev/log
// is this test's datagram socket, so the real system log is never touched.
#include "harness/child_process.hpp"
#include "harness/fixture.hpp"
#include "harness/sockets.hpp"
#include "harness/temp_dir.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>

namespace sabakan::integration {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class SyslogTest : public ::testing::Test {
protected:
    void SetUp() override {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(fd_, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        ASSERT_LT(socket_path_.size(), sizeof addr.sun_path);
        std::strcpy(addr.sun_path, socket_path_.c_str());
        ASSERT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    }
    void TearDown() override { ::close(fd_); }

    /// The datagrams received, joined by newlines, until one contains `last` or 20 s pass.
    std::string received_until(const std::string& last) {
        std::string all;
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        while (all.find(last) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) != 1) {
                continue;
            }
            char buf[2048];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0) {
                all.append(buf, static_cast<std::size_t>(n)).push_back('\n');
            }
        }
        return all;
    }

    // Not in /dev/shm: sabakan runs with a tmpfs over /dev, and reads its ini from here.
    temp_dir dir_{"sabakan-syslog", "/tmp"};
    std::string socket_path_ = dir_.file("log");
    int fd_ = -1;
};

TEST_F(SyslogTest, LinesGoToSyslogWithIdentAndFacility) {
    const int port = free_tcp_port();
    const std::string ini = dir_.file("sabakan.ini");
    write_file(ini,
               "[databases]\nx = host=127.0.0.1\n[pgbouncer]\nlisten_addr = 127.0.0.1\n"
               "unix_socket_dir =\nauth_type = trust\nlisten_port = " +
                   std::to_string(port) +
                   "\nsyslog = 1\nsyslog_ident = sabakan-test\n"
                   "syslog_facility = local3\n");
    // A private /dev (tmpfs) whose log is this test's socket; root needs no user namespace.
    std::vector<std::string> argv = {"unshare"};
    if (::geteuid() != 0) {
        argv.emplace_back("--map-root-user");
    }
    argv.insert(argv.end(),
                {"--mount", "--propagation", "private", "sh", "-c",
                 "mount -t tmpfs none /dev && touch /dev/log && mount --bind \"$0\" /dev/log "
                 "&& exec \"$1\" -q \"$2\"",
                 socket_path_, sabakan_binary(), ini});
    child_process pooler;
    pooler.spawn(argv, dir_.file("out.log"));
    ASSERT_TRUE(wait_until([&] { return accepts_tcp(port); }, 10s))
        << read_file(dir_.file("out.log"));
    // "started" is the last line of a start.
    const std::string lines = received_until("started (pid");
    // <facility * 8 + severity>: local3 is 19, info 6.
    EXPECT_THAT(lines, HasSubstr("<158>"));
    EXPECT_THAT(lines, HasSubstr("sabakan-test["));
    EXPECT_THAT(lines, HasSubstr("listening on 127.0.0.1:" + std::to_string(port)));
    EXPECT_THAT(lines, HasSubstr("started (pid"));
    EXPECT_EQ(pooler.stop(10s), 0) << read_file(dir_.file("out.log"));
}

}  // namespace
}  // namespace sabakan::integration

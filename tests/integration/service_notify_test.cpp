// systemd's Type=notify, with this test in systemd's place: a datagram socket named by
// NOTIFY_SOCKET receives READY=1 once sabakan serves, RELOADING=1 then READY=1 around a
// SIGHUP reload, and STOPPING=1 when a shutdown begins.
#include "harness/fixture.hpp"
#include "harness/temp_dir.hpp"

#include <gmock/gmock.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;

class ServiceNotifyTest : public sabakan_test {
protected:
    void SetUp() override {
        sabakan_test::SetUp();
        if (HasFatalFailure()) {
            return;
        }
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(fd_, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        const std::string path = dir_.file("notify");
        ASSERT_LT(path.size(), sizeof addr.sun_path);
        std::strcpy(addr.sun_path, path.c_str());
        ASSERT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
        start_sabakan();
        ::unsetenv("NOTIFY_SOCKET");
    }

    void TearDown() override {
        sabakan_test::TearDown();
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

    /// The next notification, or "" when none comes within 20 s.
    std::string next() {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20000) != 1) {
            return "";
        }
        char buf[512];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
    }

    temp_dir dir_{"sabakan-notify"};
    int fd_ = -1;
};

TEST_F(ServiceNotifyTest, ReadyReloadingStopping) {
    EXPECT_THAT(next(), HasSubstr("READY=1"));
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 1"), "1");

    sabakan().signal(SIGHUP);
    EXPECT_THAT(next(), HasSubstr("RELOADING=1"));
    EXPECT_THAT(next(), HasSubstr("READY=1"));

    sabakan().signal(SIGTERM);
    EXPECT_THAT(next(), HasSubstr("STOPPING=1"));
}

}  // namespace
}  // namespace sabakan::integration

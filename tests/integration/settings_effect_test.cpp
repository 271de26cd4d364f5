// Settings that must change what sabakan does, checked by their effect rather than by SHOW
// CONFIG: cancel_wait_timeout bounds a forwarded cancel against a server that never closes
// it, listen_backlog is the backlog the kernel reports, and pkt_buf sizes the buffers
// without limiting what passes through them.
#include "harness/console.hpp"
#include "harness/fixture.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace sabakan::integration {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr std::uint32_t cancel_request_code = 80877102;
constexpr std::uint32_t ssl_request_code = 80877103;

std::uint32_t be32(std::string_view bytes, std::size_t at) {
    return (std::uint32_t{static_cast<unsigned char>(bytes[at])} << 24) |
           (std::uint32_t{static_cast<unsigned char>(bytes[at + 1])} << 16) |
           (std::uint32_t{static_cast<unsigned char>(bytes[at + 2])} << 8) |
           std::uint32_t{static_cast<unsigned char>(bytes[at + 3])};
}

void put32(std::string& out, std::uint32_t v) {
    out += static_cast<char>((v >> 24) & 0xff);
    out += static_cast<char>((v >> 16) & 0xff);
    out += static_cast<char>((v >> 8) & 0xff);
    out += static_cast<char>(v & 0xff);
}

/// A backend message: tag, length (itself included) and body.
std::string message(char tag, const std::string& body) {
    std::string out(1, tag);
    put32(out, static_cast<std::uint32_t>(body.size() + 4));
    return out + body;
}

std::string parameter_status(const std::string& name, const std::string& value) {
    return message('S', name + '\0' + value + '\0');
}

/// A backend's cancel key, as BackendKeyData sends it and a CancelRequest carries it.
struct backend_key {
    std::uint32_t pid = 0;
    std::uint32_t secret = 0;
    bool operator==(const backend_key&) const = default;
};

void PrintTo(const backend_key& k, std::ostream* os) {
    *os << "{pid " << k.pid << ", secret " << k.secret << "}";
}

/// One CancelRequest connection the fake server got.
struct cancel_seen {
    backend_key key;
    steady::time_point arrived;
    /// Whether sabakan closed it (the fake read end of stream), and when.
    bool closed_by_peer = false;
    steady::time_point closed_at;
};

// A stand-in PostgreSQL on 127.0.0.1: it logs everyone in without a password, never
// answers a query, and holds every CancelRequest connection open without closing it, like
// a server too busy to act on cancels. It records what arrived, for the test to check.
class fake_server {
public:
    fake_server() : listen_fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(listen_fd_, 16) != 0 ||
            ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            if (listen_fd_ >= 0) {
                ::close(listen_fd_);
            }
            throw std::runtime_error("cannot set up the fake PostgreSQL server");
        }
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~fake_server() {
        stop_ = true;
        thread_.join();
        for (const auto& c : conns_) {
            ::close(c.fd);
        }
        ::close(listen_fd_);
    }
    fake_server(const fake_server&) = delete;
    fake_server& operator=(const fake_server&) = delete;

    int port() const noexcept { return port_; }

    /// The key sent on the connection that got a Query, once one has.
    std::optional<backend_key> query_key() const {
        std::lock_guard lock(m_);
        return query_key_;
    }
    std::vector<cancel_seen> cancels() const {
        std::lock_guard lock(m_);
        return cancels_;
    }
    /// Has the fake close its side of the cancel connections, as PostgreSQL does once it has
    /// acted on them.
    void close_cancel_connections() { close_cancels_ = true; }

private:
    enum class phase { startup, session, cancel };
    struct conn {
        int fd = -1;
        phase state = phase::startup;
        std::string in;
        backend_key key;
        std::size_t cancel_index = 0;  // into cancels_, in phase::cancel
        bool done = false;
    };

    static void send_all(int fd, std::string_view bytes) {
        while (!bytes.empty()) {
            ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return;  // the peer is gone; the next read says so
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    void run() {
        while (!stop_) {
            if (close_cancels_) {
                for (auto& c : conns_) {
                    if (c.state == phase::cancel) {
                        ::close(c.fd);
                        c.done = true;
                    }
                }
            }
            std::erase_if(conns_, [](const conn& c) { return c.done; });
            std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
            for (const auto& c : conns_) {
                fds.push_back({c.fd, POLLIN, 0});
            }
            if (::poll(fds.data(), fds.size(), 20) <= 0) {
                continue;
            }
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if (fds[i].revents != 0) {
                    read_from(conns_[i - 1]);
                }
            }
            if ((fds[0].revents & POLLIN) != 0) {
                int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
                if (fd >= 0) {
                    conn c;
                    c.fd = fd;
                    conns_.push_back(std::move(c));
                }
            }
        }
    }

    void read_from(conn& c) {
        char buf[4096];
        ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n <= 0) {
            if (c.state == phase::cancel) {
                std::lock_guard lock(m_);
                cancels_[c.cancel_index].closed_by_peer = true;
                cancels_[c.cancel_index].closed_at = steady::now();
            }
            ::close(c.fd);
            c.done = true;
            return;
        }
        if (c.state == phase::cancel) {
            return;  // nothing more is expected; whatever comes is ignored
        }
        c.in.append(buf, static_cast<std::size_t>(n));
        while (!c.done && handle_one(c)) {
        }
    }

    // Handles one whole packet at the front of c.in; false when none is complete yet.
    bool handle_one(conn& c) {
        if (c.state == phase::startup) {
            if (c.in.size() < 8 || c.in.size() < be32(c.in, 0)) {
                return false;
            }
            const std::uint32_t len = be32(c.in, 0);
            const std::uint32_t code = be32(c.in, 4);
            if (len < 8) {
                ::close(c.fd);  // not PostgreSQL's protocol
                c.done = true;
                return false;
            }
            if (len == 8 && code == ssl_request_code) {
                send_all(c.fd, "N");
            } else if (len == 16 && code == cancel_request_code) {
                std::lock_guard lock(m_);
                c.state = phase::cancel;
                c.cancel_index = cancels_.size();
                cancel_seen seen;
                seen.key = {be32(c.in, 8), be32(c.in, 12)};
                seen.arrived = steady::now();
                cancels_.push_back(seen);
            } else {
                c.key.pid = next_pid_++;
                c.key.secret = 0x5ec0000u + c.key.pid;
                std::string out = message('R', std::string(4, '\0'));  // AuthenticationOk
                out += parameter_status("server_version", "15.0");
                out += parameter_status("client_encoding", "UTF8");
                std::string key;
                put32(key, c.key.pid);
                put32(key, c.key.secret);
                out += message('K', key);
                out += message('Z', "I");
                send_all(c.fd, out);
                c.state = phase::session;
            }
            c.in.erase(0, len);
            return c.state != phase::cancel;
        }
        if (c.in.size() < 5 || c.in.size() < 1 + be32(c.in, 1)) {
            return false;
        }
        const char tag = c.in[0];
        c.in.erase(0, 1 + be32(c.in, 1));
        if (tag == 'Q') {
            std::lock_guard lock(m_);
            query_key_ = c.key;  // and no answer, ever
        } else if (tag == 'X') {
            ::close(c.fd);
            c.done = true;
        }
        return true;
    }

    int listen_fd_;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<bool> close_cancels_{false};
    std::vector<conn> conns_;  // the server thread's own
    std::uint32_t next_pid_ = 4242;
    mutable std::mutex m_;
    std::optional<backend_key> query_key_;
    std::vector<cancel_seen> cancels_;
    std::thread thread_;
};

// PQcancel on its own thread, since libpq waits for the far end to close the cancel
// connection. The destructor has the fake close its side first, so it never hangs.
class background_cancel {
public:
    background_cancel(PGconn* c, fake_server& fake) : fake_(fake), key_(PQgetCancel(c)) {
        if (key_ == nullptr) {
            throw std::runtime_error("PQgetCancel failed");
        }
        thread_ = std::thread([this] {
            char err[256] = {};
            sent_ = PQcancel(key_, err, sizeof err) == 1;
            std::lock_guard lock(m_);
            error_ = err;
            finished_ = true;
        });
    }
    ~background_cancel() {
        fake_.close_cancel_connections();
        thread_.join();
        PQfreeCancel(key_);
    }
    background_cancel(const background_cancel&) = delete;
    background_cancel& operator=(const background_cancel&) = delete;

    /// Whether PQcancel has returned.
    bool finished() const { return finished_; }
    /// Whether it returned success, and libpq's message otherwise.
    bool sent() const { return sent_; }
    std::string error() const {
        std::lock_guard lock(m_);
        return error_;
    }

private:
    fake_server& fake_;
    PGcancel* key_;
    std::atomic<bool> sent_{false};
    std::atomic<bool> finished_{false};
    mutable std::mutex m_;
    std::string error_;
    std::thread thread_;
};

/// The Send-Q column of `ss -ltnH` for TCP sockets listening on `port`: the backlog.
std::vector<std::string> listen_backlogs(int port) {
    std::vector<std::string> out;
    const std::string cmd = "ss -ltnH 'sport = :" + std::to_string(port) + "' 2>&1";
    std::FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        return out;
    }
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p) != nullptr) {
        std::istringstream line(buf);
        std::string state, recv_q, send_q;
        if (line >> state >> recv_q >> send_q) {
            out.push_back(send_q);
        }
    }
    ::pclose(p);
    return out;
}

class SettingsEffectTest : public sabakan_test {
protected:
    // sabakan in front of `fake` with this cancel_wait_timeout, a client whose SELECT 1 hangs
    // there, and the key of the fake's connection running it.
    pq::connection hung_client(fake_server& fake, const std::string& cancel_wait_timeout,
                               backend_key& running) {
        sabakan_options o;
        o.server_port = fake.port();
        o.extra = {{"cancel_wait_timeout", cancel_wait_timeout}};
        start_sabakan(o);
        auto c = connect_pooled();
        if (PQsendQuery(c.get(), "SELECT 1") != 1) {
            throw std::runtime_error("cannot send SELECT 1: " + pq::error(c.get()));
        }
        if (!wait_until([&] { return fake.query_key().has_value(); }, 10s)) {
            throw std::runtime_error("the query never reached the fake server");
        }
        running = *fake.query_key();
        return c;
    }
};

// cancel_wait_timeout = 1: the CancelRequest reaches the server with the key of the backend
// running the query, and sabakan closes that connection itself about 1 s later although
// the server never does.
TEST_F(SettingsEffectTest, CancelWaitTimeoutClosesTheCancelConnection) {
    fake_server fake;
    backend_key running;
    auto client = hung_client(fake, "1", running);
    background_cancel cancel(client.get(), fake);
    ASSERT_TRUE(wait_until([&] { return !fake.cancels().empty(); }, 10s))
        << "no CancelRequest reached the server";
    EXPECT_EQ(fake.cancels().front().key, running);

    EXPECT_TRUE(wait_until([&] { return fake.cancels().front().closed_by_peer; }, 5s))
        << "sabakan kept the cancel connection open";
    const cancel_seen seen = fake.cancels().front();
    if (seen.closed_by_peer) {
        EXPECT_GE(seen.closed_at - seen.arrived, 500ms) << "sabakan did not wait for the server";
        EXPECT_LT(seen.closed_at - seen.arrived, 3s);
    }
    // sabakan then ends the client's cancel connection, so PQcancel returns.
    EXPECT_TRUE(wait_until([&] { return cancel.finished(); }, 5s));
    EXPECT_TRUE(cancel.sent()) << cancel.error();
    EXPECT_EQ(fake.cancels().size(), 1u);
    // The operator learns that a cancel was given up.
    EXPECT_TRUE(wait_until(
        [&] { return sabakan().logs().find("cancel request given up") != std::string::npos; }, 5s));
}

// cancel_wait_timeout = 0 (off): sabakan waits for the server to close the cancel
// connection, however long that takes, and finishes the client's cancel once it does.
TEST_F(SettingsEffectTest, NoCancelWaitTimeoutWaitsForTheServer) {
    fake_server fake;
    backend_key running;
    auto client = hung_client(fake, "0", running);
    background_cancel cancel(client.get(), fake);
    ASSERT_TRUE(wait_until([&] { return !fake.cancels().empty(); }, 10s))
        << "no CancelRequest reached the server";
    EXPECT_EQ(fake.cancels().front().key, running);

    EXPECT_FALSE(wait_until([&] { return fake.cancels().front().closed_by_peer; }, 2s))
        << "sabakan closed the cancel connection without a cancel_wait_timeout";
    EXPECT_FALSE(cancel.finished());

    fake.close_cancel_connections();
    EXPECT_TRUE(wait_until([&] { return cancel.finished(); }, 5s))
        << "the client's cancel did not end when the server closed";
    EXPECT_TRUE(cancel.sent()) << cancel.error();
}

// listen_backlog = 37 is the backlog of sabakan's TCP listening socket (ss shows it as Send-Q).
TEST_F(SettingsEffectTest, ListenBacklog) {
    sabakan_options o;
    o.extra = {{"listen_backlog", "37"}};
    start_sabakan(o);
    EXPECT_THAT(listen_backlogs(sabakan().port()), ::testing::ElementsAre("37"));
}

// With no listen_backlog line the backlog is PgBouncer's default of 128.
TEST_F(SettingsEffectTest, ListenBacklogDefault) {
    start_sabakan();
    EXPECT_THAT(listen_backlogs(sabakan().port()), ::testing::ElementsAre("128"));
}

// pkt_buf = 16384 sizes the I/O buffers SHOW MEM reports, and result rows and query texts
// larger than it still pass through whole.
TEST_F(SettingsEffectTest, PktBuf) {
    sabakan_options o;
    o.extra = {{"pkt_buf", "16384"}};
    start_sabakan(o);
    auto admin = connect_admin();
    EXPECT_EQ(show_cell(admin.get(), "MEM", "name", "iobuf_cache", "size"), "16384");

    auto c = connect_pooled();
    const std::string row = pq::value(c.get(), "SELECT repeat('x', 100000)");
    EXPECT_EQ(row.size(), 100000u);
    EXPECT_EQ(row.find_first_not_of('x'), std::string::npos);
    const std::string text(100000, 'q');
    EXPECT_EQ(pq::value(c.get(), "SELECT length('" + text + "')"), "100000");
    EXPECT_EQ(pq::value(c.get(), "SELECT 1"), "1");
}

}  // namespace
}  // namespace sabakan::integration

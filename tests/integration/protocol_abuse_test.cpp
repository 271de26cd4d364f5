// Clients that abuse the protocol on purpose, byte by byte over raw sockets: length words
// beyond max_packet_size or negative, a StartupMessage without its terminator, a flood of
// CancelRequests, extended-protocol messages without Sync left hanging, and a slowloris
// login. sabakan answers an ErrorResponse with the right SQLSTATE where it can, closes that
// connection, never hands a server on dirty, stays up and serves everyone else.
//
// Already covered in bad_input_test.cpp, so not repeated here: an HTTP request, a startup
// length word below 8 or far above the 10000-byte limit (random bytes), protocol 2.0, a
// startup packet larger than pkt_buf, no user parameter, and a message length below 4
// after login.
#include "harness/console.hpp"
#include "harness/fixture.hpp"
#include "harness/sockets.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using namespace std::string_literals;
using steady = std::chrono::steady_clock;

// The int32 in network byte order, as the protocol writes lengths and codes.
std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
}

std::uint32_t read_be32(const std::string& s, std::size_t pos) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(s[pos])) << 24 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[pos + 1])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[pos + 2])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[pos + 3]));
}

// A frontend message: tag, length word, body.
std::string message(char tag, const std::string& body) {
    return tag + be32(static_cast<std::uint32_t>(4 + body.size())) + body;
}

// Parse, Bind and Execute of `sql` on the unnamed statement and portal; no Sync.
std::string parse_bind_execute(const std::string& sql) {
    return message('P', "\0"s + sql + "\0"s + "\0\0"s) +
           message('B', "\0\0"s + "\0\0"s + "\0\0"s + "\0\0"s) + message('E', "\0"s + be32(0));
}

// A StartupMessage of protocol 3.0 with `params` (the final terminator included or not).
std::string startup_with(const std::string& params) {
    return be32(static_cast<std::uint32_t>(8 + params.size())) + be32(196608) + params;
}

std::string startup_message() {
    return startup_with("user\0"s + app_user + "\0database\0"s + app_database + "\0\0"s);
}

// A CancelRequest for backend `pid` with `secret`.
std::string cancel_request(std::uint32_t pid, std::uint32_t secret) {
    return be32(16) + be32(80877102) + be32(pid) + be32(secret);
}

// Whether `reply` starts with an ErrorResponse carrying `sqlstate`.
::testing::AssertionResult error_with(const std::string& reply, const std::string& sqlstate) {
    if (reply.empty() || reply[0] != 'E') {
        return ::testing::AssertionFailure()
               << "no ErrorResponse, reply of " << reply.size() << " bytes";
    }
    if (reply.find("C" + sqlstate + '\0') == std::string::npos) {
        return ::testing::AssertionFailure()
               << "ErrorResponse without SQLSTATE " << sqlstate << ": " << reply;
    }
    return ::testing::AssertionSuccess();
}

struct backend_message {
    char tag;
    std::string body;
};

// Reads backend messages from `fd` until one tagged `until` has arrived whole, the peer
// closes, or `timeout` passes; returns the whole messages read.
std::vector<backend_message> read_until_tag(int fd, char until, std::chrono::milliseconds timeout) {
    std::vector<backend_message> out;
    std::string buf;
    const auto deadline = steady::now() + timeout;
    for (;;) {
        while (buf.size() >= 5 && buf.size() >= 1 + read_be32(buf, 1)) {
            std::uint32_t len = read_be32(buf, 1);
            out.push_back({buf[0], buf.substr(5, len - 4)});
            buf.erase(0, 1 + len);
            if (out.back().tag == until) {
                return out;
            }
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
        pollfd p{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            return out;
        }
        char chunk[4096];
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            return out;
        }
        buf.append(chunk, static_cast<std::size_t>(n));
    }
}

// The first column of the first DataRow, or "<no row>".
std::string first_value(const std::vector<backend_message>& messages) {
    for (const auto& m : messages) {
        if (m.tag == 'D' && m.body.size() >= 6) {
            return m.body.substr(6, read_be32(m.body, 2));
        }
    }
    return "<no row>";
}

// The one value of `sql`, or "<error: ...>" / "<timed out>", never blocking past `timeout`.
std::string value_within(PGconn* c, const std::string& sql, std::chrono::milliseconds timeout) {
    if (PQsendQuery(c, sql.c_str()) != 1) {
        return "<error: " + pq::error(c) + ">";
    }
    const auto deadline = steady::now() + timeout;
    std::string value = "<no result>";
    bool first = true;
    for (;;) {
        while (PQisBusy(c) == 1) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
            pollfd p{PQsocket(c), POLLIN, 0};
            if (left.count() <= 0) {
                return "<timed out>";
            }
            if (::poll(&p, 1, static_cast<int>(left.count())) < 0 || PQconsumeInput(c) != 1) {
                break;
            }
        }
        pq::result r(PQgetResult(c));
        if (!r) {
            return value;
        }
        if (first) {
            first = false;
            value = PQresultStatus(r.get()) == PGRES_TUPLES_OK && PQntuples(r.get()) == 1
                        ? std::string(PQgetvalue(r.get(), 0, 0))
                        : "<error: " + pq::error(c) + ">";
        }
    }
}

long long open_fds(int pid) {
    std::error_code ec;
    long long n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        ++n;
    }
    return n;
}

class ProtocolAbuseTest : public sabakan_test {
protected:
    // sabakan with a small max_packet_size and a short client_login_timeout.
    void start(int pool_size = 5) {
        sabakan_options o;
        o.default_pool_size = pool_size;
        o.query_wait_timeout = 10;
        o.extra = {{"max_packet_size", "65536"}, {"client_login_timeout", "2"}};
        start_sabakan(o);
    }

    // Sends `bytes` on a fresh connection and expects an ErrorResponse with `sqlstate`
    // and the close; then a normal client is served.
    void expect_refused_before_login(const std::string& bytes, const std::string& sqlstate) {
        raw_socket s(sabakan().port());
        ASSERT_TRUE(s.send_all(bytes));
        bool closed = false;
        std::string reply = s.read_until_closed(10s, closed);
        EXPECT_TRUE(closed) << "sabakan kept the connection open";
        EXPECT_TRUE(error_with(reply, sqlstate));
        auto c = connect_pooled();
        EXPECT_EQ(value_within(c.get(), "SELECT 1", 5s), "1");
    }

    // A logged-in client that sends `bytes` outside a transaction gets an ErrorResponse
    // with `sqlstate` and the close; another client goes on.
    void expect_refused_after_login(const std::string& bytes, const std::string& sqlstate) {
        auto other = connect_pooled();
        auto c = connect_pooled();
        raw_socket s = raw_socket::borrow(PQsocket(c.get()));
        ASSERT_TRUE(s.send_all(bytes));
        bool closed = false;
        std::string reply = s.read_until_closed(10s, closed);
        EXPECT_TRUE(closed) << "sabakan kept the connection open";
        EXPECT_TRUE(error_with(reply, sqlstate));
        EXPECT_EQ(value_within(other.get(), "SELECT 1", 5s), "1");
    }
};

// A startup asking for protocol 3.2 with `_pq_.` options gets the NegotiateProtocolVersion
// PostgreSQL 15 itself sends (3.0, the options named as unrecognised) before it is asked to
// authenticate, and the login goes on with 3.0.
TEST_F(ProtocolAbuseTest, NewerMinorVersionNegotiated) {
    start();
    const std::string params = "user\0"s + app_user + "\0database\0"s + app_database +
                               "\0_pq_.compression\0on\0_pq_.other\0x\0\0"s;
    const std::string startup =
        be32(static_cast<std::uint32_t>(8 + params.size())) + be32(196608 + 2) + params;
    auto first_reply = [&](int port) {
        raw_socket s(port);
        EXPECT_TRUE(s.send_all(startup));
        bool closed = false;
        return s.read_until_closed(2s, closed, 64);
    };
    const std::string expected = "v" + be32(4 + 8 + 17 + 11) + be32(3 << 16) + be32(2) +
                                 "_pq_.compression\0"s + "_pq_.other\0"s;
    const std::string from_postgres = first_reply(cluster().port());
    ASSERT_EQ(from_postgres.substr(0, expected.size()), expected) << "PostgreSQL answers otherwise";
    const std::string from_sabakan = first_reply(sabakan().port());
    ASSERT_EQ(from_sabakan.substr(0, expected.size()), expected);
    // Then AuthenticationMD5Password, as for a 3.0 startup.
    EXPECT_EQ(from_sabakan.substr(expected.size(), 9), "R" + be32(12) + be32(5));
}

// Length words over max_packet_size (65536 here) before and after login: 08P01 and a close.
TEST_F(ProtocolAbuseTest, OversizedLengths) {
    start();
    {
        SCOPED_TRACE("startup length just over 10000");
        expect_refused_before_login(be32(10001) + be32(196608) + std::string(100, 'a'), "08P01");
    }
    {
        SCOPED_TRACE("Query of 65537 bytes");
        expect_refused_after_login("Q" + be32(65537) + "SELECT 1", "08P01");
    }
    {
        SCOPED_TRACE("Parse of 1 GB");
        expect_refused_after_login("P" + be32(1U << 30), "08P01");
    }
    // A message at the limit is fine.
    auto c = connect_pooled();
    const std::size_t n = 65536 - 4 - 1 - 9;  // length word, NUL, "SELECT '" and "'"
    const std::string sql = "SELECT '" + std::string(n, 'y') + "'";
    ASSERT_EQ(4 + sql.size() + 1, 65536U);
    EXPECT_EQ(value_within(c.get(), sql, 10s), std::string(n, 'y'));
    EXPECT_TRUE(sabakan().running());
}

// Negative length words (0x80000000 and up) before and after login: 08P01 and a close.
TEST_F(ProtocolAbuseTest, NegativeLengths) {
    start();
    for (std::uint32_t len : {0x80000000U, 0xFFFFFFF0U, 0xFFFFFFFFU}) {
        SCOPED_TRACE(len);
        expect_refused_before_login(be32(len) + be32(196608) + "user\0mastodon\0\0"s, "08P01");
        expect_refused_after_login("Q" + be32(len) + "SELECT 1", "08P01");
    }
    EXPECT_TRUE(sabakan().running());
}

// A bad length in the middle of a transaction cannot be answered (the server side may be
// writing to the client) but closes the client; its transaction is rolled back with its
// backend, never handed on, and others go on.
TEST_F(ProtocolAbuseTest, NegativeLengthInTransaction) {
    start();
    auto direct = connect_direct();
    pq::run(direct.get(), "UPDATE counters SET n = 0 WHERE id = 9");
    auto other = connect_pooled();
    auto c = connect_pooled();
    pq::run(c.get(), "BEGIN");
    pq::run(c.get(), "UPDATE counters SET n = n + 1 WHERE id = 9");
    const std::string pid = pq::value(c.get(), "SELECT pg_backend_pid()");
    raw_socket s = raw_socket::borrow(PQsocket(c.get()));
    ASSERT_TRUE(s.send_all("Q" + be32(0x80000000U) + "SELECT 1"));
    bool closed = false;
    s.read_until_closed(10s, closed);
    EXPECT_TRUE(closed) << "sabakan kept the connection open";
    EXPECT_TRUE(wait_until([&] { return !backend_alive(direct.get(), pid); }, 10s))
        << "the backend of the abandoned transaction is still connected";
    EXPECT_EQ(app_backends(direct.get(), "idle in transaction"), 0);
    EXPECT_EQ(pq::number(direct.get(), "SELECT n FROM counters WHERE id = 9"), 0);
    EXPECT_EQ(value_within(other.get(), "SELECT 1", 5s), "1");
    EXPECT_EQ(PQtransactionStatus(other.get()), PQTRANS_IDLE);
}

// A StartupMessage whose parameters lack the final terminator (or a value its NUL): 08P01.
TEST_F(ProtocolAbuseTest, StartupWithoutTerminator) {
    start();
    {
        SCOPED_TRACE("no final NUL");
        expect_refused_before_login(
            startup_with("user\0"s + app_user + "\0database\0"s + app_database + "\0"s), "08P01");
    }
    {
        SCOPED_TRACE("last value without its NUL");
        expect_refused_before_login(startup_with("user\0"s + app_user), "08P01");
    }
    {
        SCOPED_TRACE("a name without a value");
        expect_refused_before_login(startup_with("user\0"s), "08P01");
    }
    EXPECT_TRUE(sabakan().running());
}

// 2,000 CancelRequests with made-up keys, 100 connections at a time: each is closed
// without an answer, a client querying amid each batch is answered in well under 1 s, no
// descriptor leaks, and a real cancel still works afterwards.
TEST_F(ProtocolAbuseTest, CancelRequestFlood) {
    start();
    const int pid = sabakan().pid();
    auto busy = connect_pooled();
    EXPECT_EQ(value_within(busy.get(), "SELECT 1", 5s), "1");
    const long long fds_before = open_fds(pid);

    // Each batch of 100 is sent, then another client queries while sabakan works through
    // it, then every cancel connection must have been closed.
    std::mt19937 rng(4);
    int not_closed = 0;
    int answered = 0;
    long long slowest_ms = 0;
    const auto started = steady::now();
    for (int batch = 0; batch < 20; ++batch) {
        std::vector<raw_socket> sockets;
        for (int i = 0; i < 100; ++i) {
            sockets.emplace_back(sabakan().port());
            ASSERT_TRUE(sockets.back().send_all(cancel_request(rng() & 0x7fffffff, rng())));
        }
        const auto t = steady::now();
        const std::string n = std::to_string(batch);
        EXPECT_EQ(value_within(busy.get(), "SELECT " + n, 10s), n);
        slowest_ms = std::max<long long>(
            slowest_ms,
            std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t).count());
        ++answered;
        for (auto& s : sockets) {
            bool closed = false;
            std::string reply = s.read_until_closed(10s, closed);
            not_closed += closed ? 0 : 1;
            EXPECT_TRUE(reply.empty()) << "a CancelRequest got an answer";
        }
    }
    const auto flood_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started).count();
    EXPECT_EQ(not_closed, 0) << "CancelRequest connections left open";

    long long fds_after = -1;
    EXPECT_TRUE(wait_until(
        [&] {
            fds_after = open_fds(pid);
            return fds_after <= fds_before;
        },
        10s));
    std::printf(
        "2000 CancelRequests in %lld ms; sabakan fds before %lld, after %lld; %d queries of "
        "another client amid the batches, the slowest %lld ms\n",
        static_cast<long long>(flood_ms), fds_before, fds_after, answered, slowest_ms);
    EXPECT_LE(fds_after, fds_before) << "descriptors leaked";
    EXPECT_LT(slowest_ms, 1000) << "sabakan stalled under the flood";

    // A genuine cancel still reaches the right backend.
    ASSERT_EQ(PQsendQuery(busy.get(), "SELECT pg_sleep(30)"), 1);
    auto direct = connect_direct();
    ASSERT_TRUE(wait_until([&] { return app_backends(direct.get(), "active") == 1; }, 10s));
    PGcancel* cancel = PQgetCancel(busy.get());
    char err[256];
    EXPECT_EQ(PQcancel(cancel, err, sizeof err), 1) << err;
    PQfreeCancel(cancel);
    pq::result r(PQgetResult(busy.get()));
    EXPECT_EQ(pq::sqlstate(r.get()), "57014") << pq::error(busy.get());
    EXPECT_TRUE(pq::no_more_results(busy.get()));
}

// Parse/Bind/Execute without Sync, then silence: the server stays with that client (its
// backend's pid is never seen by others, and its INSERT is never committed by another
// client's Sync), other clients are served by the other server, and when the client goes
// its backend is closed with the INSERT rolled back.
TEST_F(ProtocolAbuseTest, ExtendedProtocolWithoutSync) {
    start(2);
    auto direct = connect_direct();
    pq::run(direct.get(), "DELETE FROM items WHERE tag = 'unsynced'");

    auto abuser = connect_pooled();
    const int fd = PQsocket(abuser.get());
    raw_socket s = raw_socket::borrow(fd);
    // Flush ('H') makes PostgreSQL answer what it has so far, but Sync never comes.
    ASSERT_TRUE(s.send_all(parse_bind_execute("SELECT pg_backend_pid()") + message('H', "")));
    auto reply = read_until_tag(fd, 'C', 10s);
    ASSERT_FALSE(reply.empty());
    ASSERT_EQ(reply.back().tag, 'C') << "no CommandComplete for the pid query";
    const std::string pid = first_value(reply);
    ASSERT_TRUE(s.send_all(parse_bind_execute("INSERT INTO items (tag) VALUES ('unsynced')") +
                           message('H', "")));
    reply = read_until_tag(fd, 'C', 10s);
    ASSERT_FALSE(reply.empty());
    ASSERT_EQ(reply.back().tag, 'C') << "no CommandComplete for the INSERT";

    // Others, one after another and three at once, never get the abuser's backend.
    std::vector<pq::connection> others;
    for (int i = 0; i < 3; ++i) {
        others.push_back(connect_pooled());
    }
    for (int round = 0; round < 20; ++round) {
        for (auto& other : others) {
            const std::string got = value_within(other.get(), "SELECT pg_backend_pid()", 5s);
            EXPECT_NE(got, pid) << "a server with an unsynced transaction was handed on";
            EXPECT_THAT(got, Not(HasSubstr("<"))) << got;
            EXPECT_EQ(PQtransactionStatus(other.get()), PQTRANS_IDLE);
        }
    }
    EXPECT_EQ(
        value_within(others[0].get(), "SELECT count(*) FROM items WHERE tag = 'unsynced'", 5s),
        "0");
    EXPECT_TRUE(backend_alive(direct.get(), pid));

    ASSERT_EQ(::shutdown(fd, SHUT_RDWR), 0);
    abuser.reset();
    EXPECT_TRUE(wait_until([&] { return !backend_alive(direct.get(), pid); }, 10s))
        << "the backend with an unsynced transaction is still connected";
    EXPECT_EQ(pq::number(direct.get(), "SELECT count(*) FROM items WHERE tag = 'unsynced'"), 0);
    for (auto& other : others) {
        EXPECT_EQ(value_within(other.get(), "SELECT 5", 5s), "5");
    }
}

// Slowloris with client_login_timeout = 2: one byte a second of a StartupMessage, or of the
// password after it, is closed about 2 s after connecting; a client is served meanwhile.
TEST_F(ProtocolAbuseTest, SlowlorisClosedAtLoginTimeout) {
    start();
    auto client = connect_pooled();
    int answered = 0;
    for (const bool slow_password : {false, true}) {
        SCOPED_TRACE(slow_password ? "slow password" : "slow StartupMessage");
        raw_socket s(sabakan().port());
        const auto connected = steady::now();
        std::string bytes = startup_message();
        if (slow_password) {
            // The StartupMessage goes whole, then the md5 PasswordMessage a byte a second.
            ASSERT_TRUE(s.send_all(bytes));
            bool closed = false;
            std::string r = s.read_until_closed(5s, closed, 13);  // AuthenticationMD5Password
            ASSERT_EQ(r.size(), 13U);
            ASSERT_EQ(r[0], 'R');
            bytes = message('p', "md5" + std::string(32, '0') + "\0"s);
        }
        bool closed = false;
        std::size_t sent = 0;
        // One byte a second until sabakan closes it (at most 10 bytes here).
        while (!closed && sent < 10) {
            if (!s.send_all(bytes.substr(sent++, 1))) {
                closed = true;
                break;
            }
            s.read_until_closed(1s, closed);
            const std::string n = std::to_string(answered);
            EXPECT_EQ(value_within(client.get(), "SELECT " + n, 5s), n);
            ++answered;
        }
        const auto after =
            std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - connected);
        std::printf("slowloris (%s): closed after %lld ms, %zu of %zu bytes sent\n",
                    slow_password ? "password" : "StartupMessage",
                    static_cast<long long>(after.count()), sent, bytes.size());
        EXPECT_TRUE(closed) << "sabakan kept a slowloris connection open";
        EXPECT_GE(after, 1500ms);
        EXPECT_LT(after, 4000ms);
    }
    EXPECT_TRUE(wait_until(
        [&] {
            return sabakan().logs().find("closing because: client_login_timeout") !=
                   std::string::npos;
        },
        5s));
    EXPECT_GE(answered, 2);
    EXPECT_EQ(value_within(connect_pooled().get(), "SELECT 1", 5s), "1");
}

}  // namespace
}  // namespace sabakan::integration

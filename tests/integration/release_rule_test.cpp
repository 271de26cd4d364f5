// The release rule in transaction mode, where a server goes back to the pool as soon as it
// owes its client nothing: it must also wait until the client has stopped sending. With a
// pool of one the released server goes at once to the next client, so a server released
// while its client is in the middle of a message (a failed COPY still streaming, a CopyData
// cut short) shows as a crash, a hang or a wrong answer for that next client.
#include "harness/fixture.hpp"
#include "harness/sockets.hpp"
#include "harness/wait.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace sabakan::integration {
namespace {

using namespace std::chrono_literals;

// The int32 in network byte order, as the protocol writes lengths.
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

// A simple-protocol Query message.
std::string query_message(const std::string& sql) {
    return "Q" + be32(static_cast<std::uint32_t>(4 + sql.size() + 1)) + sql + '\0';
}

struct message {
    char tag;
    std::string body;
};

// Reads backend messages from `fd` until a ReadyForQuery ('Z') has arrived whole, the peer
// closes, or `timeout` passes. Returns the whole messages read; `ready` says whether the
// last one is the ReadyForQuery.
std::vector<message> read_until_ready(int fd, std::chrono::milliseconds timeout, bool& ready) {
    std::vector<message> out;
    std::string buf;
    ready = false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!ready) {
        // Split off every whole message in the buffer.
        while (buf.size() >= 5 && buf.size() >= 1 + read_be32(buf, 1)) {
            std::uint32_t len = read_be32(buf, 1);
            out.push_back({buf[0], buf.substr(5, len - 4)});
            buf.erase(0, 1 + len);
            if (out.back().tag == 'Z') {
                ready = true;
                break;
            }
        }
        if (ready) {
            break;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            break;
        }
        char chunk[4096];
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            break;
        }
        buf.append(chunk, static_cast<std::size_t>(n));
    }
    return out;
}

// The first column of the first DataRow, "<error: ...>" for an ErrorResponse before it,
// or "<no row>".
std::string first_value(const std::vector<message>& messages) {
    for (const message& m : messages) {
        if (m.tag == 'E') {
            return "<error: " + m.body + ">";
        }
        if (m.tag == 'D' && m.body.size() >= 6) {
            std::uint32_t len = read_be32(m.body, 2);
            return m.body.substr(6, len);
        }
    }
    return "<no row>";
}

// Whether `fd` has nothing to read right now.
bool nothing_to_read(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
}

// Runs `sql` (one row, one column) and returns the value, or "<timed out>" or
// "<error: ...>" when it does not come within `timeout`. Unlike PQexec it cannot hang.
std::string value_within(PGconn* c, const std::string& sql, std::chrono::milliseconds timeout) {
    if (PQsendQuery(c, sql.c_str()) != 1) {
        return "<error: " + pq::error(c) + ">";
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // Waits until PQgetResult will not block.
    auto settle = [&]() -> bool {
        while (PQflush(c) == 1 || PQisBusy(c) == 1) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd p{PQsocket(c), POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) < 0) {
                return false;
            }
            if (PQconsumeInput(c) != 1) {
                return true;  // PQgetResult reports the broken connection
            }
        }
        return true;
    };
    std::string value = "<no result>";
    bool first = true;
    for (;;) {
        if (!settle()) {
            return "<timed out>";
        }
        pq::result r(PQgetResult(c));
        if (!r) {
            return value;
        }
        if (first) {
            first = false;
            if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) != 1 ||
                PQnfields(r.get()) != 1) {
                value = "<error: " + pq::error(c) + ">";
            } else {
                value = PQgetvalue(r.get(), 0, 0);
            }
        }
    }
}

// A client on its own thread running `SELECT 42` again and again until stopped (or until
// an answer is not 42), keeping every answer.
class repeating_client {
public:
    explicit repeating_client(pq::connection c)
        : conn_(std::move(c)), thread_([this](std::stop_token st) { run(st); }) {}
    ~repeating_client() { stop(); }
    repeating_client(const repeating_client&) = delete;
    repeating_client& operator=(const repeating_client&) = delete;

    int answered() const noexcept { return answered_.load(); }
    /// Stops and joins the thread; returns every answer it got.
    const std::vector<std::string>& stop() {
        if (thread_.joinable()) {
            thread_.request_stop();
            thread_.join();
        }
        return answers_;
    }
    PGconn* get() noexcept { return conn_.get(); }

private:
    void run(const std::stop_token& st) {
        while (!st.stop_requested()) {
            // Longer than anything the other client holds the only server for.
            std::string v = value_within(conn_.get(), "SELECT 42", 30s);
            answers_.push_back(v);
            answered_.fetch_add(1);
            if (v != "42") {
                return;
            }
        }
    }

    pq::connection conn_;
    std::vector<std::string> answers_;  // written by the thread only until it is joined
    std::atomic<int> answered_{0};
    std::jthread thread_;
};

// Every answer is 42, and there was at least one.
::testing::AssertionResult all_42(const std::vector<std::string>& answers) {
    if (answers.empty()) {
        return ::testing::AssertionFailure() << "no answer at all";
    }
    for (std::size_t i = 0; i < answers.size(); ++i) {
        if (answers[i] != "42") {
            return ::testing::AssertionFailure()
                   << "answer " << i << " of " << answers.size() << " is " << answers[i];
        }
    }
    return ::testing::AssertionSuccess();
}

class ReleaseRuleTest : public sabakan_test {
protected:
    void SetUp() override {
        sabakan_test::SetUp();
        if (HasFatalFailure()) {
            return;
        }
        auto direct = connect_direct();
        pq::run(direct.get(), "CREATE TABLE IF NOT EXISTS release_rule_ints (v int)");
        pq::run(direct.get(), std::string("GRANT ALL ON release_rule_ints TO ") + app_user);
        pq::run(direct.get(), "TRUNCATE release_rule_ints");
        sabakan_options o;
        o.default_pool_size = 1;  // a released server goes straight to the waiting client
        start_sabakan(o);
    }

    // Whether PostgreSQL still has a backend with process id `pid`.
    static bool backend_alive(PGconn* direct, const std::string& pid) {
        return pq::number(direct, "SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid) != 0;
    }
};

// A COPY whose first row fails while the client streams 2 MB more holds the server until
// CopyDone: the client gets 22P02 and goes on, the waiting client is served, sabakan lives.
TEST_F(ReleaseRuleTest, CopyFailedEarlyWhileClientStreams) {
    repeating_client b(connect_pooled());
    ASSERT_TRUE(wait_until([&] { return b.answered() >= 1; }, 10s)) << "B never got an answer";

    auto a = connect_pooled();
    pq::result in(PQexec(a.get(), "COPY release_rule_ints (v) FROM STDIN"));
    ASSERT_EQ(PQresultStatus(in.get()), PGRES_COPY_IN) << pq::error(a.get());
    const std::string bad = "notanumber\n";
    ASSERT_EQ(PQputCopyData(a.get(), bad.data(), static_cast<int>(bad.size())), 1)
        << pq::error(a.get());
    std::string chunk;
    for (int i = 0; chunk.size() + 8 <= 8192; ++i) {
        chunk += std::to_string(1000000 + i) + "\n";  // 8-byte rows, 1024 to the chunk
    }
    for (std::size_t sent = 0; sent < 2 * 1024 * 1024; sent += chunk.size()) {
        ASSERT_EQ(PQputCopyData(a.get(), chunk.data(), static_cast<int>(chunk.size())), 1)
            << "after " << sent << " bytes: " << pq::error(a.get());
    }
    ASSERT_EQ(PQputCopyEnd(a.get(), nullptr), 1) << pq::error(a.get());
    pq::result done(PQgetResult(a.get()));
    EXPECT_EQ(PQresultStatus(done.get()), PGRES_FATAL_ERROR);
    EXPECT_EQ(pq::sqlstate(done.get()), "22P02") << pq::error(a.get());
    EXPECT_TRUE(pq::no_more_results(a.get()));
    EXPECT_EQ(value_within(a.get(), "SELECT 1", 10s), "1");
    EXPECT_EQ(value_within(a.get(), "SELECT count(*) FROM release_rule_ints", 10s), "0");

    // B gets at least two more answers, so one query was sent after A's COPY ended.
    int before = b.answered();
    EXPECT_TRUE(wait_until([&] { return b.answered() >= before + 2; }, 10s));
    EXPECT_TRUE(all_42(b.stop()));
    EXPECT_EQ(value_within(b.get(), "SELECT 42", 10s), "42");

    EXPECT_TRUE(sabakan().running());
    auto fresh = connect_pooled();
    EXPECT_EQ(value_within(fresh.get(), "SELECT 1", 10s), "1");
}

// A client gone halfway through a CopyData after its query was answered never hands that
// server to the next client: B is answered in time, and the cut-off backend is closed.
TEST_F(ReleaseRuleTest, ClientGoneMidMessage) {
    auto direct = connect_direct();
    auto a = connect_pooled();
    const std::string a_pid = pq::value(a.get(), "SELECT pg_backend_pid()");
    const int fd = PQsocket(a.get());
    raw_socket s = raw_socket::borrow(fd);
    // Query "SELECT 1", then a CopyData whose length word says 100000 but with 500 bytes.
    ASSERT_TRUE(s.send_all(query_message("SELECT 1") + "d" + be32(100000) + std::string(500, 'x')));
    bool ready = false;
    auto reply = read_until_ready(fd, 10s, ready);
    ASSERT_TRUE(ready) << "no ReadyForQuery for SELECT 1";
    EXPECT_EQ(first_value(reply), "1");

    // Hang up without Terminate; PQfinish's Terminate then fails to go out, harmlessly
    // (the descriptor stays open until PQfinish closes it, so nothing else can reuse it).
    ASSERT_EQ(::shutdown(fd, SHUT_RDWR), 0);
    a.reset();

    auto b = connect_pooled();
    EXPECT_EQ(value_within(b.get(), "SELECT 42", 10s), "42");
    EXPECT_NE(value_within(b.get(), "SELECT pg_backend_pid()", 10s), a_pid);
    EXPECT_TRUE(wait_until([&] { return !backend_alive(direct.get(), a_pid); }, 10s))
        << "the backend left halfway through a CopyData is still connected";
    EXPECT_TRUE(wait_until([&] { return app_backends(direct.get()) <= 1; }, 10s));
    EXPECT_TRUE(wait_until([&] { return app_backends(direct.get(), "active") == 0; }, 10s));
    EXPECT_TRUE(sabakan().running());
}

// A client that finishes a cut CopyData late keeps its server until then: the stray
// CopyData is ignored, its next query answers 7, and a waiting client B is served too.
TEST_F(ReleaseRuleTest, SlowMessageCompletedLater) {
    auto a = connect_pooled();
    EXPECT_EQ(pq::value(a.get(), "SELECT 1"), "1");
    repeating_client b(connect_pooled());
    ASSERT_TRUE(wait_until([&] { return b.answered() >= 1; }, 10s)) << "B never got an answer";

    const int fd = PQsocket(a.get());
    raw_socket s = raw_socket::borrow(fd);
    const std::uint32_t length = 100000;  // the length word counts itself
    const std::size_t first_part = 500;
    ASSERT_TRUE(
        s.send_all(query_message("SELECT 1") + "d" + be32(length) + std::string(first_part, 'x')));
    bool ready = false;
    auto reply = read_until_ready(fd, 10s, ready);
    ASSERT_TRUE(ready) << "no ReadyForQuery for SELECT 1";
    EXPECT_EQ(first_value(reply), "1");
    EXPECT_TRUE(nothing_to_read(fd));

    ASSERT_TRUE(s.send_all(std::string(length - 4 - first_part, 'y')));
    ASSERT_TRUE(s.send_all(query_message("SELECT 7")));
    reply = read_until_ready(fd, 30s, ready);
    ASSERT_TRUE(ready) << "no ReadyForQuery for SELECT 7";
    EXPECT_EQ(first_value(reply), "7");
    // libpq read none of this, so it carries on in step with the server.
    EXPECT_EQ(value_within(a.get(), "SELECT 8", 10s), "8");

    int before = b.answered();
    EXPECT_TRUE(wait_until([&] { return b.answered() >= before + 2; }, 10s));
    EXPECT_TRUE(all_42(b.stop()));
    EXPECT_TRUE(sabakan().running());
}

}  // namespace
}  // namespace sabakan::integration

// Bytes that are not the PostgreSQL protocol, sent by hand over a raw socket: sabakan
// answers with an ErrorResponse ('E') and closes that connection, and keeps serving others.
#include "harness/fixture.hpp"
#include "harness/sockets.hpp"

#include <gmock/gmock.h>

#include <random>
#include <string>
#include <vector>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;
using namespace std::string_literals;

// The int32 in network byte order, as the protocol writes lengths and codes.
std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
}

struct garbage_case {
    const char* name;
    std::string bytes;
    const char* sqlstate;  // expected in the ErrorResponse's 'C' field
};

std::vector<garbage_case> garbage_cases() {
    std::mt19937 rng(20240521);  // fixed seed: the same bytes every run
    std::string noise(512, '\0');
    for (char& ch : noise) {
        ch = static_cast<char>(rng());
    }
    noise[0] = '\x7f';  // a length word far above the 10000-byte startup limit
    std::string no_user = "database\0x\0\0"s;
    // Valid, but larger than the default pkt_buf (4096) though under the 10000-byte limit.
    std::string long_user = "user\0"s + std::string(5000, 'u') + "\0\0"s;
    return {
        {"http request", "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "08P01"},
        {"length word below 8", be32(4) + be32(196608), "08P01"},
        {"protocol 2.0", be32(8) + be32(0x20000), "0A000"},
        {"random bytes", noise, "08P01"},
        {"startup packet larger than pkt_buf",
         be32(8 + static_cast<std::uint32_t>(long_user.size())) + be32(196608) + long_user,
         "08P01"},
        {"no user parameter",
         be32(8 + static_cast<std::uint32_t>(no_user.size())) + be32(196608) + no_user, "28000"},
    };
}

class BadInputTest : public transaction_pool_test {};

// Each malformed opening gets an ErrorResponse with its SQLSTATE and a close; others are served.
TEST_F(BadInputTest, GarbageInsteadOfStartupPacket) {
    for (const auto& g : garbage_cases()) {
        SCOPED_TRACE(g.name);
        raw_socket s(sabakan().port());
        ASSERT_TRUE(s.send_all(g.bytes));
        bool closed = false;
        std::string reply = s.read_until_closed(std::chrono::seconds(10), closed);
        EXPECT_TRUE(closed) << "sabakan kept the connection open";
        ASSERT_FALSE(reply.empty());
        EXPECT_EQ(reply[0], 'E');
        EXPECT_THAT(reply, HasSubstr(std::string("C") + g.sqlstate + '\0'));
        auto c = connect_pooled();
        EXPECT_EQ(pq::value(c.get(), "SELECT 1"), "1");
    }
    EXPECT_TRUE(sabakan().running());
}

// A message length below 4 after login gets an ErrorResponse and a close; others carry on.
TEST_F(BadInputTest, BadMessageLengthAfterLogin) {
    auto other = connect_pooled();
    auto c = connect_pooled();
    raw_socket s = raw_socket::borrow(PQsocket(c.get()));
    ASSERT_TRUE(s.send_all(std::string("Q") + be32(2)));
    bool closed = false;
    std::string reply = s.read_until_closed(std::chrono::seconds(10), closed);
    EXPECT_TRUE(closed) << "sabakan kept the connection open";
    ASSERT_FALSE(reply.empty());
    EXPECT_EQ(reply[0], 'E');
    EXPECT_THAT(reply, HasSubstr("C08P01"));
    EXPECT_EQ(pq::value(other.get(), "SELECT 1"), "1");
}

}  // namespace
}  // namespace sabakan::integration

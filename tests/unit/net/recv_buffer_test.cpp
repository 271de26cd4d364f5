// The receive buffer's cursors, and giving its memory back while empty.
#include <sabakan/net/recv_buffer.hpp>

#include <cstring>

#include <gtest/gtest.h>

namespace sabakan::net {
namespace {

void put(recv_buffer& b, const char* text) {
    auto space = b.free_space();
    const std::size_t n = std::strlen(text);
    ASSERT_GE(space.size(), n);
    std::memcpy(space.data(), text, n);
    b.commit(n);
}

TEST(RecvBufferTest, TakesMemoryOnlyWhenFirstRead) {
    recv_buffer b(64);
    EXPECT_FALSE(b.holds_memory());
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(b.free_space().size(), 64u);
    EXPECT_TRUE(b.holds_memory());
}

TEST(RecvBufferTest, ForwardedBytesEmptyItAndReleaseGivesTheMemoryBack) {
    recv_buffer b(64);
    put(b, "hello");
    EXPECT_FALSE(b.empty());
    b.advance(5);
    EXPECT_EQ(protocol::as_text(b.to_send()), "hello");
    b.mark_sent();
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(b.received_pos(), 0u);  // back at the front
    b.release();
    EXPECT_FALSE(b.holds_memory());
    put(b, "again");  // takes memory anew
    EXPECT_TRUE(b.holds_memory());
    EXPECT_EQ(protocol::as_text(b.unparsed()), "again");
}

TEST(RecvBufferTest, CompactsWhenTheTailRunsShort) {
    recv_buffer b(16);
    put(b, "0123456789abc");  // 13 of 16
    b.advance(10);
    b.mark_sent();                // "abc" left unparsed at 10..13
    auto space = b.free_space();  // 3 free, under a quarter: the rest moves to the front
    EXPECT_EQ(b.sent_pos(), 0u);
    EXPECT_EQ(protocol::as_text(b.unparsed()), "abc");
    EXPECT_EQ(space.size(), 13u);
}

}  // namespace
}  // namespace sabakan::net

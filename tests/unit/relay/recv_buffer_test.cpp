// The receive buffer's cursors, and giving its memory back while empty.
#include <sabakan/relay/recv_buffer.hpp>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace sabakan::relay {
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

// A reply that stands in for a ParseComplete is retagged; a dropped one leaves the bytes
// around it in order.
TEST(RecvBufferEdits, DropAndRetagScannedTail) {
    recv_buffer buf(64);
    const std::string in =
        std::string("1\0\0\0\4", 5) + std::string("3\0\0\0\4", 5) + std::string("2\0\0\0\4", 5);
    auto space = buf.free_space();
    std::memcpy(space.data(), in.data(), in.size());
    buf.commit(in.size());
    buf.advance(5);
    buf.advance(5);
    buf.retag_parsed_tail(5, '1');  // the CloseComplete becomes a ParseComplete
    buf.advance(5);
    buf.drop_parsed_tail(5);  // the BindComplete goes
    const auto out = protocol::as_text(buf.to_send());
    EXPECT_EQ(out, std::string("1\0\0\0\4", 5) + std::string("1\0\0\0\4", 5));
    recv_buffer buf2(64);
    space = buf2.free_space();
    std::memcpy(space.data(), in.data(), in.size());
    buf2.commit(in.size());
    buf2.advance(5);
    buf2.drop_parsed_tail(5);  // the first message goes: nothing before it moves
    buf2.advance(10);
    EXPECT_EQ(protocol::as_text(buf2.to_send()), in.substr(5));
}

}  // namespace
}  // namespace sabakan::relay

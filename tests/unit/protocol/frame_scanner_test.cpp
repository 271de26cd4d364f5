// The frame scanner on raw bytes: whole input, split at every byte, several messages
// per read, oversize and malformed lengths.
#include <sabakan/protocol/frame_scanner.hpp>
#include <sabakan/protocol/message_writer.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sabakan::protocol {
namespace {

struct event {
    scan_status status;
    char tag;
    std::uint32_t length;
    bool whole;
    std::size_t size;
    bool operator==(const event&) const = default;
};

byte_buffer msg(char tag, std::string_view body) {
    // Built by hand (tag, big-endian length, body) so the test does not depend on the writer.
    auto len = static_cast<std::uint32_t>(body.size() + 4);
    byte_buffer out{static_cast<std::byte>(tag), static_cast<std::byte>(len >> 24),
                    static_cast<std::byte>(len >> 16), static_cast<std::byte>(len >> 8),
                    static_cast<std::byte>(len)};
    for (char c : body) {
        out.push_back(static_cast<std::byte>(c));
    }
    return out;
}

// Feeds `input` to a scanner in chunks of `chunk` bytes (as reads would deliver it),
// keeping unconsumed bytes like the receive buffer does, and records every event.
std::vector<event> scan_all(const byte_buffer& input, std::size_t chunk, tag_set whole,
                            std::size_t max_whole = 64) {
    frame_scanner sc(whole, max_whole, 1u << 20);
    std::vector<event> out;
    byte_buffer pending;
    std::size_t pos = 0;
    while (pos < input.size()) {
        std::size_t n = std::min(chunk, input.size() - pos);
        pending.insert(pending.end(), input.begin() + static_cast<long>(pos),
                       input.begin() + static_cast<long>(pos + n));
        pos += n;
        for (;;) {
            auto r = sc.next(pending);
            if (r.status == scan_status::need_more) {
                break;
            }
            out.push_back({r.status, r.tag, r.length, r.whole, r.consumed()});
            if (r.status == scan_status::bad_length) {
                return out;
            }
            pending.erase(pending.begin(), pending.begin() + static_cast<long>(r.consumed()));
        }
    }
    return out;
}

// Collapses a message's header event and its continuations into one (tag, total bytes).
std::vector<std::pair<char, std::size_t>> messages(const std::vector<event>& evs) {
    std::vector<std::pair<char, std::size_t>> out;
    for (const auto& e : evs) {
        if (e.status == scan_status::message) {
            out.emplace_back(e.tag, e.size);
        } else if (e.status == scan_status::continuation) {
            out.back().second += e.size;
        }
    }
    return out;
}

// A ReadyForQuery arrives whole in one event however the bytes are split.
TEST(FrameScanner, WantedMessageIsWholeAtEverySplit) {
    auto z = msg('Z', "I");
    for (std::size_t chunk = 1; chunk <= z.size(); ++chunk) {
        auto evs = scan_all(z, chunk, tag_set{'Z'});
        ASSERT_EQ(evs.size(), 1u) << "chunk " << chunk;
        EXPECT_EQ(evs[0], (event{scan_status::message, 'Z', 5, true, 6}));
    }
}

// A DataRow is passed over by length: header event, then continuations, never more bytes
// than the message holds, at every split.
TEST(FrameScanner, UnwantedBodyIsSkippedByLength) {
    byte_buffer in = msg('D', std::string(1000, 'x'));
    auto z = msg('Z', "T");
    in.insert(in.end(), z.begin(), z.end());
    for (std::size_t chunk : {1u, 2u, 5u, 7u, 100u, 999u, 1006u, 5000u}) {
        auto evs = scan_all(in, chunk, tag_set{'Z'});
        auto ms = messages(evs);
        ASSERT_EQ(ms.size(), 2u) << "chunk " << chunk;
        EXPECT_EQ(ms[0], std::make_pair('D', std::size_t{1005}));
        EXPECT_EQ(ms[1], std::make_pair('Z', std::size_t{6}));
        EXPECT_TRUE(evs.back().whole);
    }
}

// Many messages in one read are reported one by one, in order.
TEST(FrameScanner, SeveralMessagesInOneBuffer) {
    byte_buffer in;
    for (char t : {'1', '2', 'D', 'C', 'Z'}) {
        auto m = msg(t, t == 'Z' ? "I" : "abc");
        in.insert(in.end(), m.begin(), m.end());
    }
    auto ms = messages(scan_all(in, in.size(), tag_set{'Z'}));
    ASSERT_EQ(ms.size(), 5u);
    EXPECT_EQ(ms[0].first, '1');
    EXPECT_EQ(ms[4], std::make_pair('Z', std::size_t{6}));
}

// A length word below 4 means the stream is out of sync.
TEST(FrameScanner, LengthBelowFourIsBad) {
    byte_buffer in{std::byte{'Q'}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{3}};
    auto evs = scan_all(in, in.size(), tag_set{});
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].status, scan_status::bad_length);
}

// A length above the configured maximum (max_packet_size) is refused before any body.
TEST(FrameScanner, OversizeLengthIsBad) {
    frame_scanner sc(tag_set{}, 64, 1000);
    byte_buffer in{std::byte{'Q'}, std::byte{0}, std::byte{0}, std::byte{0x10}, std::byte{0}};
    EXPECT_EQ(sc.next(in).status, scan_status::bad_length);
}

// header_ok() judges a header exactly as next() would, without moving the scanner.
TEST(FrameScanner, HeaderOkAgreesWithNext) {
    frame_scanner sc(tag_set{}, 64, 1000);
    byte_buffer too_big{std::byte{'Q'}, std::byte{0}, std::byte{0}, std::byte{0x10}, std::byte{0}};
    byte_buffer too_small{std::byte{'Q'}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{3}};
    auto fine = msg('Q', "SELECT 1");
    EXPECT_FALSE(sc.header_ok(too_big));
    EXPECT_FALSE(sc.header_ok(too_small));
    EXPECT_TRUE(sc.header_ok(fine));
    EXPECT_TRUE(sc.at_boundary());
    EXPECT_EQ(sc.next(fine).status, scan_status::message);
}

// A wanted message larger than the buffer can hold is reported header-first instead of
// waiting forever for bytes that cannot fit.
TEST(FrameScanner, WantedButTooLongIsStreamed) {
    auto e = msg('E', std::string(200, 'e'));
    auto evs = scan_all(e, 50, tag_set{'E'}, 64);
    ASSERT_GE(evs.size(), 2u);
    EXPECT_EQ(evs[0].status, scan_status::message);
    EXPECT_FALSE(evs[0].whole);
    EXPECT_EQ(messages(evs)[0].second, e.size());
}

// An empty input or a partial header asks for more and consumes nothing.
TEST(FrameScanner, PartialHeaderNeedsMore) {
    frame_scanner sc(tag_set{}, 64, 1000);
    byte_buffer in{std::byte{'Q'}, std::byte{0}, std::byte{0}};
    auto r = sc.next(in);
    EXPECT_EQ(r.status, scan_status::need_more);
    EXPECT_EQ(r.consumed(), 0u);
    EXPECT_EQ(sc.next({}).status, scan_status::need_more);
}

// Random garbage never makes the scanner consume more than it was given or loop forever.
TEST(FrameScanner, GarbageIsHandled) {
    std::uint32_t seed = 12345;
    for (int round = 0; round < 2000; ++round) {
        byte_buffer in(64);
        for (auto& b : in) {
            seed = seed * 1103515245 + 12345;
            b = static_cast<std::byte>(seed >> 16);
        }
        frame_scanner sc(tag_set{'Z', 'E'}, 32, 1u << 16);
        protocol::bytes_view rest = in;
        for (int steps = 0; steps < 200; ++steps) {
            auto r = sc.next(rest);
            if (r.status == scan_status::need_more || r.status == scan_status::bad_length) {
                break;
            }
            ASSERT_LE(r.consumed(), rest.size());
            ASSERT_GT(r.consumed(), 0u);
            rest = rest.subspan(r.consumed());
        }
    }
}

}  // namespace
}  // namespace sabakan::protocol

// Walks a byte stream message by message without copying. It looks at headers only,
// except for the message types the caller asks to see whole; every other body is
// passed over by its length, even when it spans many reads (a DataRow is never decoded).
#pragma once

#include <sabakan/protocol/bytes.hpp>

#include <array>
#include <cstdint>
#include <initializer_list>

namespace sabakan::protocol {

/// A set of message type bytes: a 256-bit mask, small because every connection's scanner
/// holds one.
class tag_set {
public:
    constexpr tag_set() = default;
    constexpr tag_set(std::initializer_list<char> tags) {
        for (char t : tags) {
            const auto b = static_cast<unsigned char>(t);
            bits_[b >> 6] |= std::uint64_t{1} << (b & 63);
        }
    }
    constexpr bool contains(char t) const noexcept {
        const auto b = static_cast<unsigned char>(t);
        return ((bits_[b >> 6] >> (b & 63)) & 1) != 0;
    }

private:
    std::array<std::uint64_t, 4> bits_{};
};

enum class scan_status : std::uint8_t {
    need_more,     // no complete header (or wanted message) in the input yet
    message,       // a message starts here; `whole` says whether all of it is in `bytes`
    continuation,  // more body bytes of the message reported last
    bad_length,    // length word < 4 or above the limit: the stream is out of sync
};

struct scan_result {
    scan_status status = scan_status::need_more;
    char tag = 0;
    std::uint32_t length = 0;  // the length word: body size + 4
    bool whole = false;        // `bytes` holds the complete message (tag and length included)
    bytes_view bytes;          // the bytes consumed by this step
    std::size_t consumed() const noexcept { return bytes.size(); }
    /// The body of a whole message.
    bytes_view body() const noexcept { return bytes.subspan(5); }
};

class frame_scanner {
public:
    static constexpr std::size_t header_size = 5;

    /// `whole_tags` are reported only once the complete message is in the input, provided it
    /// is at most `max_whole` bytes; longer ones are reported header-first like any other.
    /// `max_length` caps the length word (max_packet_size).
    frame_scanner(tag_set whole_tags, std::size_t max_whole, std::uint32_t max_length) noexcept
        : whole_tags_(whole_tags), max_whole_(max_whole), max_length_(max_length) {}

    /// One step over `in`, which starts where the previous step stopped.
    scan_result next(bytes_view in) noexcept {
        scan_result r;
        if (skip_ > 0) {
            std::size_t n = in.size() < skip_ ? in.size() : skip_;
            if (n == 0) {
                return r;
            }
            skip_ -= n;
            r.status = scan_status::continuation;
            r.bytes = in.first(n);
            return r;
        }
        if (in.size() < header_size) {
            return r;
        }
        r.tag = static_cast<char>(in[0]);
        r.length = length_word(in);
        if (!length_ok(r.length)) {
            r.status = scan_status::bad_length;
            return r;
        }
        std::size_t total = std::size_t{r.length} + 1;
        if (whole_tags_.contains(r.tag) && total <= max_whole_) {
            if (in.size() < total) {
                return r;  // need_more: wait for the rest of a wanted message
            }
            r.status = scan_status::message;
            r.whole = true;
            r.bytes = in.first(total);
            return r;
        }
        std::size_t n = in.size() < total ? in.size() : total;
        skip_ = total - n;
        r.status = scan_status::message;
        r.whole = skip_ == 0;
        r.bytes = in.first(n);
        return r;
    }

    /// Whether the header at the start of `in` (at least header_size bytes, at a message
    /// boundary) has a length this scanner accepts; next() would report bad_length if not.
    bool header_ok(bytes_view in) const noexcept { return length_ok(length_word(in)); }

    /// Body bytes of the current message not yet seen.
    std::size_t pending_body() const noexcept { return skip_; }
    bool at_boundary() const noexcept { return skip_ == 0; }
    void set_max_length(std::uint32_t v) noexcept { max_length_ = v; }

private:
    static std::uint32_t length_word(bytes_view in) noexcept {
        return (std::to_integer<std::uint32_t>(in[1]) << 24) |
               (std::to_integer<std::uint32_t>(in[2]) << 16) |
               (std::to_integer<std::uint32_t>(in[3]) << 8) | std::to_integer<std::uint32_t>(in[4]);
    }
    bool length_ok(std::uint32_t length) const noexcept {
        return length >= 4 && length <= max_length_;
    }

    tag_set whole_tags_;
    std::size_t max_whole_;
    std::uint32_t max_length_;
    std::size_t skip_ = 0;
};

}  // namespace sabakan::protocol

// Builds messages into a buffer the caller owns; the length is filled in by end().
// Used for messages sabakan composes itself (logins, errors), never for forwarding.
#pragma once

#include <sabakan/protocol/bytes.hpp>
#include <sabakan/protocol/tags.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

namespace sabakan::protocol {

using byte_buffer = std::vector<std::byte>;

class message_writer {
public:
    explicit message_writer(byte_buffer& out) noexcept : out_(out) {}

    void begin(backend_tag tag) { begin_tagged(static_cast<char>(tag)); }
    void begin(frontend_tag tag) { begin_tagged(static_cast<char>(tag)); }
    /// Startup-phase packets (StartupMessage, CancelRequest) have no type byte.
    void begin_untagged() {
        start_ = out_.size();
        i32(0);
    }

    void u8(std::uint8_t v) { out_.push_back(static_cast<std::byte>(v)); }
    void i16(std::int16_t v) {
        auto u = static_cast<std::uint16_t>(v);
        u8(static_cast<std::uint8_t>(u >> 8));
        u8(static_cast<std::uint8_t>(u));
    }
    void i32(std::int32_t v) {
        auto u = static_cast<std::uint32_t>(v);
        for (int shift = 24; shift >= 0; shift -= 8) {
            u8(static_cast<std::uint8_t>(u >> shift));
        }
    }
    void text(std::string_view s) {
        auto b = as_bytes(s);
        out_.insert(out_.end(), b.begin(), b.end());
    }
    void cstring(std::string_view s) {
        text(s);
        u8(0);
    }
    void bytes(bytes_view b) { out_.insert(out_.end(), b.begin(), b.end()); }

    /// Writes the length word of the message begun last.
    void end() {
        auto len = static_cast<std::uint32_t>(out_.size() - start_);
        for (int i = 0; i < 4; ++i) {
            out_[start_ + static_cast<std::size_t>(i)] =
                static_cast<std::byte>(len >> (24 - 8 * i));
        }
    }

private:
    void begin_tagged(char tag) {
        u8(static_cast<std::uint8_t>(tag));
        start_ = out_.size();
        i32(0);
    }

    byte_buffer& out_;
    std::size_t start_ = 0;
};

}  // namespace sabakan::protocol

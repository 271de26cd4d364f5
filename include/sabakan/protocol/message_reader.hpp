// A cursor over one message body. Reads never run past the end: a short read sets a
// sticky failure flag and returns zero/empty, so callers check once at the end.
#pragma once

#include <sabakan/protocol/bytes.hpp>

#include <cstdint>
#include <cstring>
#include <string_view>

namespace sabakan::protocol {

class message_reader {
public:
    explicit message_reader(bytes_view body) noexcept : data_(body) {}

    std::uint8_t u8() noexcept {
        if (!need(1)) {
            return 0;
        }
        return static_cast<std::uint8_t>(data_[pos_++]);
    }

    std::int16_t i16() noexcept {
        if (!need(2)) {
            return 0;
        }
        auto v = static_cast<std::uint16_t>((std::to_integer<unsigned>(data_[pos_]) << 8) |
                                            std::to_integer<unsigned>(data_[pos_ + 1]));
        pos_ += 2;
        return static_cast<std::int16_t>(v);
    }

    std::int32_t i32() noexcept {
        if (!need(4)) {
            return 0;
        }
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            v = (v << 8) | std::to_integer<std::uint32_t>(data_[pos_ + i]);
        }
        pos_ += 4;
        return static_cast<std::int32_t>(v);
    }

    /// A NUL-terminated string; the view excludes the NUL.
    std::string_view cstring() noexcept {
        if (failed_) {
            return {};
        }
        auto rest = data_.subspan(pos_);
        const void* nul = std::memchr(rest.data(), 0, rest.size());
        if (nul == nullptr) {
            failed_ = true;
            return {};
        }
        auto len = static_cast<std::size_t>(static_cast<const std::byte*>(nul) - rest.data());
        pos_ += len + 1;
        return as_text(rest.first(len));
    }

    bytes_view bytes(std::size_t n) noexcept {
        if (!need(n)) {
            return {};
        }
        auto out = data_.subspan(pos_, n);
        pos_ += n;
        return out;
    }

    bytes_view rest() noexcept {
        auto out = data_.subspan(pos_);
        pos_ = data_.size();
        return out;
    }

    std::size_t remaining() const noexcept { return data_.size() - pos_; }
    bool failed() const noexcept { return failed_; }

    /// True when every read succeeded and the whole body was consumed
    /// (the message's contents agree with its length).
    bool expect_end() const noexcept { return !failed_ && pos_ == data_.size(); }

private:
    bool need(std::size_t n) noexcept {
        if (failed_ || data_.size() - pos_ < n) {
            failed_ = true;
            return false;
        }
        return true;
    }

    bytes_view data_;
    std::size_t pos_ = 0;
    bool failed_ = false;
};

}  // namespace sabakan::protocol

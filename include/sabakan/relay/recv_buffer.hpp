// One fixed-size receive buffer per connection with three cursors:
//   [0, sent) already forwarded | [sent, parsed) scanned, to forward | [parsed, received) to scan
// Forwarding hands the middle slice straight to the socket write: nothing is copied.
// The memory is taken at the first read and can be given back while the buffer is empty,
// so a connection that sits idle holds none.
#pragma once

#include <sabakan/core/assert.hpp>
#include <sabakan/protocol/bytes.hpp>

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>

namespace sabakan::relay {

class recv_buffer {
public:
    explicit recv_buffer(std::size_t capacity) : capacity_(capacity) {}

    std::size_t capacity() const noexcept { return capacity_; }

    /// Room for the next read; compacts first when the tail is short.
    std::span<std::byte> free_space() {
        if (!data_) {
            data_ = std::make_unique_for_overwrite<std::byte[]>(capacity_);  // no zeroing
        }
        if (capacity_ - received_ < capacity_ / 4 && sent_ > 0) {
            compact();
        }
        return {data_.get() + received_, capacity_ - received_};
    }
    void commit(std::size_t n) noexcept {
        received_ += n;
        SABAKAN_ASSERT(invariant());
    }

    protocol::bytes_view unparsed() const noexcept {
        return {data_.get() + parsed_, received_ - parsed_};
    }
    void advance(std::size_t n) noexcept {
        parsed_ += n;
        SABAKAN_ASSERT(invariant());
    }

    protocol::bytes_view to_send() const noexcept { return {data_.get() + sent_, parsed_ - sent_}; }
    void mark_sent() noexcept {
        sent_ = parsed_;
        if (sent_ == received_) {
            sent_ = parsed_ = received_ = 0;  // empty: start over at the front for free
        }
    }
    /// Drops scanned bytes that must not be forwarded (e.g. a Terminate). Call only when
    /// to_send() is empty, after advancing over the message to drop.
    void discard_parsed() noexcept { mark_sent(); }

    /// Takes the last `n` scanned bytes (a whole message just advanced over) out of what
    /// is to be sent, by moving the bytes before them up: for a reply the client must not
    /// see. Costs a move of the unsent bytes before it, which are few: they start at the
    /// same read.
    void drop_parsed_tail(std::size_t n) noexcept {
        SABAKAN_ASSERT(parsed_ - sent_ >= n);
        const std::size_t keep = parsed_ - n - sent_;
        std::memmove(data_.get() + sent_ + n, data_.get() + sent_, keep);
        sent_ += n;
        SABAKAN_ASSERT(invariant());
    }
    /// Rewrites the type byte of the message that is the last `length` scanned bytes.
    void retag_parsed_tail(std::size_t length, char tag) noexcept {
        SABAKAN_ASSERT(parsed_ - sent_ >= length);
        data_[parsed_ - length] = static_cast<std::byte>(tag);
    }

    /// Gives the memory back; the next free_space() takes it again.
    void release() noexcept {
        SABAKAN_ASSERT(received_ == 0);
        data_.reset();
    }
    bool empty() const noexcept { return received_ == 0; }
    bool holds_memory() const noexcept { return data_ != nullptr; }

    bool has_unparsed() const noexcept { return parsed_ < received_; }
    // The cursors themselves, for SHOW SOCKETS.
    std::size_t sent_pos() const noexcept { return sent_; }
    std::size_t parsed_pos() const noexcept { return parsed_; }
    std::size_t received_pos() const noexcept { return received_; }
    bool full() const noexcept { return received_ == capacity_ && sent_ == 0; }

    void compact() noexcept {
        if (sent_ == 0) {
            return;
        }
        std::memmove(data_.get(), data_.get() + sent_, received_ - sent_);
        parsed_ -= sent_;
        received_ -= sent_;
        sent_ = 0;
        SABAKAN_ASSERT(invariant());
    }

    bool invariant() const noexcept {
        return sent_ <= parsed_ && parsed_ <= received_ && received_ <= capacity_;
    }

private:
    std::unique_ptr<std::byte[]> data_;
    std::size_t capacity_;
    std::size_t sent_ = 0;
    std::size_t parsed_ = 0;
    std::size_t received_ = 0;
};

}  // namespace sabakan::relay

// Where bytes enter and leave a connection: every read and write of a client or a server
// connection goes through its transport, and nothing else touches the socket's data.
// Plain TCP and unix sockets are the one kind today; TLS and io_uring plug in here.
//
// The operations are Asio initiating functions, not coroutines: a co_await on them costs
// no coroutine frame (style rule 10), so the forwarding loops stay allocation-free.
// Owned by: the connection that holds it, on one worker's io_context.
#pragma once

#include <sabakan/net/asio.hpp>
#include <sabakan/protocol/bytes.hpp>

#include <cstddef>
#include <span>
#include <utility>

namespace sabakan::net {

class transport {
public:
    explicit transport(asio::io_context& io) : socket_(io) {}
    explicit transport(stream_socket socket) : socket_(std::move(socket)) {}

    /// Reads what has arrived, at least one byte (0 with an error at the end).
    template <typename Token>
    auto async_read_some(std::span<std::byte> into, Token&& token) {
        return socket_.async_read_some(asio::buffer(into.data(), into.size()),
                                       std::forward<Token>(token));
    }
    /// Writes all of `data`.
    template <typename Token>
    auto async_write(protocol::bytes_view data, Token&& token) {
        return asio::async_write(socket_, asio::buffer(data.data(), data.size()),
                                 std::forward<Token>(token));
    }
    /// Completes when there is something to read (or the peer hung up), reading nothing.
    template <typename Token>
    auto async_wait_readable(Token&& token) {
        return socket_.async_wait(stream_socket::wait_read, std::forward<Token>(token));
    }

    /// Sends what the socket takes now, never waiting (MSG_DONTWAIT, no SIGPIPE). Returns
    /// the bytes sent: fewer than data.size() when the send buffer is full; `ec` is set
    /// when the connection is broken.
    ///
    /// Why: Asio completes even a write that finished at once by posting a handler, and a
    /// posted handler makes the loop poll epoll once more before resuming the coroutine,
    /// an extra system call for every forwarded batch. Protocol messages almost always fit
    /// the send buffer, so the forwarding loops send directly first and wait only for what
    /// the kernel did not take.
    std::size_t write_now(protocol::bytes_view data, error_code& ec) noexcept;

    /// What of a read is there now, never waiting: the bytes read into `into`, 0 when the
    /// peer has closed its end, or -1 when nothing is there (or on an error: `broken`).
    std::ptrdiff_t read_now(std::span<std::byte> into, bool& broken) noexcept;
    /// The next byte without consuming it: 1 and `byte` set, 0 when the peer has closed,
    /// -1 when nothing is there, -2 on an error.
    int peek(std::byte& byte) const noexcept;

    /// Ends a pending read or wait with operation_aborted.
    void cancel() noexcept;
    /// Closes the connection; pending operations end with operation_aborted.
    void close() noexcept;
    bool is_open() const noexcept { return socket_.is_open(); }
    int native_handle() noexcept { return socket_.native_handle(); }

    /// The socket underneath, for what is not data: connecting, socket options, addresses,
    /// and handing the descriptor to another worker.
    stream_socket& socket() noexcept { return socket_; }
    const stream_socket& socket() const noexcept { return socket_; }

private:
    stream_socket socket_;
};

}  // namespace sabakan::net

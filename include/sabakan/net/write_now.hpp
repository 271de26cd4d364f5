// A send that never waits, for the forwarding hot path.
//
// Asio completes even a write that finished at once by posting a handler, and a posted
// handler makes the event loop poll epoll once more before resuming the coroutine: an extra
// system call and a trip through the scheduler for every forwarded batch. Protocol messages
// almost always fit the socket's send buffer, so the forwarding loops send directly first
// and fall back to an asynchronous write only for what the kernel did not take.
#pragma once

#include <sabakan/net/asio.hpp>
#include <sabakan/protocol/bytes.hpp>

#include <cstddef>

namespace sabakan::net {

/// Sends what the socket takes now (MSG_DONTWAIT, no SIGPIPE). Returns the bytes sent:
/// fewer than data.size() when the send buffer is full; `ec` is set when the connection
/// is broken.
std::size_t write_now(stream_socket& socket, protocol::bytes_view data, error_code& ec) noexcept;

}  // namespace sabakan::net

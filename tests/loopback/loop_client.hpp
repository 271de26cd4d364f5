// The client for layout::single_thread: the requests of wire_client, sent from one flat
// coroutine on the rig's own event loop. A single io_context::run() on the caller's thread
// then serves client, pooler and fake server, and Asio's per-thread memory caches live for
// the whole run, as they do on a worker thread.
// Owned by: the rig's loop; used only from pooler_rig::run_on_loop().
#pragma once

#include <sabakan/net/asio.hpp>
#include <sabakan/protocol/message_writer.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace sabakan::loopback {

class loop_client {
public:
    enum class request { simple_query, extended_query, stop };

    loop_client(net::asio::io_context& io, std::string socket_path);
    loop_client(const loop_client&) = delete;
    loop_client& operator=(const loop_client&) = delete;

    /// Connects and logs in on its first call, then runs transactions one at a time, each
    /// of the kind `next()` returns, until it returns stop. `next` runs on the loop between
    /// transactions. Throws std::runtime_error as wire_client does.
    net::awaitable<void> run(std::function<request()> next);
    /// Bytes of answers received so far, login included.
    std::size_t bytes_received() const noexcept { return received_; }

private:
    net::asio::local::stream_protocol::socket socket_;
    std::string path_;
    std::vector<std::byte> in_;
    protocol::byte_buffer startup_;
    protocol::byte_buffer simple_;
    protocol::byte_buffer extended_;
    std::size_t received_ = 0;
};

}  // namespace sabakan::loopback

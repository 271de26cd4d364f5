// A real session::pooler, wired as src/app/main.cpp wires it, in front of a fake_server,
// in a private temporary directory with unix sockets only (no ports to collide). Where the
// event loops run is the caller's choice (see layout). Clients connect to pooler_socket().
#pragma once

#include "fake_server.hpp"

#include <sabakan/net/asio.hpp>
#include <sabakan/session/pooler.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace sabakan::loopback {

enum class layout {
    /// The pooler's loop and the fake server's loop each on a thread of their own; the
    /// caller's client is a third thread.
    own_threads,
    /// The fake server on the pooler's loop and thread, sharing Asio's per-thread caches,
    /// as a busy worker shares them among its connections.
    server_on_pooler_thread,
    /// No threads: the pooler, the fake server and a loop_client share one loop, which the
    /// caller runs with run_on_loop(). No hop wakes another thread, so the time per
    /// transaction is the CPU work alone.
    single_thread,
};

struct rig_options {
    layout where = layout::own_threads;
    std::string pool_mode = "transaction";
    int pool_size = 2;
    /// Run first on the thread that runs the pooler's loop, e.g. to watch its allocations.
    /// With layout::single_thread that is the caller's thread, during the constructor.
    std::function<void()> on_pooler_thread;
    /// Further [pgbouncer] lines, e.g. "pkt_buf = 8192\n".
    std::string extra_settings;
};

class pooler_rig {
public:
    static constexpr std::string_view user = "bench";
    static constexpr std::string_view database = "bench";

    /// Starts the event loops (none with layout::single_thread). Throws when the config
    /// does not load or a socket cannot be bound. The log goes to a file in the rig's
    /// directory (see log_text()).
    explicit pooler_rig(rig_options options = {});
    /// Stops the loops, joins the threads and removes the directory. Clients should be gone
    /// first; any left are cut off.
    ~pooler_rig();
    pooler_rig(const pooler_rig&) = delete;
    pooler_rig& operator=(const pooler_rig&) = delete;

    /// layout::single_thread: the loop that the pooler, the fake server and a loop_client
    /// share.
    net::asio::io_context& loop() noexcept { return pooler_io_; }
    /// layout::single_thread: runs the loop on the caller's thread until `task` ends, and
    /// rethrows what it threw.
    void run_on_loop(net::awaitable<void> task);

    /// Where clients connect: the pooler's unix socket.
    std::string pooler_socket() const;
    /// The fake PostgreSQL's own socket, for a baseline without the pooler.
    std::string server_socket() const;
    /// Connections the fake PostgreSQL has accepted: the servers the pooler opened.
    std::uint64_t server_connections() const noexcept { return server_->connections(); }
    /// What the pooler logged so far, for a failed test to show.
    std::string log_text() const;

private:
    layout where_;
    std::string dir_;
    // Declared before what runs on them, so they are destroyed last. Made as main.cpp makes
    // its loop: each loop's sockets are used by one thread only, so the reactor's
    // per-socket locks are skipped; the scheduler's lock stays for the posts from outside.
    net::asio::io_context pooler_io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    net::asio::io_context server_io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    std::unique_ptr<fake_server> server_;
    std::unique_ptr<session::pooler> pooler_;
    std::thread pooler_thread_;
    std::thread server_thread_;
};

}  // namespace sabakan::loopback

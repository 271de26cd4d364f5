// One client connection: startup, authentication against the userlist, a welcome from
// the pool's cached server parameters, then forwarding of the client's messages to a
// server borrowed from the pool for as long as the pool mode says.
// Owned by: one worker io_context; never touched from another thread.
#pragma once

#include <sabakan/net/asio.hpp>
#include <sabakan/net/recv_buffer.hpp>
#include <sabakan/pool/server_pool.hpp>
#include <sabakan/protocol/frame_scanner.hpp>
#include <sabakan/protocol/message_writer.hpp>
#include <sabakan/protocol/startup.hpp>

#include <memory>
#include <string>

namespace sabakan::session {

class backend_pool;
class pooler;
class server_connection;

class client_session : public pool::waiter, public std::enable_shared_from_this<client_session> {
public:
    client_session(pooler& owner, net::stream_socket socket, bool is_unix);
    ~client_session();

    void start();

    net::stream_socket& socket() noexcept { return socket_; }
    server_connection* server() const noexcept { return server_.get(); }
    const std::string& user() const noexcept { return user_; }
    const std::string& database() const noexcept { return database_; }
    const std::string& peer() const noexcept { return peer_; }
    std::uint64_t id() const noexcept { return id_; }

    /// The pool lends a server (or nullptr when none can be had).
    void wake(pool::server_slot* server) override;
    /// The server side ends the link (released to the pool, or lost).
    void detach_server() noexcept;
    /// The server was lost mid-transaction: tell the client and close. Only the server
    /// side calls this, while linked, so no other write to the client is in flight.
    void server_lost(std::string_view message);

private:
    net::awaitable<void> run();
    net::awaitable<void> run_session();
    net::awaitable<bool> read_startup(protocol::startup_packet& sp);
    net::awaitable<bool> handle_startup(const protocol::startup_packet& sp);
    net::awaitable<bool> authenticate();
    net::awaitable<bool> read_password(std::string& out, bool is_cstring = true);
    net::awaitable<bool> authenticate_scram(const std::string* secret);
    net::awaitable<bool> welcome();
    enum class wait_result { served, timed_out, login_failed, client_gone };
    /// Links an idle server now and returns true, or queues for one and arms wait_timer_.
    bool try_acquire();
    /// After wait_timer_ fired or was cancelled: what the wait for a server came to.
    wait_result end_wait();
    /// Tells the client why it got no server (nothing when it is gone).
    net::awaitable<void> wait_failed(wait_result r);
    net::awaitable<void> no_such_database();
    void link_to(pool::server_slot* slot);
    /// After a wait for a server: whether the client hung up meanwhile.
    bool left_while_waiting();
    net::awaitable<void> forward();
    net::awaitable<void> handle_cancel(protocol::cancel_key key);
    net::awaitable<void> send(protocol::byte_buffer& out);
    net::awaitable<void> fatal(std::string_view sqlstate, std::string_view message,
                               std::string_view hint = {});
    void finish();
    void arm_login_timer();

    pooler& owner_;
    net::stream_socket socket_;
    net::recv_buffer buf_;
    protocol::frame_scanner scanner_;
    net::asio::steady_timer wait_timer_;
    backend_pool* pool_ = nullptr;
    std::shared_ptr<server_connection> server_;
    bool woken_ = false;
    bool closed_ = false;
    bool registered_ = false;
    bool counted_ = false;
    bool logged_in_ = false;
    bool is_unix_;
    protocol::cancel_key key_;
    std::uint64_t id_;
    std::string user_;
    std::string database_;
    std::string peer_;
    std::string close_reason_;   // for the disconnect log line; empty: the client left
    std::string wait_error_;     // why the pool could not serve the last wait
    std::string startup_bytes_;  // keeps the startup packet's views alive during login
};

}  // namespace sabakan::session

// One client connection: startup, authentication against the userlist, a welcome from
// the pool's cached server parameters, then forwarding of the client's messages to a
// server borrowed from the pool for as long as the pool mode says.
// Owned by: one worker io_context; never touched from another thread.
#pragma once

#include <sabakan/net/asio.hpp>
#include <sabakan/net/transport.hpp>
#include <sabakan/pool/client_timeouts.hpp>
#include <sabakan/pool/server_pool.hpp>
#include <sabakan/protocol/frame_scanner.hpp>
#include <sabakan/protocol/message_writer.hpp>
#include <sabakan/protocol/startup.hpp>
#include <sabakan/relay/client_relay.hpp>
#include <sabakan/relay/recv_buffer.hpp>
#include <sabakan/relay/session_params.hpp>
#include <sabakan/session/client_login.hpp>
#include <sabakan/session/registry_hook.hpp>

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>

namespace sabakan::session {

class backend_pool;
class pooler;
class server_connection;

/// Where a client is in its life. Whether it holds a server (server()) or waits for one
/// (waiting()) is said by the pool's own bookkeeping, not repeated here.
enum class client_phase : std::uint8_t {
    login,       // startup packet, authentication, welcome; client_login_timeout runs
    console,     // an admin console session
    forwarding,  // logged in: reading the client, queued for a server, or linked to one
    parking,     // park() cancelled the idle read; the coroutine is ending
    parked,      // no coroutine: a plain handler waits for the socket
    closing,     // closed or being closed: every step ends here, and it is never left
};

/// How the last wait for a server was answered.
enum class wait_answer : std::uint8_t {
    none,             // not answered (yet): still queued, or timed out
    served,           // a server was lent
    refused,          // no server will come (server login failing)
    refused_at_once,  // refused inside acquire(): the error is server_login_retry's cached one
};

class client_session final : public pool::waiter,
                             public std::enable_shared_from_this<client_session>,
                             private login_channel {
public:
    client_session(pooler& owner, net::stream_socket socket, bool is_unix);
    ~client_session();

    void start();

    /// Where its bytes enter and leave.
    net::transport& transport() noexcept { return transport_; }
    server_connection* server() const noexcept { return server_.get(); }
    const std::string& user() const noexcept { return who_.user; }
    const std::string& database() const noexcept { return who_.database; }
    const std::string& peer() const noexcept { return who_.peer; }
    std::uint64_t id() const noexcept { return who_.id; }
    bool is_unix() const noexcept { return who_.is_unix; }
    bool is_admin() const noexcept { return who_.is_admin; }
    /// May run every console command (admin_users); otherwise only SHOW (stats_users).
    bool is_admin_user() const noexcept { return admin_user_; }
    /// Authenticated (it may have been refused or closed since).
    bool logged_in() const noexcept { return authenticated_; }
    /// Woken without a server: its task has yet to resume and report the failure.
    bool wait_ending() const noexcept {
        return wait_ == wait_answer::refused || wait_ == wait_answer::refused_at_once;
    }
    const std::string& application_name() const noexcept { return who_.application_name; }
    backend_pool* pool() const noexcept { return pool_; }
    std::time_t connect_time() const noexcept { return connect_time_; }
    std::time_t request_time() const noexcept { return request_time_; }
    /// The local end of the socket as "addr" and port ("unix" for the unix socket).
    std::pair<std::string, int> local_address() const;
    /// The peer's address and port, split ("unix" and the listen port for the socket).
    std::pair<std::string, int> peer_address() const;
    const relay::recv_buffer& buffer() const noexcept { return buf_; }
    /// Its named prepared statements (transaction and statement mode).
    relay::client_statements& statements() noexcept { return relay_.names(); }
    const relay::client_statements& statements() const noexcept { return relay_.names(); }
    /// The session parameters it expects that may differ from its pool's defaults.
    relay::parameter_overrides& parameters() noexcept { return parameters_; }
    /// The linked server now has the parameters this client expects: forwarding goes on.
    void parameters_synced() noexcept { wait_timer_.cancel(); }
    /// Closes the connection (KILL, KILL_CLIENT, shutdown); its server is closed with it
    /// unless it was clean.
    void kill(std::string_view reason);
    /// Closes the connection without a word: for when the client's stream is in the middle
    /// of a message, where an ErrorResponse would be read as the rest of it.
    void abort(std::string_view reason);
    /// The peer closed its end, or its next message is a Terminate (checked without
    /// consuming anything it sent). For a console session waiting on a command.
    bool hung_up() const;

    registry_hook registry_hook_;

    /// The pool lends a server (or nullptr when none can be had).
    void wake(pool::server_slot* server) override;
    /// The sweep found it queued for longer than query_wait_timeout: the wait ends and the
    /// client is told so.
    void wait_timed_out();
    /// The server side ends the link (released to the pool, or lost).
    void detach_server() noexcept;
    /// The server was lost mid-transaction: tell the client and close. Only the server
    /// side calls this, while linked, so no other write to the client is in flight.
    void server_lost(std::string_view message);
    /// Sends an ErrorResponse (FATAL) and closes. Only when nothing else writes to the
    /// client: it is linked to no server, or its server is gone (the sweep's timeouts).
    void end_with_error(std::string_view sqlstate, std::string_view message, std::string_view hint);
    /// An idle client (no server, nothing buffered, waiting to read) gives back its receive
    /// buffer and its coroutine frames, and waits for its socket with a plain handler, so
    /// that thousands of idle connections cost little memory. The sweep calls this for
    /// clients idle a while: parking on every transaction would cost a new coroutine each.
    void park() noexcept;
    bool parked() const noexcept { return phase_ == client_phase::parked; }
    /// The [users] timeouts of the user it logged in as (pooler::user_limits_for).
    const pool::user_limits& user_limits() const noexcept { return user_limits_; }
    void set_user_limits(const pool::user_limits& l) noexcept { user_limits_ = l; }
    /// The time (steady µs) its last transaction ended, for client_idle_timeout.
    void note_idle_since(std::int64_t us) noexcept { idle_since_us_ = us; }
    std::int64_t idle_since_us() const noexcept { return idle_since_us_; }

private:
    net::awaitable<void> run();
    /// Login, then forward(): true when the client was parked.
    net::awaitable<bool> run_session();
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
    /// Forwards until the client leaves (false) or is parked (true).
    net::awaitable<bool> forward();
    /// A parked client's socket became readable: forwarding starts again.
    net::awaitable<void> resume();
    /// After forward(): wait parked for the next message, or end the session.
    void after_forward(bool parked);
    void unpark(const net::error_code& ec);
    /// The admin console: simple queries in, answers out, until the client leaves.
    net::awaitable<void> serve_console();
    net::awaitable<bool> welcome_console();
    net::awaitable<void> send(protocol::byte_buffer& out) override;

    /// A tracking link's view of the worker for statement rewriting.
    relay::rewrite_context rewrite_context();
    net::awaitable<void> fatal(std::string_view sqlstate, std::string_view message,
                               std::string_view hint = {}) override;
    void finish();
    /// The one place the phase changes; a step the life cycle does not have is a bug.
    void set_phase(client_phase next) noexcept;
    bool closing() const noexcept override { return phase_ == client_phase::closing; }
    void arm_login_timer();

    pooler& owner_;
    net::transport transport_;
    relay::recv_buffer buf_;
    protocol::frame_scanner scanner_;
    net::steady_timer wait_timer_;
    backend_pool* pool_ = nullptr;
    std::shared_ptr<server_connection> server_;
    relay::client_relay relay_;  // its statement names, and its messages on their way
    relay::parameter_overrides parameters_;
    client_phase phase_ = client_phase::login;  // changed only by set_phase()
    wait_answer wait_ = wait_answer::none;
    bool authenticated_ = false;
    bool sending_ = false;  // a write of its own (send()) is in flight
    bool registered_ = false;
    bool counted_ = false;
    /// Connected after a shutdown began (through the unix socket, kept open for admins):
    /// refused unless it is an admin.
    bool came_during_shutdown_ = false;
    bool admin_user_ = false;
    bool joined_pool_ = false;
    bool admitted_ = false;  // counted against the per-database and per-user client limits
    bool reading_ = false;   // forward() waits for the client's next bytes
    std::time_t connect_time_ = 0;
    std::time_t request_time_ = 0;
    std::int64_t idle_since_us_ = 0;
    pool::user_limits user_limits_;
    protocol::cancel_key key_;
    client_identity who_;
    // For the disconnect log line (empty: the client left); while woken without a server,
    // why the pool could not serve it.
    std::string close_reason_;
};

}  // namespace sabakan::session

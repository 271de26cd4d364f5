// One connection to PostgreSQL: logs in, then forwards the server's messages to the
// client it is lent to, watching ReadyForQuery to know when the server is free again.
// Owned by: one worker io_context; never touched from another thread.
#pragma once

#include <sabakan/net/asio.hpp>
#include <sabakan/net/transport.hpp>
#include <sabakan/pool/server_pool.hpp>
#include <sabakan/protocol/frame_scanner.hpp>
#include <sabakan/protocol/startup.hpp>
#include <sabakan/relay/link.hpp>
#include <sabakan/relay/parameter_sync.hpp>
#include <sabakan/relay/recv_buffer.hpp>
#include <sabakan/relay/session_params.hpp>
#include <sabakan/session/registry_hook.hpp>
#include <sabakan/stats/counters.hpp>

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>

namespace sabakan::session {

class backend_pool;
class client_session;
class pooler;

/// What a logged-in idle server takes along when it moves to another worker.
struct moving_server {
    int fd = -1;
    net::stream_endpoint endpoint;
    protocol::cancel_key key;
    std::uint64_t id = 0;
    std::time_t connect_time = 0;
    std::int64_t created_us = 0;
    std::uint64_t generation = 0;  // pool::server_pool::generation_of()
    std::int64_t idle_since_us = 0;
    std::string database;  // its pool's pair
    std::string user;
    std::vector<relay::statement_id> statements;  // prepared on it, most recently used first
    relay::parameter_overrides parameters;        // its session parameters off the pool's defaults
};

class server_connection final : public pool::server_slot,
                                public std::enable_shared_from_this<server_connection> {
public:
    server_connection(pooler& owner, backend_pool& pool);
    /// A server another worker handed over, already logged in.
    server_connection(pooler& owner, backend_pool& pool, moving_server&& from);
    ~server_connection();

    /// Connects and logs in; reports to the pool with login_done()/login_failed().
    void start();
    /// For a server handed over: joins the pool (pool::server_pool::adopt) and serves.
    void start_adopted(const moving_server& from);
    /// The pool took this idle server out for `worker`, keeping its budget place: the read
    /// loop stops, and the socket goes to that worker.
    void move_to(int worker);

    /// Where its bytes enter and leave.
    net::transport& transport() noexcept { return transport_; }
    /// The relay core of this server: the link to its client, its statements and parameters.
    relay::link& link() noexcept { return link_; }
    const relay::link& link() const noexcept { return link_; }
    backend_pool& pool() noexcept { return pool_; }
    bool closed() const noexcept { return closed_; }
    protocol::cancel_key backend_key() const noexcept { return key_; }
    /// A cancel request for this server's current query is on its way to PostgreSQL. Until
    /// PostgreSQL has taken it (end_cancel), the server is not lent to another client,
    /// whose query the late cancel would hit; a release meanwhile waits for it.
    void begin_cancel() noexcept { ++cancels_in_flight_; }
    void end_cancel();
    const net::stream_endpoint& endpoint() const noexcept { return endpoint_; }
    std::uint64_t id() const noexcept { return id_; }
    client_session* client() const noexcept { return client_.get(); }
    std::time_t connect_time() const noexcept { return connect_time_; }
    std::time_t request_time() const noexcept { return request_time_; }
    std::pair<std::string, int> local_address() const;
    std::pair<std::string, int> peer_address() const;
    const relay::recv_buffer& buffer() const noexcept { return buf_; }

    registry_hook registry_hook_;

    /// The statements prepared on it.
    const relay::server_statements& statements() const noexcept { return link_.cache(); }
    /// Its tracked session parameters that may differ from the pool's defaults.
    const relay::parameter_overrides& parameters() const noexcept { return link_.parameters(); }
    /// Runs `sql` (parameter_sync_query()'s SETs for the bits in `synced`) before the linked
    /// client's first message; the client hears of the outcome through parameters_synced()
    /// or an error that closes it.
    void start_parameter_sync(std::string sql, std::uint32_t synced);
    /// The last parameter sync's error ("" when it succeeded), and its SQLSTATE.
    const std::string& sync_error() const noexcept { return sync_.error(); }
    const std::string& sync_sqlstate() const noexcept { return sync_.sqlstate(); }

    /// Lends this server to `c` (called when the pool hands it over).
    void attach(std::shared_ptr<client_session> c);
    /// The client side finished a write to this server. When that was all the release rule
    /// waited for, the server goes back to the pool now (transaction and statement mode).
    void release_if_done();
    /// The client left. A clean server goes back to the pool (after server_reset_query in
    /// session mode); a dirty one is closed, never handed to another client.
    void client_gone();
    /// Forgets its client without any protocol step (process exit only).
    void drop_client() noexcept { forget_client(); }
    /// Runs server_check_query on this idle server (pool state tested); the pool hears of
    /// the outcome through check_done(), or the server closes.
    void start_check();
    /// Closes the socket; the read loop then cleans up.
    void close(std::string_view reason);
    /// Closes it, and its linked client gets an ErrorResponse with `sqlstate`, `reason`
    /// and `hint` instead of "server closed the connection" (query_timeout and friends).
    void close_for_client(std::string_view sqlstate, std::string_view reason,
                          std::string_view hint);
    // For the periodic sweep: steady-clock µs, 0 when none.
    std::int64_t query_started_us() const noexcept { return link_.times().query_started_us; }
    std::int64_t xact_started_us() const noexcept { return link_.times().xact_started_us; }
    std::int64_t last_ready_us() const noexcept { return link_.times().last_ready_us; }

private:
    net::awaitable<void> run();
    net::awaitable<void> forward();
    /// forward(), then whatever its end means: the server moves, or it is gone.
    net::awaitable<void> serve();
    /// The read loop stopped for move_to(): sends the socket on, or closes it if the server
    /// said something meanwhile.
    void finish_move();
    /// Sends a query of sabakan's own (server_reset_query, server_check_query) to the
    /// unlinked server; consume_unlinked() reads the answer.
    net::awaitable<void> send_own_query(std::string sql);
    void detach();
    /// Lets go of the client, and the relay link forgets it too: what the server says from
    /// now on (a reset's ParameterStatus, replies to what it sent) reaches no client.
    void forget_client() noexcept {
        link_.detach();
        client_.reset();
    }
    void release();
    /// Gives the unlinked server back to its pool, or closes it when the pool says so.
    void return_to_pool();
    void after_client_left();
    bool consume_unlinked();
    /// The answer to a parameter sync; false when the server was closed.
    bool consume_parameter_sync();
    /// Where the server is, for log lines: "host:port" or "unix:port".
    std::string server_address() const;
    void fail_login(std::string message, pool::login_failure why = pool::login_failure::refused);

    pooler& owner_;
    backend_pool& pool_;
    net::transport transport_;
    net::stream_endpoint endpoint_;
    relay::recv_buffer buf_;
    protocol::frame_scanner scanner_;
    protocol::cancel_key key_;
    std::shared_ptr<client_session> client_;
    relay::link link_;
    relay::parameter_sync sync_;  // the answer to the last parameter sync
    std::uint64_t id_;
    int moving_to_ = -1;  // move_to()'s worker until the read loop has stopped
    bool logged_in_ = false;
    bool closed_ = false;
    bool writing_to_client_ = false;
    enum class own_query : std::uint8_t { none, reset, check, parameters };
    own_query running_ = own_query::none;  // a query of sabakan's own is being answered
    int cancels_in_flight_ = 0;            // begin_cancel() not yet ended
    bool held_for_cancel_ = false;         // released while a cancel was in flight
    bool client_left_ = false;
    bool timed_out_ = false;
    std::string close_reason_;
    std::time_t connect_time_ = 0;
    std::time_t request_time_ = 0;
    std::string client_sqlstate_;  // set by close_for_client()
    std::string client_hint_;
};

}  // namespace sabakan::session

// The state one event loop serves clients from: the configuration in force, the
// userlist, the pools, the cancel-key registry and the listeners.
// Owned by: one worker io_context; never touched from another thread.
#pragma once

#include <sys/types.h>

#include <sabakan/auth/scram.hpp>
#include <sabakan/auth/userlist.hpp>
#include <sabakan/config/config.hpp>
#include <sabakan/core/log.hpp>
#include <sabakan/net/asio.hpp>
#include <sabakan/pool/client_timeouts.hpp>
#include <sabakan/pool/server_pool.hpp>
#include <sabakan/protocol/message_writer.hpp>
#include <sabakan/protocol/startup.hpp>
#include <sabakan/relay/prepared_statements.hpp>
#include <sabakan/relay/session_params.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/client_tally.hpp>
#include <sabakan/session/server_connection.hpp>

#include <boost/intrusive/list.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace sabakan::session {

class janitor;
class listener;
class worker_group;

/// The admin console (database "pgbouncer"): the admin layer implements it, so the session
/// layer only knows that a query goes in and an answer comes out.
class console {
public:
    /// Runs one simple-protocol query from an admin client and appends the whole answer
    /// (rows, CommandComplete or ErrorResponse; no ReadyForQuery) to `out`. May wait (PAUSE,
    /// WAIT_CLOSE). Returns false when the client must be disconnected afterwards.
    virtual net::awaitable<bool> execute(client_session& client, std::string query,
                                         protocol::byte_buffer& out) = 0;

protected:
    ~console() = default;
};

enum class shutdown_mode : std::uint8_t {
    none,
    wait_for_servers,  // SIGINT, SHUTDOWN WAIT_FOR_SERVERS: exit once servers are released
    wait_for_clients,  // SIGTERM, SHUTDOWN WAIT_FOR_CLIENTS: exit once clients have left
};

/// Where and as whom a pool's servers log in.
struct server_target {
    std::string host;  // IP or name; a path for a unix socket directory
    int port = 5432;
    std::string dbname;
    std::string user;
    std::string password;  // plain password or md5 secret; empty: none known
    std::vector<std::pair<std::string, std::string>> startup_extra;  // client_encoding, ...

    friend bool operator==(const server_target&, const server_target&) = default;
};

/// A pool together with what its servers connect to.
class backend_pool : public pool::server_pool {
public:
    backend_pool(std::string database, std::string user, pool::pool_settings s, pool::connector& c,
                 server_target target, pool::pool_budget* budget = nullptr, int worker = 0)
        : server_pool(std::move(database), std::move(user), s, c, budget, worker),
          target_(std::move(target)) {}
    const server_target& target() const noexcept { return target_; }
    void set_target(server_target t) { target_ = std::move(t); }

private:
    server_target target_;
};

class pooler : public pool::connector {
public:
    pooler(net::asio::io_context& io, std::shared_ptr<const config::config> cfg,
           std::shared_ptr<const auth::userlist> users);
    ~pooler();

    net::asio::io_context& io() noexcept { return io_; }

    // ---- several workers ----
    /// This pooler is worker `worker` of `g`: its pools share their budgets with the other
    /// workers' pools, and idle servers move to where clients wait.
    void join(worker_group& g, int worker);
    worker_group* group() const noexcept { return group_; }
    int worker_index() const noexcept { return worker_; }
    /// Every pooler of the process (this one alone without a group).
    std::vector<pooler*> all_workers();
    /// For workers after the first: accept on copies of `first`'s listening sockets.
    void share_listeners(pooler& first);
    /// The worker that gave out the cancel key `key`.
    int worker_of(protocol::cancel_key key) const noexcept;
    /// Another worker asks for an idle server of the pool (database, user).
    void give_server(const std::string& database, const std::string& user, int to);
    /// A server arriving from another worker (posted there by send_server()).
    void adopt_server(moving_server m);
    void send_server(int worker, moving_server m);
    /// Tells `worker` that the server it asked for (pool (database, user)) is not coming.
    void send_refusal(int worker, const std::string& database, const std::string& user);
    void send_refusal(int worker, const pool::server_pool& p) {
        send_refusal(worker, p.database(), p.user());
    }
    /// Closes one idle server of a pool other than (database, user) that shares the
    /// max_db_connections/max_user_connections limit the flags say is reached; false if
    /// this worker has none.
    bool make_room(const std::string& database, const std::string& user, bool db_ok, bool user_ok);
    const config::config& cfg() const noexcept { return *cfg_; }
    std::shared_ptr<const config::config> cfg_ptr() const noexcept { return cfg_; }
    const config::settings& settings() const noexcept { return cfg_->bouncer; }
    const auth::userlist& users() const noexcept { return *users_; }
    std::shared_ptr<const auth::userlist> users_ptr() const noexcept { return users_; }

    /// Binds every listener; throws std::system_error naming the address on failure.
    /// `inherited`: listening sockets a service manager passed (socket activation), used
    /// instead of the config's listen_addr and unix_socket_dir.
    void listen(const std::vector<int>& inherited = {});
    /// Closes the TCP listeners; the unix socket too unless `keep_unix` (admin logins
    /// during a shutdown).
    void stop_listening(bool keep_unix = false);

    /// Replaces the configuration and userlist. Existing pools keep their servers; their
    /// sizes and modes follow the new settings; a pool whose server target changed retires
    /// its servers (closed as they are released).
    void reload(std::shared_ptr<const config::config> cfg,
                std::shared_ptr<const auth::userlist> users);
    /// The auth_file `cfg` names, read; an empty userlist when it names none. Throws on a
    /// file that cannot be read or parsed.
    static std::shared_ptr<const auth::userlist> load_users(const config::config& cfg);
    /// Where RELOAD and SIGHUP read from, and the log options the command line set.
    void set_config_source(std::string path, log::options base);
    /// RELOAD/SIGHUP: re-reads the config file and auth_file and reopens the log, for every
    /// worker (so with the world stopped when there are several). On any error the running
    /// configuration stays and the log says why; returns false then.
    bool reload_from_file();

    // ---- admin operations; `db` empty means every database ----
    void set_console(console* c) noexcept { console_ = c; }
    console* admin_console() const noexcept { return console_; }
    /// PAUSE: lend no servers; close them as they are released.
    void pause(const std::string& db);
    /// RESUME: undo PAUSE, KILL and SUSPEND.
    void resume(const std::string& db);
    bool is_paused(std::string_view db) const;
    /// No server of `db` is left (what PAUSE waits for).
    bool drained(const std::string& db);
    /// DISABLE/ENABLE: refuse or allow new client logins to `db`.
    void set_disabled(const std::string& db, bool disabled);
    bool is_disabled(std::string_view db) const { return disabled_.contains(std::string(db)); }
    /// RECONNECT: close servers as they are released, idle ones now.
    void reconnect(const std::string& db);
    /// No server of `db` still waits to be closed (WAIT_CLOSE).
    bool none_close_needed(const std::string& db);
    /// KILL: drop every client and server of `db` (admin clients stay) and pause it.
    void kill(const std::string& db);
    /// KILL_CLIENT: drops one client (and its server); false when no such id.
    bool kill_client(std::uint64_t id);
    bool suspended() const noexcept { return suspended_; }
    /// SUSPEND: every connection stops reading once its pending bytes are written.
    void suspend();
    /// Returns once RESUME ends a SUSPEND.
    net::awaitable<void> wait_while_suspended();
    /// No connection has scanned bytes still to forward (what SUSPEND waits for).
    bool buffers_flushed();
    /// SHUTDOWN and the signals: stop accepting, and exit the event loop when the mode's
    /// condition holds; `none` exits now.
    void shutdown(shutdown_mode mode);
    shutdown_mode shutting_down() const noexcept { return shutdown_; }
    bool exiting() const noexcept { return exiting_; }

    /// Database names known to the config (in file order, "*" left out) and those the "*"
    /// entry made pools for on any worker.
    std::vector<std::string> database_names() const;
    const std::map<std::pair<std::string, std::string>, std::unique_ptr<backend_pool>>& pools()
        const noexcept {
        return pools_;
    }

    // ---- registries and statistics ----
    using client_list =
        boost::intrusive::list<client_session,
                               boost::intrusive::member_hook<client_session, registry_hook,
                                                             &client_session::registry_hook_>,
                               boost::intrusive::constant_time_size<false>>;
    using server_list =
        boost::intrusive::list<server_connection,
                               boost::intrusive::member_hook<server_connection, registry_hook,
                                                             &server_connection::registry_hook_>,
                               boost::intrusive::constant_time_size<false>>;
    void add(client_session& c) noexcept;
    /// Moves a client that just parked to the back of the list, and back to the front when
    /// it wakes, so the sweep can stop at the first parked one.
    void client_parked(client_session& c) noexcept;
    void client_unparked(client_session& c) noexcept;
    void add(server_connection& s) noexcept;
    client_list& clients() noexcept { return clients_; }
    server_list& servers() noexcept { return servers_; }
    /// Counters of the admin pseudo-database.
    stats::counters& admin_stats() noexcept { return admin_stats_; }
    /// Totals per database (SHOW STATS), admin database included, over every worker (so
    /// with the world stopped when there are several).
    std::map<std::string, stats::counters> totals_by_database() const;
    /// Averages per database over the last complete stats period.
    /// (The first worker computes them for all.)
    const std::map<std::string, stats::counters>& averages_by_database() const noexcept;
    /// Averages over all databases together (SHOW TOTALS, the log_stats line).
    const stats::counters& averages_total() const noexcept;

    /// The pool for a client's (database, user), created on first use; nullptr when no
    /// [databases] entry (nor "*") matches.
    backend_pool* pool_for(std::string_view database, std::string_view user);

    void open_server(pool::server_pool& p) override;
    bool may_open(const pool::server_pool& p, bool for_waiter) override;
    void check_server(pool::server_slot& s) override;
    void hand_over(pool::server_slot& s, int worker) override;
    void ask_for_server(pool::server_pool& p, int worker) override;
    /// The [users] limits of a client that logged in as `user`, µs (client_session keeps
    /// them; RELOAD refreshes every client's).
    pool::user_limits user_limits_for(std::string_view user) const;

    // Cancel keys sabakan hands to its clients.
    protocol::cancel_key register_client(client_session* c);
    void unregister_client(protocol::cancel_key key) noexcept;
    client_session* find_client(protocol::cancel_key key) const noexcept;

    /// Client connections of every worker.
    int client_count() const noexcept {
        return tally_->connections.load(std::memory_order_relaxed);
    }
    /// A logged-in client of (database, user) joins; returns the name of the limit it
    /// would break (max_db_client_connections, max_user_client_connections) and then does
    /// not count it, else an empty view.
    std::string_view admit_client(const std::string& database, const std::string& user);
    void client_left(const std::string& database, const std::string& user);
    void client_opened() noexcept { tally_->connections.fetch_add(1, std::memory_order_relaxed); }
    void client_closed() noexcept;
    /// Unique across the process's workers.
    static std::uint64_t next_connection_id() noexcept;
    /// This worker's named prepared statements, each distinct text held once.
    relay::statement_registry& statements() noexcept { return statements_; }
    /// SCRAM secrets derived from auth_file's plain-text passwords, this worker's.
    auth::scram_secret_cache& scram_cache() noexcept { return scram_cache_; }
    /// The session parameters kept in step between clients and servers (fixed at start:
    /// track_extra_parameters needs a restart).
    const relay::tracked_parameters& tracked() const noexcept { return tracked_; }

private:
    pool::pool_settings settings_for(const config::database_entry& db, std::string_view user) const;
    server_target target_for(const config::database_entry& db, std::string_view database,
                             const std::string& server_user) const;
    /// Calls f(pool) for the pools of `db`, or of every database when it is empty.
    template <typename F>
    void for_pools(const std::string& db, F&& f);
    /// Closes the idle servers of `p`.
    void close_idle(backend_pool& p, std::string_view reason);
    void arm_shutdown_check();
    /// This worker has met the shutdown mode's condition.
    bool shutdown_done();

    net::asio::io_context& io_;
    worker_group* group_ = nullptr;
    int worker_ = 0;
    std::shared_ptr<const config::config> cfg_;
    std::shared_ptr<const auth::userlist> users_;
    std::map<std::pair<std::string, std::string>, std::unique_ptr<backend_pool>> pools_;
    std::unordered_map<std::uint64_t, client_session*> clients_by_key_;
    std::unique_ptr<listener> listener_;
    client_tally own_tally_;
    client_tally* tally_ = &own_tally_;  // the group's once joined

    console* console_ = nullptr;
    std::string config_path_;
    log::options log_base_;
    std::set<std::string> paused_;  // databases paused one by one
    bool all_paused_ = false;
    std::set<std::string> disabled_;
    bool suspended_ = false;
    shutdown_mode shutdown_ = shutdown_mode::none;
    bool exiting_ = false;
    net::steady_timer shutdown_timer_;
    net::steady_timer resume_signal_;  // waited on while suspended; RESUME cancels it
    client_list clients_;
    server_list servers_;
    stats::counters admin_stats_;
    relay::statement_registry statements_;
    auth::scram_secret_cache scram_cache_;
    relay::tracked_parameters tracked_;
    // max_db_connections/max_user_connections: when this worker last asked another to
    // close an idle server to make room, and how many times (to take turns).
    static constexpr std::int64_t room_ask_interval_us = 333'000;
    std::int64_t room_asked_us_ = 0;
    unsigned room_asks_ = 0;
    std::unique_ptr<janitor> janitor_;  // last: its timers go first

    friend class janitor;  // the sweep walks this worker's pools and clients
};

}  // namespace sabakan::session

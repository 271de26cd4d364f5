// The state one event loop serves clients from: the configuration in force, the
// userlist, the pools, the cancel-key registry and the listeners.
// Owned by: one worker io_context; never touched from another thread.
#pragma once

#include <sabakan/auth/userlist.hpp>
#include <sabakan/config/config.hpp>
#include <sabakan/net/asio.hpp>
#include <sabakan/pool/server_pool.hpp>
#include <sabakan/protocol/startup.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace sabakan::session {

class client_session;

/// Where and as whom a pool's servers log in.
struct server_target {
    std::string host;  // IP or name; a path for a unix socket directory
    int port = 5432;
    std::string dbname;
    std::string user;
    std::string password;  // plain password or md5 secret; empty: none known
    std::vector<std::pair<std::string, std::string>> startup_extra;  // client_encoding, ...
};

/// A pool together with what its servers connect to.
class backend_pool : public pool::server_pool {
public:
    backend_pool(std::string database, std::string user, pool::pool_settings s, pool::connector& c,
                 server_target target)
        : server_pool(std::move(database), std::move(user), s, c), target_(std::move(target)) {}
    const server_target& target() const noexcept { return target_; }

private:
    server_target target_;
};

class pooler : public pool::connector {
public:
    pooler(net::asio::io_context& io, std::shared_ptr<const config::config> cfg,
           std::shared_ptr<const auth::userlist> users);
    ~pooler();

    net::asio::io_context& io() noexcept { return io_; }
    const config::config& cfg() const noexcept { return *cfg_; }
    const config::settings& settings() const noexcept { return cfg_->bouncer; }
    const auth::userlist& users() const noexcept { return *users_; }

    /// Binds every listener; throws std::system_error naming the address on failure.
    void listen();
    void stop_listening();

    /// Replaces the configuration and userlist (RELOAD/SIGHUP). Existing pools keep
    /// their servers; their sizes and modes follow the new settings.
    void reload(std::shared_ptr<const config::config> cfg,
                std::shared_ptr<const auth::userlist> users);

    /// The pool for a client's (database, user), created on first use; nullptr when no
    /// [databases] entry (nor "*") matches.
    backend_pool* pool_for(std::string_view database, std::string_view user);

    void open_server(pool::server_pool& p) override;

    // Cancel keys sabakan hands to its clients.
    protocol::cancel_key register_client(client_session* c);
    void unregister_client(protocol::cancel_key key) noexcept;
    client_session* find_client(protocol::cancel_key key) const noexcept;

    int client_count() const noexcept { return client_count_; }
    void client_opened() noexcept { ++client_count_; }
    void client_closed() noexcept { --client_count_; }
    std::uint64_t next_connection_id() noexcept { return ++connection_ids_; }

private:
    pool::pool_settings settings_for(const config::database_entry& db, std::string_view user) const;
    template <typename Acceptor>
    net::awaitable<void> accept_loop(Acceptor& acceptor, bool is_unix);

    net::asio::io_context& io_;
    std::shared_ptr<const config::config> cfg_;
    std::shared_ptr<const auth::userlist> users_;
    std::map<std::pair<std::string, std::string>, std::unique_ptr<backend_pool>> pools_;
    std::unordered_map<std::uint64_t, client_session*> clients_by_key_;
    std::vector<std::unique_ptr<net::asio::ip::tcp::acceptor>> tcp_acceptors_;
    std::vector<std::unique_ptr<net::asio::local::stream_protocol::acceptor>> unix_acceptors_;
    std::vector<std::string> unix_socket_paths_;
    int client_count_ = 0;
    std::uint64_t connection_ids_ = 0;
};

}  // namespace sabakan::session

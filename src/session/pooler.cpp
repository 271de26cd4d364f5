// Pools keyed by (database, user), the cancel-key registry and the listeners.
#include <sabakan/auth/random.hpp>
#include <sabakan/core/log.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/pooler.hpp>
#include <sabakan/session/server_connection.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>

namespace sabakan::session {

namespace asio = net::asio;
using net::error_code;

namespace {

std::uint64_t key_bits(protocol::cancel_key k) noexcept {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(k.pid)) << 32) |
           static_cast<std::uint32_t>(k.secret);
}

}  // namespace

pooler::pooler(asio::io_context& io, std::shared_ptr<const config::config> cfg,
               std::shared_ptr<const auth::userlist> users)
    : io_(io), cfg_(std::move(cfg)), users_(std::move(users)) {}

pooler::~pooler() {
    for (const auto& path : unix_socket_paths_) {
        ::unlink(path.c_str());
    }
}

pool::pool_settings pooler::settings_for(const config::database_entry& db,
                                         std::string_view user) const {
    const auto& s = cfg_->bouncer;
    pool::pool_settings out;
    out.pool_size = s.default_pool_size;
    out.mode = s.mode;
    if (db.pool_size >= 0) {
        out.pool_size = db.pool_size;
    }
    if (db.mode) {
        out.mode = *db.mode;
    }
    if (const auto* u = cfg_->find_user(user)) {
        if (u->pool_size >= 0) {
            out.pool_size = u->pool_size;
        }
        if (u->mode) {
            out.mode = *u->mode;
        }
    }
    return out;
}

backend_pool* pooler::pool_for(std::string_view database, std::string_view user) {
    const config::database_entry* db = cfg_->find_database(database);
    if (db == nullptr) {
        return nullptr;
    }
    std::string server_user = db->user.empty() ? std::string(user) : db->user;
    auto key = std::make_pair(std::string(database), server_user);
    if (auto it = pools_.find(key); it != pools_.end()) {
        return it->second.get();
    }
    server_target t;
    t.host = db->host;
    t.port = db->port;
    t.dbname = db->dbname.empty() ? std::string(database) : db->dbname;
    t.user = server_user;
    if (!db->user.empty() && !db->password.empty()) {
        t.password = db->password;
    } else if (const std::string* secret = users_->find(server_user)) {
        t.password = *secret;
    }
    if (!db->client_encoding.empty()) {
        t.startup_extra.emplace_back("client_encoding", db->client_encoding);
    }
    if (!db->datestyle.empty()) {
        t.startup_extra.emplace_back("datestyle", db->datestyle);
    }
    if (!db->timezone.empty()) {
        t.startup_extra.emplace_back("timezone", db->timezone);
    }
    if (!db->application_name.empty()) {
        t.startup_extra.emplace_back("application_name", db->application_name);
    }
    auto p = std::make_unique<backend_pool>(key.first, key.second, settings_for(*db, server_user),
                                            *this, std::move(t));
    auto* raw = p.get();
    pools_.emplace(std::move(key), std::move(p));
    return raw;
}

void pooler::open_server(pool::server_pool& p) {
    auto& bp = static_cast<backend_pool&>(p);
    auto server = std::make_shared<server_connection>(*this, bp);
    bp.add_login(*server);
    server->start();
}

void pooler::reload(std::shared_ptr<const config::config> cfg,
                    std::shared_ptr<const auth::userlist> users) {
    cfg_ = std::move(cfg);
    users_ = std::move(users);
    for (auto& [key, p] : pools_) {
        if (const auto* db = cfg_->find_database(key.first)) {
            p->set_settings(settings_for(*db, key.second));
        }
    }
}

protocol::cancel_key pooler::register_client(client_session* c) {
    for (;;) {
        std::array<std::byte, 8> raw{};
        auth::random_bytes(raw);
        protocol::cancel_key k;
        std::memcpy(&k.pid, raw.data(), 4);
        std::memcpy(&k.secret, raw.data() + 4, 4);
        k.pid &= 0x7fffffff;  // looks like a process id to tools that print it
        if (clients_by_key_.emplace(key_bits(k), c).second) {
            return k;
        }
    }
}

void pooler::unregister_client(protocol::cancel_key key) noexcept {
    clients_by_key_.erase(key_bits(key));
}

client_session* pooler::find_client(protocol::cancel_key key) const noexcept {
    auto it = clients_by_key_.find(key_bits(key));
    return it == clients_by_key_.end() ? nullptr : it->second;
}

template <typename Acceptor>
net::awaitable<void> pooler::accept_loop(Acceptor& acceptor, bool is_unix) {
    asio::steady_timer backoff(io_);
    for (;;) {
        net::stream_socket socket(io_);
        error_code ec;
        co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
            co_return;
        }
        if (ec) {
            // Out of descriptors (EMFILE/ENFILE) or similar: pause instead of spinning;
            // the pending connection stays in the backlog until then.
            log::error("accept() failed: {}; pausing new connections for a moment", ec.message());
            backoff.expires_after(std::chrono::milliseconds(200));
            co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        if (!is_unix) {
            int one = 1;
            ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (cfg_->bouncer.tcp_keepalive) {
                ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
            }
        }
        std::make_shared<client_session>(*this, std::move(socket), is_unix)->start();
    }
}

void pooler::listen() {
    const auto& s = cfg_->bouncer;
    auto spawn = [this](auto& acc, bool is_unix) {
        asio::co_spawn(io_, accept_loop(acc, is_unix), [](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    log::error("accept loop failed: {}", ex.what());
                }
            }
        });
    };
    std::vector<std::string> addrs;
    for (const auto& a : s.listen_addr) {
        if (a == "*") {
            addrs.emplace_back("0.0.0.0");
            addrs.emplace_back("::");
        } else {
            addrs.push_back(a);
        }
    }
    const bool wildcard =
        std::find(s.listen_addr.begin(), s.listen_addr.end(), "*") != s.listen_addr.end();
    for (const auto& a : addrs) {
        error_code ec;
        asio::ip::tcp::endpoint ep;
        auto addr = asio::ip::make_address(a, ec);
        if (ec) {
            asio::ip::tcp::resolver r(io_);
            auto res = r.resolve(a, std::to_string(s.listen_port), ec);
            if (ec || res.empty()) {
                throw std::runtime_error(fmt::format("listen_addr: cannot resolve \"{}\": {}", a,
                                                     ec ? ec.message() : "no address"));
            }
            ep = res.begin()->endpoint();
        } else {
            ep = asio::ip::tcp::endpoint(addr, static_cast<unsigned short>(s.listen_port));
        }
        auto acc = std::make_unique<asio::ip::tcp::acceptor>(io_);
        acc->open(ep.protocol(), ec);
        if (ec && wildcard && ep.address().is_v6()) {
            // "*" on a host without IPv6: serve IPv4 only, as the operator surely meant.
            log::warning("listen_addr = *: no IPv6 on this host ({}); listening on IPv4 only",
                         ec.message());
            continue;
        }
        if (ec) {
            throw std::runtime_error(
                fmt::format("cannot open a socket for {}: {}", a, ec.message()));
        }
        acc->set_option(asio::socket_base::reuse_address(true));
        if (ep.address().is_v6()) {
            acc->set_option(asio::ip::v6_only(true), ec);  // "*" binds 0.0.0.0 separately
        }
        if (s.so_reuseport) {
            int one = 1;
            ::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        }
        acc->bind(ep, ec);
        if (ec.value() == EADDRNOTAVAIL && wildcard && ep.address().is_v6()) {
            log::warning("listen_addr = *: IPv6 is disabled on this host; listening on IPv4 only");
            continue;
        }
        if (ec) {
            throw std::runtime_error(
                fmt::format("cannot listen on {}:{}: {} (is another pooler "
                            "running, or listen_addr wrong?)",
                            a, s.listen_port, ec.message()));
        }
        acc->listen(s.listen_backlog);
        log::info("listening on {}:{}", a, s.listen_port);
        tcp_acceptors_.push_back(std::move(acc));
        spawn(*tcp_acceptors_.back(), false);
    }
    if (!s.unix_socket_dir.empty()) {
        auto path = fmt::format("{}/.s.PGSQL.{}", s.unix_socket_dir, s.listen_port);
        {
            // A socket file that still answers belongs to a running pooler or PostgreSQL:
            // never take it over. One that refuses is stale (a crash) and is replaced.
            asio::local::stream_protocol::socket probe(io_);
            error_code probe_ec;
            probe.connect(asio::local::stream_protocol::endpoint(path), probe_ec);
            if (!probe_ec) {
                throw std::runtime_error(fmt::format(
                    "another process is listening on unix socket {}: stop it, or change "
                    "unix_socket_dir or listen_port",
                    path));
            }
        }
        ::unlink(path.c_str());  // a stale socket file from a previous run
        auto acc = std::make_unique<asio::local::stream_protocol::acceptor>(io_);
        error_code ec;
        acc->open(asio::local::stream_protocol(), ec);
        if (!ec) {
            acc->bind(asio::local::stream_protocol::endpoint(path), ec);
        }
        if (ec) {
            throw std::runtime_error(
                fmt::format("cannot listen on unix socket {}: {} (check "
                            "unix_socket_dir)",
                            path, ec.message()));
        }
        ::chmod(path.c_str(), static_cast<mode_t>(s.unix_socket_mode));
        acc->listen(s.listen_backlog);
        unix_socket_paths_.push_back(path);
        log::info("listening on unix:{}", path);
        unix_acceptors_.push_back(std::move(acc));
        spawn(*unix_acceptors_.back(), true);
    }
}

void pooler::stop_listening() {
    error_code ec;
    for (auto& a : tcp_acceptors_) {
        a->close(ec);
    }
    for (auto& a : unix_acceptors_) {
        a->close(ec);
    }
}

}  // namespace sabakan::session

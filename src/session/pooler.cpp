// One worker: its pools keyed by (database, user), the cancel-key registry, reload, the
// console's control commands, the sweep and the statistics period.
#include <sabakan/auth/random.hpp>
#include <sabakan/auth/scram.hpp>
#include <sabakan/config/log_options.hpp>
#include <sabakan/core/log.hpp>
#include <sabakan/core/memory.hpp>
#include <sabakan/net/tcp_options.hpp>
#include <sabakan/protocol/sqlstate.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/pooler.hpp>
#include <sabakan/session/server_connection.hpp>
#include <sabakan/session/worker_group.hpp>
#include "janitor.hpp"
#include "listener.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <system_error>
#include <tuple>

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
    : io_(io),
      cfg_(std::move(cfg)),
      users_(std::move(users)),
      listener_(std::make_unique<listener>(*this)),
      shutdown_timer_(io),
      resume_signal_(io),
      tracked_(cfg_->bouncer.track_extra_parameters),
      janitor_(std::make_unique<janitor>(*this)) {
    janitor_->start();
}

pooler::~pooler() {
    // An immediate exit leaves linked clients and servers pointing at each other. Break
    // those cycles so that destroying the event loop's pending tasks frees everything.
    std::vector<std::shared_ptr<client_session>> clients;
    std::vector<std::shared_ptr<server_connection>> servers;
    for (auto& c : clients_) {
        clients.push_back(c.shared_from_this());
    }
    for (auto& s : servers_) {
        servers.push_back(s.shared_from_this());
    }
    for (auto& c : clients) {
        c->detach_server();
    }
    for (auto& s : servers) {
        s->drop_client();
    }
    clients_.clear();
    servers_.clear();
}

void pooler::join(worker_group& g, int worker) {
    group_ = &g;
    worker_ = worker;
    tally_ = &g.tally();
    g.add(*this, worker);
    if (worker != 0) {
        janitor_->stop_statistics();  // the first worker keeps the statistics for all
    }
}

std::vector<pooler*> pooler::all_workers() {
    if (group_ == nullptr) {
        return {this};
    }
    return group_->poolers();
}

std::uint64_t pooler::next_connection_id() noexcept {
    static std::atomic<std::uint64_t> ids{0};
    return ids.fetch_add(1, std::memory_order_relaxed) + 1;
}

const std::map<std::string, stats::counters>& pooler::averages_by_database() const noexcept {
    return (group_ != nullptr ? *group_->worker(0).janitor_ : *janitor_).averages();
}

const stats::counters& pooler::averages_total() const noexcept {
    return (group_ != nullptr ? *group_->worker(0).janitor_ : *janitor_).averages_total();
}

void pooler::client_closed() noexcept {
    tally_->connections.fetch_sub(1, std::memory_order_relaxed);
    janitor_->client_closed();
}

void pooler::hand_over(pool::server_slot& s, int worker) {
    static_cast<server_connection&>(s).move_to(worker);
}

void pooler::ask_for_server(pool::server_pool& p, int worker) {
    pooler& target = group_->worker(worker);
    asio::post(group_->io(worker), [&target, db = p.database(), user = p.user(), to = worker_] {
        target.give_server(db, user, to);
    });
}

void pooler::give_server(const std::string& database, const std::string& user, int to) {
    auto it = pools_.find(std::make_pair(database, user));
    if (it != pools_.end() && it->second->give_idle_to(to)) {
        return;
    }
    send_refusal(to, database, user);
}

void pooler::send_refusal(int worker, const std::string& database, const std::string& user) {
    // None idle after all (another took it): the asker opens one, or asks elsewhere.
    pooler& asker = group_->worker(worker);
    asio::post(group_->io(worker), [&asker, database, user] {
        if (auto p = asker.pools_.find(std::make_pair(database, user)); p != asker.pools_.end()) {
            p->second->ask_refused();
        }
    });
}

void pooler::send_server(int worker, moving_server m) {
    pooler& target = group_->worker(worker);
    asio::post(group_->io(worker),
               [&target, m = std::move(m)]() mutable { target.adopt_server(std::move(m)); });
}

void pooler::adopt_server(moving_server m) {
    // The pool exists: this worker asked for the server, or queued clients for it.
    auto it = pools_.find(std::make_pair(m.database, m.user));
    if (it == pools_.end() || exiting_) {
        ::close(m.fd);
        group_->budget(m.database, m.user)->give_back();
        return;
    }
    log::debug("S-{}: arrives from another worker", m.id);
    backend_pool& p = *it->second;
    const moving_server from = m;  // the times, kept past the move below
    auto s = std::make_shared<server_connection>(*this, p, std::move(m));
    s->start_adopted(from);
}

int pooler::worker_of(protocol::cancel_key key) const noexcept {
    if (group_ == nullptr) {
        return 0;
    }
    return static_cast<int>(static_cast<std::uint32_t>(key.pid) %
                            static_cast<std::uint32_t>(group_->size()));
}

std::shared_ptr<const auth::userlist> pooler::load_users(const config::config& cfg) {
    if (cfg.bouncer.auth_file.empty()) {
        return std::make_shared<auth::userlist>();
    }
    auto users = std::make_shared<auth::userlist>(auth::load_userlist(cfg.bouncer.auth_file));
    // The stand-in salts follow from the file's secrets: stable across restarts, and not
    // computable by anyone who cannot read the file.
    std::vector<std::pair<std::string_view, std::string_view>> entries(users->secrets.begin(),
                                                                       users->secrets.end());
    std::sort(entries.begin(), entries.end());
    std::string seed;
    for (const auto& [user, secret] : entries) {
        seed.append(user).push_back('\0');
        seed.append(secret).push_back('\0');
    }
    auth::seed_stand_ins(seed);
    OPENSSL_cleanse(seed.data(), seed.size());
    return users;
}

void pooler::add(client_session& c) noexcept {
    clients_.push_front(c);  // parked clients stay at the back, see janitor::sweep()
}

void pooler::client_parked(client_session& c) noexcept {
    clients_.erase(clients_.iterator_to(c));
    clients_.push_back(c);
}

void pooler::client_unparked(client_session& c) noexcept {
    clients_.erase(clients_.iterator_to(c));
    clients_.push_front(c);
}

void pooler::add(server_connection& s) noexcept {
    servers_.push_back(s);
}

pool::pool_settings pooler::settings_for(const config::database_entry& db,
                                         std::string_view user) const {
    const auto& s = cfg_->bouncer;
    auto us = [](config::duration d) { return static_cast<std::int64_t>(d.count()); };
    pool::pool_settings out;
    out.pool_size = db.pool_size >= 0 ? db.pool_size : s.default_pool_size;
    out.mode = db.mode.value_or(s.mode);
    out.min_pool_size = db.min_pool_size >= 0 ? db.min_pool_size : s.min_pool_size;
    out.reserve_pool_size = db.reserve_pool_size >= 0 ? db.reserve_pool_size : s.reserve_pool_size;
    out.reserve_pool_timeout = us(s.reserve_pool_timeout);
    out.server_login_retry = us(s.server_login_retry);
    out.server_lifetime = us(db.server_lifetime.value_or(s.server_lifetime));
    out.server_idle_timeout = us(s.server_idle_timeout);
    out.server_check_delay = us(s.server_check_delay);
    out.server_check = !s.server_check_query.empty();
    out.query_wait_timeout = us(db.query_wait_timeout.value_or(s.query_wait_timeout));
    out.query_timeout = us(s.query_timeout);
    out.idle_transaction_timeout = us(s.idle_transaction_timeout);
    out.transaction_timeout = us(s.transaction_timeout);
    out.client_idle_timeout = us(s.client_idle_timeout);
    // [users] settings win over [databases] and the globals, as in PgBouncer.
    if (const auto* u = cfg_->find_user(user)) {
        if (u->pool_size >= 0) {
            out.pool_size = u->pool_size;
        }
        if (u->reserve_pool_size >= 0) {
            out.reserve_pool_size = u->reserve_pool_size;
        }
        out.mode = u->mode.value_or(out.mode);
        // query_wait_timeout and client_idle_timeout follow the client's own login user:
        // see client_timeout().
        out.query_timeout = us(u->query_timeout.value_or(config::duration(out.query_timeout)));
        out.idle_transaction_timeout = us(
            u->idle_transaction_timeout.value_or(config::duration(out.idle_transaction_timeout)));
        out.transaction_timeout =
            us(u->transaction_timeout.value_or(config::duration(out.transaction_timeout)));
    }
    return out;
}

std::string_view pooler::admit_client(const std::string& database, const std::string& user) {
    const auto& s = cfg_->bouncer;
    const auto* db = cfg_->find_database(database);
    const auto* u = cfg_->find_user(user);
    const int max_db = db != nullptr && db->max_db_client_connections > 0
                           ? db->max_db_client_connections
                           : s.max_db_client_connections;
    const int max_user = u != nullptr && u->max_user_client_connections > 0
                             ? u->max_user_client_connections
                             : s.max_user_client_connections;
    std::lock_guard lock(tally_->mutex);
    int& of_db = tally_->of_db[database];
    int& of_user = tally_->of_user[user];
    if (max_db > 0 && of_db >= max_db) {
        return "max_db_client_connections";
    }
    if (max_user > 0 && of_user >= max_user) {
        return "max_user_client_connections";
    }
    ++of_db;
    ++of_user;
    return {};
}

void pooler::client_left(const std::string& database, const std::string& user) {
    std::lock_guard lock(tally_->mutex);
    if (auto it = tally_->of_db.find(database); it != tally_->of_db.end() && --it->second <= 0) {
        tally_->of_db.erase(it);
    }
    if (auto it = tally_->of_user.find(user); it != tally_->of_user.end() && --it->second <= 0) {
        tally_->of_user.erase(it);
    }
}

bool pooler::may_open(const pool::server_pool& p, bool for_waiter) {
    const auto& s = cfg_->bouncer;
    const auto* db = cfg_->find_database(p.database());
    const auto* u = cfg_->find_user(p.user());
    const int max_db =
        db != nullptr && db->max_db_connections > 0 ? db->max_db_connections : s.max_db_connections;
    const int max_user = u != nullptr && u->max_user_connections > 0 ? u->max_user_connections
                                                                     : s.max_user_connections;
    if (max_db <= 0 && max_user <= 0) {
        return true;  // the usual case: only pool_size bounds the pool
    }
    const bool several = group_ != nullptr && group_->size() > 1;
    auto within = [&] {
        std::size_t of_db = 0;
        std::size_t of_user = 0;
        if (several) {
            std::tie(of_db, of_user) = group_->servers_of(p.database(), p.user());
        } else {
            for (const auto& [key, other] : pools_) {
                of_db += key.first == p.database() ? other->server_count() : 0;
                of_user += key.second == p.user() ? other->server_count() : 0;
            }
        }
        const bool db_ok = max_db <= 0 || of_db < static_cast<std::size_t>(max_db);
        const bool user_ok = max_user <= 0 || of_user < static_cast<std::size_t>(max_user);
        return std::pair{db_ok, user_ok};
    };
    auto [db_ok, user_ok] = within();
    if (db_ok && user_ok) {
        return true;
    }
    if (!for_waiter) {
        return false;  // min_pool_size never takes servers from another pool
    }
    // At the limit: an idle server of another pool that shares it gives way, so that one
    // pool's idle servers cannot starve another's clients (as PgBouncer evicts).
    if (make_room(p.database(), p.user(), db_ok, user_ok)) {
        auto [now_db_ok, now_user_ok] = within();
        return now_db_ok && now_user_ok;
    }
    const std::int64_t now = stats::now_us();
    if (several && now - room_asked_us_ >= room_ask_interval_us) {
        // None here: the next worker closes one, if it has one, and the sweep opens this
        // pool's server in the room made. At most one ask per sweep, or every queued client
        // would close another idle server.
        room_asked_us_ = now;
        const int others = group_->size() - 1;
        const int w =
            (worker_ + 1 + static_cast<int>(room_asks_++ % static_cast<unsigned>(others))) %
            group_->size();
        pooler& other = group_->worker(w);
        asio::post(group_->io(w), [&other, db = p.database(), user = p.user(), db_ok, user_ok] {
            other.make_room(db, user, db_ok, user_ok);
        });
    }
    return false;
}

bool pooler::make_room(const std::string& database, const std::string& user, bool db_ok,
                       bool user_ok) {
    for (auto& [key, other] : pools_) {
        // Only a pool that shares every limit now reached: closing its server frees room.
        const bool shares = (db_ok || key.first == database) && (user_ok || key.second == user);
        if ((key.first == database && key.second == user) || !shares) {
            continue;
        }
        if (auto* slot = other->pop_idle()) {
            static_cast<server_connection*>(slot)->close(
                "closed to make room under max_db_connections/max_user_connections");
            return true;
        }
    }
    return false;
}

pool::user_limits pooler::user_limits_for(std::string_view user) const {
    // Client-side timeouts follow the user the client logged in as, even when a forced
    // user= makes its pool another user's.
    pool::user_limits out;
    if (const auto* u = cfg_->find_user(user)) {
        if (u->query_wait_timeout) {
            out.query_wait_timeout = static_cast<std::int64_t>(u->query_wait_timeout->count());
        }
        if (u->client_idle_timeout) {
            out.client_idle_timeout = static_cast<std::int64_t>(u->client_idle_timeout->count());
        }
    }
    return out;
}

server_target pooler::target_for(const config::database_entry& db, std::string_view database,
                                 const std::string& server_user) const {
    server_target t;
    t.host = db.host;
    t.port = db.port;
    t.dbname = db.dbname.empty() ? std::string(database) : db.dbname;
    t.user = server_user;
    if (!db.user.empty() && !db.password.empty()) {
        t.password = db.password;
    } else if (const std::string* secret = users_->find(server_user)) {
        t.password = *secret;
    }
    if (!db.client_encoding.empty()) {
        t.startup_extra.emplace_back("client_encoding", db.client_encoding);
    }
    if (!db.datestyle.empty()) {
        t.startup_extra.emplace_back("datestyle", db.datestyle);
    }
    if (!db.timezone.empty()) {
        t.startup_extra.emplace_back("timezone", db.timezone);
    }
    if (!db.application_name.empty()) {
        t.startup_extra.emplace_back("application_name", db.application_name);
    }
    return t;
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
    pool::pool_budget* budget =
        group_ != nullptr && group_->size() > 1 ? group_->budget(key.first, key.second) : nullptr;
    auto p =
        std::make_unique<backend_pool>(key.first, key.second, settings_for(*db, server_user), *this,
                                       target_for(*db, database, server_user), budget, worker_);
    if (is_paused(database)) {
        p->pause();
    }
    auto* raw = p.get();
    pools_.emplace(std::move(key), std::move(p));
    return raw;
}

void pooler::check_server(pool::server_slot& s) {
    static_cast<server_connection&>(s).start_check();
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
        const auto* db = cfg_->find_database(key.first);
        if (db == nullptr) {
            // Its clients keep being served by the old target until they leave; the
            // servers they use are closed as they are released.
            p->retire_servers();
            close_idle(*p, "database removed from the config");
            continue;
        }
        if (!db->user.empty() && db->user != key.second) {
            // The entry now forces another server user: this pool's clients keep their
            // old target until they leave; new clients go to the new user's pool.
            p->retire_servers();
            close_idle(*p, "database's forced user changed");
            continue;
        }
        auto target = target_for(*db, key.first, key.second);
        if (!(target == p->target())) {
            p->set_target(std::move(target));
            p->retire_servers();
            close_idle(*p, "database's config changed");
        }
        p->set_settings(settings_for(*db, key.second));
        while (auto* slot = p->pop_surplus_idle()) {
            static_cast<server_connection*>(slot)->close("pool_size lowered");
        }
    }
    for (auto& c : clients_) {
        c.set_user_limits(user_limits_for(c.user()));
    }
}

void pooler::set_config_source(std::string path, log::options base) {
    config_path_ = std::move(path);
    log_base_ = std::move(base);
}

bool pooler::reload_from_file() {
    try {
        auto fresh = std::make_shared<config::config>(config::load(config_path_));
        for (auto key : config::keep_startup_settings(fresh->bouncer, cfg_->bouncer)) {
            log::warning("{} changed in {}; it takes effect only after a restart", key,
                         config_path_);
        }
        auto fresh_users = load_users(*fresh);
        // Reopened even when unchanged: after logrotate moves the file, SIGHUP makes a new one.
        const log::options lo = config::log_options(fresh->bouncer, log_base_);
        std::string error;
        if (!log::configure(lo, &error)) {
            log::error("{} (check logfile in {}); still logging where it did", error, config_path_);
        }
        for (pooler* w : all_workers()) {
            w->reload(fresh, fresh_users);
        }
        log::info("configuration reloaded from {}", config_path_);
        return true;
    } catch (const std::exception& e) {
        log::error("RELOAD failed, keeping the running configuration: {}", e.what());
        return false;
    }
}

template <typename F>
void pooler::for_pools(const std::string& db, F&& f) {
    for (auto& [key, p] : pools_) {
        if (db.empty() || key.first == db) {
            f(*p);
        }
    }
}

void pooler::close_idle(backend_pool& p, std::string_view reason) {
    while (auto* slot = p.pop_idle()) {
        static_cast<server_connection*>(slot)->close(reason);
    }
}

net::awaitable<void> pooler::wait_while_suspended() {
    // Every suspended connection waits on the one resume_signal_ timer; RESUME cancels
    // it, which wakes them all at once. Nothing is polled.
    while (suspended_) {
        error_code ec;
        co_await resume_signal_.async_wait(asio::redirect_error(net::use_awaitable, ec));
    }
}

void pooler::suspend() {
    suspended_ = true;
    resume_signal_.expires_at(net::steady_timer::time_point::max());
}

bool pooler::buffers_flushed() {
    for (const auto& c : clients_) {
        if (!c.is_admin() && !c.buffer().to_send().empty()) {
            return false;
        }
    }
    for (const auto& s : servers_) {
        if (!s.buffer().to_send().empty()) {
            return false;
        }
    }
    return true;
}

void pooler::pause(const std::string& db) {
    if (db.empty()) {
        all_paused_ = true;
    } else {
        paused_.insert(db);
    }
    for_pools(db, [&](backend_pool& p) {
        p.pause();
        close_idle(p, "database paused");
    });
}

void pooler::resume(const std::string& db) {
    if (db.empty()) {
        all_paused_ = false;
        paused_.clear();
        suspended_ = false;
        resume_signal_.cancel();
    } else {
        paused_.erase(db);
    }
    for_pools(db, [&](backend_pool& p) {
        if (!is_paused(p.database())) {
            p.resume();
        }
    });
}

bool pooler::is_paused(std::string_view db) const {
    return all_paused_ || paused_.contains(std::string(db));
}

bool pooler::drained(const std::string& db) {
    bool none = true;
    // Every worker's servers of the pair, and those moving between workers.
    for_pools(db, [&](backend_pool& p) { none = none && p.total_servers() == 0; });
    return none;
}

void pooler::set_disabled(const std::string& db, bool disabled) {
    if (disabled) {
        disabled_.insert(db);
    } else {
        disabled_.erase(db);
    }
}

void pooler::reconnect(const std::string& db) {
    for_pools(db, [&](backend_pool& p) {
        p.retire_servers();
        close_idle(p, "RECONNECT");
    });
}

bool pooler::none_close_needed(const std::string& db) {
    bool none = true;
    for_pools(db, [&](backend_pool& p) {
        p.for_each_server([&](pool::server_slot& s) { none = none && !s.close_needed(); });
    });
    return none;
}

void pooler::kill(const std::string& db) {
    pause(db);
    // Collect first: killing a client ends its session, which may unlink it from the list.
    std::vector<std::shared_ptr<client_session>> doomed;
    for (auto& c : clients_) {
        if (!c.is_admin() && (db.empty() || c.database() == db)) {
            doomed.push_back(c.shared_from_this());
        }
    }
    for (auto& c : doomed) {
        c->kill("database killed by admin (KILL)");
    }
    std::vector<std::shared_ptr<server_connection>> servers;
    for (auto& s : servers_) {
        if (db.empty() || s.pool().database() == db) {
            servers.push_back(s.shared_from_this());
        }
    }
    for (auto& s : servers) {
        s->close("database killed by admin (KILL)");
    }
}

bool pooler::kill_client(std::uint64_t id) {
    for (auto& c : clients_) {
        if (c.id() == id) {
            auto keep = c.shared_from_this();
            if (auto* s = c.server()) {
                s->close("its client was killed by admin (KILL_CLIENT)");
            }
            keep->kill("killed by admin (KILL_CLIENT)");
            return true;
        }
    }
    return false;
}

void pooler::shutdown(shutdown_mode mode) {
    if (mode == shutdown_mode::none) {
        exiting_ = true;
        stop_listening();
        io_.stop();
        return;
    }
    if (mode == shutdown_mode::wait_for_clients) {
        // Connections the kernel completed but nobody accepted yet would be reset when the
        // listening socket closes; they are clients like any other, so take them first
        // (before shutdown_ is set: they are served). With so_reuseport (a rolling
        // restart), what arrives afterwards goes to the other process. The unix socket
        // stays open for admin logins.
        listener_->accept_backlog();
    }
    shutdown_ = mode;
    stop_listening(/*keep_unix=*/true);
    if (mode == shutdown_mode::wait_for_servers) {
        pause("");
        std::vector<std::shared_ptr<client_session>> queued;
        for (auto& c : clients_) {
            if (c.waiting()) {
                queued.push_back(c.shared_from_this());
            }
        }
        for (auto& c : queued) {
            c->kill("pooler is shutting down");
        }
    }
    arm_shutdown_check();
}

bool pooler::shutdown_done() {
    if (shutdown_ == shutdown_mode::wait_for_servers) {
        return drained("");
    }
    return std::none_of(clients_.begin(), clients_.end(),
                        [](const client_session& c) { return !c.is_admin(); });
}

void pooler::arm_shutdown_check() {
    // With several workers the first one decides for all: a worker that left early would
    // strand the idle servers other workers' clients may still need.
    if (worker_ != 0) {
        return;
    }
    // Checked a few times a second rather than on every close: shutdowns are rare, and
    // the hot paths stay free of the check.
    shutdown_timer_.expires_after(std::chrono::milliseconds(50));
    shutdown_timer_.async_wait([this](const error_code& ec) {
        if (ec) {
            return;
        }
        asio::co_spawn(
            io_,
            [this]() -> net::awaitable<void> {
                std::optional<worker_group::world_stop> stopped;
                if (group_ != nullptr) {
                    stopped.emplace(co_await group_->stop_world(worker_));
                }
                const auto workers = all_workers();
                if (!std::all_of(workers.begin(), workers.end(),
                                 [](pooler* w) { return w->shutdown_done(); })) {
                    arm_shutdown_check();
                    co_return;
                }
                log::info("shutdown: {}; exiting", shutdown_ == shutdown_mode::wait_for_servers
                                                       ? "all servers released"
                                                       : "all clients gone");
                for (pooler* w : workers) {
                    w->shutdown(shutdown_mode::none);
                }
            },
            asio::detached);
    });
}

std::vector<std::string> pooler::database_names() const {
    std::vector<std::string> names;
    for (const auto& db : cfg_->databases) {
        if (db.name != "*") {
            names.push_back(db.name);
        }
    }
    auto add = [&](const pooler& w) {
        for (const auto& [key, p] : w.pools_) {
            if (std::find(names.begin(), names.end(), key.first) == names.end()) {
                names.push_back(key.first);  // made through the "*" entry
            }
        }
    };
    if (group_ == nullptr) {
        add(*this);
    } else {
        for (const pooler* w : group_->poolers()) {
            add(*w);
        }
    }
    return names;
}

std::map<std::string, stats::counters> pooler::totals_by_database() const {
    std::map<std::string, stats::counters> out;
    auto add = [&](const pooler& w) {
        for (const auto& [key, p] : w.pools_) {
            out[key.first] += p->stats();
        }
        out["pgbouncer"] += w.admin_stats_;
    };
    if (group_ == nullptr) {
        add(*this);
    } else {
        for (const pooler* w : group_->poolers()) {
            add(*w);
        }
    }
    return out;
}

protocol::cancel_key pooler::register_client(client_session* c) {
    for (;;) {
        std::array<std::byte, 8> raw{};
        auth::random_bytes(raw);
        protocol::cancel_key k;
        std::memcpy(&k.pid, raw.data(), 4);
        std::memcpy(&k.secret, raw.data() + 4, 4);
        k.pid &= 0x7fffffff;  // looks like a process id to tools that print it
        if (group_ != nullptr && group_->size() > 1) {
            // The key names its worker, where a cancel request for it is carried out.
            const auto n = static_cast<std::uint32_t>(group_->size());
            const auto bits = static_cast<std::uint32_t>(k.pid) & 0x3fffffffU;
            k.pid = static_cast<std::int32_t>(bits / n * n + static_cast<std::uint32_t>(worker_));
        }
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

void pooler::listen(const std::vector<int>& inherited) {
    listener_->listen(inherited);
}

void pooler::share_listeners(pooler& first) {
    listener_->share(*first.listener_);
}

void pooler::stop_listening(bool keep_unix) {
    listener_->stop(keep_unix);
}

}  // namespace sabakan::session

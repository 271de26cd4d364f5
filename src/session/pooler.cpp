// One worker: its pools keyed by (database, user), the cancel-key registry, reload, the
// console's control commands, the sweep and the statistics period.
#include <sabakan/auth/random.hpp>
#include <sabakan/auth/scram.hpp>
#include <sabakan/config/log_options.hpp>
#include <sabakan/core/log.hpp>
#include <sabakan/core/memory.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/pooler.hpp>
#include <sabakan/session/server_connection.hpp>
#include <sabakan/session/worker_group.hpp>
#include "janitor.hpp"
#include "listener.hpp"

#include <openssl/crypto.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>

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
    auto server = std::allocate_shared<server_connection>(
        core::long_lived_allocator<server_connection>(), *this, bp);
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

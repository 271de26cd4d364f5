// Between workers: servers handed to the worker whose clients wait, asked for and refused,
// and the shared budget's rules for opening a server (pool_size, the reserve,
// max_db_connections and max_user_connections over every worker).
#include <sabakan/core/log.hpp>
#include <sabakan/core/memory.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/pooler.hpp>
#include <sabakan/session/server_connection.hpp>
#include <sabakan/session/worker_group.hpp>

#include <unistd.h>

#include <string>
#include <utility>

namespace sabakan::session {

namespace asio = net::asio;
using net::error_code;

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
    auto s = std::allocate_shared<server_connection>(
        core::long_lived_allocator<server_connection>(), *this, p, std::move(m));
    s->start_adopted(from);
}

int pooler::worker_of(protocol::cancel_key key) const noexcept {
    if (group_ == nullptr) {
        return 0;
    }
    return static_cast<int>(static_cast<std::uint32_t>(key.pid) %
                            static_cast<std::uint32_t>(group_->size()));
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

}  // namespace sabakan::session

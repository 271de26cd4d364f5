// A worker's control: what the console's PAUSE, RESUME, KILL, KILL_CLIENT, SUSPEND,
// DISABLE, RECONNECT and SHUTDOWN (and the signals) do to its pools and connections, and
// the checks their waits poll.
#include <sabakan/core/log.hpp>
#include <sabakan/protocol/sqlstate.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/pooler.hpp>
#include <sabakan/session/server_connection.hpp>
#include <sabakan/session/worker_group.hpp>
#include "listener.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

namespace sabakan::session {

namespace asio = net::asio;
using net::error_code;

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

}  // namespace sabakan::session

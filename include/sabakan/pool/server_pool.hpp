// The server connections of one (database, user) pair and the clients waiting for one.
// Policy only: no sockets and no Asio. Each state is one intrusive list, and one function
// moves a server between them, so the counts never drift.
// Owned by: one worker's io_context; never touched from another thread.
#pragma once

#include <sabakan/config/config.hpp>
#include <sabakan/pool/pool_budget.hpp>
#include <sabakan/stats/counters.hpp>

#include <boost/intrusive/list.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sabakan::pool {

enum class server_state : std::uint8_t {
    unlinked,  // not in any list (new, or closed)
    login,     // connecting and authenticating
    idle,      // logged in, waiting for a client
    active,    // lent to a client
    tested,    // idle past server_check_delay: running server_check_query before reuse
};

using list_hook = boost::intrusive::list_member_hook<>;  // safe mode: knows if it is linked

class server_pool;

/// The pool's view of a server connection; the session layer derives from it.
class server_slot {
public:
    server_state state() const noexcept { return state_; }
    server_pool* pool() const noexcept { return pool_; }
    /// The pool's target changed (RELOAD, RECONNECT) since this server logged in: it is
    /// closed when next released instead of serving again.
    bool close_needed() const noexcept;
    /// Steady-clock µs: when its login began, and when it last became idle.
    std::int64_t created_us() const noexcept { return created_us_; }
    std::int64_t idle_since_us() const noexcept { return idle_since_us_; }

    list_hook pool_hook_;

private:
    friend class server_pool;
    server_state state_ = server_state::unlinked;
    server_pool* pool_ = nullptr;
    std::uint64_t generation_ = 0;
    std::int64_t created_us_ = 0;
    std::int64_t idle_since_us_ = 0;
};

/// A client waiting for a server; the session layer implements wake().
/// Why a server login failed, which decides what becomes of the clients waiting for it.
enum class login_failure : std::uint8_t {
    refused,      // PostgreSQL said no (password, role, database): every waiter fails now
    unreachable,  // down, starting up or shutting down: waiters wait on while the pool
                  // tries again every server_login_retry, up to query_wait_timeout
};

class waiter {
public:
    /// Called once per wait: with a server now lent to this client, or with nullptr when
    /// no server could be obtained (the pool's last_error() says why).
    virtual void wake(server_slot* server) = 0;

    bool waiting() const noexcept { return wait_hook_.is_linked(); }

    list_hook wait_hook_;
    std::int64_t wait_started_us = 0;  // steady clock µs; set by the pool when it queues
    /// The client is still logging in (its welcome needs a server's parameters): while
    /// logins fail it is refused at once, whatever the kind of failure.
    bool logging_in = false;

protected:
    ~waiter() = default;
};

/// Opens new server connections for a pool; the session layer implements it.
class connector {
public:
    /// Starts connecting a server that will call login_done() or login_failed().
    /// Must call server_pool::add_login() before returning.
    virtual void open_server(server_pool& pool) = 0;
    /// Whether limits wider than one pool (max_db_connections, max_user_connections)
    /// allow `pool` one more server now. `for_waiter`: a client waits for it, so another
    /// pool's idle server may be closed to make room (never just to keep min_pool_size).
    virtual bool may_open(const server_pool& pool, bool for_waiter) = 0;
    /// Runs server_check_query on `server` (state tested), which then reports with
    /// server_pool::check_done(), or leaves the pool through remove() if it failed.
    virtual void check_server(server_slot& server) = 0;
    // Only with a shared budget (several workers):
    /// Moves `server`, taken out of the pool with its budget place kept, to the same
    /// pool on `worker`, which has clients waiting (or asked for one).
    virtual void hand_over(server_slot& /*server*/, int /*worker*/) {}
    /// Asks `worker`, which has an idle server, to hand one over for this pool's queue.
    virtual void ask_for_server(server_pool& /*pool*/, int /*worker*/) {}

protected:
    ~connector() = default;
};

/// What a pool is configured with; times are µs, 0 means "off" where PgBouncer says so.
struct pool_settings {
    int pool_size = 20;
    config::pool_mode mode = config::pool_mode::session;
    int min_pool_size = 0;
    int reserve_pool_size = 0;
    std::int64_t reserve_pool_timeout = 5'000'000;
    std::int64_t server_login_retry = 15'000'000;
    std::int64_t server_lifetime = 3600'000'000;
    std::int64_t server_idle_timeout = 600'000'000;
    std::int64_t server_check_delay = 30'000'000;
    bool server_check = true;  // server_check_query is not empty
    // Client-side limits of this pool's clients ([users] overrides the globals).
    std::int64_t query_wait_timeout = 120'000'000;
    std::int64_t query_timeout = 0;
    std::int64_t idle_transaction_timeout = 0;
    std::int64_t transaction_timeout = 0;
    std::int64_t client_idle_timeout = 0;
};

/// Why release() or login_done() took a server out of the pool instead of keeping it.
enum class release_outcome : std::uint8_t {
    kept,      // lent to a waiter, or idle
    paused,    // the pool is paused: servers close as they come back
    retired,   // its target changed (RELOAD, RECONNECT)
    surplus,   // more servers than the pool may have (pool_size lowered, reserve no longer needed)
    lifetime,  // older than server_lifetime
    moved,     // handed over to another worker's clients: not closed, no longer here
};

/// Whether a server that release() (or the like) returned `o` for must be closed.
constexpr bool must_close(release_outcome o) noexcept {
    return o != release_outcome::kept && o != release_outcome::moved;
}

/// Words for the log line of a server closed for `o`.
std::string_view to_string(release_outcome o) noexcept;

class server_pool {
public:
    /// `budget` bounds the servers of this (database, user) on every worker together, this
    /// pool being worker `worker`'s share; without one the pool has a budget of its own.
    server_pool(std::string database, std::string user, pool_settings settings, connector& c,
                pool_budget* budget = nullptr, int worker = 0)
        : database_(std::move(database)),
          user_(std::move(user)),
          settings_(settings),
          connector_(c),
          own_budget_(budget == nullptr ? std::make_unique<pool_budget>() : nullptr),
          budget_(budget == nullptr ? own_budget_.get() : budget),
          worker_(worker) {}
    server_pool(const server_pool&) = delete;
    server_pool& operator=(const server_pool&) = delete;
    ~server_pool();

    const std::string& database() const noexcept { return database_; }
    const std::string& user() const noexcept { return user_; }
    const pool_settings& settings() const noexcept { return settings_; }
    /// New settings (RELOAD, SET). A bigger pool opens servers for waiting clients now; a
    /// smaller one gives up servers as they are released (and the caller closes idle ones
    /// with pop_surplus_idle()).
    void set_settings(const pool_settings& s);
    /// An idle server beyond pool_size, taken out of the pool to be closed; nullptr if none.
    server_slot* pop_surplus_idle() noexcept;

    /// Paused (PAUSE, KILL, shutdown): no server is lent or opened; servers are closed as
    /// they are released. resume() serves the queue again.
    bool paused() const noexcept { return paused_; }
    void pause() noexcept { paused_ = true; }
    void resume();
    /// Every server logged in before this call is closed when released (RELOAD of a changed
    /// target, RECONNECT); new logins are unaffected.
    void retire_servers() noexcept {
        budget_->retire();
        budget_->reset_login_failure();  // a new target deserves a login attempt at once
    }
    bool is_current(const server_slot& s) const noexcept {
        return s.generation_ == budget_->generation();
    }
    /// What is_current() compares: for a server about to move to another worker.
    std::uint64_t generation_of(const server_slot& s) const noexcept { return s.generation_; }

    /// A server for `w` now (marked active), or nullptr after queueing `w` (FIFO) and,
    /// when the pool has room, asking the connector for a new server.
    server_slot* acquire(waiter& w);
    /// Takes `w` out of the queue (timeout, disconnect). No-op when not waiting.
    void cancel_wait(waiter& w) noexcept;

    /// An active server is clean again: lend it to the first waiter, else make it idle.
    /// Anything but `kept` means it left the pool and must be closed, for that reason.
    [[nodiscard]] release_outcome release(server_slot& s);
    /// The connector's new server (state login).
    void add_login(server_slot& s);
    /// Login finished: the server serves the first waiter or becomes idle; or, as from
    /// release(), it must be closed.
    [[nodiscard]] release_outcome login_done(server_slot& s);
    /// Login failed: the server leaves the pool; waiters no other server will serve are
    /// woken with nullptr (after an `unreachable` failure only those logging in), and for
    /// server_login_retry new clients fail at once instead of starting logins (after an
    /// `unreachable` one only those logging in: the others queue for the next try).
    void login_failed(server_slot& s, std::string error,
                      login_failure why = login_failure::refused);
    /// server_check_query succeeded: the server serves the first waiter or becomes idle,
    /// or must be closed, as from release().
    [[nodiscard]] release_outcome check_done(server_slot& s);
    /// In the server_login_retry window after a failed login.
    bool in_login_retry(std::int64_t now_us) const noexcept {
        const std::int64_t failed = budget_->login_failed_us();
        return failed != 0 && now_us - failed < settings_.server_login_retry;
    }

    /// The periodic sweep's part: opens servers that limits, the reserve or the end of
    /// server_login_retry now allow, keeps min_pool_size, and returns one idle server that
    /// outlived server_idle_timeout or server_lifetime (taken out of the pool, to be
    /// closed), or nullptr. Call until nullptr.
    server_slot* maintain(std::int64_t now_us);
    /// A server left the pool (closed, or dirty after its client vanished).
    void remove(server_slot& s);

    // ---- servers moving between workers (shared budget only) ----
    /// A server another worker handed over (its budget place comes with it): it serves
    /// the first waiter or becomes idle, or must be closed, as from release().
    [[nodiscard]] release_outcome adopt(server_slot& s, std::int64_t created_us,
                                        std::uint64_t generation, std::int64_t idle_since_us);
    /// Another worker asked for a server: hands an idle one over if there is one.
    bool give_idle_to(int worker);
    /// The worker asked with connector::ask_for_server() had no idle server after all.
    void ask_refused();
    /// Servers on every worker, and those moving between them.
    std::size_t total_servers() const noexcept { return budget_->taken(); }
    pool_budget& budget() noexcept { return *budget_; }

    /// Takes an idle server out (e.g. to close it); nullptr if none.
    server_slot* pop_idle() noexcept;

    std::string last_error() const { return budget_->last_error(); }

    std::size_t idle_count() const noexcept { return idle_.size(); }
    std::size_t active_count() const noexcept { return active_.size(); }
    std::size_t login_count() const noexcept { return login_.size(); }
    std::size_t tested_count() const noexcept { return tested_.size(); }
    std::size_t waiting_count() const noexcept { return waiting_.size(); }
    std::size_t server_count() const noexcept {
        return idle_.size() + active_.size() + login_.size() + tested_.size();
    }
    /// The first queued client (longest wait), or nullptr.
    const waiter* first_waiter() const noexcept {
        return waiting_.empty() ? nullptr : &waiting_.front();
    }
    /// Calls f(server_slot&) for every server in the pool, in state order.
    template <typename F>
    void for_each_server(F&& f) {
        for (auto* l : {&active_, &idle_, &tested_, &login_}) {
            for (auto& s : *l) {
                f(s);
            }
        }
    }

    /// Logged-in clients of this pool (waiting, linked or idle).
    std::size_t client_count() const noexcept { return clients_; }
    void client_joined() noexcept { ++clients_; }
    void client_left() noexcept { --clients_; }

    stats::counters& stats() noexcept { return stats_; }
    const stats::counters& stats() const noexcept { return stats_; }

    /// Parameters the first server login reported; sent to clients at login.
    /// (Kept in the budget: one set per pair, whichever worker logged in first.)
    const std::vector<std::pair<std::string, std::string>>& server_params() const noexcept {
        return budget_->server_params();
    }
    bool has_server_params() const noexcept { return budget_->has_server_params(); }
    void set_server_params(std::vector<std::pair<std::string, std::string>> p) {
        budget_->set_server_params(std::move(p));
    }

private:
    using slot_list = boost::intrusive::list<
        server_slot,
        boost::intrusive::member_hook<server_slot, list_hook, &server_slot::pool_hook_>,
        boost::intrusive::constant_time_size<true>>;
    using waiter_list = boost::intrusive::list<
        waiter, boost::intrusive::member_hook<waiter, list_hook, &waiter::wait_hook_>,
        boost::intrusive::constant_time_size<true>>;

    /// release(); `may_rebalance` false for a server opened, checked or fetched for this
    /// worker's own clients.
    release_outcome release(server_slot& s, bool may_rebalance);
    /// The one place a server changes state. A server that leaves the pool gives its
    /// budget place back unless `keep_place` (it moves to another worker).
    void move(server_slot& s, server_state to, bool keep_place = false);
    /// Shows the other workers whether this one has idle servers or queued clients.
    void publish() noexcept;
    /// With no client of its own waiting, hands the idle server `s` to a worker whose
    /// clients wait; true when it did.
    bool offer(server_slot& s);
    /// With clients of its own waiting, hands the released server `s` to a worker whose
    /// first client has waited much longer (its share of servers is too small); true when
    /// it did.
    bool rebalance(server_slot& s);
    /// Asks a worker with an idle server for one, when the queue is longer than the
    /// logins and checks under way will serve.
    void ask_elsewhere();
    /// Servers in use or idle that may still be lent to a waiter: this worker's of the
    /// current generation (a retired one is closed when released, RECONNECT) and, as
    /// this worker cannot tell their generation, every server of the other workers.
    std::size_t servers_that_may_serve() const noexcept;
    /// Whether `w`, which nothing will serve before the login retry, is failed now.
    bool fails_in_login_retry(const waiter& w) const noexcept {
        return w.logging_in || !budget_->last_failure_unreachable();
    }
    /// Wakes with nullptr, from the back, the waiters fails_in_login_retry() says so of;
    /// at most `limit` of them.
    void fail_waiters(std::size_t limit);
    /// No server, login, check or ask under way could serve a waiter.
    bool nothing_will_serve() const noexcept {
        return servers_that_may_serve() + login_.size() + tested_.size() == 0 && asked_ == 0;
    }
    /// Waiters that no login, check or ask under way will serve.
    std::size_t uncovered() const noexcept {
        const std::size_t covered = login_.size() + tested_.size() + asked_;
        return waiting_.size() > covered ? waiting_.size() - covered : 0;
    }
    slot_list& list_of(server_state st) noexcept;
    void open_for_waiters();
    /// Wakes every waiter with nullptr when no server is left to serve them and login
    /// retry forbids new ones.
    void fail_hopeless_waiters();
    /// How many servers the pool may have now: pool_size, plus reserve_pool_size once the
    /// first waiter has waited reserve_pool_timeout.
    std::size_t capacity(std::int64_t now_us) const noexcept;
    /// Whether a new login may start now (not paused, not in login retry, limits allow).
    bool may_open_now(std::int64_t now_us, bool for_waiter);

    std::string database_;
    std::string user_;
    pool_settings settings_;
    connector& connector_;
    slot_list login_;
    slot_list idle_;
    slot_list active_;
    slot_list tested_;
    waiter_list waiting_;
    stats::counters stats_;
    std::size_t clients_ = 0;
    bool paused_ = false;
    std::unique_ptr<pool_budget> own_budget_;
    pool_budget* budget_;
    int worker_;
    std::size_t asked_ = 0;    // ask_for_server() calls not yet answered
    bool shown_idle_ = false;  // what publish() last told the other workers
    bool shown_waiting_ = false;
    std::int64_t shown_oldest_wait_ = 0;
};

}  // namespace sabakan::pool

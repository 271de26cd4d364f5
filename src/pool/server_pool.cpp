// Pool policy: LIFO reuse of idle servers, FIFO service of waiting clients, a hard bound
// of pool_size on servers in all states together (plus the reserve for clients that waited
// reserve_pool_timeout), and the sweep that retires idle servers and keeps min_pool_size.
// With several workers the bound is the shared budget's, and a server released where no
// client waits moves to a worker where one does.
#include <sabakan/core/assert.hpp>
#include <sabakan/pool/server_pool.hpp>
#include <sabakan/stats/counters.hpp>

namespace sabakan::pool {

std::string_view to_string(release_outcome o) noexcept {
    switch (o) {
        case release_outcome::kept:
            return "kept";
        case release_outcome::paused:
            return "database paused";
        case release_outcome::retired:
            return "close_needed: the database's config changed, or RECONNECT";
        case release_outcome::surplus:
            return "more servers than pool_size allows";
        case release_outcome::lifetime:
            return "server_lifetime reached";
        case release_outcome::moved:
            return "moved to another worker";
    }
    return "?";
}

bool server_slot::close_needed() const noexcept {
    return pool_ != nullptr && !pool_->is_current(*this);
}

server_pool::~server_pool() {
    // Sessions unlink their servers and waiters before the pool goes away; make sure no
    // hook is left pointing into destroyed lists.
    login_.clear();
    idle_.clear();
    active_.clear();
    tested_.clear();
    waiting_.clear();
}

server_pool::slot_list& server_pool::list_of(server_state st) noexcept {
    switch (st) {
        case server_state::login:
            return login_;
        case server_state::idle:
            return idle_;
        case server_state::active:
            return active_;
        case server_state::tested:
            return tested_;
        case server_state::unlinked:
            break;
    }
    SABAKAN_CHECK(false);
    return idle_;
}

void server_pool::move(server_slot& s, server_state to, bool keep_place) {
    SABAKAN_ASSERT(s.pool_ == this || s.pool_ == nullptr);
    const bool was_linked = s.state_ != server_state::unlinked;
    if (was_linked) {
        list_of(s.state_).erase(slot_list::s_iterator_to(s));
    }
    s.state_ = to;
    if (to == server_state::unlinked) {
        s.pool_ = nullptr;
        if (was_linked && !keep_place) {
            budget_->give_back();
        }
    } else {
        s.pool_ = this;
        if (to == server_state::idle) {
            s.idle_since_us_ = stats::now_us();
            idle_.push_front(s);  // LIFO: the most recently used server stays warm
        } else {
            list_of(to).push_back(s);
        }
    }
    publish();
}

void server_pool::publish() noexcept {
    if (!budget_->shared()) {
        return;
    }
    const bool idle = !idle_.empty() && !paused_;
    if (idle != shown_idle_) {
        shown_idle_ = idle;
        budget_->set_idle(worker_, idle);
    }
    // Clients the logins, checks and asks under way will serve need nothing from elsewhere.
    const bool waiting = uncovered() > 0;
    if (waiting != shown_waiting_) {
        shown_waiting_ = waiting;
        budget_->set_waiting(worker_, waiting);
    }
    const std::int64_t oldest = waiting_.empty() ? 0 : waiting_.front().wait_started_us;
    if (oldest != shown_oldest_wait_) {
        shown_oldest_wait_ = oldest;
        budget_->set_oldest_wait(worker_, oldest);
    }
}

// A worker whose first client waits this much longer than this one's gets the server: the
// waits stay about even however the servers happened to be spread over the workers, and a
// small difference is not worth a move (two epoll_ctl calls and a cross-thread wake-up).
constexpr std::int64_t rebalance_after_us = 10'000;

bool server_pool::rebalance(server_slot& s) {
    if (!budget_->shared()) {
        return false;
    }
    const std::int64_t mine = waiting_.front().wait_started_us;
    const int w = budget_->worker_waiting_since(worker_, mine - rebalance_after_us);
    if (w < 0) {
        return false;
    }
    move(s, server_state::unlinked, /*keep_place=*/true);
    connector_.hand_over(s, w);
    return true;
}

bool server_pool::offer(server_slot& s) {
    if (!budget_->shared() || !waiting_.empty()) {
        return false;
    }
    const int w = budget_->worker_waiting(worker_);
    if (w < 0) {
        return false;
    }
    move(s, server_state::unlinked, /*keep_place=*/true);
    connector_.hand_over(s, w);
    return true;
}

void server_pool::ask_elsewhere() {
    if (!budget_->shared() || paused_ || uncovered() == 0) {
        return;
    }
    // An idle server elsewhere is cheaper than a new login, and keeps the backends few.
    if (const int w = budget_->worker_idle(worker_); w >= 0) {
        ++asked_;
        publish();
        connector_.ask_for_server(*this, w);
    }
}

server_slot* server_pool::acquire(waiter& w) {
    SABAKAN_ASSERT(!w.waiting());
    std::int64_t now = 0;
    while (!idle_.empty() && !paused_) {
        server_slot& s = idle_.front();
        if (settings_.server_check) {
            now = now != 0 ? now : stats::now_us();
            // Idle too long to trust: check it first; the client waits for the outcome.
            if (now - s.idle_since_us_ >= settings_.server_check_delay) {
                move(s, server_state::tested);
                connector_.check_server(s);
                continue;
            }
        }
        move(s, server_state::active);
        return &s;
    }
    // server_login_retry: the backend just refused a login and no server is up or coming;
    // fail now with the reason instead of queueing for a login that will not be tried.
    now = now != 0 ? now : stats::now_us();  // only when the client has to wait
    // (Idle is empty here. Servers on other workers count: one may come to this client.)
    // Cheapest first: outside the retry window (nearly always) no server list is walked.
    if (!paused_ && in_login_retry(now) && fails_in_login_retry(w) && nothing_will_serve()) {
        w.wake(nullptr);
        return nullptr;
    }
    w.wait_started_us = now;
    waiting_.push_back(w);
    publish();
    ask_elsewhere();
    open_for_waiters();
    return nullptr;
}

void server_pool::cancel_wait(waiter& w) noexcept {
    if (w.waiting()) {
        waiting_.erase(waiter_list::s_iterator_to(w));
        publish();
    }
}

std::size_t server_pool::capacity(std::int64_t now_us) const noexcept {
    auto cap = static_cast<std::size_t>(settings_.pool_size);
    if (settings_.reserve_pool_size > 0 && !waiting_.empty() &&
        now_us - waiting_.front().wait_started_us >= settings_.reserve_pool_timeout) {
        cap += static_cast<std::size_t>(settings_.reserve_pool_size);
    }
    return cap;
}

bool server_pool::may_open_now(std::int64_t now_us, bool for_waiter) {
    return !paused_ && !in_login_retry(now_us) && connector_.may_open(*this, for_waiter);
}

void server_pool::open_for_waiters() {
    // One new server per waiter not already covered by a login, check or ask in progress.
    if (paused_ || uncovered() == 0) {
        return;
    }
    const std::int64_t now = stats::now_us();
    // The limits are asked before a place is taken, as they count the places taken.
    while (uncovered() > 0 && total_servers() < capacity(now) && may_open_now(now, true) &&
           budget_->try_take(capacity(now))) {
        const auto before = login_.size();
        connector_.open_server(*this);
        if (login_.size() == before) {
            budget_->give_back();
            break;  // the connector could not start one
        }
    }
}

void server_pool::set_settings(const pool_settings& s) {
    settings_ = s;
    open_for_waiters();
}

server_slot* server_pool::pop_surplus_idle() noexcept {
    if (total_servers() <= static_cast<std::size_t>(settings_.pool_size)) {
        return nullptr;
    }
    return pop_idle();
}

release_outcome server_pool::release(server_slot& s) {
    return release(s, /*may_rebalance=*/true);
}

release_outcome server_pool::release(server_slot& s, bool may_rebalance) {
    SABAKAN_ASSERT(s.state_ == server_state::active);
    const std::int64_t now = stats::now_us();
    release_outcome out = release_outcome::kept;
    if (paused_) {
        out = release_outcome::paused;
    } else if (!is_current(s)) {
        out = release_outcome::retired;
    } else if (total_servers() >
               static_cast<std::size_t>(settings_.pool_size + settings_.reserve_pool_size)) {
        // Beyond even the reserve (pool_size was lowered). Reserve servers themselves stay
        // until server_idle_timeout, as in PgBouncer.
        out = release_outcome::surplus;
    } else if (settings_.server_lifetime > 0 && now - s.created_us_ >= settings_.server_lifetime) {
        out = release_outcome::lifetime;
    }
    if (out != release_outcome::kept) {
        move(s, server_state::unlinked);
        open_for_waiters();  // its place may go to a fresh server
        fail_hopeless_waiters();
        return out;
    }
    if (!waiting_.empty()) {
        if (may_rebalance && rebalance(s)) {
            return release_outcome::moved;
        }
        waiter& w = waiting_.front();
        waiting_.pop_front();
        publish();
        w.wake(&s);  // stays active, now lent to w
        return out;
    }
    move(s, server_state::idle);
    // Idle first, then the look for waiters elsewhere: see pool_budget's flags.
    return offer(s) ? release_outcome::moved : out;
}

void server_pool::resume() {
    if (!paused_) {
        return;
    }
    paused_ = false;
    while (!waiting_.empty() && !idle_.empty()) {
        server_slot& s = idle_.front();
        move(s, server_state::active);
        waiter& w = waiting_.front();
        waiting_.pop_front();
        publish();
        w.wake(&s);
    }
    publish();
    ask_elsewhere();
    open_for_waiters();
}

void server_pool::add_login(server_slot& s) {
    s.generation_ = budget_->generation();
    s.created_us_ = stats::now_us();
    move(s, server_state::login);
}

release_outcome server_pool::check_done(server_slot& s) {
    SABAKAN_ASSERT(s.state_ == server_state::tested);
    move(s, server_state::active);
    return release(s, /*may_rebalance=*/false);  // it was checked for this worker's client
}

release_outcome server_pool::login_done(server_slot& s) {
    SABAKAN_ASSERT(s.state_ == server_state::login);
    budget_->reset_login_failure();
    move(s, server_state::active);
    return release(s, /*may_rebalance=*/false);  // opened for this worker's clients
}

void server_pool::login_failed(server_slot& s, std::string error, login_failure why) {
    move(s, server_state::unlinked);
    budget_->login_failed(stats::now_us(), std::move(error), why == login_failure::unreachable);
    // The backend is down or refuses us: tell the waiters now rather than let them queue
    // until query_wait_timeout; but not while a server in use will come back to serve them
    // (a login refused near max_connections), nor those that logins still under way will
    // serve (the first ones, as the queue is FIFO).
    if (servers_that_may_serve() != 0 || asked_ != 0) {
        return;  // a server in use, here or on another worker, may come back to them
    }
    fail_waiters(uncovered());
}

void server_pool::fail_waiters(std::size_t limit) {
    // From the back: the first in line are those the logins under way will serve.
    auto it = waiting_.end();
    while (limit > 0 && it != waiting_.begin()) {
        --it;
        waiter& w = *it;
        if (!fails_in_login_retry(w)) {
            continue;
        }
        it = waiting_.erase(it);
        --limit;
        publish();
        w.wake(nullptr);
    }
}

server_slot* server_pool::maintain(std::int64_t now_us) {
    // Idle servers past their time; the oldest idle one is at the back (LIFO reuse).
    const bool above_min = total_servers() > static_cast<std::size_t>(settings_.min_pool_size);
    for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
        server_slot& s = *it;
        const bool idle_too_long = settings_.server_idle_timeout > 0 && above_min &&
                                   now_us - s.idle_since_us_ >= settings_.server_idle_timeout;
        const bool too_old =
            settings_.server_lifetime > 0 && now_us - s.created_us_ >= settings_.server_lifetime;
        if (idle_too_long || too_old || !is_current(s)) {
            move(s, server_state::unlinked);
            return &s;
        }
    }
    ask_elsewhere();     // in case a flag was missed: at worst a sweep late
    open_for_waiters();  // the reserve, the end of login retry, or a db/user limit freed
    const auto min = static_cast<std::size_t>(settings_.min_pool_size);
    while (total_servers() < min && may_open_now(now_us, false) && budget_->try_take(min)) {
        const auto before = login_.size();
        connector_.open_server(*this);
        if (login_.size() == before) {
            budget_->give_back();
            break;
        }
    }
    return nullptr;
}

void server_pool::remove(server_slot& s) {
    if (s.pool_ != this) {
        return;
    }
    move(s, server_state::unlinked);
    open_for_waiters();
    fail_hopeless_waiters();
}

std::size_t server_pool::servers_that_may_serve() const noexcept {
    std::size_t current = 0;
    for (const slot_list* l : {&active_, &idle_}) {
        for (const server_slot& s : *l) {
            current += is_current(s) ? 1 : 0;
        }
    }
    const std::size_t here = idle_.size() + active_.size() + login_.size() + tested_.size();
    const std::size_t elsewhere = total_servers() > here ? total_servers() - here : 0;
    return current + elsewhere;
}

void server_pool::fail_hopeless_waiters() {
    // In the server_login_retry window no login is tried, so once the last server that
    // could have come back is gone, nothing will serve the queue: say so now, with the
    // login's error, rather than at the end of the window.
    if (waiting_.empty() || !in_login_retry(stats::now_us()) || !nothing_will_serve()) {
        return;
    }
    fail_waiters(waiting_.size());
}

server_slot* server_pool::pop_idle() noexcept {
    if (idle_.empty()) {
        return nullptr;
    }
    server_slot& s = idle_.front();
    move(s, server_state::unlinked);
    return &s;
}

}  // namespace sabakan::pool

namespace sabakan::pool {

release_outcome server_pool::adopt(server_slot& s, std::int64_t created_us,
                                   std::uint64_t generation, std::int64_t idle_since_us) {
    SABAKAN_ASSERT(s.state_ == server_state::unlinked);
    s.generation_ = generation;  // a RECONNECT while it moved makes it close at release
    s.created_us_ = created_us;
    asked_ -= asked_ > 0 ? 1 : 0;  // an answer, or a server offered unasked
    if (settings_.server_check && !paused_ && !waiting_.empty() &&
        stats::now_us() - idle_since_us >= settings_.server_check_delay) {
        // Idle too long to trust, as acquire() would judge it: checked before it serves.
        move(s, server_state::tested);
        connector_.check_server(s);
        return release_outcome::kept;
    }
    move(s, server_state::active);
    return release(s, /*may_rebalance=*/false);  // it came for this worker's clients
}

void server_pool::ask_refused() {
    asked_ -= asked_ > 0 ? 1 : 0;
    publish();
    open_for_waiters();  // not another ask at once: the sweep asks again if need be
    fail_hopeless_waiters();
}

bool server_pool::give_idle_to(int worker) {
    if (paused_ || idle_.empty()) {
        return false;
    }
    server_slot& s = idle_.front();
    move(s, server_state::unlinked, /*keep_place=*/true);
    connector_.hand_over(s, worker);
    return true;
}

}  // namespace sabakan::pool

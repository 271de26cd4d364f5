// Pool policy: LIFO reuse of idle servers, FIFO service of waiting clients, and a hard
// bound of pool_size on servers in all states together.
#include <sabakan/core/assert.hpp>
#include <sabakan/pool/server_pool.hpp>

namespace sabakan::pool {

bool server_slot::close_needed() const noexcept {
    return pool_ != nullptr && !pool_->is_current(*this);
}

server_pool::~server_pool() {
    // Sessions unlink their servers and waiters before the pool goes away; make sure no
    // hook is left pointing into destroyed lists.
    login_.clear();
    idle_.clear();
    active_.clear();
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
        case server_state::unlinked:
            break;
    }
    SABAKAN_CHECK(false);
    return idle_;
}

void server_pool::move(server_slot& s, server_state to) {
    SABAKAN_ASSERT(s.pool_ == this || s.pool_ == nullptr);
    if (s.state_ != server_state::unlinked) {
        list_of(s.state_).erase(slot_list::s_iterator_to(s));
    }
    s.state_ = to;
    if (to == server_state::unlinked) {
        s.pool_ = nullptr;
        return;
    }
    s.pool_ = this;
    if (to == server_state::idle) {
        idle_.push_front(s);  // LIFO: the most recently used server stays warm
    } else {
        list_of(to).push_back(s);
    }
}

server_slot* server_pool::acquire(waiter& w) {
    SABAKAN_ASSERT(!w.waiting());
    if (!idle_.empty() && !paused_) {
        server_slot& s = idle_.front();
        move(s, server_state::active);
        return &s;
    }
    waiting_.push_back(w);
    open_for_waiters();
    return nullptr;
}

void server_pool::cancel_wait(waiter& w) noexcept {
    if (w.waiting()) {
        waiting_.erase(waiter_list::s_iterator_to(w));
    }
}

void server_pool::open_for_waiters() {
    // One new server per waiter not already covered by a login in progress.
    while (!paused_ && waiting_.size() > login_.size() &&
           server_count() < static_cast<std::size_t>(settings_.pool_size)) {
        auto before = login_.size();
        connector_.open_server(*this);
        if (login_.size() == before) {
            break;  // the connector could not start one
        }
    }
}

void server_pool::set_settings(const pool_settings& s) {
    settings_ = s;
    open_for_waiters();
}

server_slot* server_pool::pop_surplus_idle() noexcept {
    if (server_count() <= static_cast<std::size_t>(settings_.pool_size)) {
        return nullptr;
    }
    return pop_idle();
}

bool server_pool::release(server_slot& s) {
    SABAKAN_ASSERT(s.state_ == server_state::active);
    if (paused_ || !is_current(s) ||
        server_count() > static_cast<std::size_t>(settings_.pool_size)) {
        move(s, server_state::unlinked);
        open_for_waiters();  // a retired server's place goes to a fresh one
        return false;
    }
    if (!waiting_.empty()) {
        waiter& w = waiting_.front();
        waiting_.pop_front();
        w.wake(&s);  // stays active, now lent to w
        return true;
    }
    move(s, server_state::idle);
    return true;
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
        w.wake(&s);
    }
    open_for_waiters();
}

void server_pool::add_login(server_slot& s) {
    s.generation_ = generation_;
    move(s, server_state::login);
}

bool server_pool::login_done(server_slot& s) {
    SABAKAN_ASSERT(s.state_ == server_state::login);
    last_error_.clear();
    move(s, server_state::active);
    return release(s);
}

void server_pool::login_failed(server_slot& s, std::string error) {
    move(s, server_state::unlinked);
    last_error_ = std::move(error);
    // The backend is down or refuses us: tell the waiters now rather than let them queue
    // until query_wait_timeout; but not while a server in use will come back to serve them
    // (a login refused near max_connections), nor those that logins still under way will
    // serve (the first ones, as the queue is FIFO).
    if (!active_.empty()) {
        return;
    }
    while (waiting_.size() > login_.size()) {
        waiter& w = waiting_.back();
        waiting_.pop_back();
        w.wake(nullptr);
    }
}

void server_pool::remove(server_slot& s) {
    if (s.pool_ != this) {
        return;
    }
    move(s, server_state::unlinked);
    open_for_waiters();
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

// A worker's periodic upkeep, as PgBouncer's janitor: three sweeps a second (pool upkeep,
// the client-side timeouts of pool::due(), parking idle clients, returning memory) and
// the statistics period (averages, the log_stats line). Never per message.
// Owned by: one worker (pooler); runs on its io_context.
#include "janitor.hpp"

#include <sabakan/core/log.hpp>
#include <sabakan/core/memory.hpp>
#include <sabakan/protocol/sqlstate.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/pooler.hpp>
#include <sabakan/session/server_connection.hpp>
#include <sabakan/session/worker_group.hpp>

#include <chrono>

namespace sabakan::session {

namespace asio = net::asio;
using net::error_code;

janitor::janitor(pooler& owner)
    : owner_(owner),
      stats_timer_(owner.io()),
      sweep_timer_(owner.io()),
      last_period_us_(stats::now_us()) {}

void janitor::start() {
    arm_stats();
    arm_sweep();
}

void janitor::arm_stats() {
    auto period = owner_.settings().stats_period;
    if (period < std::chrono::seconds(1)) {
        period = std::chrono::seconds(1);
    }
    stats_timer_.expires_after(period);
    stats_timer_.async_wait([this](const error_code& ec) {
        if (ec) {
            return;
        }
        worker_group* group = owner_.group();
        if (group == nullptr || group->size() == 1) {
            stats_period();
            arm_stats();
            return;
        }
        // The totals are every worker's: read them with the others stopped.
        asio::co_spawn(
            owner_.io(),
            [this, group]() -> net::awaitable<void> {
                {
                    auto stopped = co_await group->stop_world(owner_.worker_index());
                    stats_period();
                }
                arm_stats();
            },
            asio::detached);
    });
}

void janitor::arm_sweep() {
    // Three sweeps a second, as PgBouncer's janitor: timeouts are as precise as that.
    sweep_timer_.expires_after(std::chrono::milliseconds(333));
    sweep_timer_.async_wait([this](const error_code& ec) {
        if (!ec) {
            sweep();
            arm_sweep();
        }
    });
}

// A client idle this long gives back its buffer and coroutine frames (client_session::
// park()). Long enough that a busy client never pays for waking up, short enough that an
// application's idle connections shrink within a second or two.
constexpr std::int64_t park_after_us = 1'000'000;
// So many clients ending between two sweeps is a burst worth a purge.
constexpr int clients_for_purge = 64;

void janitor::sweep() {
    const std::int64_t now = stats::now_us();
    // Memory that parked or departed clients gave back goes back to the system (a burst of
    // disconnects would otherwise leave the RSS at its peak).
    if (purge_due_ || closed_since_sweep_ >= clients_for_purge) {
        core::return_free_memory();
    }
    closed_since_sweep_ = 0;
    // A forced-user database with min_pool_size is kept warm before any client arrives.
    for (const auto& db : owner_.cfg().databases) {
        const int min = db.min_pool_size >= 0 ? db.min_pool_size : owner_.settings().min_pool_size;
        if (min > 0 && db.name != "*" && !db.user.empty() &&
            !owner_.pools_.contains(std::make_pair(db.name, db.user))) {
            owner_.pool_for(db.name, db.user);
        }
    }
    for (auto& [key, p] : owner_.pools_) {
        while (auto* slot = p->maintain(now)) {
            static_cast<server_connection*>(slot)->close(
                "idle past server_idle_timeout or server_lifetime, or retired");
        }
    }
    // Closing a server or a client here only closes sockets; the sessions end later, so
    // the registry is not changed under this loop.
    int parked = 0;
    // Parked clients are kept at the back of the list and need a look only for
    // client_idle_timeout: with thousands of them, touching each three times a second would
    // be most of an idle pooler's CPU time.
    const bool idle_timeouts = client_idle_timeout_set();
    for (auto& c : owner_.clients_) {
        if (c.parked() && !idle_timeouts) {
            break;
        }
        const backend_pool* p = c.pool();
        if (!c.logged_in() || p == nullptr || c.wait_ending()) {
            continue;  // not pooled yet, or woken and about to report why it got no server
        }
        pool::client_clock clock;
        if (const server_connection* s = c.server()) {
            clock.at = pool::client_clock::place::linked;
            clock.query_started_us = s->query_started_us();
            clock.xact_started_us = s->xact_started_us();
            clock.last_ready_us = s->last_ready_us();
            clock.in_transaction = s->link().state().status != protocol::transaction_status::idle;
        } else if (c.waiting()) {
            clock.at = pool::client_clock::place::waiting;
            clock.wait_started_us = c.wait_started_us;
        } else {
            clock.idle_since_us = c.idle_since_us();
        }
        const auto timeout = pool::due(pool::limits_of(p->settings(), c.user_limits()), clock, now);
        if (timeout) {
            enforce(c, *timeout);
        } else if (clock.at == pool::client_clock::place::idle &&
                   now - c.idle_since_us() >= park_after_us && !c.parked()) {
            c.park();
            ++parked;
        }
    }
    // The parked clients free their memory when their tasks next run, after this sweep;
    // the next sweep hands it back to the system.
    purge_due_ = parked > 0;
}

void janitor::enforce(client_session& c, pool::client_timeout t) {
    namespace sqlstate = protocol::sqlstate;
    using enum pool::client_timeout;
    switch (t) {
        case query:
            c.server()->close_for_client(sqlstate::query_canceled, "query_timeout",
                                         "the query ran longer than query_timeout; make it "
                                         "faster or raise query_timeout in the pooler's config");
            break;
        case transaction:
            c.server()->close_for_client(sqlstate::transaction_timeout, "transaction timeout",
                                         "the transaction stayed open longer than "
                                         "transaction_timeout; commit sooner or raise it");
            break;
        case idle_transaction:
            c.server()->close_for_client(sqlstate::idle_in_transaction_timeout,
                                         "idle transaction timeout",
                                         "the transaction was left open and idle longer than "
                                         "idle_transaction_timeout; commit or roll back sooner");
            break;
        case query_queued:
            c.end_with_error(sqlstate::query_canceled, "query_timeout",
                             "the query waited for a server longer than query_timeout; "
                             "raise pool_size or query_timeout");
            break;
        case query_wait:
            c.wait_timed_out();
            break;
        case client_idle:
            c.end_with_error(sqlstate::idle_session_timeout, "client_idle_timeout",
                             "the connection was idle longer than client_idle_timeout; "
                             "reconnect (or raise client_idle_timeout)");
            break;
    }
}

void janitor::stats_period() {
    const std::int64_t now = stats::now_us();
    const auto period = static_cast<std::uint64_t>(now - last_period_us_);
    auto totals = owner_.totals_by_database();
    averages_.clear();
    stats::counters all_now;
    stats::counters all_before;
    for (const auto& [db, t] : totals) {
        averages_[db] = stats::averages(t, last_totals_[db], period);
        all_now += t;
        all_before += last_totals_[db];
    }
    last_totals_ = std::move(totals);
    last_period_us_ = now;
    averages_total_ = stats::averages(all_now, all_before, period);
    if (owner_.settings().log_stats) {
        const auto& a = averages_total_;
        log::info(
            "stats: {} xacts/s, {} queries/s, {} client parses/s, {} server parses/s, {} "
            "binds/s, in {} B/s, out {} B/s, xact {} us, query {} us, wait {} us",
            a.xact_count, a.query_count, a.client_parse_count, a.server_parse_count, a.bind_count,
            a.client_bytes, a.server_bytes, a.xact_time, a.query_time, a.wait_time);
    }
}

bool janitor::client_idle_timeout_set() const noexcept {
    for (const auto& [key, p] : owner_.pools_) {
        if (p->settings().client_idle_timeout > 0) {
            return true;
        }
    }
    for (const auto& u : owner_.cfg().users) {
        if (u.client_idle_timeout && u.client_idle_timeout->count() > 0) {
            return true;
        }
    }
    return false;
}

}  // namespace sabakan::session

// The sweep's client-side timeout rule.
#include <sabakan/pool/client_timeouts.hpp>

namespace sabakan::pool {

client_limits limits_of(const pool_settings& pool, const user_limits& user) noexcept {
    client_limits l;
    l.query_wait_timeout = user.query_wait_timeout.value_or(pool.query_wait_timeout);
    l.query_timeout = pool.query_timeout;
    l.transaction_timeout = pool.transaction_timeout;
    l.idle_transaction_timeout = pool.idle_transaction_timeout;
    l.client_idle_timeout = user.client_idle_timeout.value_or(pool.client_idle_timeout);
    return l;
}

namespace {

bool past(std::int64_t limit, std::int64_t since, std::int64_t now) noexcept {
    return limit > 0 && since != 0 && now - since >= limit;
}

}  // namespace

std::optional<client_timeout> due(const client_limits& l, const client_clock& c,
                                  std::int64_t now) noexcept {
    switch (c.at) {
        case client_clock::place::linked:
            if (past(l.query_timeout, c.query_started_us, now)) {
                return client_timeout::query;
            }
            if (past(l.transaction_timeout, c.xact_started_us, now)) {
                return client_timeout::transaction;
            }
            if (c.query_started_us == 0 && c.in_transaction &&
                past(l.idle_transaction_timeout, c.last_ready_us, now)) {
                return client_timeout::idle_transaction;
            }
            return std::nullopt;
        case client_clock::place::waiting:
            if (l.query_timeout > 0 && now - c.wait_started_us >= l.query_timeout) {
                return client_timeout::query_queued;
            }
            if (l.query_wait_timeout > 0 && now - c.wait_started_us >= l.query_wait_timeout) {
                return client_timeout::query_wait;
            }
            return std::nullopt;
        case client_clock::place::idle:
            if (l.client_idle_timeout > 0 && now - c.idle_since_us >= l.client_idle_timeout) {
                return client_timeout::client_idle;
            }
            return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace sabakan::pool

// Which client-side timeout is due: the sweep's rule as one pure function of a client's
// limits, where it is, and the clock. Nothing here closes anything; the caller does.
// Times are steady-clock microseconds; a limit of 0 is off.
#pragma once

#include <sabakan/pool/server_pool.hpp>

#include <cstdint>
#include <optional>

namespace sabakan::pool {

/// The [users] entry of the user a client logged in as (which, with a forced user=, is not
/// its pool's user): these two limits follow the client, not its pool. Resolved at login
/// and again at each RELOAD, not looked up per sweep.
struct user_limits {
    std::optional<std::int64_t> query_wait_timeout;
    std::optional<std::int64_t> client_idle_timeout;
};

/// One client's limits: its pool's, with its login user's on top.
struct client_limits {
    std::int64_t query_wait_timeout = 0;
    std::int64_t query_timeout = 0;
    std::int64_t transaction_timeout = 0;
    std::int64_t idle_transaction_timeout = 0;
    std::int64_t client_idle_timeout = 0;
};

client_limits limits_of(const pool_settings& pool, const user_limits& user) noexcept;

/// Where a logged-in client is, as the sweep sees it.
struct client_clock {
    enum class place : std::uint8_t {
        linked,   // holds a server
        waiting,  // queued for a server
        idle,     // neither: between transactions
    };
    place at = place::idle;
    std::int64_t query_started_us = 0;  // linked: 0 when no query runs
    std::int64_t xact_started_us = 0;   // linked: 0 when no transaction is open
    std::int64_t last_ready_us = 0;     // linked: the server's last ReadyForQuery, 0: none
    bool in_transaction = false;        // linked: that ReadyForQuery said T or E
    std::int64_t wait_started_us = 0;   // waiting
    std::int64_t idle_since_us = 0;     // idle
};

enum class client_timeout : std::uint8_t {
    query,             // query_timeout, while a server answers
    transaction,       // transaction_timeout
    idle_transaction,  // idle_transaction_timeout: a transaction open, no query running
    query_queued,      // query_timeout, while still queued (it counts from the arrival)
    query_wait,        // query_wait_timeout
    client_idle,       // client_idle_timeout
};

/// The timeout that has run out for a client at `now`, or none. When several have, the
/// first in client_timeout's order wins.
std::optional<client_timeout> due(const client_limits& limits, const client_clock& clock,
                                  std::int64_t now) noexcept;

}  // namespace sabakan::pool

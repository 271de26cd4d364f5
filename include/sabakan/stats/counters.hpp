// Traffic counters of one pool (or one database, summed), and the per-second averages
// over a stats period that SHOW STATS and the log_stats line report. Plain integers: the
// connection that owns the pool bumps them on its own thread, with no lock and no
// allocation. Times are microseconds.
#pragma once

#include <cstdint>

namespace sabakan::stats {

struct counters {
    std::uint64_t server_assignment_count = 0;  // a server lent to a client
    std::uint64_t xact_count = 0;               // transactions ended (ReadyForQuery 'I')
    std::uint64_t query_count = 0;              // ReadyForQuery seen while linked
    std::uint64_t client_bytes = 0;             // received from clients (SHOW STATS total_received)
    std::uint64_t server_bytes = 0;             // sent to clients (total_sent)
    std::uint64_t xact_time = 0;                // µs from a transaction's first query to its end
    std::uint64_t query_time = 0;               // µs a server spent answering
    std::uint64_t wait_time = 0;                // µs clients spent queued for a server
    std::uint64_t client_parse_count = 0;       // prepared statements (none tracked yet)
    std::uint64_t server_parse_count = 0;
    std::uint64_t bind_count = 0;
    std::uint64_t client_login_count = 0;  // successful client logins

    counters& operator+=(const counters& o) noexcept;
};

/// The averages over one stats period, as PgBouncer defines them: counts and bytes per
/// second; xact_time per transaction, query_time per query and wait_time per server
/// assignment. `now` and `before` are the totals at the two ends of a period of
/// `period_us` microseconds; a zero period gives all zeros.
counters averages(const counters& now, const counters& before, std::uint64_t period_us) noexcept;

}  // namespace sabakan::stats

namespace sabakan::stats {

/// Microseconds on the steady clock, the time base of every counter and wait.
std::int64_t now_us() noexcept;

}  // namespace sabakan::stats

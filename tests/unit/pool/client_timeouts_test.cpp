// The sweep's client-side timeout rule, as a table: each row a client's limits, where it
// is, its times and the clock, and the timeout that must be due (or none).
#include <sabakan/pool/client_timeouts.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace sabakan::pool {
namespace {

using place = client_clock::place;
constexpr std::int64_t s = 1'000'000;

struct row {
    const char* what;
    client_limits limits;
    client_clock clock;
    std::int64_t now;
    std::optional<client_timeout> expected;
};

client_limits limits(std::int64_t wait, std::int64_t query, std::int64_t xact,
                     std::int64_t idle_xact, std::int64_t idle) {
    return {wait, query, xact, idle_xact, idle};
}

client_clock linked(std::int64_t query, std::int64_t xact, std::int64_t ready, bool in_xact) {
    client_clock c;
    c.at = place::linked;
    c.query_started_us = query;
    c.xact_started_us = xact;
    c.last_ready_us = ready;
    c.in_transaction = in_xact;
    return c;
}

client_clock waiting(std::int64_t since) {
    client_clock c;
    c.at = place::waiting;
    c.wait_started_us = since;
    return c;
}

client_clock idle(std::int64_t since) {
    client_clock c;
    c.idle_since_us = since;
    return c;
}

// Every timeout, each just before and at its limit, the order when several are due, and
// limits of 0 that never fire.
TEST(ClientTimeouts, Table) {
    const std::vector<row> rows = {
        {"query runs, under query_timeout", limits(0, 5 * s, 0, 0, 0), linked(s, s, 0, true),
         6 * s - 1, std::nullopt},
        {"query runs, at query_timeout", limits(0, 5 * s, 0, 0, 0), linked(s, s, 0, true), 6 * s,
         client_timeout::query},
        {"no query running: query_timeout has nothing to time", limits(0, 5 * s, 0, 0, 0),
         linked(0, s, s, true), 100 * s, std::nullopt},
        {"transaction open past transaction_timeout", limits(0, 0, 10 * s, 0, 0),
         linked(0, s, 2 * s, true), 11 * s, client_timeout::transaction},
        {"query and transaction both over: query first", limits(0, 5 * s, 5 * s, 0, 0),
         linked(s, s, 0, true), 20 * s, client_timeout::query},
        {"idle in transaction past idle_transaction_timeout", limits(0, 0, 0, 3 * s, 0),
         linked(0, s, 2 * s, true), 5 * s, client_timeout::idle_transaction},
        {"idle in transaction, under the limit", limits(0, 0, 0, 3 * s, 0),
         linked(0, s, 2 * s, true), 5 * s - 1, std::nullopt},
        {"idle but outside a transaction (session mode)", limits(0, 0, 0, 3 * s, 0),
         linked(0, 0, 2 * s, false), 50 * s, std::nullopt},
        {"no ReadyForQuery yet: nothing to count idleness from", limits(0, 0, 0, 3 * s, 0),
         linked(0, s, 0, true), 50 * s, std::nullopt},
        {"queued past query_wait_timeout", limits(2 * s, 0, 0, 0, 0), waiting(s), 3 * s,
         client_timeout::query_wait},
        {"queued, under query_wait_timeout", limits(2 * s, 0, 0, 0, 0), waiting(s), 3 * s - 1,
         std::nullopt},
        {"queued past query_timeout too: query_timeout wins", limits(2 * s, 2 * s, 0, 0, 0),
         waiting(s), 3 * s, client_timeout::query_queued},
        {"idle past client_idle_timeout", limits(0, 0, 0, 0, 4 * s), idle(s), 5 * s,
         client_timeout::client_idle},
        {"idle, under client_idle_timeout", limits(0, 0, 0, 0, 4 * s), idle(s), 5 * s - 1,
         std::nullopt},
        {"every limit 0: never", limits(0, 0, 0, 0, 0), linked(s, s, s, true), 1000 * s,
         std::nullopt},
        {"every limit 0, queued: never", limits(0, 0, 0, 0, 0), waiting(s), 1000 * s, std::nullopt},
        {"client_idle_timeout does not apply while linked", limits(0, 0, 0, 0, s),
         linked(0, 0, s, false), 1000 * s, std::nullopt},
    };
    for (const auto& r : rows) {
        EXPECT_EQ(due(r.limits, r.clock, r.now), r.expected) << r.what;
    }
}

// The login user's [users] values win for query_wait_timeout and client_idle_timeout; the
// other three are the pool's.
TEST(ClientTimeouts, LoginUserOverridesTwoLimits) {
    pool_settings ps;
    ps.query_wait_timeout = 120 * s;
    ps.client_idle_timeout = 0;
    ps.query_timeout = 7 * s;
    const auto plain = limits_of(ps, {});
    EXPECT_EQ(plain.query_wait_timeout, 120 * s);
    EXPECT_EQ(plain.client_idle_timeout, 0);
    EXPECT_EQ(plain.query_timeout, 7 * s);
    const auto over = limits_of(ps, {5 * s, 9 * s});
    EXPECT_EQ(over.query_wait_timeout, 5 * s);
    EXPECT_EQ(over.client_idle_timeout, 9 * s);
    EXPECT_EQ(over.query_timeout, 7 * s);
}

}  // namespace
}  // namespace sabakan::pool

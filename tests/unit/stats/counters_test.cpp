// The period averages: rates per second, times per event, zero periods and restarts.
#include <sabakan/stats/counters.hpp>

#include <gtest/gtest.h>

namespace sabakan::stats {
namespace {

// Counts and bytes become per-second rates over the period.
TEST(Averages, RatesPerSecond) {
    counters before;
    counters now;
    now.xact_count = 600;
    now.query_count = 1200;
    now.client_bytes = 60000;
    now.server_bytes = 120000;
    now.server_assignment_count = 300;
    now.client_login_count = 60;
    auto avg = averages(now, before, 60'000'000);
    EXPECT_EQ(avg.xact_count, 10u);
    EXPECT_EQ(avg.query_count, 20u);
    EXPECT_EQ(avg.client_bytes, 1000u);
    EXPECT_EQ(avg.server_bytes, 2000u);
    EXPECT_EQ(avg.server_assignment_count, 5u);
    EXPECT_EQ(avg.client_login_count, 1u);
}

// Times are averaged per transaction, per query and per server assignment.
TEST(Averages, TimesPerEvent) {
    counters before;
    before.xact_count = 10;
    before.xact_time = 1000;
    counters now = before;
    now.xact_count += 4;
    now.xact_time += 400;
    now.query_count = 5;
    now.query_time = 50;
    now.server_assignment_count = 2;
    now.wait_time = 3000;
    auto avg = averages(now, before, 1'000'000);
    EXPECT_EQ(avg.xact_time, 100u);
    EXPECT_EQ(avg.query_time, 10u);
    EXPECT_EQ(avg.wait_time, 1500u);
}

// No events in the period means zero averages, not a division by zero.
TEST(Averages, IdlePeriodIsZero) {
    counters c;
    c.xact_time = 5;
    auto avg = averages(c, c, 1'000'000);
    EXPECT_EQ(avg.xact_time, 0u);
    EXPECT_EQ(avg.xact_count, 0u);
    EXPECT_EQ(averages(c, counters{}, 0).xact_time, 0u);
}

// Totals that went backwards (a pool made anew) give zero, not a huge wrapped number.
TEST(Averages, NeverWraps) {
    counters before;
    before.query_count = 100;
    counters now;
    now.query_count = 3;
    EXPECT_EQ(averages(now, before, 1'000'000).query_count, 0u);
}

// Sums add every field.
TEST(Counters, Sum) {
    counters a;
    a.xact_count = 1;
    a.bind_count = 2;
    counters b;
    b.xact_count = 3;
    b.wait_time = 4;
    a += b;
    EXPECT_EQ(a.xact_count, 4u);
    EXPECT_EQ(a.bind_count, 2u);
    EXPECT_EQ(a.wait_time, 4u);
}

}  // namespace
}  // namespace sabakan::stats

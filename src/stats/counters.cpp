// Sums and period averages of the traffic counters.
#include <sabakan/stats/counters.hpp>

namespace sabakan::stats {

counters& counters::operator+=(const counters& o) noexcept {
    server_assignment_count += o.server_assignment_count;
    xact_count += o.xact_count;
    query_count += o.query_count;
    client_bytes += o.client_bytes;
    server_bytes += o.server_bytes;
    xact_time += o.xact_time;
    query_time += o.query_time;
    wait_time += o.wait_time;
    client_parse_count += o.client_parse_count;
    server_parse_count += o.server_parse_count;
    bind_count += o.bind_count;
    client_login_count += o.client_login_count;
    return *this;
}

namespace {

// Counters only grow, but a pool freed and made again may restart them: never wrap.
std::uint64_t delta(std::uint64_t now, std::uint64_t before) noexcept {
    return now > before ? now - before : 0;
}

}  // namespace

counters averages(const counters& now, const counters& before, std::uint64_t period_us) noexcept {
    counters avg;
    if (period_us == 0) {
        return avg;
    }
    constexpr std::uint64_t us_per_s = 1000000;
    auto per_second = [&](std::uint64_t counters::*field) {
        return delta(now.*field, before.*field) * us_per_s / period_us;
    };
    auto per_event = [&](std::uint64_t counters::*time, std::uint64_t counters::*count) {
        const std::uint64_t n = delta(now.*count, before.*count);
        return n == 0 ? 0 : delta(now.*time, before.*time) / n;
    };
    avg.server_assignment_count = per_second(&counters::server_assignment_count);
    avg.xact_count = per_second(&counters::xact_count);
    avg.query_count = per_second(&counters::query_count);
    avg.client_bytes = per_second(&counters::client_bytes);
    avg.server_bytes = per_second(&counters::server_bytes);
    avg.client_parse_count = per_second(&counters::client_parse_count);
    avg.server_parse_count = per_second(&counters::server_parse_count);
    avg.bind_count = per_second(&counters::bind_count);
    avg.client_login_count = per_second(&counters::client_login_count);
    avg.xact_time = per_event(&counters::xact_time, &counters::xact_count);
    avg.query_time = per_event(&counters::query_time, &counters::query_count);
    avg.wait_time = per_event(&counters::wait_time, &counters::server_assignment_count);
    return avg;
}

}  // namespace sabakan::stats

#include <chrono>

namespace sabakan::stats {

std::int64_t now_us() noexcept {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace sabakan::stats

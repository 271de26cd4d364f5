// A worker's periodic upkeep: the sweep and the statistics period (janitor.cpp says more).
#pragma once

#include <sabakan/net/asio.hpp>
#include <sabakan/pool/client_timeouts.hpp>
#include <sabakan/stats/counters.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace sabakan::session {

class client_session;
class pooler;

class janitor {
public:
    explicit janitor(pooler& owner);
    janitor(const janitor&) = delete;
    janitor& operator=(const janitor&) = delete;

    /// Arms the sweep and the statistics period.
    void start();
    /// Stops the statistics period: another worker keeps it for all.
    void stop_statistics() noexcept { stats_timer_.cancel(); }
    /// A client ended: enough of them between two sweeps and memory is returned.
    void client_closed() noexcept { ++closed_since_sweep_; }
    /// Averages per database, and over all, for the last complete statistics period.
    const std::map<std::string, stats::counters>& averages() const noexcept { return averages_; }
    const stats::counters& averages_total() const noexcept { return averages_total_; }

private:
    void arm_sweep();
    /// Pool upkeep (min_pool_size, idle and old servers), the client-side timeouts, parking.
    void sweep();
    /// Acts on a client-side timeout the sweep found due for `c`.
    void enforce(client_session& c, pool::client_timeout t);
    /// Whether any pool or [users] entry sets client_idle_timeout.
    bool client_idle_timeout_set() const noexcept;
    void arm_stats();
    void stats_period();

    pooler& owner_;
    net::steady_timer stats_timer_;
    net::steady_timer sweep_timer_;
    bool purge_due_ = false;      // clients were parked: return their memory next sweep
    int closed_since_sweep_ = 0;  // clients that ended since the last sweep
    std::map<std::string, stats::counters> last_totals_;
    std::map<std::string, stats::counters> averages_;
    stats::counters averages_total_;
    std::int64_t last_period_us_ = 0;
};

}  // namespace sabakan::session

// The servers of one (database, user) across every worker. Each worker has a pool of its
// own for the pair; the budget bounds the sum of their servers by pool_size, and shows
// each worker where idle servers and waiting clients are, so that a server can move to
// the worker that needs it.
// Owned by: the worker group (one per pair), or a pool that has no group (one worker).
// Touched from every worker: atomics only, and each worker writes only its own flags.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace sabakan::pool {

class pool_budget {
public:
    explicit pool_budget(int workers = 1)
        : workers_(workers), flags_(std::make_unique<worker_flags[]>(workers)) {}
    pool_budget(const pool_budget&) = delete;
    pool_budget& operator=(const pool_budget&) = delete;

    int workers() const noexcept { return workers_; }
    bool shared() const noexcept { return workers_ > 1; }

    /// Takes one server place when fewer than `limit` are taken (opening a server).
    bool try_take(std::size_t limit) noexcept {
        auto n = taken_.load(std::memory_order_relaxed);
        while (static_cast<std::size_t>(n) < limit) {
            if (taken_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) {
                return true;
            }
        }
        return false;
    }
    /// A server closed: its place is free again.
    void give_back() noexcept { taken_.fetch_sub(1, std::memory_order_relaxed); }
    /// Servers in every state on every worker, and those moving between workers.
    std::size_t taken() const noexcept {
        return static_cast<std::size_t>(taken_.load(std::memory_order_relaxed));
    }

    /// Servers that logged in before the latest retire() are closed when released (RELOAD
    /// of a changed target, RECONNECT). Kept here so that a server moving between workers
    /// meanwhile is not taken for a new one.
    std::uint64_t generation() const noexcept {
        return generation_.load(std::memory_order_relaxed);
    }
    void retire() noexcept { generation_.fetch_add(1, std::memory_order_relaxed); }

    // The last login's outcome, so that server_login_retry holds on every worker.
    void login_failed(std::int64_t now_us, std::string error, bool unreachable) {
        std::lock_guard lock(error_mutex_);
        error_ = std::move(error);
        unreachable_.store(unreachable, std::memory_order_relaxed);
        login_failed_us_.store(now_us, std::memory_order_relaxed);
    }
    /// The last failed login could not reach a PostgreSQL accepting logins (down,
    /// starting up, shutting down), rather than being refused by it.
    bool last_failure_unreachable() const noexcept {
        return unreachable_.load(std::memory_order_relaxed);
    }
    /// A login succeeded, or the target changed: logins may be tried at once.
    void reset_login_failure() {
        if (login_failed_us_.load(std::memory_order_relaxed) != 0) {
            std::lock_guard lock(error_mutex_);
            error_.clear();
            login_failed_us_.store(0, std::memory_order_relaxed);
        }
    }
    /// Steady µs of the last failed login; 0 when the last login succeeded.
    std::int64_t login_failed_us() const noexcept {
        return login_failed_us_.load(std::memory_order_relaxed);
    }
    std::string last_error() const {
        std::lock_guard lock(error_mutex_);
        return error_;
    }

    /// The parameters the pair's first server login reported, which every client of the
    /// pair is welcomed with. Set once; later calls change nothing.
    void set_server_params(std::vector<std::pair<std::string, std::string>> p) {
        std::lock_guard lock(error_mutex_);
        if (!params_set_.load(std::memory_order_relaxed)) {
            params_ = std::move(p);
            params_set_.store(true, std::memory_order_release);
        }
    }
    bool has_server_params() const noexcept { return params_set_.load(std::memory_order_acquire); }
    const std::vector<std::pair<std::string, std::string>>& server_params() const noexcept {
        static const std::vector<std::pair<std::string, std::string>> none;
        return has_server_params() ? params_ : none;
    }

    // Whether a worker has clients queued, or idle servers. A worker sets its own flag and
    // then reads the others' (sequentially consistent, both ways), so that of a worker
    // queueing a client and another idling a server at once, at least one sees the other.
    void set_waiting(int worker, bool on) noexcept { flags_[worker].waiting.store(on); }
    void set_idle(int worker, bool on) noexcept { flags_[worker].idle.store(on); }
    /// A worker other than `self` with clients queued, or -1.
    int worker_waiting(int self) const noexcept { return find(self, &worker_flags::waiting); }
    /// A worker other than `self` with an idle server, or -1.
    int worker_idle(int self) const noexcept { return find(self, &worker_flags::idle); }

    /// When the client first in `worker`'s queue started waiting (steady µs); 0: none.
    void set_oldest_wait(int worker, std::int64_t since_us) noexcept {
        flags_[worker].oldest_wait_us.store(since_us, std::memory_order_relaxed);
    }
    /// A worker other than `self` whose first queued client has waited since before
    /// `before_us`, or -1: the one a server should go to instead, to keep waits even.
    int worker_waiting_since(int self, std::int64_t before_us) const noexcept {
        for (int i = 1; i < workers_; ++i) {
            const int w = (self + i) % workers_;
            const auto since = flags_[w].oldest_wait_us.load(std::memory_order_relaxed);
            if (since != 0 && since < before_us) {
                return w;
            }
        }
        return -1;
    }

private:
    // A cache line per worker: a worker's own flag changes never slow the others' reads.
    struct alignas(64) worker_flags {
        std::atomic<bool> waiting{false};
        std::atomic<bool> idle{false};
        std::atomic<std::int64_t> oldest_wait_us{0};
    };

    int find(int self, std::atomic<bool> worker_flags::*flag) const noexcept {
        // Starting after `self` spreads the servers a busy worker gives away.
        for (int i = 1; i < workers_; ++i) {
            const int w = (self + i) % workers_;
            if ((flags_[w].*flag).load()) {
                return w;
            }
        }
        return -1;
    }

    int workers_;
    alignas(64) std::atomic<int> taken_{0};
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<bool> unreachable_{false};
    std::atomic<std::int64_t> login_failed_us_{0};
    mutable std::mutex error_mutex_;  // guards error_, and params_ while it is set
    std::string error_;
    std::atomic<bool> params_set_{false};
    std::vector<std::pair<std::string, std::string>> params_;
    std::unique_ptr<worker_flags[]> flags_;
};

}  // namespace sabakan::pool

// The servers of one (database, user) across every worker. Each worker has a pool of its
// own for the pair; the budget bounds the sum of their servers by pool_size, and shows
// each worker where idle servers and waiting clients are, so that a server can move to
// the worker that needs it.
// Owned by: the worker group (one per pair), or a pool that has no group (one worker).
// Touched from every worker: atomics only, and each worker writes only its own flags.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

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

    // Whether a worker has clients queued, or idle servers. A worker sets its own flag and
    // then reads the others' (sequentially consistent, both ways), so that of a worker
    // queueing a client and another idling a server at once, at least one sees the other.
    void set_waiting(int worker, bool on) noexcept { flags_[worker].waiting.store(on); }
    void set_idle(int worker, bool on) noexcept { flags_[worker].idle.store(on); }
    /// A worker other than `self` with clients queued, or -1.
    int worker_waiting(int self) const noexcept { return find(self, &worker_flags::waiting); }
    /// A worker other than `self` with an idle server, or -1.
    int worker_idle(int self) const noexcept { return find(self, &worker_flags::idle); }

private:
    // A cache line per worker: a worker's own flag changes never slow the others' reads.
    struct alignas(64) worker_flags {
        std::atomic<bool> waiting{false};
        std::atomic<bool> idle{false};
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
    std::unique_ptr<worker_flags[]> flags_;
};

}  // namespace sabakan::pool

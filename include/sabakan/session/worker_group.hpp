// The workers of one process: an event loop, a thread and a pooler each. Clients and
// servers stay on the worker that accepted or opened them; what the workers share is
// little: the pool budgets (atomics), and the stop-the-world under which the admin
// console, the signals and the stats period read and change every worker at once.
// Owned by: main(). Thread-safe where it says so.
#pragma once

#include <sabakan/net/asio.hpp>
#include <sabakan/pool/pool_budget.hpp>
#include <sabakan/session/client_tally.hpp>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace sabakan::session {

class pooler;

class worker_group {
public:
    /// `workers` event loops (at least 1); their poolers are added with add().
    explicit worker_group(int workers);
    worker_group(const worker_group&) = delete;
    worker_group& operator=(const worker_group&) = delete;
    ~worker_group();

    int size() const noexcept { return static_cast<int>(ios_.size()); }
    net::asio::io_context& io(int worker) noexcept {
        return *ios_[static_cast<std::size_t>(worker)];
    }
    /// Worker `worker`'s pooler joins the group.
    void add(pooler& p, int worker);
    pooler& worker(int worker) noexcept { return *poolers_[static_cast<std::size_t>(worker)]; }
    const std::vector<pooler*>& poolers() const noexcept { return poolers_; }

    /// Runs worker 0 on this thread and the others on threads of their own; returns when
    /// every one has stopped.
    void run();

    /// The budget of a (database, server user) pair, shared by its pools on every worker;
    /// made on first use and kept for the life of the process. Thread-safe.
    pool::pool_budget* budget(const std::string& database, const std::string& user);
    /// Servers on every worker of the pools of `database`, and of those of `user`
    /// (max_db_connections, max_user_connections). Thread-safe.
    std::pair<std::size_t, std::size_t> servers_of(const std::string& database,
                                                   const std::string& user);
    client_tally& tally() noexcept { return tally_; }

    /// While one lives, every other worker waits inside a handler, so the worker that holds
    /// it may read and change all of them. It must not co_await meanwhile.
    class world_stop {
    public:
        explicit world_stop(worker_group* g) noexcept : group_(g) {}
        world_stop(world_stop&& o) noexcept : group_(std::exchange(o.group_, nullptr)) {}
        world_stop& operator=(world_stop&& o) noexcept {
            end();
            group_ = std::exchange(o.group_, nullptr);
            return *this;
        }
        ~world_stop() { end(); }
        /// Lets the other workers go on (before a co_await).
        void end() noexcept;

    private:
        worker_group* group_;
    };
    /// Stops every worker but `self`, which must be the caller's. Another worker stopping
    /// the world first is waited for without blocking this one's event loop.
    net::awaitable<world_stop> stop_world(int self);

private:
    /// What a stopped worker runs: reports that it has stopped and waits to be let go.
    void halt(int worker, std::uint64_t stop);
    void restart_world();
    /// A worker's event loop returned: no halt request will reach it any more.
    void worker_exited(int worker);

    std::vector<std::unique_ptr<net::asio::io_context>> ios_;
    std::vector<pooler*> poolers_;

    std::mutex budgets_mutex_;
    std::map<std::pair<std::string, std::string>, std::unique_ptr<pool::pool_budget>> budgets_;

    client_tally tally_;

    std::mutex world_mutex_;  // held by the worker that stops the world
    std::mutex halt_mutex_;   // guards what follows
    std::condition_variable halt_cv_;
    std::uint64_t stops_ = 0;               // stop_world() calls so far
    std::uint64_t released_ = 0;            // the last of them that ended
    std::vector<std::uint64_t> halted_at_;  // per worker: the stop it halted for last
    std::vector<char> running_;             // per worker: its event loop has not returned
};

}  // namespace sabakan::session

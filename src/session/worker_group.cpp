// Worker threads, shared budgets, and the stop-the-world.
#include <sabakan/core/log.hpp>
#include <sabakan/session/pooler.hpp>
#include <sabakan/session/worker_group.hpp>

#include <chrono>
#include <thread>

namespace sabakan::session {

namespace asio = net::asio;

worker_group::worker_group(int workers)
    : halted_at_(static_cast<std::size_t>(workers < 1 ? 1 : workers), 0),
      running_(halted_at_.size(), 1) {
    for (std::size_t i = 0; i < halted_at_.size(); ++i) {
        // Only worker i's thread touches its sockets, except while the world is stopped,
        // when that thread waits on a mutex: so the reactor's per-socket locks are skipped
        // (about 6% of the instructions per transaction). The scheduler keeps its lock:
        // other workers and the resolver post to it.
        ios_.push_back(std::make_unique<asio::io_context>(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO));
    }
    poolers_.resize(ios_.size(), nullptr);
}

worker_group::~worker_group() = default;

void worker_group::add(pooler& p, int worker) {
    poolers_[static_cast<std::size_t>(worker)] = &p;
}

void worker_group::run() {
    std::vector<std::thread> threads;
    for (int i = 1; i < size(); ++i) {
        threads.emplace_back([this, i] {
            io(i).run();
            worker_exited(i);
        });
    }
    io(0).run();
    worker_exited(0);
    for (auto& t : threads) {
        t.join();
    }
}

pool::pool_budget* worker_group::budget(const std::string& database, const std::string& user) {
    std::lock_guard lock(budgets_mutex_);
    auto& b = budgets_[std::make_pair(database, user)];
    if (!b) {
        b = std::make_unique<pool::pool_budget>(size());
    }
    return b.get();
}

std::pair<std::size_t, std::size_t> worker_group::servers_of(const std::string& database,
                                                             const std::string& user) {
    std::lock_guard lock(budgets_mutex_);
    std::pair<std::size_t, std::size_t> n{0, 0};
    for (const auto& [key, b] : budgets_) {
        n.first += key.first == database ? b->taken() : 0;
        n.second += key.second == user ? b->taken() : 0;
    }
    return n;
}

net::awaitable<worker_group::world_stop> worker_group::stop_world(int self) {
    if (size() == 1) {
        co_return world_stop(nullptr);
    }
    // Whoever holds the world is waited for by polling, not by blocking: this worker must
    // keep running its loop meanwhile, to halt when that one asks.
    net::steady_timer retry(io(self));
    while (!world_mutex_.try_lock()) {
        retry.expires_after(std::chrono::microseconds(200));
        net::error_code ec;
        co_await retry.async_wait(asio::redirect_error(net::use_awaitable, ec));
    }
    std::unique_lock lock(halt_mutex_);
    const std::uint64_t stop = ++stops_;
    try {
        for (int i = 0; i < size(); ++i) {
            if (i != self) {
                asio::post(io(i), [this, i, stop] { halt(i, stop); });
            }
        }
    } catch (...) {
        // Out of memory posting: let go whoever halted already, and the lock.
        released_ = stops_;
        lock.unlock();
        halt_cv_.notify_all();
        world_mutex_.unlock();
        throw;
    }
    halt_cv_.wait(lock, [&] {
        for (int i = 0; i < size(); ++i) {
            const auto k = static_cast<std::size_t>(i);
            if (i != self && running_[k] != 0 && halted_at_[k] != stop) {
                return false;
            }
        }
        return true;
    });
    co_return world_stop(this);
}

void worker_group::halt(int worker, std::uint64_t stop) {
    std::unique_lock lock(halt_mutex_);
    halted_at_[static_cast<std::size_t>(worker)] = stop;
    halt_cv_.notify_all();
    halt_cv_.wait(lock, [&] { return released_ >= stop; });
}

void worker_group::restart_world() {
    {
        std::lock_guard lock(halt_mutex_);
        released_ = stops_;
    }
    halt_cv_.notify_all();
    world_mutex_.unlock();
}

void worker_group::worker_exited(int worker) {
    {
        std::lock_guard lock(halt_mutex_);
        running_[static_cast<std::size_t>(worker)] = 0;
    }
    halt_cv_.notify_all();
}

void worker_group::world_stop::end() noexcept {
    if (group_ != nullptr) {
        std::exchange(group_, nullptr)->restart_world();
    }
}

}  // namespace sabakan::session

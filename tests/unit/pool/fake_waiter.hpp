// A client as the pool sees it, for the pool tests: it records what the pool lends it.
#pragma once

#include <sabakan/pool/server_pool.hpp>

#include <vector>

namespace sabakan::pool {

struct fake_waiter : waiter {
    server_pool* pool = nullptr;      // set to leave the queue on destruction
    std::vector<server_slot*> woken;  // what it was lent, in order; nullptr: a failure
    int wakes = 0;

    fake_waiter() = default;
    explicit fake_waiter(server_pool& p) : pool(&p) {}
    fake_waiter(const fake_waiter&) = delete;
    fake_waiter& operator=(const fake_waiter&) = delete;
    ~fake_waiter() {
        if (pool != nullptr) {
            pool->cancel_wait(*this);  // as a client session does when it ends
        }
    }
    void wake(server_slot* s) override {
        ++wakes;
        woken.push_back(s);
    }
};

}  // namespace sabakan::pool

// Waiting for a condition with a deadline, so tests never sleep for a fixed time and
// hope: they poll what they wait for and fail with a clear message when time runs out.
#pragma once

#include <chrono>
#include <thread>

namespace sabakan::integration {

/// Calls `condition` until it returns true or `timeout` passes, pausing `interval`
/// between calls. Returns whether the condition held.
template <typename Condition>
bool wait_until(Condition&& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (condition()) {
            return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(interval);
    }
}

}  // namespace sabakan::integration

#include <sabakan/core/memory.hpp>

#include <malloc.h>

#include <cstddef>

// Weak: present only when the binary links jemalloc (the tests and sanitizer builds don't).
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp,
                       std::size_t newlen) __attribute__((weak));

namespace sabakan::core {

void return_free_memory() noexcept {
    if (mallctl != nullptr) {
        // The thread's cache first, so what it holds goes back to the arenas; 4096 is
        // MALLCTL_ARENAS_ALL: every arena.
        mallctl("thread.tcache.flush", nullptr, nullptr, nullptr, 0);
        mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
        return;
    }
    ::malloc_trim(0);
}

}  // namespace sabakan::core

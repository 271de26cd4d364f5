#include <sabakan/core/memory.hpp>

#include <malloc.h>

#include <cstddef>

// Weak: present only when the binary links jemalloc (the tests and sanitizer builds don't).
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp,
                       std::size_t newlen) __attribute__((weak));
extern "C" void* mallocx(std::size_t size, int flags) __attribute__((weak));
extern "C" void sdallocx(void* ptr, std::size_t size, int flags) __attribute__((weak));

namespace sabakan::core {

namespace {

/// jemalloc's flags for "this arena, no thread cache" (jemalloc.h's MALLOCX_ARENA and
/// MALLOCX_TCACHE_NONE): a thread cache belongs to the thread's own arena.
constexpr int arena_flags(unsigned arena) noexcept {
    return static_cast<int>((arena + 1) << 20) | static_cast<int>((-1 + 2) << 8);
}

/// The arena's flags, or -1 without jemalloc (or when it would not make one).
int long_lived_flags() noexcept {
    static const int flags = [] {
        if (mallctl == nullptr || mallocx == nullptr || sdallocx == nullptr) {
            return -1;
        }
        unsigned arena = 0;
        std::size_t size = sizeof arena;
        if (mallctl("arenas.create", &arena, &size, nullptr, 0) != 0) {
            return -1;
        }
        return arena_flags(arena);
    }();
    return flags;
}

}  // namespace

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

void* allocate_long_lived(std::size_t bytes) {
    if (const int flags = long_lived_flags(); flags != -1) {
        if (void* p = mallocx(bytes, flags)) {
            return p;
        }
        throw std::bad_alloc();
    }
    return ::operator new(bytes);
}

void free_long_lived(void* p, std::size_t bytes) noexcept {
    if (const int flags = long_lived_flags(); flags != -1) {
        sdallocx(p, bytes, flags);
        return;
    }
    ::operator delete(p, bytes);
}

}  // namespace sabakan::core

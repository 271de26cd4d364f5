// Memory: giving freed memory back to the operating system, and keeping the objects that
// live as long as a connection apart from the short-lived allocations.
//
// An allocator keeps pages it has freed, to reuse them; jemalloc returns them on a timer
// that advances only while the process allocates, so a pooler that has just gone quiet
// (its clients parked, see client_session::park) would keep them for ever.
//
// A page goes back only when nothing on it is still in use. A connection object allocated
// in the same size class as a coroutine frame of its login shares pages with those frames;
// once they are freed, every such page is still pinned by the connections on it. Measured
// with 3,000 parked clients: 1 KB per client more than with the connections kept apart.
#pragma once

#include <cstddef>
#include <new>

namespace sabakan::core {

/// Returns the allocator's free pages to the system now: jemalloc's purge when sabakan
/// runs on jemalloc, malloc_trim otherwise. Costs a few system calls; call it rarely.
void return_free_memory() noexcept;

/// Memory for objects that live as long as a connection: with jemalloc, from an arena of
/// their own; otherwise plain operator new. Throws std::bad_alloc.
void* allocate_long_lived(std::size_t bytes);
void free_long_lived(void* p, std::size_t bytes) noexcept;

/// For std::allocate_shared: the object and its reference counts in that memory.
template <typename T>
struct long_lived_allocator {
    using value_type = T;

    long_lived_allocator() noexcept = default;
    template <typename U>
    long_lived_allocator(const long_lived_allocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        // The memory is aligned as operator new's is, and no more.
        static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
        return static_cast<T*>(allocate_long_lived(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept { free_long_lived(p, n * sizeof(T)); }

    template <typename U>
    friend bool operator==(const long_lived_allocator&, const long_lived_allocator<U>&) noexcept {
        return true;
    }
};

}  // namespace sabakan::core

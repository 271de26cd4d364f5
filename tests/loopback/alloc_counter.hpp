// Counts heap allocations made by chosen threads, to prove that a code path allocates
// nothing. Linking alloc_counter.cpp into a binary replaces the global operator new and
// delete (every variant) with versions that count and forward to malloc/free; outside the
// sanitizer builds malloc, calloc and realloc are counted too. Only threads that called
// watch_this_thread() are counted, so other threads (a benchmark's client, a fake server)
// cannot blur the numbers.
#pragma once

#include <cstdint>

namespace sabakan::loopback::alloc {

struct counts {
    std::uint64_t news = 0;     // operator new / new[], any variant
    std::uint64_t mallocs = 0;  // malloc, calloc, realloc (those behind operator new included)

    friend counts operator-(counts a, counts b) noexcept {
        return {a.news - b.news, a.mallocs - b.mallocs};
    }
};

/// Counts the calling thread's allocations from now on.
void watch_this_thread() noexcept;
void unwatch_this_thread() noexcept;

/// Totals of every watched thread since the process started.
counts totals() noexcept;

/// Whether malloc and friends are counted in this build. ASan and TSan own those symbols, so
/// sanitized builds count only operator new.
bool counts_malloc() noexcept;

/// While on, the first few allocations of watched threads each keep a backtrace, so a test
/// that finds an allocation can say where it came from.
void record_backtraces(bool on) noexcept;
/// Writes the kept backtraces (symbolized when the binary exports its symbols) to `fd`, and
/// forgets them.
void print_backtraces(int fd) noexcept;

}  // namespace sabakan::loopback::alloc

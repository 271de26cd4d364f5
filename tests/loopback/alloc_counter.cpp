// The replaced global allocation functions behind alloc_counter.hpp. This file must be
// linked into the executable itself (an object library, not an archive member that might be
// left out), and the executable must not link jemalloc, whose operator new would compete.
// Under ASan the executable's operator new still wins over the one in libasan (the
// executable comes first in symbol lookup); ASan goes on checking the malloc and free
// underneath, so the counts stay exact there too.
#include "alloc_counter.hpp"

#include <execinfo.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SABAKAN_ALLOC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define SABAKAN_ALLOC_SANITIZED 1
#endif
#endif

namespace sabakan::loopback::alloc {
namespace {

constinit thread_local bool watched = false;
// Set while this thread is inside the hook: backtrace() allocates on its first call.
constinit thread_local bool in_hook = false;

std::atomic<std::uint64_t> new_count{0};
std::atomic<std::uint64_t> malloc_count{0};

constexpr int max_traces = 16;
constexpr int max_depth = 40;
std::atomic<bool> recording{false};
std::atomic<int> next_trace{0};
void* trace_frames[max_traces][max_depth];
int trace_depth[max_traces];

void record() noexcept {
    if (!recording.load(std::memory_order_relaxed) || in_hook) {
        return;
    }
    in_hook = true;
    int i = next_trace.fetch_add(1, std::memory_order_relaxed);
    if (i < max_traces) {
        trace_depth[i] = ::backtrace(trace_frames[i], max_depth);
    }
    in_hook = false;
}

void note_new() noexcept {
    if (watched) {
        new_count.fetch_add(1, std::memory_order_relaxed);
#ifdef SABAKAN_ALLOC_SANITIZED
        record();  // unsanitized builds record in the counted malloc underneath instead
#endif
    }
}

[[maybe_unused]] void note_malloc() noexcept {
    if (watched) {
        malloc_count.fetch_add(1, std::memory_order_relaxed);
        record();
    }
}

void* checked(void* p) {
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    return p;
}

// malloc(0) may return null, which operator new must not.
void* plain(std::size_t n) noexcept {
    return std::malloc(n == 0 ? 1 : n);
}

void* aligned(std::size_t n, std::align_val_t al) noexcept {
    auto a = static_cast<std::size_t>(al);
    // aligned_alloc wants a size that is a multiple of the alignment.
    std::size_t rounded = (n == 0 ? a : (n + a - 1) / a * a);
    return std::aligned_alloc(a, rounded);
}

}  // namespace

void watch_this_thread() noexcept {
    watched = true;
}
void unwatch_this_thread() noexcept {
    watched = false;
}

counts totals() noexcept {
    return {new_count.load(std::memory_order_relaxed),
            malloc_count.load(std::memory_order_relaxed)};
}

bool counts_malloc() noexcept {
#ifdef SABAKAN_ALLOC_SANITIZED
    return false;
#else
    return true;
#endif
}

void record_backtraces(bool on) noexcept {
    if (on) {
        // The first backtrace() loads the unwinder, which allocates: do it here, unwatched.
        void* warm[2];
        ::backtrace(warm, 2);
    }
    recording.store(on, std::memory_order_relaxed);
}

void print_backtraces(int fd) noexcept {
    int n = next_trace.load(std::memory_order_relaxed);
    if (n > max_traces) {
        n = max_traces;
    }
    for (int i = 0; i < n; ++i) {
        static constexpr char header[] = "---- allocation backtrace ----\n";
        [[maybe_unused]] auto w = ::write(fd, header, sizeof header - 1);
        // backtrace_symbols_fd, unlike backtrace_symbols, does not call malloc.
        ::backtrace_symbols_fd(trace_frames[i], trace_depth[i], fd);
    }
    next_trace.store(0, std::memory_order_relaxed);
}

}  // namespace sabakan::loopback::alloc

namespace alloc = sabakan::loopback::alloc;

// ---- the replaceable global allocation functions ([new.delete]) ----

void* operator new(std::size_t n) {
    alloc::note_new();
    return alloc::checked(alloc::plain(n));
}
void* operator new[](std::size_t n) {
    alloc::note_new();
    return alloc::checked(alloc::plain(n));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    alloc::note_new();
    return alloc::plain(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    alloc::note_new();
    return alloc::plain(n);
}
void* operator new(std::size_t n, std::align_val_t al) {
    alloc::note_new();
    return alloc::checked(alloc::aligned(n, al));
}
void* operator new[](std::size_t n, std::align_val_t al) {
    alloc::note_new();
    return alloc::checked(alloc::aligned(n, al));
}
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
    alloc::note_new();
    return alloc::aligned(n, al);
}
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
    alloc::note_new();
    return alloc::aligned(n, al);
}

void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(p);
}

// ---- malloc, outside the sanitizer builds ----
// glibc supports replacing malloc in the executable; its own entry points stay reachable
// as __libc_*. The aligned variants are left to glibc: their blocks are freed by the free
// below, which is glibc's.
#ifndef SABAKAN_ALLOC_SANITIZED
extern "C" {
void* __libc_malloc(std::size_t n);
void* __libc_calloc(std::size_t count, std::size_t n);
void* __libc_realloc(void* p, std::size_t n);
void __libc_free(void* p);

void* malloc(std::size_t n) noexcept {
    alloc::note_malloc();
    return __libc_malloc(n);
}
void* calloc(std::size_t count, std::size_t n) noexcept {
    alloc::note_malloc();
    return __libc_calloc(count, n);
}
void* realloc(void* p, std::size_t n) noexcept {
    alloc::note_malloc();
    return __libc_realloc(p, n);
}
void free(void* p) noexcept {
    __libc_free(p);
}
}
#endif

// Giving freed memory back to the operating system.
//
// An allocator keeps pages it has freed, to reuse them; jemalloc returns them on a timer
// that advances only while the process allocates, so a pooler that has just gone quiet
// (its clients parked, see client_session::park) would keep them for ever.
#pragma once

namespace sabakan::core {

/// Returns the allocator's free pages to the system now: jemalloc's purge when sabakan
/// runs on jemalloc, malloc_trim otherwise. Costs a few system calls; call it rarely.
void return_free_memory() noexcept;

}  // namespace sabakan::core

// Invariant checks for sabakan's own state. Never use these on peer input:
// bad bytes from a client or server become an error code and an ErrorResponse.
#pragma once

#include <cstdio>
#include <cstdlib>

/// Checked in every build; aborts. Keep for corruption that must never continue.
#define SABAKAN_CHECK(cond)                                                              \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            std::fprintf(stderr, "sabakan: check failed: %s (%s:%d)\n", #cond, __FILE__, \
                         __LINE__);                                                      \
            std::abort();                                                                \
        }                                                                                \
    } while (0)

#ifdef NDEBUG
#define SABAKAN_ASSERT(cond) ((void)0)
#else
/// Checked in debug builds only.
#define SABAKAN_ASSERT(cond) SABAKAN_CHECK(cond)
#endif

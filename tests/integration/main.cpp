// Entry point of the integration tests: one PostgreSQL cluster for the whole binary, and
// process-wide settings that many client sockets need.
#include "harness/pg_environment.hpp"

#include <sys/resource.h>

#include <csignal>

#include <gtest/gtest.h>

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // Up to a few hundred libpq connections at once; the default soft limit may be 1024.
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    // A test writing to a socket sabakan has closed must see EPIPE, not die.
    std::signal(SIGPIPE, SIG_IGN);
    ::testing::AddGlobalTestEnvironment(new sabakan::integration::pg_environment);
    return RUN_ALL_TESTS();
}

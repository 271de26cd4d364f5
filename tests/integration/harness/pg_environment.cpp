// A failed cluster start is a fatal failure of the environment, so gtest runs no test
// and the setup log says why.
#include "harness/pg_environment.hpp"

#include <cstdio>

namespace sabakan::integration {
namespace {

pg_cluster the_cluster;

}  // namespace

pg_cluster& cluster() {
    return the_cluster;
}

void pg_environment::SetUp() {
    try {
        the_cluster.start();
    } catch (const std::exception& e) {
        FAIL() << e.what();
    }
}

void pg_environment::TearDown() {
    if (::testing::UnitTest::GetInstance()->Failed()) {
        std::fprintf(stderr, "%s\n", the_cluster.logs().c_str());
    }
    the_cluster.stop();
}

}  // namespace sabakan::integration

// The one PostgreSQL cluster of a test binary, as a gtest Environment: started before
// the first test, stopped after the last, and its log printed when any test failed.
#pragma once

#include "harness/pg_cluster.hpp"

#include <gtest/gtest.h>

namespace sabakan::integration {

class pg_environment : public ::testing::Environment {
public:
    void SetUp() override;
    void TearDown() override;
};

/// The running cluster; valid while tests run.
pg_cluster& cluster();

}  // namespace sabakan::integration

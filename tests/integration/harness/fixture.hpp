// The base of every integration test: a fresh sabakan in front of the shared cluster,
// connection helpers for pooled and direct (unpooled) clients, and log dumps on failure.
#pragma once

#include "harness/pg_environment.hpp"
#include "harness/pq.hpp"
#include "harness/sabakan_process.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace sabakan::integration {

/// PostgreSQL's count of client backends logged in as the Mastodon user (all of them
/// sabakan's), optionally only those in `state` (e.g. "idle in transaction"). `direct`
/// must not go through sabakan.
long long app_backends(PGconn* direct, const std::string& state = "");

class sabakan_test : public ::testing::Test {
protected:
    /// Waits until no backend of an earlier test's sabakan is left in PostgreSQL, so
    /// tests that count backends see only their own.
    void SetUp() override;
    /// Stops sabakan (it must exit cleanly on SIGTERM) and prints its logs on failure.
    void TearDown() override;

    void start_sabakan(sabakan_options options = {});
    sabakan_process& sabakan() { return *sabakan_; }

    /// A conninfo through sabakan for the Mastodon user.
    std::string pooled_conninfo() const;
    /// Connects through sabakan as the Mastodon user; throws on failure.
    pq::connection connect_pooled() const;
    /// Connects straight to PostgreSQL over its unix socket as the superuser.
    pq::connection connect_direct() const;
    /// The admin console over TCP as `user` (the default userlist's "pgbouncer" has the
    /// password "password"); throws on failure.
    pq::connection connect_admin(const std::string& user = "pgbouncer",
                                 const std::string& password = "password") const;

private:
    std::unique_ptr<sabakan_process> sabakan_;
};

/// A test that runs once per pool mode; the parameter is the `pool_mode` value.
class pool_mode_test : public sabakan_test, public ::testing::WithParamInterface<const char*> {
protected:
    void SetUp() override;
};

/// A test against a transaction-mode sabakan with a pool of 5 (the Mastodon setup).
class transaction_pool_test : public sabakan_test {
protected:
    void SetUp() override;
};

/// Names instantiations of pool_mode_test after the mode ("transaction", "session").
struct pool_mode_name {
    std::string operator()(const ::testing::TestParamInfo<const char*>& info) const {
        return info.param;
    }
};

}  // namespace sabakan::integration

/// Instantiates a pool_mode_test suite for transaction and session pooling.
#define SABAKAN_FOR_EACH_POOL_MODE(suite)                                                  \
    INSTANTIATE_TEST_SUITE_P(PoolMode, suite, ::testing::Values("transaction", "session"), \
                             ::sabakan::integration::pool_mode_name())

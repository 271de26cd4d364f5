// Fixture plumbing shared by every integration test.
#include "harness/fixture.hpp"

#include "harness/wait.hpp"

#include <cstdio>

namespace sabakan::integration {

void sabakan_test::SetUp() {
    auto direct = connect_direct();
    bool quiet =
        wait_until([&] { return app_backends(direct.get()) == 0; }, std::chrono::seconds(15));
    ASSERT_TRUE(quiet) << "backends of an earlier test are still connected";
}

void sabakan_test::TearDown() {
    if (!sabakan_) {
        return;
    }
    int status = sabakan_->stop();
    EXPECT_EQ(status, 0) << "sabakan did not shut down cleanly on SIGTERM";
    if (HasFailure()) {
        std::fprintf(stderr, "%s\n", sabakan_->logs().c_str());
    }
    sabakan_.reset();
}

void sabakan_test::start_sabakan(sabakan_options options) {
    sabakan_ = std::make_unique<sabakan_process>(cluster(), std::move(options));
}

std::string sabakan_test::pooled_conninfo() const {
    return sabakan_->conninfo(app_user, app_password, app_database);
}

pq::connection sabakan_test::connect_pooled() const {
    return pq::connect_ok(pooled_conninfo());
}

pq::connection sabakan_test::connect_admin(const std::string& user,
                                           const std::string& password) const {
    return pq::connect_ok(sabakan_->conninfo(user, password, "pgbouncer"));
}

pq::connection sabakan_test::connect_direct() const {
    return pq::connect_ok(cluster().direct_conninfo());
}

long long app_backends(PGconn* direct, const std::string& state) {
    std::string sql = std::string("SELECT count(*) FROM pg_stat_activity WHERE usename = '") +
                      app_user + "' AND backend_type = 'client backend'";
    if (!state.empty()) {
        sql += " AND state = '" + state + "'";
    }
    return pq::number(direct, sql);
}

void pool_mode_test::SetUp() {
    sabakan_test::SetUp();
    if (!HasFatalFailure()) {
        sabakan_options o;
        o.pool_mode = GetParam();
        start_sabakan(std::move(o));
    }
}

void transaction_pool_test::SetUp() {
    sabakan_test::SetUp();
    if (!HasFatalFailure()) {
        start_sabakan();
    }
}

}  // namespace sabakan::integration

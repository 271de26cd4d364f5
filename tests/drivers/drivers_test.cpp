// The driver matrix: each client library real applications use runs the same scenario
// (tests/drivers/*: 50 concurrent clients, each with its own time zone and application_name
// set outside a transaction, prepared or parameterised queries checked row by row, and a
// transaction per round) through a real sabakan in transaction mode with a pool of 5. A
// driver whose package is missing fails, naming scripts/install-deps --drivers.
#include "harness/client_run.hpp"
#include "harness/fixture.hpp"
#include "harness/pg_cluster.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;

constexpr int clients = 50;
constexpr int rounds = 20;
constexpr int pool_size = 5;

struct driver {
    const char* name;
    const char* program;  // looked up on PATH, unless absolute
    std::vector<std::string> args;
};

std::string drivers_dir() {
    return SABAKAN_DRIVERS_DIR;
}

/// Where scripts/test installs node-postgres (npm install pg).
std::string node_modules() {
    const char* env = std::getenv("SABAKAN_NODE_MODULES");
    return env != nullptr && *env != '\0' ? env : SABAKAN_NODE_MODULES_DEFAULT;
}

/// The full path of `program` on PATH, or "" when it is not installed.
std::string find_program(const std::string& program) {
    if (program.front() == '/') {
        return std::filesystem::exists(program) ? program : "";
    }
    const char* path = std::getenv("PATH");
    std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
    for (std::size_t at = 0; at <= dirs.size();) {
        auto end = dirs.find(':', at);
        end = end == std::string::npos ? dirs.size() : end;
        const std::string candidate = dirs.substr(at, end - at) + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        at = end + 1;
    }
    return "";
}

class DriverMatrixTest : public sabakan_test, public ::testing::WithParamInterface<driver> {
protected:
    void SetUp() override {
        sabakan_test::SetUp();
        if (HasFatalFailure()) {
            return;
        }
        auto direct = connect_direct();
        pq::run(direct.get(), "DROP TABLE IF EXISTS driver_log");
        pq::run(direct.get(), "CREATE TABLE driver_log (driver text, worker int, round int)");
        pq::run(direct.get(), std::string("ALTER TABLE driver_log OWNER TO ") + app_user);
        sabakan_options o;
        o.default_pool_size = pool_size;
        // pgJDBC sends extra_float_digits at startup: the setting PgBouncer users add for it.
        o.extra = {{"ignore_startup_parameters", "extra_float_digits"}};
        start_sabakan(o);
    }
};

// The driver's scenario passes: every row it checked was right, no client saw another's
// time zone or application_name, no prepared-statement error, every transaction committed
// once, and PostgreSQL never saw more than the pool's 5 backends.
TEST_P(DriverMatrixTest, RunsThroughTransactionPool) {
    const driver& d = GetParam();
    const std::string program = find_program(d.program);
    // A missing driver fails: a machine that cannot run one tests less than it claims.
    ASSERT_FALSE(program.empty()) << d.program << " is not installed, so the " << d.name
                                  << " driver cannot run: run scripts/install-deps --drivers";
    std::vector<std::string> argv = {"/usr/bin/env",
                                     "PGHOST=127.0.0.1",
                                     "PGPORT=" + std::to_string(sabakan().port()),
                                     std::string("PGUSER=") + app_user,
                                     std::string("PGPASSWORD=") + app_password,
                                     std::string("PGDATABASE=") + app_database,
                                     "DRIVER_CLIENTS=" + std::to_string(clients),
                                     "DRIVER_ROUNDS=" + std::to_string(rounds),
                                     "NODE_PATH=" + node_modules(),
                                     "PSQL=" + pg_tool("psql"),
                                     program};
    for (const auto& a : d.args) {
        // "@/file" names a file of tests/drivers.
        argv.push_back(a.starts_with("@/") ? drivers_dir() + a.substr(1) : a);
    }
    auto direct = connect_direct();
    long long most = 0;
    auto run = run_client(argv, sabakan().dir() + "/driver.out", std::chrono::seconds(150),
                          [&] { most = std::max(most, app_backends(direct.get())); });
    std::printf("%s: %s\n", d.name, line_starting(run.output, "OK: ").c_str());
    ASSERT_FALSE(run.timed_out) << run.output;
    ASSERT_NE(run.status, 77) << "the " << d.name
                              << " driver is not installed: run scripts/install-deps --drivers\n"
                              << run.output;
    ASSERT_EQ(run.status, 0) << run.output;
    EXPECT_THAT(run.output, HasSubstr("OK: "));
    EXPECT_THAT(run.output, ::testing::Not(HasSubstr("prepared statement")));
    EXPECT_EQ(pq::number(direct.get(), "SELECT count(*) FROM driver_log"), clients * rounds);
    EXPECT_EQ(pq::number(direct.get(),
                         "SELECT count(*) FROM (SELECT DISTINCT worker, round FROM driver_log) d"),
              clients * rounds);
    EXPECT_LE(most, pool_size);
    EXPECT_THAT(sabakan().logs(), ::testing::Not(HasSubstr("was already prepared")));
}

INSTANTIATE_TEST_SUITE_P(
    Driver, DriverMatrixTest,
    ::testing::Values(
        driver{"psql", "bash", {"@/psql_driver.sh"}},
        driver{"psycopg3", "/usr/bin/python3", {"@/python_driver.py", "psycopg"}},
        driver{"psycopg2", "/usr/bin/python3", {"@/python_driver.py", "psycopg2"}},
        driver{"pgjdbc", "java", {"-cp", "/usr/share/java/postgresql.jar", "@/JdbcDriver.java"}},
        driver{"node_postgres", "node", {"@/node_driver.js"}},
        driver{"ruby_pg", "ruby", {"@/ruby_driver.rb", "pg"}},
        driver{"activerecord_prepared", "ruby", {"@/ruby_driver.rb", "activerecord-prepared"}},
        driver{"activerecord_unprepared", "ruby", {"@/ruby_driver.rb", "activerecord-unprepared"}}),
    [](const ::testing::TestParamInfo<driver>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace sabakan::integration

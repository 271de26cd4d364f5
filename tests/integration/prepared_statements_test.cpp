// Protocol-level named prepared statements in transaction mode: a client's statements keep
// working when its transactions run on different servers, errors keep PostgreSQL's
// meaning, the per-server cache evicts, and pgbench -M prepared runs with 50 clients on a
// pool of 5.
#include "harness/client_run.hpp"
#include "harness/console.hpp"
#include "harness/fixture.hpp"
#include "harness/pg_cluster.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>

#include <cctype>
#include <set>
#include <string>
#include <vector>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;

class PreparedStatementsTest : public transaction_pool_test {};

/// Runs prepared statement `name` with one text parameter; the first value, or throws.
std::string exec_prepared(PGconn* c, const char* name, const std::string& arg) {
    const char* values[] = {arg.c_str()};
    pq::result r(PQexecPrepared(c, name, 1, values, nullptr, nullptr, 0));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
        throw std::runtime_error(std::string("execute ") + name + ": " + pq::error(c));
    }
    return PQgetvalue(r.get(), 0, 0);
}

void prepare(PGconn* c, const char* name, const char* sql, int params) {
    pq::result r(PQprepare(c, name, sql, params, nullptr));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
        throw std::runtime_error(std::string("prepare ") + name + ": " + pq::error(c));
    }
}

// A statement prepared once runs on every server its client's transactions land on: another
// client takes the server it used last, so the next execution needs a different one.
TEST_F(PreparedStatementsTest, StatementFollowsClientAcrossServers) {
    auto a = connect_pooled();
    auto b = connect_pooled();
    prepare(a.get(), "double", "SELECT $1::int * 2", 1);
    prepare(a.get(), "whoami", "SELECT pg_backend_pid() + 0 * $1::int", 1);
    std::set<std::string> pids;
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(exec_prepared(a.get(), "double", std::to_string(i)), std::to_string(i * 2));
        pids.insert(exec_prepared(a.get(), "whoami", "0"));
        // b holds the server a just released (idle servers are reused last-in first-out).
        pq::run(b.get(), "BEGIN");
        pq::run(b.get(), "SELECT 1");
        EXPECT_EQ(exec_prepared(a.get(), "double", "21"), "42");
        pids.insert(exec_prepared(a.get(), "whoami", "0"));
        pq::run(b.get(), "COMMIT");
    }
    EXPECT_GE(pids.size(), 2u) << "the statements never ran on a second server";
    // Describe works under the client's name too.
    pq::result d(PQdescribePrepared(a.get(), "double"));
    ASSERT_EQ(PQresultStatus(d.get()), PGRES_COMMAND_OK) << pq::error(a.get());
    EXPECT_EQ(PQnparams(d.get()), 1);
    EXPECT_EQ(PQnfields(d.get()), 1);
}

// Executing a name the client never prepared gets PostgreSQL's own error, and the session
// goes on.
TEST_F(PreparedStatementsTest, UnknownNameGetsPostgresError) {
    auto c = connect_pooled();
    const char* values[] = {"1"};
    pq::result r(PQexecPrepared(c.get(), "never_prepared", 1, values, nullptr, nullptr, 0));
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
    EXPECT_EQ(pq::sqlstate(r.get()), "26000");
    EXPECT_THAT(pq::error(c.get()),
                HasSubstr("prepared statement \"never_prepared\" does not exist"));
    EXPECT_EQ(pq::value(c.get(), "SELECT 'still here'"), "still here");
}

// A name prepared twice without Close: the client is told (42P05) and disconnected, as
// PgBouncer does, since the old meaning may still be in use.
TEST_F(PreparedStatementsTest, ReusedNameIsRefused) {
    auto c = connect_pooled();
    prepare(c.get(), "dup", "SELECT 1", 0);
    pq::result r(PQprepare(c.get(), "dup", "SELECT 2", 0, nullptr));
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR);
    EXPECT_THAT(pq::error(c.get()), HasSubstr("prepared statement \"dup\" already exists"));
    EXPECT_EQ(PQstatus(c.get()), CONNECTION_BAD);
    // Other clients are unaffected.
    auto other = connect_pooled();
    prepare(other.get(), "dup", "SELECT $1::int", 1);
    EXPECT_EQ(exec_prepared(other.get(), "dup", "7"), "7");
}

// A Parse that fails leaves no statement behind: the name can be prepared again.
TEST_F(PreparedStatementsTest, FailedParseLeavesNameFree) {
    auto c = connect_pooled();
    pq::result bad(PQprepare(c.get(), "s", "SELEC $1", 1, nullptr));
    EXPECT_EQ(PQresultStatus(bad.get()), PGRES_FATAL_ERROR);
    EXPECT_EQ(pq::sqlstate(bad.get()), "42601");
    prepare(c.get(), "s", "SELECT $1::text || '!'", 1);
    EXPECT_EQ(exec_prepared(c.get(), "s", "ok"), "ok!");
}

// DEALLOCATE ALL and DISCARD ALL drop the client's statements, as in PostgreSQL; the names
// can be prepared again afterwards.
TEST_F(PreparedStatementsTest, DeallocateAllAndDiscardAllForget) {
    auto c = connect_pooled();
    for (const char* sql : {"DEALLOCATE ALL", "DISCARD ALL"}) {
        prepare(c.get(), "x", "SELECT $1::int + 1", 1);
        EXPECT_EQ(exec_prepared(c.get(), "x", "1"), "2");
        pq::run(c.get(), sql);
        const char* values[] = {"1"};
        pq::result r(PQexecPrepared(c.get(), "x", 1, values, nullptr, nullptr, 0));
        EXPECT_EQ(pq::sqlstate(r.get()), "26000") << sql;
    }
    prepare(c.get(), "x", "SELECT $1::int + 2", 1);
    EXPECT_EQ(exec_prepared(c.get(), "x", "1"), "3");
}

// SQL DEALLOCATE of a protocol-level statement (what ActiveRecord and psycopg send when their
// statement caches overflow) works as in PostgreSQL, inside a transaction too, without
// touching other clients' use of the shared statement.
TEST_F(PreparedStatementsTest, SqlDeallocateOfProtocolStatement) {
    auto c = connect_pooled();
    auto other = connect_pooled();
    prepare(c.get(), "a1", "SELECT $1::int * 10", 1);
    prepare(other.get(), "a1", "SELECT $1::int * 10", 1);
    pq::result d(PQexec(c.get(), "DEALLOCATE a1"));
    ASSERT_EQ(PQresultStatus(d.get()), PGRES_COMMAND_OK) << pq::error(c.get());
    EXPECT_STREQ(PQcmdStatus(d.get()), "DEALLOCATE");
    EXPECT_TRUE(pq::no_more_results(c.get()));
    const char* values[] = {"1"};
    pq::result gone(PQexecPrepared(c.get(), "a1", 1, values, nullptr, nullptr, 0));
    EXPECT_EQ(pq::sqlstate(gone.get()), "26000");
    EXPECT_EQ(exec_prepared(other.get(), "a1", "2"), "20");

    // Inside a transaction: it succeeds and the transaction goes on.
    pq::run(c.get(), "BEGIN");
    prepare(c.get(), "a2", "SELECT $1::int * 100", 1);
    EXPECT_EQ(exec_prepared(c.get(), "a2", "3"), "300");
    pq::result in_tx(PQexec(c.get(), "deallocate prepare A2;"));
    ASSERT_EQ(PQresultStatus(in_tx.get()), PGRES_COMMAND_OK) << pq::error(c.get());
    EXPECT_EQ(PQtransactionStatus(c.get()), PQTRANS_INTRANS);
    EXPECT_EQ(pq::value(c.get(), "SELECT 'in transaction'"), "in transaction");
    pq::run(c.get(), "COMMIT");
    prepare(c.get(), "a2", "SELECT $1::int * 1000", 1);
    EXPECT_EQ(exec_prepared(c.get(), "a2", "3"), "3000");

    // An SQL-level statement of that session and an unknown name are PostgreSQL's business.
    pq::run(c.get(), "BEGIN");
    pq::run(c.get(), "PREPARE sql_level AS SELECT 7");
    EXPECT_EQ(pq::value(c.get(), "EXECUTE sql_level"), "7");
    pq::run(c.get(), "DEALLOCATE sql_level");
    pq::run(c.get(), "COMMIT");
    pq::result unknown(PQexec(c.get(), "DEALLOCATE never_prepared"));
    EXPECT_EQ(pq::sqlstate(unknown.get()), "26000");
    EXPECT_THAT(pq::error(c.get()), HasSubstr("\"never_prepared\" does not exist"));
}

// Shared statements cannot be hijacked: another client on the same server sees the shared
// name in pg_prepared_statements, but it is not the digest of the text alone (a per-process
// key goes in), and SQL that names the reserved prefix, in any case, simple or extended,
// is refused with 42939 and the client closed; the owner's statement still means what it did.
TEST_F(PreparedStatementsTest, SharedStatementCannotBeHijacked) {
    sabakan_options o;
    o.default_pool_size = 1;
    start_sabakan(o);
    auto owner = connect_pooled();
    prepare(owner.get(), "mine", "SELECT $1::int + 1", 1);
    EXPECT_EQ(exec_prepared(owner.get(), "mine", "1"), "2");

    auto other = connect_pooled();
    const std::string name = pq::value(other.get(), "SELECT name FROM pg_prepared_statements");
    ASSERT_TRUE(name.starts_with("_sbk_")) << name;
    // The unkeyed digest: SHA-256 of the text, its NUL and the Int16 count of types (0).
    EXPECT_NE(name,
              pq::value(other.get(),
                        "SELECT '_sb' || 'k_' || left(encode(sha256(convert_to('SELECT $1::int + "
                        "1', 'UTF8') || '\\x000000'::bytea), 'hex'), 32)"));
    std::string upper = name;
    for (char& ch : upper) {
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    for (const std::string& sql :
         {"DEALLOCATE " + name, "PREPARE " + upper + " AS SELECT 666",
          "SELECT 1; PREPARE \"" + name + "\" AS SELECT 666", "EXECUTE " + name + "(1)"}) {
        auto attacker = connect_pooled();
        PQsetErrorVerbosity(attacker.get(), PQERRORS_VERBOSE);  // the SQLSTATE in the text
        pq::result r(PQexec(attacker.get(), sql.c_str()));
        EXPECT_EQ(PQresultStatus(r.get()), PGRES_FATAL_ERROR) << sql;
        EXPECT_THAT(pq::error(attacker.get()), HasSubstr("42939: names starting with")) << sql;
        EXPECT_EQ(PQstatus(attacker.get()), CONNECTION_BAD) << sql;
    }
    {
        auto attacker = connect_pooled();
        PQsetErrorVerbosity(attacker.get(), PQERRORS_VERBOSE);
        const std::string sql = "DEALLOCATE " + name;
        pq::result r(
            PQexecParams(attacker.get(), sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0));
        EXPECT_THAT(pq::error(attacker.get()), HasSubstr("42939: names starting with"));
    }
    // An identifier that merely contains the prefix is nobody's statement.
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 7 AS audit_sbk_log"), "7");
    EXPECT_EQ(exec_prepared(owner.get(), "mine", "41"), "42");
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT count(*) FROM pg_prepared_statements"),
              "1");
}

// One client's statements are bounded (max_client_prepared_statements): the Parse past the
// cap is refused with 54000 naming the setting and the client closed; a name it holds
// freed by DEALLOCATE may be prepared again, and other clients go on.
TEST_F(PreparedStatementsTest, ClientStatementsBounded) {
    sabakan_options o;
    o.extra = {{"max_client_prepared_statements", "3"}};
    start_sabakan(o);
    auto c = connect_pooled();
    for (const char* name : {"a", "b", "c"}) {
        prepare(c.get(), name, "SELECT $1::int", 1);
    }
    pq::run(c.get(), "DEALLOCATE c");
    prepare(c.get(), "c", "SELECT $1::int * 2", 1);
    EXPECT_EQ(exec_prepared(c.get(), "c", "21"), "42");
    PQsetErrorVerbosity(c.get(), PQERRORS_VERBOSE);
    pq::result r(PQprepare(c.get(), "d", "SELECT $1::int", 1, nullptr));
    EXPECT_NE(PQresultStatus(r.get()), PGRES_COMMAND_OK);
    EXPECT_THAT(pq::error(c.get()),
                HasSubstr("54000: too many prepared statements on this connection "
                          "(max_client_prepared_statements = 3)"));
    EXPECT_EQ(PQstatus(c.get()), CONNECTION_BAD);
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 1"), "1");
}

// With max_prepared_statements = 2, rotating through five statements evicts on every step,
// and each still returns its own result.
TEST_F(PreparedStatementsTest, SmallCacheEvicts) {
    sabakan_options o;
    o.default_pool_size = 1;
    o.extra = {{"max_prepared_statements", "2"}};
    start_sabakan(o);
    auto c = connect_pooled();
    const std::vector<std::string> names = {"s0", "s1", "s2", "s3", "s4"};
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string sql = "SELECT $1::int * " + std::to_string(i + 1);
        prepare(c.get(), names[i].c_str(), sql.c_str(), 1);
    }
    for (int round = 0; round < 3; ++round) {
        for (std::size_t i = 0; i < names.size(); ++i) {
            EXPECT_EQ(exec_prepared(c.get(), names[i].c_str(), "10"), std::to_string(10 * (i + 1)));
        }
    }
    // Two cached of five used in rotation: every Bind after the first round prepares again.
    auto admin = connect_admin();
    const auto parses =
        show_cell(admin.get(), "STATS", "database", app_database, "total_server_parse_count");
    ASSERT_TRUE(parses);
    EXPECT_GE(std::stoll(*parses), 15);
    EXPECT_EQ(show_cell(admin.get(), "STATS", "database", app_database, "total_client_parse_count"),
              "5");
}

// A pipeline where a statement fails in the middle: PostgreSQL skips the rest of that batch
// (the Parse of p2 among it), so p2 does not exist until prepared again in the next batch.
TEST_F(PreparedStatementsTest, ErrorInPipelineSkipsRestOfBatch) {
    auto c = connect_pooled();
    ASSERT_EQ(PQenterPipelineMode(c.get()), 1);
    const char* one[] = {"5"};
    ASSERT_EQ(PQsendPrepare(c.get(), "p1", "SELECT $1::int + 100", 1, nullptr), 1);
    ASSERT_EQ(PQsendQueryPrepared(c.get(), "p1", 1, one, nullptr, nullptr, 0), 1);
    ASSERT_EQ(PQsendQueryParams(c.get(), "SELECT 1/0", 0, nullptr, nullptr, nullptr, nullptr, 0),
              1);
    ASSERT_EQ(PQsendPrepare(c.get(), "p2", "SELECT $1::int + 200", 1, nullptr), 1);
    ASSERT_EQ(PQpipelineSync(c.get()), 1);
    ASSERT_EQ(PQsendPrepare(c.get(), "p2", "SELECT $1::int + 300", 1, nullptr), 1);
    ASSERT_EQ(PQsendQueryPrepared(c.get(), "p2", 1, one, nullptr, nullptr, 0), 1);
    ASSERT_EQ(PQsendQueryPrepared(c.get(), "p1", 1, one, nullptr, nullptr, 0), 1);
    ASSERT_EQ(PQpipelineSync(c.get()), 1);

    auto next = [&](ExecStatusType want, const char* what) {
        pq::result r(PQgetResult(c.get()));
        ASSERT_NE(r, nullptr) << what;
        EXPECT_EQ(PQresultStatus(r.get()), want) << what << ": " << pq::error(c.get());
        if (want == PGRES_TUPLES_OK && PQresultStatus(r.get()) == PGRES_TUPLES_OK) {
            EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), what);
        }
        if (want != PGRES_PIPELINE_SYNC) {
            EXPECT_TRUE(pq::no_more_results(c.get())) << what;
        }
    };
    next(PGRES_COMMAND_OK, "prepare p1");
    next(PGRES_TUPLES_OK, "105");
    next(PGRES_FATAL_ERROR, "division by zero");
    next(PGRES_PIPELINE_ABORTED, "prepare p2, skipped");
    next(PGRES_PIPELINE_SYNC, "sync 1");
    next(PGRES_COMMAND_OK, "prepare p2 again");
    next(PGRES_TUPLES_OK, "305");
    next(PGRES_TUPLES_OK, "105");
    next(PGRES_PIPELINE_SYNC, "sync 2");
    ASSERT_EQ(PQexitPipelineMode(c.get()), 1) << pq::error(c.get());
    EXPECT_EQ(exec_prepared(c.get(), "p2", "0"), "300");
}

class PgbenchThroughPoolTest : public transaction_pool_test,
                               public ::testing::WithParamInterface<const char*> {};

// pgbench's TPC-B, 50 clients on a pool of 5, in each query mode: every transaction commits
// once, none fails, and PostgreSQL never sees more than 5 backends. (-j equals -c: pgbench's
// own blocking prepare would otherwise stall threads whose other clients hold servers.)
TEST_P(PgbenchThroughPoolTest, TpcbFiftyClients) {
    const std::string mode = GetParam();
    const std::string pgbench = pg_tool("pgbench");
    const std::string out = sabakan().dir() + "/pgbench";
    auto init = run_client({pgbench, "-i", "-s", "1", "-h", cluster().socket_dir(), "-p",
                            std::to_string(cluster().port()), "-U", app_user, app_database},
                           out + "-init.out", std::chrono::seconds(90));
    ASSERT_FALSE(init.timed_out) << init.output;
    ASSERT_EQ(init.status, 0) << init.output;
    auto direct = connect_direct();
    ASSERT_TRUE(
        wait_until([&] { return app_backends(direct.get()) == 0; }, std::chrono::seconds(15)));
    long long most = 0;
    auto run = run_client({"/usr/bin/env", std::string("PGPASSWORD=") + app_password, pgbench, "-n",
                           "-M", mode, "-c", "50", "-j", "50", "-t", "20", "-h", "127.0.0.1", "-p",
                           std::to_string(sabakan().port()), "-U", app_user, app_database},
                          out + ".out", std::chrono::seconds(120),
                          [&] { most = std::max(most, app_backends(direct.get())); });
    std::printf("pgbench -M %s, 50 clients, pool of 5: %s\n", mode.c_str(),
                line_starting(run.output, "tps = ").c_str());
    ASSERT_FALSE(run.timed_out) << run.output;
    ASSERT_EQ(run.status, 0) << run.output;
    EXPECT_THAT(run.output, HasSubstr("number of transactions actually processed: 1000/1000"));
    EXPECT_THAT(run.output, HasSubstr("number of failed transactions: 0 (0.000%)"));
    EXPECT_THAT(run.output, ::testing::Not(HasSubstr("prepared statement")));
    EXPECT_EQ(pq::number(direct.get(), "SELECT count(*) FROM pgbench_history"), 1000);
    EXPECT_EQ(pq::value(direct.get(),
                        "SELECT (SELECT sum(abalance) FROM pgbench_accounts) ="
                        " (SELECT sum(delta) FROM pgbench_history)"),
              "t");
    EXPECT_LE(most, 5);
}

INSTANTIATE_TEST_SUITE_P(Mode, PgbenchThroughPoolTest,
                         ::testing::Values("simple", "extended", "prepared"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                             return std::string(info.param);
                         });

}  // namespace
}  // namespace sabakan::integration

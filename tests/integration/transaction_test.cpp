// Transactions through the pool: what one client writes stays invisible to others until
// it commits, and a transaction keeps its server from BEGIN to COMMIT while other clients
// are served by other servers.
#include "harness/fixture.hpp"

namespace sabakan::integration {
namespace {

class TransactionTest : public pool_mode_test {};

long long tagged(PGconn* c, const std::string& tag) {
    return pq::number(c, "SELECT count(*) FROM items WHERE tag = '" + tag + "'");
}

// Another client sees an insert only after COMMIT, and never after ROLLBACK.
TEST_P(TransactionTest, UncommittedRowsInvisibleToOthers) {
    auto direct = connect_direct();
    pq::run(direct.get(), "DELETE FROM items WHERE tag IN ('committed', 'rolled back')");
    auto a = connect_pooled();
    auto b = connect_pooled();

    pq::run(a.get(), "BEGIN");
    pq::run(a.get(), "INSERT INTO items (tag, v) VALUES ('committed', 1)");
    EXPECT_EQ(tagged(a.get(), "committed"), 1);  // A sees its own write
    EXPECT_EQ(tagged(b.get(), "committed"), 0);
    pq::run(a.get(), "COMMIT");
    EXPECT_EQ(tagged(b.get(), "committed"), 1);

    pq::run(a.get(), "BEGIN");
    pq::run(a.get(), "INSERT INTO items (tag, v) VALUES ('rolled back', 1)");
    EXPECT_EQ(tagged(b.get(), "rolled back"), 0);
    pq::run(a.get(), "ROLLBACK");
    EXPECT_EQ(tagged(a.get(), "rolled back"), 0);
    EXPECT_EQ(tagged(b.get(), "rolled back"), 0);
}

// A transaction keeps one backend throughout while another client's transaction uses another.
TEST_P(TransactionTest, TransactionKeepsItsServer) {
    auto a = connect_pooled();
    auto b = connect_pooled();
    pq::run(a.get(), "BEGIN");
    std::string first = pq::value(a.get(), "SELECT pg_backend_pid()");
    pq::run(b.get(), "BEGIN");
    std::string other = pq::value(b.get(), "SELECT pg_backend_pid()");
    std::string second = pq::value(a.get(), "SELECT pg_backend_pid()");
    pq::run(b.get(), "COMMIT");
    std::string third = pq::value(a.get(), "SELECT pg_backend_pid()");
    pq::run(a.get(), "COMMIT");
    EXPECT_EQ(first, second);
    EXPECT_EQ(first, third);
    EXPECT_NE(first, other);
}

// A failed statement leaves the transaction aborted (25P02) until ROLLBACK, then all is normal.
TEST_P(TransactionTest, FailedTransactionNeedsRollback) {
    auto c = connect_pooled();
    pq::run(c.get(), "BEGIN");
    pq::result div(PQexec(c.get(), "SELECT 1/0"));
    EXPECT_EQ(pq::sqlstate(div.get()), "22012");
    EXPECT_EQ(PQtransactionStatus(c.get()), PQTRANS_INERROR);
    pq::result next(PQexec(c.get(), "SELECT 1"));
    EXPECT_EQ(pq::sqlstate(next.get()), "25P02");
    pq::run(c.get(), "ROLLBACK");
    EXPECT_EQ(PQtransactionStatus(c.get()), PQTRANS_IDLE);
    EXPECT_EQ(pq::value(c.get(), "SELECT 2"), "2");
}

SABAKAN_FOR_EACH_POOL_MODE(TransactionTest);

class TransactionPoolingTest : public transaction_pool_test {};

// Outside transactions, idle clients take turns on one backend: that is the pooling.
TEST_F(TransactionPoolingTest, IdleClientsShareAServer) {
    auto a = connect_pooled();
    auto b = connect_pooled();
    std::string pid_a = pq::value(a.get(), "SELECT pg_backend_pid()");
    std::string pid_b = pq::value(b.get(), "SELECT pg_backend_pid()");
    EXPECT_EQ(pid_a, pid_b);
    auto direct = connect_direct();
    EXPECT_EQ(app_backends(direct.get()), 1);
}

class SessionPoolingTest : public sabakan_test {};

// In session mode a client keeps its backend, so session state survives between statements.
TEST_F(SessionPoolingTest, ClientKeepsItsServer) {
    sabakan_options o;
    o.pool_mode = "session";
    start_sabakan(o);
    auto a = connect_pooled();
    auto b = connect_pooled();
    std::string pid_a = pq::value(a.get(), "SELECT pg_backend_pid()");
    std::string pid_b = pq::value(b.get(), "SELECT pg_backend_pid()");
    EXPECT_NE(pid_a, pid_b);
    pq::run(a.get(), "PREPARE twice(int) AS SELECT $1 * 2");
    EXPECT_EQ(pq::value(b.get(), "SELECT pg_backend_pid()"), pid_b);
    EXPECT_EQ(pq::value(a.get(), "EXECUTE twice(21)"), "42");
    EXPECT_EQ(pq::value(a.get(), "SELECT pg_backend_pid()"), pid_a);
}

}  // namespace
}  // namespace sabakan::integration

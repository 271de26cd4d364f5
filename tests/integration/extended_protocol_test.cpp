// The extended query protocol through the pool: named prepared statements, one-shot
// parameterised queries (Parse/Bind/Describe/Execute/Sync in one flight), and pipelines
// holding several Syncs, which must all be answered before a server is released.
#include "harness/fixture.hpp"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace sabakan::integration {
namespace {

class ExtendedProtocolTest : public pool_mode_test {};

// A statement prepared inside a transaction runs there with new parameters each time.
TEST_P(ExtendedProtocolTest, PreparedStatementInTransaction) {
    auto c = connect_pooled();
    pq::run(c.get(), "BEGIN");
    pq::result prep(PQprepare(c.get(), "add_one", "SELECT $1::int + 1", 1, nullptr));
    ASSERT_EQ(PQresultStatus(prep.get()), PGRES_COMMAND_OK) << pq::error(c.get());
    pq::result desc(PQdescribePrepared(c.get(), "add_one"));
    ASSERT_EQ(PQresultStatus(desc.get()), PGRES_COMMAND_OK) << pq::error(c.get());
    EXPECT_EQ(PQnparams(desc.get()), 1);
    for (int i = 0; i < 5; ++i) {
        std::string arg = std::to_string(i * 10);
        const char* values[] = {arg.c_str()};
        pq::result r(PQexecPrepared(c.get(), "add_one", 1, values, nullptr, nullptr, 0));
        ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << pq::error(c.get());
        EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), std::to_string(i * 10 + 1).c_str());
    }
    pq::run(c.get(), "DEALLOCATE ALL");
    pq::run(c.get(), "COMMIT");
}

// PQexecParams outside a transaction: text and binary results and NULLs, over many round trips.
TEST_P(ExtendedProtocolTest, ExecParamsOutsideTransaction) {
    auto c = connect_pooled();
    for (int i = 0; i < 50; ++i) {
        std::string n = std::to_string(i);
        const char* values[] = {"item", n.c_str(), nullptr};
        pq::result r(PQexecParams(c.get(), "SELECT $1::text || '-' || $2::int, $3::text IS NULL", 3,
                                  nullptr, values, nullptr, nullptr, 0));
        ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << pq::error(c.get());
        EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, 0)), "item-" + n);
        EXPECT_STREQ(PQgetvalue(r.get(), 0, 1), "t");
    }
    const char* values[] = {"123456789"};
    pq::result bin(
        PQexecParams(c.get(), "SELECT $1::int4", 1, nullptr, values, nullptr, nullptr, 1));
    ASSERT_EQ(PQresultStatus(bin.get()), PGRES_TUPLES_OK) << pq::error(c.get());
    ASSERT_EQ(PQgetlength(bin.get(), 0, 0), 4);
    std::uint32_t raw = 0;
    std::memcpy(&raw, PQgetvalue(bin.get(), 0, 0), 4);
    EXPECT_EQ(ntohl(raw), 123456789u);
    EXPECT_EQ(PQtransactionStatus(c.get()), PQTRANS_IDLE);
}

// Two pipelined batches with a Sync each, all sent first: every result returns in order.
TEST_P(ExtendedProtocolTest, Pipeline) {
    auto c = connect_pooled();
    ASSERT_EQ(PQenterPipelineMode(c.get()), 1);
    constexpr int batches = 2;
    constexpr int per_batch = 5;
    std::vector<std::string> args;
    for (int b = 0; b < batches; ++b) {
        for (int i = 0; i < per_batch; ++i) {
            args.push_back(std::to_string(b * 100 + i));
            const char* values[] = {args.back().c_str()};
            ASSERT_EQ(PQsendQueryParams(c.get(), "SELECT $1::int * 3", 1, nullptr, values, nullptr,
                                        nullptr, 0),
                      1)
                << pq::error(c.get());
        }
        ASSERT_EQ(PQpipelineSync(c.get()), 1) << pq::error(c.get());
    }
    for (int b = 0; b < batches; ++b) {
        for (int i = 0; i < per_batch; ++i) {
            pq::result r(PQgetResult(c.get()));
            ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << pq::error(c.get());
            EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, 0)), std::to_string((b * 100 + i) * 3));
            EXPECT_TRUE(pq::no_more_results(c.get()));  // end of this query
        }
        pq::result sync(PQgetResult(c.get()));
        ASSERT_EQ(PQresultStatus(sync.get()), PGRES_PIPELINE_SYNC);
    }
    ASSERT_EQ(PQexitPipelineMode(c.get()), 1) << pq::error(c.get());
    EXPECT_EQ(pq::value(c.get(), "SELECT 1"), "1");
}

// An error in a pipeline aborts the rest up to the Sync; the connection then works normally.
TEST_P(ExtendedProtocolTest, PipelineErrorAbortsUntilSync) {
    auto c = connect_pooled();
    ASSERT_EQ(PQenterPipelineMode(c.get()), 1);
    for (const char* sql : {"SELECT 1", "SELECT 1/0", "SELECT 3"}) {
        ASSERT_EQ(PQsendQueryParams(c.get(), sql, 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
    }
    ASSERT_EQ(PQpipelineSync(c.get()), 1);
    const ExecStatusType expected[] = {PGRES_TUPLES_OK, PGRES_FATAL_ERROR, PGRES_PIPELINE_ABORTED};
    for (ExecStatusType want : expected) {
        pq::result r(PQgetResult(c.get()));
        ASSERT_EQ(PQresultStatus(r.get()), want) << pq::error(c.get());
        if (want == PGRES_FATAL_ERROR) {
            EXPECT_EQ(pq::sqlstate(r.get()), "22012");
        }
        EXPECT_TRUE(pq::no_more_results(c.get()));
    }
    pq::result sync(PQgetResult(c.get()));
    ASSERT_EQ(PQresultStatus(sync.get()), PGRES_PIPELINE_SYNC);
    ASSERT_EQ(PQexitPipelineMode(c.get()), 1) << pq::error(c.get());
    EXPECT_EQ(pq::value(c.get(), "SELECT 2"), "2");
}

SABAKAN_FOR_EACH_POOL_MODE(ExtendedProtocolTest);

}  // namespace
}  // namespace sabakan::integration

// Messages far larger than sabakan's receive buffer, in both directions: they are
// streamed through by their length, and the server is still released after them.
#include "harness/fixture.hpp"

#include <string>

namespace sabakan::integration {
namespace {

class LargeMessageTest : public pool_mode_test {};

// A 1 MB query text and a 1 MB bind parameter reach PostgreSQL intact.
TEST_P(LargeMessageTest, BigQueryAndParameter) {
    auto c = connect_pooled();
    const std::string big(1 << 20, 'q');
    EXPECT_EQ(pq::value(c.get(), "SELECT length('" + big + "')"), std::to_string(big.size()));

    std::string param = big;
    param.front() = '<';
    param.back() = '>';
    const char* values[] = {param.c_str()};
    pq::result r(PQexecParams(c.get(), "SELECT length($1), left($1, 2), right($1, 2)", 1, nullptr,
                              values, nullptr, nullptr, 0));
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << pq::error(c.get());
    EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, 0)), std::to_string(param.size()));
    EXPECT_STREQ(PQgetvalue(r.get(), 0, 1), "<q");
    EXPECT_STREQ(PQgetvalue(r.get(), 0, 2), "q>");
}

// Result rows of 100 kB each arrive complete and in order, and the client goes on.
TEST_P(LargeMessageTest, BigRows) {
    auto c = connect_pooled();
    pq::result r = pq::run(c.get(),
                           "SELECT i, repeat(chr(97 + i % 26), 100000) "
                           "FROM generate_series(1, 40) i ORDER BY i");
    ASSERT_EQ(PQntuples(r.get()), 40);
    for (int row = 0; row < 40; ++row) {
        int i = row + 1;
        EXPECT_EQ(std::string(PQgetvalue(r.get(), row, 0)), std::to_string(i));
        EXPECT_TRUE(std::string(PQgetvalue(r.get(), row, 1)) ==
                    std::string(100000, static_cast<char>('a' + i % 26)))
            << "row " << i;
    }
    EXPECT_EQ(pq::value(c.get(), "SELECT 1"), "1");
}

SABAKAN_FOR_EACH_POOL_MODE(LargeMessageTest);

}  // namespace
}  // namespace sabakan::integration

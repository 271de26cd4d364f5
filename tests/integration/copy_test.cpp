// COPY through the pool in both directions, with rows larger than sabakan's receive
// buffer so long CopyData messages are streamed rather than held whole.
#include "harness/fixture.hpp"

#include <ostream>
#include <string>

namespace sabakan::integration {
namespace {

class CopyTest : public pool_mode_test {
protected:
    static constexpr int rows = 3000;

    // COPY's text format, one line per row; every 500th payload is 20 kB long.
    static std::string copy_text() {
        std::string text;
        for (int id = 1; id <= rows; ++id) {
            std::size_t len = id % 500 == 0 ? 20000 : static_cast<std::size_t>(id % 97);
            text += std::to_string(id) + "\trow" + std::to_string(id) + "-" +
                    std::string(len, static_cast<char>('a' + id % 26)) + "\n";
        }
        return text;
    }
};

// COPY FROM STDIN loads a few thousand rows, and COPY TO STDOUT returns exactly them.
TEST_P(CopyTest, RoundTrip) {
    auto direct = connect_direct();
    pq::run(direct.get(), "TRUNCATE copy_rows");
    const std::string text = copy_text();
    auto c = connect_pooled();

    pq::result in(PQexec(c.get(), "COPY copy_rows (id, payload) FROM STDIN"));
    ASSERT_EQ(PQresultStatus(in.get()), PGRES_COPY_IN) << pq::error(c.get());
    // Send in uneven pieces so CopyData boundaries do not match line boundaries.
    for (std::size_t pos = 0; pos < text.size(); pos += 7777) {
        std::string piece = text.substr(pos, 7777);
        ASSERT_EQ(PQputCopyData(c.get(), piece.data(), static_cast<int>(piece.size())), 1)
            << pq::error(c.get());
    }
    ASSERT_EQ(PQputCopyEnd(c.get(), nullptr), 1) << pq::error(c.get());
    pq::result loaded(PQgetResult(c.get()));
    ASSERT_EQ(PQresultStatus(loaded.get()), PGRES_COMMAND_OK) << pq::error(c.get());
    EXPECT_STREQ(PQcmdTuples(loaded.get()), std::to_string(rows).c_str());
    EXPECT_TRUE(pq::no_more_results(c.get()));
    EXPECT_EQ(pq::number(direct.get(), "SELECT count(*) FROM copy_rows"), rows);

    pq::result out(
        PQexec(c.get(), "COPY (SELECT id, payload FROM copy_rows ORDER BY id) TO STDOUT"));
    ASSERT_EQ(PQresultStatus(out.get()), PGRES_COPY_OUT) << pq::error(c.get());
    std::string received;
    int lines = 0;
    for (;;) {
        char* buf = nullptr;
        int n = PQgetCopyData(c.get(), &buf, 0);
        if (n < 0) {
            ASSERT_EQ(n, -1) << pq::error(c.get());
            break;
        }
        received.append(buf, static_cast<std::size_t>(n));
        PQfreemem(buf);
        ++lines;
    }
    pq::result done(PQgetResult(c.get()));
    ASSERT_EQ(PQresultStatus(done.get()), PGRES_COMMAND_OK) << pq::error(c.get());
    EXPECT_EQ(lines, rows);  // COPY TO sends one CopyData per row
    EXPECT_EQ(received.size(), text.size());
    EXPECT_TRUE(received == text) << "COPY TO STDOUT returned other bytes than were loaded";
    EXPECT_EQ(pq::value(c.get(), "SELECT 1"), "1");
}

// An abandoned COPY FROM STDIN (CopyFail) loads nothing, fails with 57014, and the client goes on.
TEST_P(CopyTest, AbandonedCopyIn) {
    auto direct = connect_direct();
    pq::run(direct.get(), "TRUNCATE copy_rows");
    auto c = connect_pooled();
    pq::result in(PQexec(c.get(), "COPY copy_rows (id, payload) FROM STDIN"));
    ASSERT_EQ(PQresultStatus(in.get()), PGRES_COPY_IN) << pq::error(c.get());
    std::string line = "1\tfirst\n";
    ASSERT_EQ(PQputCopyData(c.get(), line.data(), static_cast<int>(line.size())), 1);
    ASSERT_EQ(PQputCopyEnd(c.get(), "client gave up"), 1);
    pq::result failed(PQgetResult(c.get()));
    EXPECT_EQ(PQresultStatus(failed.get()), PGRES_FATAL_ERROR);
    EXPECT_EQ(pq::sqlstate(failed.get()), "57014");
    EXPECT_TRUE(pq::no_more_results(c.get()));
    EXPECT_EQ(pq::number(c.get(), "SELECT count(*) FROM copy_rows"), 0);
}

SABAKAN_FOR_EACH_POOL_MODE(CopyTest);

struct copy_in_case {
    const char* name;
    bool extended;         // started by PQexecParams (Parse/Bind/Execute/Sync), not PQexec
    bool bad_row;          // a row PostgreSQL rejects in the middle of the data
    const char* give_up;   // PQputCopyEnd's error message: the client sends CopyFail
    const char* sqlstate;  // "" when the COPY succeeds
};

void PrintTo(const copy_in_case& k, std::ostream* os) {
    *os << k.name;
}

// Every way a COPY FROM STDIN can end must leave the server free for the next client. With
// a pool of one, a server left linked to its client shows as query_wait_timeout.
class CopyReleaseTest : public sabakan_test, public ::testing::WithParamInterface<copy_in_case> {};

// A COPY FROM STDIN ended in this way frees the pool's only server for another client.
TEST_P(CopyReleaseTest, ServerFreedAfterCopyIn) {
    const copy_in_case& k = GetParam();
    auto direct = connect_direct();
    pq::run(direct.get(), "TRUNCATE copy_rows");
    sabakan_options o;
    o.default_pool_size = 1;
    o.query_wait_timeout = 5;
    start_sabakan(o);

    auto c = connect_pooled();
    const char* sql = "COPY copy_rows (id, payload) FROM STDIN";
    pq::result in(k.extended ? PQexecParams(c.get(), sql, 0, nullptr, nullptr, nullptr, nullptr, 0)
                             : PQexec(c.get(), sql));
    ASSERT_EQ(PQresultStatus(in.get()), PGRES_COPY_IN) << pq::error(c.get());
    std::string rows = k.bad_row ? "1\tone\nnot-a-number\ttwo\n" : "1\tone\n2\ttwo\n";
    ASSERT_EQ(PQputCopyData(c.get(), rows.data(), static_cast<int>(rows.size())), 1);
    ASSERT_EQ(PQputCopyEnd(c.get(), k.give_up), 1);
    pq::result done(PQgetResult(c.get()));
    if (*k.sqlstate == '\0') {
        EXPECT_EQ(PQresultStatus(done.get()), PGRES_COMMAND_OK) << pq::error(c.get());
    } else {
        EXPECT_EQ(pq::sqlstate(done.get()), k.sqlstate) << pq::error(c.get());
    }
    EXPECT_TRUE(pq::no_more_results(c.get()));

    auto other = connect_pooled();
    pq::result r(PQexec(other.get(), "SELECT count(*) FROM copy_rows"));
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << pq::error(other.get());
    EXPECT_STREQ(PQgetvalue(r.get(), 0, 0), *k.sqlstate == '\0' ? "2" : "0");
    EXPECT_EQ(pq::value(c.get(), "SELECT 1"), "1");
}

INSTANTIATE_TEST_SUITE_P(
    Endings, CopyReleaseTest,
    ::testing::Values(copy_in_case{"simple_done", false, false, nullptr, ""},
                      copy_in_case{"simple_fail", false, false, "given up", "57014"},
                      copy_in_case{"simple_bad_row", false, true, nullptr, "22P02"},
                      copy_in_case{"extended_done", true, false, nullptr, ""},
                      copy_in_case{"extended_fail", true, false, "given up", "57014"},
                      copy_in_case{"extended_bad_row", true, true, nullptr, "22P02"}),
    [](const ::testing::TestParamInfo<copy_in_case>& info) { return info.param.name; });

}  // namespace
}  // namespace sabakan::integration

// The transaction-mode release rule as a table: which message sequences leave a server
// clean (back to the pool) and which must keep it linked to its client.
#include <sabakan/relay/link_state.hpp>

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>

namespace sabakan::relay {
namespace {

struct row {
    const char* name;
    std::string client;  // message tags the client sent, in order
    std::string server;  // ReadyForQuery statuses received, in order
    bool clean;
};

class ReleaseRule : public ::testing::TestWithParam<row> {};

// Each row: after the client's messages and the server's ReadyForQuerys, is the server free?
TEST_P(ReleaseRule, Table) {
    const row& r = GetParam();
    link_state s;
    for (char t : r.client) {
        s.on_client_message(t);
    }
    for (char z : r.server) {
        s.on_ready_for_query(z);
    }
    EXPECT_EQ(s.clean(), r.clean) << r.name;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ReleaseRule,
    ::testing::Values(row{"fresh link", "", "", true}, row{"simple query answered", "Q", "I", true},
                      row{"simple query in flight", "Q", "", false},
                      row{"BEGIN answered: transaction open", "Q", "T", false},
                      row{"failed transaction", "Q", "E", false},
                      row{"two pipelined queries, one answered", "QQ", "I", false},
                      row{"two pipelined queries, both answered", "QQ", "II", true},
                      row{"extended batch answered", "PBDES", "I", true},
                      row{"extended messages without Sync", "PBE", "", false},
                      row{"extended without Sync after an answered query", "QPBE", "I", false},
                      row{"pipeline of two syncs, one answered", "PBESBES", "I", false},
                      row{"pipeline of two syncs, both answered", "PBESBES", "II", true},
                      row{"COPY IN finished", "Qddc", "I", true},
                      row{"COPY IN in progress", "Qdd", "", false},
                      row{"Flush waits for Sync", "PH", "", false},
                      row{"function call answered", "F", "I", true},
                      row{"COMMIT after BEGIN", "QQ", "TI", true}),
    [](const auto& info) {
        std::string n = info.param.name;
        for (auto& c : n) {
            if (!std::isalnum(static_cast<unsigned char>(c))) {
                c = '_';
            }
        }
        return n;
    });

// Events in order: 'c' then a client tag, or 's' then a server tag ('Z' carries 'I').
bool clean_after(std::initializer_list<std::pair<char, char>> events) {
    link_state s;
    for (auto [side, tag] : events) {
        if (side == 'c') {
            s.on_client_message(tag);
        } else if (tag == 'Z') {
            s.on_ready_for_query('I');
        } else {
            s.on_server_message(tag);
        }
    }
    return s.clean();
}

// COPY FROM STDIN run by Execute: the Sync sent with the Execute is swallowed by copy-in
// mode, so the link is free once the Sync after CopyDone is answered, and not before.
TEST(CopyInRule, ExtendedCopyFreedAfterFinalSync) {
    EXPECT_FALSE(clean_after(
        {{'c', 'P'}, {'c', 'B'}, {'c', 'E'}, {'c', 'S'}, {'s', 'G'}, {'c', 'd'}, {'c', 'c'}}));
    EXPECT_TRUE(clean_after({{'c', 'P'},
                             {'c', 'B'},
                             {'c', 'E'},
                             {'c', 'S'},
                             {'s', 'G'},
                             {'c', 'd'},
                             {'c', 'c'},
                             {'c', 'S'},
                             {'s', 'Z'}}));
}

// A Sync sent during copy-in gets no ReadyForQuery, so it is not waited for.
TEST(CopyInRule, SyncDuringCopyInNotCounted) {
    EXPECT_TRUE(clean_after({{'c', 'P'},
                             {'c', 'B'},
                             {'c', 'E'},
                             {'c', 'S'},
                             {'s', 'G'},
                             {'c', 'S'},
                             {'c', 'd'},
                             {'c', 'f'},
                             {'c', 'S'},
                             {'s', 'Z'}}));
}

// After the server's error ends copy-in, the client's Sync counts again and is answered.
TEST(CopyInRule, ErrorEndsCopyIn) {
    EXPECT_FALSE(clean_after({{'c', 'P'},
                              {'c', 'B'},
                              {'c', 'E'},
                              {'c', 'S'},
                              {'s', 'G'},
                              {'c', 'd'},
                              {'s', 'E'},
                              {'c', 'S'}}));
    EXPECT_TRUE(clean_after({{'c', 'P'},
                             {'c', 'B'},
                             {'c', 'E'},
                             {'c', 'S'},
                             {'s', 'G'},
                             {'c', 'd'},
                             {'s', 'E'},
                             {'c', 'S'},
                             {'s', 'Z'}}));
}

// COPY by a simple Query is unchanged: its one ReadyForQuery frees the link.
TEST(CopyInRule, SimpleCopy) {
    EXPECT_FALSE(clean_after({{'c', 'Q'}, {'s', 'G'}, {'c', 'd'}, {'c', 'c'}}));
    EXPECT_TRUE(clean_after({{'c', 'Q'}, {'s', 'G'}, {'c', 'd'}, {'c', 'c'}, {'s', 'Z'}}));
}

// A COPY the server failed at once keeps the link until the client, which goes on sending
// CopyData without reading, ends its side of the COPY.
TEST(CopyInRule, FailedCopyHoldsUntilClientEndsIt) {
    EXPECT_FALSE(clean_after({{'c', 'Q'}, {'s', 'G'}, {'c', 'd'}, {'s', 'E'}, {'s', 'Z'}}));
    EXPECT_FALSE(
        clean_after({{'c', 'Q'}, {'s', 'G'}, {'c', 'd'}, {'s', 'E'}, {'s', 'Z'}, {'c', 'd'}}));
    EXPECT_TRUE(clean_after(
        {{'c', 'Q'}, {'s', 'G'}, {'c', 'd'}, {'s', 'E'}, {'s', 'Z'}, {'c', 'd'}, {'c', 'c'}}));
    EXPECT_TRUE(clean_after({{'c', 'Q'}, {'s', 'G'}, {'s', 'E'}, {'s', 'Z'}, {'c', 'f'}}));
}

// A write in flight or a message only partly sent holds an otherwise finished link.
TEST(ReleaseRuleBusy, ClientBusyHoldsLink) {
    link_state s;
    s.on_client_message('Q');
    s.on_ready_for_query('I');
    ASSERT_TRUE(s.clean());
    s.client_busy = true;
    EXPECT_FALSE(s.clean());
    s.client_busy = false;
    EXPECT_TRUE(s.clean());
}

}  // namespace
}  // namespace sabakan::relay

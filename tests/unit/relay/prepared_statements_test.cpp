// The bookkeeping of prepared statements in transaction mode: statement identities, the
// worker's registry, the client's names, each server's LRU cache, and the reply tracker
// that knows which ParseComplete/BindComplete/CloseComplete the client must not see.
#include <sabakan/relay/prepared_statements.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace sabakan::relay {
namespace {

protocol::bytes_view types(std::string_view s) {
    return protocol::as_bytes(s);
}

// The same text and types give the same id and name; a change in either gives another.
TEST(StatementId, DependsOnTextAndTypes) {
    const auto a = make_statement_id("SELECT $1", types(std::string_view("\0\1\0\0\0\x17", 6)));
    const auto b = make_statement_id("SELECT $1", types(std::string_view("\0\1\0\0\0\x17", 6)));
    const auto c = make_statement_id("SELECT $1", types(std::string_view("\0\1\0\0\0\x19", 6)));
    const auto d = make_statement_id("SELECT $2", types(std::string_view("\0\1\0\0\0\x17", 6)));
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    EXPECT_NE(a, d);
    // The NUL between query and types keeps "ab"+"c" apart from "a"+"bc".
    EXPECT_NE(make_statement_id("ab", types("c")), make_statement_id("a", types("bc")));
    const std::string name = server_statement_name(a);
    EXPECT_EQ(name.size(), server_statement_prefix.size() + 32);
    EXPECT_TRUE(name.starts_with(server_statement_prefix));
    EXPECT_EQ(name, server_statement_name(b));
}

// Clients preparing the same text share one statement; it is freed with its last holder.
TEST(StatementRegistry, SharesAndFrees) {
    statement_registry reg;
    auto a = reg.intern("SELECT 1", types(std::string_view("\0\0", 2)));
    auto b = reg.intern("SELECT 1", types(std::string_view("\0\0", 2)));
    auto c = reg.intern("SELECT 2", types(std::string_view("\0\0", 2)));
    EXPECT_EQ(a.get(), b.get());
    EXPECT_NE(a.get(), c.get());
    EXPECT_EQ(a->query, "SELECT 1");
    EXPECT_EQ(reg.live(), 2u);
    a.reset();
    b.reset();
    EXPECT_EQ(reg.live(), 1u);
}

// A client's names: pending until the server answers the Parse, then taken; a failed or
// skipped Parse frees the name only if no later Parse took it.
TEST(ClientStatements, PendingConfirmedAndForgotten) {
    statement_registry reg;
    client_statements names;
    auto s1 = reg.intern("SELECT 1", {});
    auto s2 = reg.intern("SELECT 2", {});
    const auto first = names.add("a", s1);
    EXPECT_FALSE(names.taken("a"));
    ASSERT_NE(names.find("a"), nullptr);
    EXPECT_EQ(names.find("a")->query, "SELECT 1");
    const auto second = names.add("a", s2);  // a pipeline prepares it again
    EXPECT_EQ(names.find("a")->query, "SELECT 2");
    names.forget("a", first);  // the first Parse was skipped: the second still holds it
    ASSERT_NE(names.find("a"), nullptr);
    names.confirm("a", first);  // an old number confirms nothing
    EXPECT_FALSE(names.taken("a"));
    names.confirm("a", second);
    EXPECT_TRUE(names.taken("a"));
    names.forget("a", second);
    EXPECT_EQ(names.find("a"), nullptr);
    names.add("b", s2);
    names.erase("b");
    EXPECT_EQ(names.size(), 0u);
}

statement_id id_of(int n) {
    return make_statement_id("SELECT " + std::to_string(n), {});
}

// The least recently used statement goes first; touching one keeps it.
TEST(ServerStatements, EvictsLeastRecentlyUsed) {
    server_statements cache;
    EXPECT_FALSE(cache.insert(id_of(1), 2));
    EXPECT_FALSE(cache.insert(id_of(2), 2));
    EXPECT_TRUE(cache.touch(id_of(1)));  // 2 is now the oldest
    auto evicted = cache.insert(id_of(3), 2);
    ASSERT_TRUE(evicted);
    EXPECT_EQ(*evicted, id_of(2));
    EXPECT_FALSE(cache.touch(id_of(2)));
    EXPECT_TRUE(cache.touch(id_of(1)));
    EXPECT_EQ(cache.size(), 2u);
    // ids() is most recent first; inserting in reverse rebuilds the same order.
    const auto order = cache.ids();
    ASSERT_EQ(order.size(), 2u);
    EXPECT_EQ(order[0], id_of(1));
    EXPECT_EQ(order[1], id_of(3));
    cache.erase(id_of(1));
    EXPECT_FALSE(cache.touch(id_of(1)));
    cache.clear();
    EXPECT_EQ(cache.size(), 0u);
}

pending_reply entry(std::uint64_t epoch, std::uint32_t index, reply_action a, reply_cause c) {
    pending_reply p;
    p.epoch = epoch;
    p.index = index;
    p.action = a;
    p.cause = c;
    return p;
}

// Parse(added), Bind, Sync; Close(eviction), Parse(client), Sync: the added Parse's and the
// eviction's replies are dropped, everything else forwarded, epoch by epoch.
TEST(ReplyTracker, ActsOnTheRightReplies) {
    reply_tracker t;
    t.expect(entry(0, t.note_request(), reply_action::drop, reply_cause::added_parse));
    t.note_request();  // Bind
    t.note_sync_point();
    t.expect(entry(1, t.note_request(), reply_action::drop, reply_cause::eviction));
    t.expect(entry(1, t.note_request(), reply_action::forward, reply_cause::client_parse));
    t.note_sync_point();
    std::vector<reply_cause> skipped;
    auto on_skip = [&](const pending_reply& p) { skipped.push_back(p.cause); };
    std::vector<reply_cause> answered;
    auto on_answer = [&](const pending_reply& p) { answered.push_back(p.cause); };
    EXPECT_EQ(t.on_reply(0, on_answer), reply_action::drop);     // the added Parse's reply
    EXPECT_EQ(t.on_reply(0, on_answer), reply_action::forward);  // BindComplete
    t.on_ready(0, on_skip);
    EXPECT_EQ(t.on_reply(1, on_answer), reply_action::drop);     // the eviction's Close
    EXPECT_EQ(t.on_reply(1, on_answer), reply_action::forward);  // the client's ParseComplete
    t.on_ready(1, on_skip);
    EXPECT_TRUE(skipped.empty());
    EXPECT_EQ(answered, (std::vector<reply_cause>{reply_cause::added_parse, reply_cause::eviction,
                                                  reply_cause::client_parse}));
    EXPECT_TRUE(t.idle());
}

// An error skips the rest of its epoch: those entries are reported, later epochs kept.
TEST(ReplyTracker, ErrorSkipsRestOfEpoch) {
    reply_tracker t;
    t.note_request();  // Bind, forwarded: it fails
    t.expect(entry(0, t.note_request(), reply_action::drop, reply_cause::added_parse));
    t.expect(
        entry(0, t.note_request(), reply_action::as_parse_complete, reply_cause::cached_parse));
    t.note_sync_point();
    t.expect(entry(1, t.note_request(), reply_action::drop, reply_cause::added_parse));
    t.note_sync_point();
    std::vector<reply_cause> skipped;
    auto on_skip = [&](const pending_reply& p) { skipped.push_back(p.cause); };
    t.on_error(0, on_skip);
    ASSERT_EQ(skipped.size(), 2u);
    EXPECT_EQ(skipped[0], reply_cause::added_parse);
    EXPECT_EQ(skipped[1], reply_cause::cached_parse);
    t.on_ready(0, on_skip);
    EXPECT_FALSE(t.idle());
    EXPECT_EQ(t.on_reply(1, [](const pending_reply&) {}), reply_action::drop);
    t.on_ready(1, on_skip);
    EXPECT_EQ(skipped.size(), 2u);
    EXPECT_TRUE(t.idle());
}

}  // namespace
}  // namespace sabakan::relay

// Parse, Bind, Describe and Close on bytes as libpq sends them: decoded without copying,
// and composed again under another statement name with everything else unchanged.
#include <sabakan/protocol/extended.hpp>

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace sabakan::protocol {
namespace {

// Bytes from chars and small numbers, as a message body is written out by hand.
byte_buffer bytes_of(std::initializer_list<int> v) {
    byte_buffer out;
    for (int b : v) {
        out.push_back(static_cast<std::byte>(b));
    }
    return out;
}

byte_buffer with_text(byte_buffer head, std::string_view text) {
    for (char c : text) {
        head.push_back(static_cast<std::byte>(c));
    }
    return head;
}

// The body of Parse "P_0" / "SELECT $1" with one parameter of type int4 (OID 23).
byte_buffer parse_body() {
    byte_buffer b = with_text({}, std::string_view("P_0\0SELECT $1\0", 14));
    for (int v : {0, 1, 0, 0, 0, 23}) {
        b.push_back(static_cast<std::byte>(v));
    }
    return b;
}

TEST(Extended, ParseDecodesNamesAndTypes) {
    const byte_buffer body = parse_body();
    parse_message m;
    ASSERT_TRUE(decode_parse(body, m));
    EXPECT_EQ(m.statement, "P_0");
    EXPECT_EQ(m.query, "SELECT $1");
    EXPECT_EQ(byte_buffer(m.parameter_types.begin(), m.parameter_types.end()),
              bytes_of({0, 1, 0, 0, 0, 23}));
}

// Renamed, a Parse keeps its query and types, and its length covers the new name.
TEST(Extended, ParseComposedUnderAnotherName) {
    const byte_buffer body = parse_body();
    parse_message m;
    ASSERT_TRUE(decode_parse(body, m));
    byte_buffer out;
    append_parse(out, "S7", m);
    byte_buffer expected = bytes_of({'P', 0, 0, 0, 4 + 3 + 10 + 6});
    expected = with_text(std::move(expected), std::string_view("S7\0SELECT $1\0", 13));
    for (int v : {0, 1, 0, 0, 0, 23}) {
        expected.push_back(static_cast<std::byte>(v));
    }
    EXPECT_EQ(out, expected);
}

// A count of types the body does not hold, a missing NUL, or trailing bytes: malformed.
TEST(Extended, ParseRejectsMalformedBodies) {
    parse_message m;
    byte_buffer short_types = with_text({}, std::string_view("\0SELECT 1\0", 10));
    for (int v : {0, 2, 0, 0, 0, 23}) {  // two types announced, one sent
        short_types.push_back(static_cast<std::byte>(v));
    }
    EXPECT_FALSE(decode_parse(short_types, m));
    EXPECT_FALSE(decode_parse(with_text({}, "P_0"), m));
    byte_buffer trailing = with_text({}, std::string_view("\0SELECT 1\0", 10));
    for (int v : {0, 0, 9}) {
        trailing.push_back(static_cast<std::byte>(v));
    }
    EXPECT_FALSE(decode_parse(trailing, m));
    byte_buffer negative = with_text({}, std::string_view("\0SELECT 1\0", 10));
    for (int v : {0xff, 0xff}) {
        negative.push_back(static_cast<std::byte>(v));
    }
    EXPECT_FALSE(decode_parse(negative, m));
}

// Bind: the names are read; formats and values stay bytes, forwarded unchanged under the
// new statement name.
TEST(Extended, BindRenamedKeepsItsParameters) {
    byte_buffer body = with_text({}, std::string_view("\0P_0\0", 5));
    const byte_buffer rest = bytes_of({0, 0, 0, 1, 0, 0, 0, 2, '4', '2', 0, 0});
    body.insert(body.end(), rest.begin(), rest.end());
    bind_head b;
    ASSERT_TRUE(decode_bind_head(body, b));
    EXPECT_EQ(b.portal, "");
    EXPECT_EQ(b.statement, "P_0");
    EXPECT_EQ(byte_buffer(b.rest.begin(), b.rest.end()), rest);
    byte_buffer out;
    append_bind(out, "S1", b);
    byte_buffer expected = bytes_of({'B', 0, 0, 0, 4 + 1 + 3 + 12});
    expected = with_text(std::move(expected), std::string_view("\0S1\0", 4));
    expected.insert(expected.end(), rest.begin(), rest.end());
    EXPECT_EQ(out, expected);
    EXPECT_FALSE(decode_bind_head(with_text({}, std::string_view("\0P_0\0", 5)), b));
}

// Describe and Close: kind and name; a kind other than S or P is malformed.
TEST(Extended, DescribeAndCloseRoundTrip) {
    statement_or_portal t;
    const byte_buffer describe = with_text({}, std::string_view("SP_0\0", 5));
    ASSERT_TRUE(decode_statement_or_portal(describe, t));
    EXPECT_EQ(t.kind, target_kind::statement);
    EXPECT_EQ(t.name, "P_0");
    byte_buffer out;
    append_statement_or_portal(out, frontend_tag::close, {target_kind::statement, "S1"});
    EXPECT_EQ(out, with_text(bytes_of({'C', 0, 0, 0, 8}), std::string_view("SS1\0", 4)));
    EXPECT_FALSE(decode_statement_or_portal(with_text({}, std::string_view("XP_0\0", 5)), t));
    EXPECT_FALSE(decode_statement_or_portal(with_text({}, "SP_0"), t));
}

// A lone DEALLOCATE of one name is recognised, the name folded as PostgreSQL folds it;
// anything else (ALL, two statements, other commands) is not.
TEST(Extended, DeallocateTarget) {
    EXPECT_EQ(deallocate_target("DEALLOCATE a1"), "a1");
    EXPECT_EQ(deallocate_target("  deallocate   prepare  A1 ;  "), "a1");
    EXPECT_EQ(deallocate_target("DEALLOCATE\n_pg3_12;"), "_pg3_12");
    EXPECT_EQ(deallocate_target("DEALLOCATE \"Mixed\"\"Case\""), "Mixed\"Case");
    EXPECT_EQ(deallocate_target("DEALLOCATE prepare"), "prepare");
    EXPECT_EQ(deallocate_target("DEALLOCATE ALL"), std::nullopt);
    EXPECT_EQ(deallocate_target("DEALLOCATE PREPARE all;"), std::nullopt);
    EXPECT_EQ(deallocate_target("DEALLOCATE a1; SELECT 1"), std::nullopt);
    EXPECT_EQ(deallocate_target("DEALLOCATE a1 a2"), std::nullopt);
    EXPECT_EQ(deallocate_target("DEALLOCATE \"unterminated"), std::nullopt);
    EXPECT_EQ(deallocate_target("DEALLOCATE \"\""), std::nullopt);
    EXPECT_EQ(deallocate_target("DEALLOCATEa1"), std::nullopt);
    EXPECT_EQ(deallocate_target("SELECT 1"), std::nullopt);
    EXPECT_EQ(deallocate_target(""), std::nullopt);
}

// Only DISCARD ALL and DEALLOCATE ALL drop every prepared statement of a session.
TEST(Extended, CommandsThatDropPreparedStatements) {
    EXPECT_TRUE(drops_prepared_statements(as_bytes(std::string_view("DISCARD ALL\0", 12))));
    EXPECT_TRUE(drops_prepared_statements(as_bytes(std::string_view("DEALLOCATE ALL\0", 15))));
    EXPECT_FALSE(drops_prepared_statements(as_bytes(std::string_view("DEALLOCATE\0", 11))));
    EXPECT_FALSE(drops_prepared_statements(as_bytes(std::string_view("DISCARD PLANS\0", 14))));
    EXPECT_FALSE(drops_prepared_statements(as_bytes(std::string_view("DISCARD ALL", 11))));
}

}  // namespace
}  // namespace sabakan::protocol

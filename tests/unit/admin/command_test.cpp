// The admin-console grammar: what parses, into which verb and operands, and what is refused.
#include <sabakan/admin/command.hpp>

#include <gtest/gtest.h>

namespace sabakan::admin {
namespace {

command bare(std::string verb) {
    return command{std::move(verb), {}, {}, false};
}

command with_arg(std::string verb, std::string arg) {
    return command{std::move(verb), std::move(arg), {}, true};
}

command set(std::string key, std::string value) {
    return command{"SET", std::move(key), std::move(value), true};
}

// A verb alone parses, with no argument.
TEST(AdminCommand, VerbOnly) {
    EXPECT_EQ(parse_command("RELOAD"), bare("RELOAD"));
    EXPECT_EQ(parse_command("SHUTDOWN;"), bare("SHUTDOWN"));
}

// A verb and one word argument; digits and underscores are word chars.
TEST(AdminCommand, VerbAndWordArgument) {
    EXPECT_EQ(parse_command("SHOW POOLS;"), with_arg("SHOW", "POOLS"));
    EXPECT_EQ(parse_command("KILL_CLIENT 42"), with_arg("KILL_CLIENT", "42"));
    EXPECT_EQ(parse_command("PAUSE mastodon_production"), with_arg("PAUSE", "mastodon_production"));
}

// The verb is upper-cased; an unquoted argument is returned exactly as typed.
TEST(AdminCommand, VerbUpperCasedArgumentVerbatim) {
    EXPECT_EQ(parse_command("show pools"), with_arg("SHOW", "pools"));
    EXPECT_EQ(parse_command("sHoW PoOlS"), with_arg("SHOW", "PoOlS"));
    EXPECT_EQ(parse_command("resume MyDb"), with_arg("RESUME", "MyDb"));
}

// Whitespace (spaces, tabs, newlines) is allowed before, between, around `;` and after.
TEST(AdminCommand, WhitespaceAndSemicolonVariations) {
    const auto expected = with_arg("PAUSE", "mastodon_production");
    EXPECT_EQ(parse_command("  PAUSE mastodon_production ;  "), expected);
    EXPECT_EQ(parse_command("\tPAUSE\n\tmastodon_production\r\n"), expected);
    EXPECT_EQ(parse_command("PAUSE mastodon_production;\n"), expected);
    EXPECT_EQ(parse_command("PAUSE   mastodon_production  ;"), expected);
    EXPECT_EQ(parse_command(" PAUSE ; "), bare("PAUSE"));
}

// A double-quoted identifier may hold any char; "" inside it stands for one ".
TEST(AdminCommand, QuotedIdentifier) {
    EXPECT_EQ(parse_command("RESUME \"my-db\""), with_arg("RESUME", "my-db"));
    EXPECT_EQ(parse_command("RESUME \"My DB\";"), with_arg("RESUME", "My DB"));
    EXPECT_EQ(parse_command("RESUME \"a\"\"b\""), with_arg("RESUME", "a\"b"));
    EXPECT_EQ(parse_command("RESUME \"\"\"\" ;"), with_arg("RESUME", "\""));
    EXPECT_EQ(parse_command("RESUME \"x;y\""), with_arg("RESUME", "x;y"));
}

// SET with `=`, spaced or not, and with TO in any case.
TEST(AdminCommand, SetWithEqualsAndTo) {
    EXPECT_EQ(parse_command("SET default_pool_size = 20"), set("default_pool_size", "20"));
    EXPECT_EQ(parse_command("set default_pool_size=20;"), set("default_pool_size", "20"));
    EXPECT_EQ(parse_command("SET default_pool_size TO 20"), set("default_pool_size", "20"));
    EXPECT_EQ(parse_command(" Set Default_Pool_Size to 20 ; "), set("Default_Pool_Size", "20"));
    EXPECT_EQ(parse_command("SET pool_mode TO transaction"), set("pool_mode", "transaction"));
}

// A single-quoted value may hold spaces and `;`; '' inside it stands for one '.
TEST(AdminCommand, SetQuotedValue) {
    EXPECT_EQ(parse_command("SET server_reset_query = 'DISCARD ALL;'"),
              set("server_reset_query", "DISCARD ALL;"));
    EXPECT_EQ(parse_command("SET application_name_add_host TO 'it''s'"),
              set("application_name_add_host", "it's"));
    EXPECT_EQ(parse_command("SET server_reset_query=''"), set("server_reset_query", ""));
    EXPECT_EQ(parse_command("SET x TO'v';"), set("x", "v"));
}

// Bare values may be numbers, negative numbers, times and paths.
TEST(AdminCommand, SetBareNumericValues) {
    EXPECT_EQ(parse_command("SET reserve_pool_timeout = 0.5"), set("reserve_pool_timeout", "0.5"));
    EXPECT_EQ(parse_command("SET max_db_connections = -1;"), set("max_db_connections", "-1"));
    EXPECT_EQ(parse_command("SET stats_period TO 10:00"), set("stats_period", "10:00"));
    EXPECT_EQ(parse_command("SET unix_socket_dir = /tmp/pg"), set("unix_socket_dir", "/tmp/pg"));
}

// iequals ignores ASCII case only, and lengths must match.
TEST(AdminCommand, Iequals) {
    EXPECT_TRUE(iequals("pools", "POOLS"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("pool", "pools"));
    EXPECT_FALSE(iequals("pools", "p0ols"));
}

// More than one argument is refused, whatever the verb.
TEST(AdminCommand, TwoArgumentsFail) {
    EXPECT_EQ(parse_command("SHOW SERVERS mastodon"), std::nullopt);
    EXPECT_EQ(parse_command("PAUSE \"a\" b"), std::nullopt);
    EXPECT_EQ(parse_command("SET a = 1 2"), std::nullopt);
}

// Nothing but whitespace may follow the one `;`; a second statement is refused.
TEST(AdminCommand, TrailingJunkFails) {
    EXPECT_EQ(parse_command("SHOW POOLS; x"), std::nullopt);
    EXPECT_EQ(parse_command("SHOW POOLS;;"), std::nullopt);
    EXPECT_EQ(parse_command("SHOW POOLS; SHOW STATS;"), std::nullopt);
    EXPECT_EQ(parse_command("SET a = 'b' c"), std::nullopt);
}

// Unterminated quotes are refused, for identifiers and for SET values.
TEST(AdminCommand, UnterminatedQuotesFail) {
    EXPECT_EQ(parse_command("RESUME \"my-db"), std::nullopt);
    EXPECT_EQ(parse_command("RESUME \"a\"\""), std::nullopt);
    EXPECT_EQ(parse_command("SET a = 'b"), std::nullopt);
    EXPECT_EQ(parse_command("SET a = 'it''"), std::nullopt);
}

// Empty input, a lone `;`, and whitespace-only input have no verb.
TEST(AdminCommand, EmptyAndOnlySemicolonFail) {
    EXPECT_EQ(parse_command(""), std::nullopt);
    EXPECT_EQ(parse_command(";"), std::nullopt);
    EXPECT_EQ(parse_command("   "), std::nullopt);
    EXPECT_EQ(parse_command(" ; "), std::nullopt);
}

// Stray characters anywhere in the general form are refused.
TEST(AdminCommand, StrayCharactersFail) {
    EXPECT_EQ(parse_command("SHOW pools!"), std::nullopt);
    EXPECT_EQ(parse_command("PAUSE my-db"), std::nullopt);  // must be quoted
    EXPECT_EQ(parse_command("SHOW\"pools\""), std::nullopt);
    EXPECT_EQ(parse_command("SHOW pools\"x\""), std::nullopt);
    EXPECT_EQ(parse_command("RESUME \"\""), std::nullopt);  // zero-length identifier
    EXPECT_EQ(parse_command("-- SHOW POOLS"), std::nullopt);
}

// SET must have a key, a separator and a value; TO must be a separate word.
TEST(AdminCommand, MalformedSetFails) {
    EXPECT_EQ(parse_command("SET"), std::nullopt);
    EXPECT_EQ(parse_command("SET a"), std::nullopt);
    EXPECT_EQ(parse_command("SET a ="), std::nullopt);
    EXPECT_EQ(parse_command("SET a = ;"), std::nullopt);
    EXPECT_EQ(parse_command("SET = 1"), std::nullopt);
    EXPECT_EQ(parse_command("SET aTO 1"), std::nullopt);
    EXPECT_EQ(parse_command("SET a TO1"), std::nullopt);
    EXPECT_EQ(parse_command("SET a INTO 1"), std::nullopt);
    EXPECT_EQ(parse_command("SET \"a\" = 1"), std::nullopt);
    EXPECT_EQ(parse_command("SET a == 1"), std::nullopt);
}

}  // namespace
}  // namespace sabakan::admin

// [databases], [users] and [peers]: connection-string syntax (quotes, '' escapes, blanks),
// every key and its checks, quoted names, the "*" fallback and the lookups.
#include "test_helpers.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace sabakan::config {
namespace {

using namespace std::chrono_literals;
using test::errors_of;
using test::only_error;

config with(const std::string& sections) {
    return parse("[pgbouncer]\n" + sections, "t.ini");
}

database_entry one_db(const std::string& line) {
    const config cfg = with("[databases]\n" + line + "\n");
    EXPECT_EQ(cfg.databases.size(), 1U);
    return cfg.databases.empty() ? database_entry{} : cfg.databases[0];
}

// Every [databases] key is read into its field.
TEST(Databases, AllKeys) {
    const database_entry db = one_db(
        "app = dbname=real host=/var/run/postgresql port=6543 user=u password=p "
        "auth_query='SELECT 1' auth_dbname=authdb pool_size=5 min_pool_size=1 "
        "reserve_pool_size=2 pool_mode=statement "
        "query_wait_timeout=2.5 load_balance_hosts=disable max_db_connections=40 "
        "max_db_client_connections=400 server_lifetime=60 client_encoding=UTF8 "
        "datestyle=ISO timezone=UTC application_name=web");
    EXPECT_EQ(db.name, "app");
    EXPECT_EQ(db.dbname, "real");
    EXPECT_EQ(db.host, "/var/run/postgresql");
    EXPECT_EQ(db.port, 6543);
    EXPECT_EQ(db.user, "u");
    EXPECT_EQ(db.password, "p");
    EXPECT_EQ(db.auth_query, "SELECT 1");
    EXPECT_EQ(db.auth_dbname, "authdb");
    EXPECT_EQ(db.pool_size, 5);
    EXPECT_EQ(db.min_pool_size, 1);
    EXPECT_EQ(db.reserve_pool_size, 2);
    EXPECT_EQ(db.mode, pool_mode::statement);
    EXPECT_EQ(db.query_wait_timeout, duration(2500ms));
    EXPECT_EQ(db.load_balance_hosts, "disable");
    EXPECT_EQ(db.max_db_connections, 40);
    EXPECT_EQ(db.max_db_client_connections, 400);
    EXPECT_EQ(db.server_lifetime, duration(60s));
    EXPECT_EQ(db.client_encoding, "UTF8");
    EXPECT_EQ(db.datestyle, "ISO");
    EXPECT_EQ(db.timezone, "UTC");
    EXPECT_EQ(db.application_name, "web");
    EXPECT_EQ(db.file, "t.ini");
    EXPECT_EQ(db.line, 3);
}

// An empty connection string is valid and leaves every field at its default.
TEST(Databases, EmptyConnectionString) {
    const database_entry db = one_db("foodb =");
    EXPECT_EQ(db.name, "foodb");
    EXPECT_EQ(db.host, "");
    EXPECT_EQ(db.port, 5432);
    EXPECT_EQ(db.dbname, "");
    EXPECT_EQ(db.pool_size, -1);
    EXPECT_FALSE(db.mode.has_value());
    EXPECT_FALSE(db.query_wait_timeout.has_value());
    EXPECT_FALSE(db.server_lifetime.has_value());
}

// Single-quoted values keep blanks and '=' and turn '' into one quote; blanks around '=' are ok.
TEST(Databases, QuotedValues) {
    const database_entry db = one_db(
        "q = password='it''s a secret' auth_query='SELECT ''a b'' = ''c''' "
        "application_name = 'x'   dbname='has=equals'");
    EXPECT_EQ(db.password, "it's a secret");
    EXPECT_EQ(db.auth_query, "SELECT 'a b' = 'c'");
    EXPECT_EQ(db.application_name, "x");
    EXPECT_EQ(db.dbname, "has=equals");
    EXPECT_EQ(one_db("q = password=''''").password, "'");
}

// reserve_pool is PgBouncer's older name for reserve_pool_size.
TEST(Databases, ReservePoolAlias) {
    EXPECT_EQ(one_db("a = reserve_pool=3").reserve_pool_size, 3);
}

// -1 means "not set" for numbers and times; server_lifetime=0 also means "use the global".
TEST(Databases, NotSetValues) {
    const database_entry db = one_db("a = pool_size=-1 query_wait_timeout=-1 server_lifetime=0");
    EXPECT_EQ(db.pool_size, -1);
    EXPECT_FALSE(db.query_wait_timeout.has_value());
    EXPECT_FALSE(db.server_lifetime.has_value());
    EXPECT_EQ(one_db("a = query_wait_timeout=0").query_wait_timeout, duration(0s));
}

// Numbers in connection strings are decimal, as PgBouncer's atoi reads them.
TEST(Databases, NumbersAreDecimal) {
    EXPECT_EQ(one_db("a = port=05432").port, 5432);
}

// pool_mode and load_balance_hosts take their names in any case.
TEST(Databases, EnumsAnyCase) {
    const database_entry db = one_db("a = pool_mode=Transaction load_balance_hosts=Round-Robin");
    EXPECT_EQ(db.mode, pool_mode::transaction);
    EXPECT_EQ(db.load_balance_hosts, "round-robin");
}

// Names: "*" and quoted names with spaces, '=' and "" escapes; later definitions win in place.
TEST(Databases, NamesAndOrder) {
    const config cfg = with(
        "[databases]\n"
        "* = host=fallback\n"
        "\"my db\" = dbname=x\n"
        "\"say \"\"hi\"\"\" = dbname=y\n"
        "\"a=b\"=dbname=z\n"
        "first.db-1 = host=one\n"
        "first.db-1 = host=two\n");
    ASSERT_EQ(cfg.databases.size(), 5U);
    EXPECT_EQ(cfg.databases[0].name, "*");
    EXPECT_EQ(cfg.databases[1].name, "my db");
    EXPECT_EQ(cfg.databases[2].name, "say \"hi\"");
    EXPECT_EQ(cfg.databases[3].name, "a=b");
    EXPECT_EQ(cfg.databases[3].dbname, "z");
    EXPECT_EQ(cfg.databases[4].name, "first.db-1");
    EXPECT_EQ(cfg.databases[4].host, "two");
    EXPECT_EQ(cfg.databases[4].line, 8);
}

// find_database: exact (case-sensitive) name first, then "*", else nullptr.
TEST(Databases, FindDatabaseFallback) {
    const config with_star = with(
        "[databases]\n"
        "app = host=a\n"
        "* = host=fallback\n");
    ASSERT_NE(with_star.find_database("app"), nullptr);
    EXPECT_EQ(with_star.find_database("app")->host, "a");
    ASSERT_NE(with_star.find_database("other"), nullptr);
    EXPECT_EQ(with_star.find_database("other")->name, "*");
    EXPECT_EQ(with_star.find_database("APP")->name, "*");

    const config without = with("[databases]\napp = host=a\n");
    EXPECT_NE(without.find_database("app"), nullptr);
    EXPECT_EQ(without.find_database("App"), nullptr);
    EXPECT_EQ(without.find_database("other"), nullptr);
}

// An unknown key names the entry and the key, and suggests the near miss.
TEST(Databases, UnknownKey) {
    EXPECT_EQ(only_error("[pgbouncer]\n[databases]\napp = hots=x\n"),
              "test.ini:3: app: unknown parameter 'hots'; did you mean 'host'?");
    EXPECT_EQ(only_error("[pgbouncer]\n[databases]\napp = Host=x\n"),
              "test.ini:3: app: unknown parameter 'Host'; names are case-sensitive, write 'host'");
    const std::string e = only_error("[pgbouncer]\n[databases]\napp = sslmode=require\n");
    EXPECT_NE(e.find("unknown parameter 'sslmode'; [databases] entries take dbname, host"),
              std::string::npos)
        << e;
}

// Bad values: each problem on the line is its own diagnostic, naming the parameter.
TEST(Databases, BadValues) {
    const auto d = errors_of(
        "[pgbouncer]\n[databases]\napp = port=99999 pool_mode=tx pool_size=big "
        "query_wait_timeout=5m load_balance_hosts=random\n");
    ASSERT_EQ(d.size(), 5U);
    for (const diagnostic& x : d) {
        EXPECT_EQ(x.line, 3);
        EXPECT_EQ(x.key, "app");
    }
    EXPECT_EQ(d[0].message, "port must be a whole number from 1 to 65535, got '99999'");
    EXPECT_EQ(d[1].message, "pool_mode must be session, transaction or statement, got 'tx'");
    EXPECT_EQ(d[2].message, "pool_size must be a whole number, 0 or more (-1: not set), got 'big'");
    EXPECT_NE(d[3].message.find("query_wait_timeout must be seconds"), std::string::npos);
    EXPECT_EQ(d[4].message, "load_balance_hosts must be round-robin or disable, got 'random'");
    EXPECT_EQ(errors_of("[pgbouncer]\n[databases]\na = port=0\n").size(), 1U);
    EXPECT_EQ(errors_of("[pgbouncer]\n[databases]\na = port=5432x\n").size(), 1U);
}

// Connection-string syntax errors: missing '=', unclosed quote, junk after a quote, empty value.
TEST(Databases, SyntaxErrors) {
    EXPECT_EQ(only_error("[pgbouncer]\n[databases]\napp = host\n"),
              "test.ini:3: app: expected key=value, found 'host' with no '=' after it");
    EXPECT_EQ(only_error("[pgbouncer]\n[databases]\napp = password='abc\n"),
              "test.ini:3: app: the value of password has no closing quote (write a quote "
              "inside a value as '')");
    EXPECT_EQ(only_error("[pgbouncer]\n[databases]\napp = password='a'b\n"),
              "test.ini:3: app: expected a blank after the closing quote of password's value");
    EXPECT_EQ(only_error("[pgbouncer]\n[databases]\napp = password=\n"),
              "test.ini:3: app: password has an empty value; give a value or leave password out");
    EXPECT_EQ(only_error("[pgbouncer]\n[databases]\napp = password=''\n"),
              "test.ini:3: app: password has an empty value; give a value or leave password out");
    EXPECT_EQ(only_error("[pgbouncer]\n[databases]\napp = =x\n"),
              "test.ini:3: app: expected key=value, found '=' with no key before it");
}

// "pgbouncer" is the admin console's name and cannot be defined, as in PgBouncer.
TEST(Databases, ReservedName) {
    const auto d = errors_of("[pgbouncer]\n[databases]\npgbouncer = host=x\n");
    ASSERT_EQ(d.size(), 1U);
    EXPECT_EQ(d[0].key, "pgbouncer");
    EXPECT_NE(d[0].message.find("reserved for the admin console"), std::string::npos);
}

// Names with characters outside [A-Za-z0-9_.-*] need double quotes; the error says how.
TEST(Databases, UnquotedNameWithSpace) {
    EXPECT_EQ(only_error("[pgbouncer]\n[databases]\nmy db = host=x\n"),
              "test.ini:3: my db: 'd' cannot appear in an unquoted name; a name with characters "
              "other than letters, digits, _ . - * must be in double quotes, like \"my db\" = "
              "host=...");
    EXPECT_EQ(errors_of("[pgbouncer]\n[databases]\n\"open = host=x\n").size(), 1U);
}

// [users]: every key, -1 as "not set", case-sensitive lookup.
TEST(Users, AllKeys) {
    const config cfg = with(
        "[users]\n"
        "alice = pool_mode=session pool_size=3 reserve_pool_size=1 max_user_connections=7 "
        "max_user_client_connections=70 query_timeout=30 query_wait_timeout=-1 "
        "idle_transaction_timeout=1.5 transaction_timeout=600 client_idle_timeout=0\n"
        "\"bob smith\" = pool_size=1\n");
    ASSERT_EQ(cfg.users.size(), 2U);
    const user_entry* a = cfg.find_user("alice");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->mode, pool_mode::session);
    EXPECT_EQ(a->pool_size, 3);
    EXPECT_EQ(a->reserve_pool_size, 1);
    EXPECT_EQ(a->max_user_connections, 7);
    EXPECT_EQ(a->max_user_client_connections, 70);
    EXPECT_EQ(a->query_timeout, duration(30s));
    EXPECT_FALSE(a->query_wait_timeout.has_value());
    EXPECT_EQ(a->idle_transaction_timeout, duration(1500ms));
    EXPECT_EQ(a->transaction_timeout, duration(600s));
    EXPECT_FALSE(a->client_idle_timeout.has_value());  // 0: use the global, as PgBouncer does
    EXPECT_EQ(a->file, "t.ini");
    EXPECT_EQ(a->line, 3);
    ASSERT_NE(cfg.find_user("bob smith"), nullptr);
    EXPECT_EQ(cfg.find_user("Alice"), nullptr);
    EXPECT_EQ(cfg.find_user("carol"), nullptr);
}

// [users] rejects database-only keys and bad values, naming the user.
TEST(Users, Errors) {
    EXPECT_EQ(only_error("[pgbouncer]\n[users]\nalice = host=x\n"),
              "test.ini:3: alice: unknown parameter 'host'; [users] entries take pool_mode, "
              "pool_size, reserve_pool_size, max_user_connections, max_user_client_connections, "
              "query_timeout, query_wait_timeout, idle_transaction_timeout, transaction_timeout "
              "or client_idle_timeout");
    EXPECT_EQ(only_error("[pgbouncer]\n[users]\nalice = pool_mode=never\n"),
              "test.ini:3: alice: pool_mode must be session, transaction or statement, got "
              "'never'");
}

// [peers]: numeric ids, host required, port and pool_size checked; an entry that reads well
// is then refused, as peering is not supported yet.
TEST(Peers, Entries) {
    EXPECT_EQ(
        only_error("[pgbouncer]\n[peers]\n2 = host=/tmp/pgbouncer-2  port=5555 pool_size=8\n"),
        "test.ini:3: 2: peering ([peers] and peer_id) is not supported yet, so cancel "
        "requests could not reach other processes; remove the [peers] entries");
    EXPECT_TRUE(errors_of("[pgbouncer]\n[peers]\n").empty());
    EXPECT_EQ(only_error("[pgbouncer]\n[peers]\nfirst = host=x\n"),
              "test.ini:3: first: a [peers] key is a peer_id, a whole number from 1 to 65535");
    EXPECT_EQ(errors_of("[pgbouncer]\n[peers]\n0 = host=x\n").size(), 1U);
    EXPECT_EQ(only_error("[pgbouncer]\n[peers]\n3 = port=6432\n"),
              "test.ini:3: 3: host is missing; a peer needs host=<name, address or /socket/dir>");
    EXPECT_EQ(errors_of("[pgbouncer]\n[peers]\n3 = host=x dbname=y\n").size(), 1U);
}

}  // namespace
}  // namespace sabakan::config

// SHOW CONFIG rows and admin SET: the rows follow setting_list(), each value and default is
// printed as PgBouncer prints it (checked against PgBouncer 1.18 with psql), and SET applies
// only reloadable keys, with the config file's validation.
#include "test_helpers.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace sabakan::config {
namespace {

settings with(const std::string& lines) {
    return parse("[pgbouncer]\n" + lines + "\n", "t.ini").bouncer;
}

// One row the way `psql -A -P null='<NULL>'` prints PgBouncer's: key|value|default|changeable.
std::string row(const settings& s, std::string_view key) {
    for (const config_row& r : show_config(s)) {
        if (r.key == key) {
            return r.key + "|" + r.value.value_or("<NULL>") + "|" +
                   r.default_value.value_or("<NULL>") + "|" + (r.changeable ? "yes" : "no");
        }
    }
    return "no row for " + std::string(key);
}

// One row per setting_list() key, same order, changeable exactly when reloadable.
TEST(ShowConfig, RowsFollowSettingList) {
    const auto rows = show_config(settings{});
    const auto keys = setting_list();
    ASSERT_EQ(rows.size(), 103U);  // PgBouncer's 100 and sabakan's own three
    ASSERT_EQ(rows.size(), keys.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        EXPECT_EQ(rows[i].key, keys[i].name);
        EXPECT_EQ(rows[i].changeable, keys[i].reloadable) << keys[i].name;
    }
}

// A file that sets nothing: every value equals its default column, with PgBouncer's quirks.
TEST(ShowConfig, Defaults) {
    const settings s = with("");
    EXPECT_EQ(row(s, "admin_users"), "admin_users|||yes");
    EXPECT_EQ(row(s, "auth_file"), "auth_file|<NULL>|<NULL>|yes");
    EXPECT_EQ(row(s, "auth_user"), "auth_user|<NULL>|<NULL>|yes");
    EXPECT_EQ(row(s, "user"), "user|<NULL>|<NULL>|no");
    EXPECT_EQ(row(s, "auth_hba_file"), "auth_hba_file|||yes");
    EXPECT_EQ(row(s, "auth_type"), "auth_type|md5|md5|yes");
    EXPECT_EQ(row(s, "autodb_idle_timeout"), "autodb_idle_timeout|3600|3600|yes");
    EXPECT_EQ(row(s, "client_idle_timeout"), "client_idle_timeout|0|0|yes");
    EXPECT_EQ(row(s, "conffile"), "conffile|t.ini|<NULL>|yes");
    EXPECT_EQ(row(s, "disable_pqexec"), "disable_pqexec|0|0|no");
    EXPECT_EQ(row(s, "log_connections"), "log_connections|1|1|yes");
    EXPECT_EQ(row(s, "listen_addr"), "listen_addr|||no");
    EXPECT_EQ(row(s, "listen_port"), "listen_port|6432|6432|no");
    EXPECT_EQ(row(s, "metrics_listen"), "metrics_listen|||no");
    EXPECT_EQ(row(s, "max_packet_size"), "max_packet_size|2147483647|2147483647|yes");
    EXPECT_EQ(row(s, "pool_mode"), "pool_mode|session|session|yes");
    EXPECT_EQ(row(s, "server_check_query"), "server_check_query|<empty>|<empty>|yes");
    EXPECT_EQ(row(s, "server_reset_query"), "server_reset_query|DISCARD ALL|DISCARD ALL|yes");
    EXPECT_EQ(row(s, "server_tls_sslmode"), "server_tls_sslmode|prefer|prefer|yes");
    EXPECT_EQ(row(s, "track_extra_parameters"),
              "track_extra_parameters|IntervalStyle|IntervalStyle|no");
    EXPECT_EQ(row(s, "unix_socket_mode"), "unix_socket_mode|511|0777|no");
    EXPECT_EQ(row(s, "verbose"), "verbose|0|<NULL>|yes");
}

// Times print as seconds in C's %g: six significant digits, exponent for large and tiny values.
TEST(ShowConfig, Times) {
    const settings s = with(
        "query_timeout = 0.5\n"
        "query_wait_timeout = 2.5\n"
        "server_lifetime = 7200\n"
        "server_idle_timeout = 1.000001\n"
        "server_check_delay = 1e2\n"
        "client_login_timeout = 100000\n"
        "server_connect_timeout = 999999\n"
        "dns_max_ttl = 1000000\n"
        "idle_transaction_timeout = 1234567\n"
        "server_login_retry = 1e7\n"
        "cancel_wait_timeout = 0.000001\n"
        "transaction_timeout = 123.456789\n"
        "client_idle_timeout = 3600.5");
    EXPECT_EQ(row(s, "query_timeout"), "query_timeout|0.5|0|yes");
    EXPECT_EQ(row(s, "query_wait_timeout"), "query_wait_timeout|2.5|120|yes");
    EXPECT_EQ(row(s, "server_lifetime"), "server_lifetime|7200|3600|yes");
    EXPECT_EQ(row(s, "server_idle_timeout"), "server_idle_timeout|1|600|yes");
    EXPECT_EQ(row(s, "server_check_delay"), "server_check_delay|100|30|yes");
    EXPECT_EQ(row(s, "client_login_timeout"), "client_login_timeout|100000|60|yes");
    EXPECT_EQ(row(s, "server_connect_timeout"), "server_connect_timeout|999999|15|yes");
    EXPECT_EQ(row(s, "dns_max_ttl"), "dns_max_ttl|1e+06|15|yes");
    EXPECT_EQ(row(s, "idle_transaction_timeout"), "idle_transaction_timeout|1.23457e+06|0|yes");
    EXPECT_EQ(row(s, "server_login_retry"), "server_login_retry|1e+07|15|yes");
    EXPECT_EQ(row(s, "cancel_wait_timeout"), "cancel_wait_timeout|1e-06|10|yes");
    EXPECT_EQ(row(s, "transaction_timeout"), "transaction_timeout|123.457|0|yes");
    EXPECT_EQ(row(s, "client_idle_timeout"), "client_idle_timeout|3600.5|0|yes");
}

// Numbers print in decimal whatever base they were written in; flags as 0/1.
TEST(ShowConfig, NumbersAndFlags) {
    const settings s = with(
        "max_client_conn = 0x10\n"
        "default_pool_size = 010\n"
        "unix_socket_mode = 0700\n"
        "verbose = 2\n"
        "log_connections = off\n"
        "so_reuseport = yes");
    EXPECT_EQ(row(s, "max_client_conn"), "max_client_conn|16|100|yes");
    EXPECT_EQ(row(s, "default_pool_size"), "default_pool_size|8|20|yes");
    EXPECT_EQ(row(s, "unix_socket_mode"), "unix_socket_mode|448|0777|no");
    EXPECT_EQ(row(s, "verbose"), "verbose|2|<NULL>|yes");
    EXPECT_EQ(row(s, "log_connections"), "log_connections|0|1|yes");
    EXPECT_EQ(row(s, "so_reuseport"), "so_reuseport|1|0|no");
}

// Enums print their canonical lower-case name, whatever case the file used.
TEST(ShowConfig, Names) {
    const settings s = with(
        "pool_mode = Statement\n"
        "auth_type = SCRAM-SHA-256\n"
        "server_tls_sslmode = Disable");
    EXPECT_EQ(row(s, "pool_mode"), "pool_mode|statement|session|yes");
    EXPECT_EQ(row(s, "auth_type"), "auth_type|scram-sha-256|md5|yes");
    EXPECT_EQ(row(s, "server_tls_sslmode"), "server_tls_sslmode|disable|prefer|yes");
}

// Lists print exactly as written, blanks and empty items included; strings as stored, and an
// unset-by-default string is NULL only while empty.
TEST(ShowConfig, ListsAndStrings) {
    const settings s = with(
        "admin_users = a, b,c\n"
        "listen_addr = 127.0.0.1,  ::1 ,*\n"
        "stats_users = ,stats,\n"
        "ignore_startup_parameters = extra_float_digits, options\n"
        "track_extra_parameters =\n"
        "server_check_query =\n"
        "auth_dbname = authdb\n"
        "logfile = /var/log/postgresql/pgbouncer.log");
    EXPECT_EQ(row(s, "admin_users"), "admin_users|a, b,c||yes");
    EXPECT_EQ(row(s, "listen_addr"), "listen_addr|127.0.0.1,  ::1 ,*||no");
    EXPECT_EQ(row(s, "stats_users"), "stats_users|,stats,||yes");
    EXPECT_EQ(row(s, "ignore_startup_parameters"),
              "ignore_startup_parameters|extra_float_digits, options||yes");
    EXPECT_EQ(row(s, "track_extra_parameters"), "track_extra_parameters||IntervalStyle|no");
    EXPECT_EQ(row(s, "server_check_query"), "server_check_query||<empty>|yes");
    EXPECT_EQ(row(s, "auth_dbname"), "auth_dbname|authdb|<NULL>|yes");
    EXPECT_EQ(row(s, "auth_file"), "auth_file|<NULL>|<NULL>|yes");
    EXPECT_EQ(row(s, "logfile"), "logfile|/var/log/postgresql/pgbouncer.log||yes");
}

// A list changed in code (not through the file or SET) prints its items joined by ", ".
TEST(ShowConfig, ListChangedInCode) {
    settings s = with("admin_users = a,b");
    s.admin_users.push_back("c");
    EXPECT_EQ(row(s, "admin_users"), "admin_users|a, b, c||yes");
}

// RELOAD's keep_startup_settings keeps a startup-only list's text together with its items.
TEST(ShowConfig, ReloadKeepsListText) {
    const settings running = with("listen_addr = 127.0.0.1");
    settings fresh = with("listen_addr = 127.0.0.1 , ::1");
    EXPECT_EQ(keep_startup_settings(fresh, running), std::vector<std::string_view>{"listen_addr"});
    EXPECT_EQ(row(fresh, "listen_addr"), "listen_addr|127.0.0.1||no");
    settings spaced = with("listen_addr = 127.0.0.1 ,::1");
    const settings was = with("listen_addr = 127.0.0.1, ::1");
    EXPECT_TRUE(keep_startup_settings(spaced, was).empty());
    EXPECT_EQ(row(spaced, "listen_addr"), "listen_addr|127.0.0.1, ::1||no");
}

// SET on a reloadable key reads the value as the file would and shows it as PgBouncer would.
TEST(SetSetting, AppliesReloadableKeys) {
    settings s = with("");
    EXPECT_EQ(set_setting(s, "default_pool_size", "30"), "");
    EXPECT_EQ(set_setting(s, "query_timeout", "2.5"), "");
    EXPECT_EQ(set_setting(s, "pool_mode", "TRANSACTION"), "");
    EXPECT_EQ(set_setting(s, "admin_users", "x,  y"), "");
    EXPECT_EQ(set_setting(s, "auth_file", "/etc/pgbouncer/userlist.txt"), "");
    EXPECT_EQ(s.default_pool_size, 30);
    EXPECT_EQ(s.mode, pool_mode::transaction);
    EXPECT_EQ(s.admin_users, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(row(s, "default_pool_size"), "default_pool_size|30|20|yes");
    EXPECT_EQ(row(s, "query_timeout"), "query_timeout|2.5|0|yes");
    EXPECT_EQ(row(s, "pool_mode"), "pool_mode|transaction|session|yes");
    EXPECT_EQ(row(s, "admin_users"), "admin_users|x,  y||yes");
    EXPECT_EQ(row(s, "auth_file"), "auth_file|/etc/pgbouncer/userlist.txt|<NULL>|yes");
}

// An unknown key is refused with the file's message (a near miss gets a suggestion).
TEST(SetSetting, UnknownKey) {
    settings s = with("");
    const settings before = s;
    EXPECT_EQ(set_setting(s, "default_pool_sise", "5"),
              "default_pool_sise: unknown setting; did you mean 'default_pool_size'?");
    EXPECT_EQ(set_setting(s, "Default_Pool_Size", "5"),
              "Default_Pool_Size: unknown setting; names are case-sensitive, write "
              "'default_pool_size'");
    EXPECT_EQ(set_setting(s, "no_such_key", "1"),
              "no_such_key: unknown setting; check the spelling against PgBouncer's list of "
              "[pgbouncer] settings, all of which sabakan accepts");
    EXPECT_TRUE(s == before);
}

// A bad value is refused with the file's message and leaves the settings as they were.
TEST(SetSetting, BadValue) {
    settings s = with("");
    const settings before = s;
    EXPECT_EQ(set_setting(s, "default_pool_size", "abc"),
              "default_pool_size: expected a whole number, 0 or more, got 'abc'");
    EXPECT_EQ(set_setting(s, "default_pool_size", ""),
              "default_pool_size: expected a whole number, 0 or more, got ''");
    EXPECT_EQ(set_setting(s, "query_timeout", "10s"),
              "query_timeout: expected seconds as a plain number such as 30 or 0.5 (no unit), "
              "got '10s'");
    EXPECT_EQ(set_setting(s, "pool_mode", "tx"),
              "pool_mode: expected session, transaction or statement, got 'tx'");
    EXPECT_EQ(set_setting(s, "log_stats", "maybe"),
              "log_stats: expected 1 or 0 (also yes/no, on/off, true/false), got 'maybe'");
    EXPECT_TRUE(s == before);
}

// A startup-only key is refused, even with a valid value, with a message naming the restart.
TEST(SetSetting, StartupOnlyKey) {
    settings s = with("");
    const settings before = s;
    EXPECT_EQ(set_setting(s, "listen_port", "6433"),
              "listen_port: needs a restart to change; SET and RELOAD keep the running value, so "
              "put the new value in the config file and restart sabakan");
    EXPECT_NE(set_setting(s, "listen_addr", "*"), "");
    EXPECT_NE(set_setting(s, "unix_socket_mode", "0700"), "");
    EXPECT_TRUE(s == before);
}

}  // namespace
}  // namespace sabakan::config

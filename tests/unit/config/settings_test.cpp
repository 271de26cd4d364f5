// The [pgbouncer] section: every value type's accepted and rejected spellings, unknown keys,
// case rules, and the key table itself (100 keys, SHOW CONFIG order, reload flags).
#include "test_helpers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>

namespace sabakan::config {
namespace {

using namespace std::chrono_literals;
using test::errors_of;
using test::only_error;

settings with(const std::string& lines) {
    return parse("[pgbouncer]\n" + lines + "\n", "t.ini").bouncer;
}

// On reload, keys that need a restart keep their running value and are named; the others
// take the new value.
TEST(Settings, ReloadKeepsStartupOnlyKeys) {
    const settings running = with("listen_port = 6432\npkt_buf = 4096\ndefault_pool_size = 20");
    settings fresh = with("listen_port = 7000\npkt_buf = 8192\ndefault_pool_size = 30");
    const auto kept = keep_startup_settings(fresh, running);
    EXPECT_EQ(kept, (std::vector<std::string_view>{"listen_port", "pkt_buf"}));
    EXPECT_EQ(fresh.listen_port, 6432);
    EXPECT_EQ(fresh.pkt_buf, 4096);
    EXPECT_EQ(fresh.default_pool_size, 30);
    settings same = running;
    EXPECT_TRUE(keep_startup_settings(same, running).empty());
}

// The table has PgBouncer 1.25's 100 keys and sabakan's own `workers`, `metrics_listen` and
// `max_client_prepared_statements`, alphabetical, with the startup-only keys marked.
TEST(Settings, KeyTable) {
    const auto keys = setting_list();
    EXPECT_EQ(keys.size(), 103U);
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end(),
                               [](const auto& a, const auto& b) { return a.name < b.name; }));
    std::set<std::string_view> fixed;
    for (const setting_info& k : keys) {
        if (!k.reloadable) {
            fixed.insert(k.name);
        }
    }
    const std::set<std::string_view> expected = {"disable_pqexec",
                                                 "job_name",
                                                 "listen_addr",
                                                 "listen_backlog",
                                                 "listen_port",
                                                 "metrics_listen",
                                                 "pidfile",
                                                 "pkt_buf",
                                                 "resolv_conf",
                                                 "so_reuseport",
                                                 "track_extra_parameters",
                                                 "unix_socket_dir",
                                                 "unix_socket_group",
                                                 "unix_socket_mode",
                                                 "user",
                                                 "workers"};
    EXPECT_EQ(fixed, expected);
}

// Every key in the table is accepted in a file (with a value valid for any of the types, and
// "off" for the keys whose other values are refused).
TEST(Settings, EveryKeyAccepted) {
    const auto refusable = refusable_settings();
    for (const setting_info& k : setting_list()) {
        std::string value = "1";
        if (std::find(refusable.begin(), refusable.end(), k.name) != refusable.end()) {
            value = "0";
        }
        if (k.name == "pool_mode") {
            value = "session";
        } else if (k.name == "auth_type") {
            value = "trust";
        } else if (k.name.ends_with("_sslmode")) {
            value = "disable";
        } else if (k.name == "auth_user" || k.name == "login_notify_message" ||
                   k.name == "resolv_conf" || k.name == "unix_socket_group") {
            value = "";
        } else if (k.name == "metrics_listen") {
            value = "127.0.0.1:9127";
        } else if (k.name == "syslog_facility") {
            value = "local0";
        }
        EXPECT_TRUE(errors_of("[pgbouncer]\n" + std::string(k.name) + " = " + value + "\n").empty())
            << k.name;
    }
}

// Integers: decimal, PgBouncer's C prefixes (0x hex, leading-0 octal), signs and blanks.
TEST(Settings, IntegerGood) {
    EXPECT_EQ(with("max_client_conn = 5000").max_client_conn, 5000);
    EXPECT_EQ(with("max_client_conn=0x10").max_client_conn, 16);
    EXPECT_EQ(with("max_client_conn = 010").max_client_conn, 8);
    EXPECT_EQ(with("max_client_conn = +7").max_client_conn, 7);
    EXPECT_EQ(with("  default_pool_size\t=\t 25  ").default_pool_size, 25);
    EXPECT_EQ(with("listen_port = 65535").listen_port, 65535);
    EXPECT_EQ(with("max_packet_size = 2147483647").max_packet_size, 2147483647);
}

// Integers: words, units, fractions, trailing junk, out-of-range and negative counts fail.
TEST(Settings, IntegerBad) {
    EXPECT_EQ(only_error("[pgbouncer]\nlisten_port = http\n"),
              "test.ini:2: listen_port: expected a whole number from 1 to 65535, got 'http'");
    EXPECT_EQ(only_error("[pgbouncer]\nlisten_port = 0\n"),
              "test.ini:2: listen_port: expected a whole number from 1 to 65535, got '0'");
    EXPECT_EQ(only_error("[pgbouncer]\nlisten_port = 65536\n"),
              "test.ini:2: listen_port: expected a whole number from 1 to 65535, got '65536'");
    // Zero SCRAM iterations would make every SCRAM login fail an internal check.
    EXPECT_EQ(only_error("[pgbouncer]\nscram_iterations = 0\n"),
              "test.ini:2: scram_iterations: expected a whole number, 1 or more, got '0'");
    EXPECT_EQ(only_error("[pgbouncer]\nmax_client_conn = -1\n"),
              "test.ini:2: max_client_conn: expected a whole number, 0 or more, got '-1'");
    for (const char* bad : {"", "20 conns", "2.5", "1e3", "08", "0x", "99999999999", "--1"}) {
        EXPECT_EQ(errors_of(std::string("[pgbouncer]\ndefault_pool_size = ") + bad + "\n").size(),
                  1U)
            << bad;
    }
    EXPECT_EQ(errors_of("[pgbouncer]\npeer_id = 16384\n").size(), 1U);
}

// unix_socket_mode is octal with or without the leading 0, and at most 07777.
TEST(Settings, FileMode) {
    EXPECT_EQ(with("unix_socket_mode = 0777").unix_socket_mode, 0777);
    EXPECT_EQ(with("unix_socket_mode = 0700").unix_socket_mode, 0700);
    EXPECT_EQ(with("unix_socket_mode = 660").unix_socket_mode, 0660);
    EXPECT_EQ(only_error("[pgbouncer]\nunix_socket_mode = 0778\n"),
              "test.ini:2: unix_socket_mode: expected an octal file mode such as 0777 or 0700, "
              "got '0778'");
    EXPECT_EQ(errors_of("[pgbouncer]\nunix_socket_mode = 010000\n").size(), 1U);
    EXPECT_EQ(errors_of("[pgbouncer]\nunix_socket_mode = rwx\n").size(), 1U);
}

// Booleans: 0/1 (PgBouncer stores them as ints, so any integer works) and words in any case.
TEST(Settings, BoolGood) {
    for (const char* on : {"1", "yes", "YES", "on", "On", "true", "TRUE", "2", "-1"}) {
        EXPECT_TRUE(with(std::string("so_reuseport = ") + on).so_reuseport) << on;
    }
    for (const char* off : {"0", "no", "No", "off", "OFF", "false", "False", "00"}) {
        EXPECT_FALSE(with(std::string("log_connections = ") + off).log_connections) << off;
    }
}

// Booleans: anything else is an error that lists the spellings allowed.
TEST(Settings, BoolBad) {
    EXPECT_EQ(only_error("[pgbouncer]\nlog_stats = maybe\n"),
              "test.ini:2: log_stats: expected 1 or 0 (also yes/no, on/off, true/false), got "
              "'maybe'");
    EXPECT_EQ(errors_of("[pgbouncer]\nsyslog = \n").size(), 1U);
    EXPECT_EQ(errors_of("[pgbouncer]\nsyslog = y\n").size(), 1U);
}

// metrics_listen is host:port (or empty, the default: off); anything else names the line.
TEST(Settings, MetricsListen) {
    EXPECT_EQ(with("metrics_listen = 127.0.0.1:9127").metrics_listen, "127.0.0.1:9127");
    EXPECT_EQ(with("metrics_listen = [::1]:9127").metrics_listen, "[::1]:9127");
    EXPECT_EQ(with("metrics_listen =").metrics_listen, "");
    EXPECT_EQ(only_error("[pgbouncer]\nmetrics_listen = 9127\n"),
              "test.ini:2: metrics_listen: expected host:port, e.g. 127.0.0.1:9127 or "
              "[::1]:9127 (empty turns it off)");
    for (const char* bad :
         {"localhost", "localhost:", "localhost:0", "localhost:65536", "::1:9127", "host:91x"}) {
        EXPECT_EQ(errors_of(std::string("[pgbouncer]\nmetrics_listen = ") + bad + "\n").size(), 1U)
            << bad;
    }
}

// syslog_facility must be a facility syslog(3) has.
TEST(Settings, SyslogFacility) {
    EXPECT_EQ(with("syslog_facility = local3").syslog_facility, "local3");
    EXPECT_EQ(only_error("[pgbouncer]\nsyslog_facility = kern\n"),
              "test.ini:2: syslog_facility: expected one of auth, authpriv, daemon, user, "
              "local0 .. local7");
}

// Times are seconds, fractions allowed, stored as microseconds.
TEST(Settings, SecondsGood) {
    EXPECT_EQ(with("query_wait_timeout = 30").query_wait_timeout, 30s);
    EXPECT_EQ(with("query_wait_timeout = 0.5").query_wait_timeout, 500ms);
    EXPECT_EQ(with("server_lifetime = 0").server_lifetime, 0s);
    EXPECT_EQ(with("server_idle_timeout = 1.000001").server_idle_timeout, 1000001us);
    EXPECT_EQ(with("server_check_delay = 1e2").server_check_delay, 100s);
    EXPECT_EQ(with("stats_period = .25").stats_period, 250ms);
}

// Times: units, negatives, words and non-finite values fail with a hint that there is no unit.
TEST(Settings, SecondsBad) {
    EXPECT_EQ(only_error("[pgbouncer]\nquery_timeout = 10s\n"),
              "test.ini:2: query_timeout: expected seconds as a plain number such as 30 or 0.5 "
              "(no unit), got '10s'");
    for (const char* bad : {"-1", "1min", "inf", "nan", "", "1,5"}) {
        EXPECT_EQ(errors_of(std::string("[pgbouncer]\nclient_idle_timeout = ") + bad + "\n").size(),
                  1U)
            << bad;
    }
}

// Enums take PgBouncer's names in any case; a bad one lists the allowed names.
TEST(Settings, Enums) {
    EXPECT_EQ(with("pool_mode = Transaction").mode, pool_mode::transaction);
    EXPECT_EQ(with("pool_mode = statement").mode, pool_mode::statement);
    EXPECT_EQ(with("auth_type = SCRAM-SHA-256").auth, auth_type::scram_sha_256);
    EXPECT_EQ(with("auth_type = Trust").auth, auth_type::trust);
    EXPECT_EQ(with("server_tls_sslmode = Disable").server_tls_sslmode, "disable");
    EXPECT_EQ(only_error("[pgbouncer]\npool_mode = tx\n"),
              "test.ini:2: pool_mode: expected session, transaction or statement, got 'tx'");
    EXPECT_EQ(only_error("[pgbouncer]\nauth_type = scram\n"),
              "test.ini:2: auth_type: expected cert, md5, scram-sha-256, plain, trust, any, hba, "
              "ldap or pam, got 'scram'");
    EXPECT_EQ(only_error("[pgbouncer]\nserver_tls_sslmode = on\n"),
              "test.ini:2: server_tls_sslmode: expected disable, allow, prefer, require, "
              "verify-ca or verify-full, got 'on'");
}

// Lists split on commas with blanks trimmed and empty items dropped.
TEST(Settings, Lists) {
    const settings s = with(
        "listen_addr = 127.0.0.1, ::1 ,*\n"
        "admin_users = pgbouncer,admin\n"
        "stats_users = ,stats,\n"
        "ignore_startup_parameters = extra_float_digits, options\n"
        "track_extra_parameters = search_path , IntervalStyle");
    EXPECT_EQ(s.listen_addr, (std::vector<std::string>{"127.0.0.1", "::1", "*"}));
    EXPECT_EQ(s.admin_users, (std::vector<std::string>{"pgbouncer", "admin"}));
    EXPECT_EQ(s.stats_users, std::vector<std::string>{"stats"});
    EXPECT_EQ(s.ignore_startup_parameters,
              (std::vector<std::string>{"extra_float_digits", "options"}));
    EXPECT_EQ(s.track_extra_parameters, (std::vector<std::string>{"search_path", "IntervalStyle"}));
    EXPECT_TRUE(with("track_extra_parameters =").track_extra_parameters.empty());
}

// Strings are kept as written after the '=' (blanks trimmed); ; and # later in a line are data.
TEST(Settings, Strings) {
    const settings s = with(
        "logfile = /var/log/postgresql/pgbouncer.log\n"
        "server_reset_query =   DISCARD ALL; \n"
        "auth_file = /etc/pgbouncer/userlist.txt ; not a comment\n"
        "server_check_query =\n"
        "job_name = hello # world");
    EXPECT_EQ(s.logfile, "/var/log/postgresql/pgbouncer.log");
    EXPECT_EQ(s.server_reset_query, "DISCARD ALL;");
    EXPECT_EQ(s.auth_file, "/etc/pgbouncer/userlist.txt ; not a comment");
    EXPECT_EQ(s.server_check_query, "");
    EXPECT_EQ(s.job_name, "hello # world");
}

// A key given twice keeps the later value, as PgBouncer does.
TEST(Settings, LaterValueWins) {
    EXPECT_EQ(with("listen_port = 7000\nlisten_port = 7001").listen_port, 7001);
}

// An unknown key is an error; a near miss suggests the right spelling.
TEST(Settings, UnknownKey) {
    EXPECT_EQ(only_error("[pgbouncer]\nmax_client_con = 10\n"),
              "test.ini:2: max_client_con: unknown setting; did you mean 'max_client_conn'?");
    const auto d = errors_of("[pgbouncer]\nfrobnicate = yes\n");
    ASSERT_EQ(d.size(), 1U);
    EXPECT_EQ(d[0].key, "frobnicate");
    EXPECT_NE(d[0].message.find("unknown setting"), std::string::npos);
    // service_name exists in PgBouncer only on Windows.
    EXPECT_EQ(errors_of("[pgbouncer]\nservice_name = x\n").size(), 1U);
}

// Keys are case-sensitive as in PgBouncer (its parser uses strcmp); the error says so.
TEST(Settings, KeysAreCaseSensitive) {
    EXPECT_EQ(only_error("[pgbouncer]\nListen_Port = 6432\n"),
              "test.ini:2: Listen_Port: unknown setting; names are case-sensitive, write "
              "'listen_port'");
}

}  // namespace
}  // namespace sabakan::config

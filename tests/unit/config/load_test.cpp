// Loading whole files: the Mastodon guide's pgbouncer.ini, PgBouncer's defaults for every
// key left out, unreadable files, and how collected problems are reported.
#include "test_helpers.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace sabakan::config {
namespace {

using namespace std::chrono_literals;
using test::errors_of;

const std::string data_dir = SABAKAN_TEST_DATA_DIR;

// The Mastodon guide's pgbouncer.ini, verbatim from a file, gives exactly the values it sets.
TEST(ConfigLoad, MastodonFile) {
    const config cfg = load(data_dir + "/mastodon.ini");
    EXPECT_EQ(cfg.file, data_dir + "/mastodon.ini");

    ASSERT_EQ(cfg.databases.size(), 1U);
    const database_entry& db = cfg.databases[0];
    EXPECT_EQ(db.name, "mastodon_production");
    EXPECT_EQ(db.host, "127.0.0.1");
    EXPECT_EQ(db.port, 5432);
    EXPECT_EQ(db.dbname, "mastodon_production");
    EXPECT_EQ(db.user, "mastodon");
    EXPECT_EQ(db.password, "password");
    EXPECT_EQ(db.pool_size, -1);
    EXPECT_FALSE(db.mode.has_value());
    EXPECT_EQ(db.file, data_dir + "/mastodon.ini");
    EXPECT_EQ(db.line, 2);
    EXPECT_TRUE(cfg.users.empty());
    EXPECT_TRUE(cfg.peers.empty());

    const settings& s = cfg.bouncer;
    EXPECT_EQ(s.listen_addr, std::vector<std::string>{"127.0.0.1"});
    EXPECT_EQ(s.listen_port, 6432);
    EXPECT_EQ(s.auth, auth_type::md5);
    EXPECT_EQ(s.auth_file, "/etc/pgbouncer/userlist.txt");
    EXPECT_EQ(s.admin_users, std::vector<std::string>{"pgbouncer"});
    EXPECT_EQ(s.mode, pool_mode::transaction);
    EXPECT_EQ(s.max_client_conn, 100);
    EXPECT_EQ(s.default_pool_size, 20);
}

// Loading the Mastodon file changes only the keys it names (and conffile); all else is default.
TEST(ConfigLoad, MastodonFileLeavesOtherKeysAtDefault) {
    const config cfg = load(data_dir + "/mastodon.ini");
    settings expected;
    expected.listen_addr = {"127.0.0.1"};
    expected.auth_file = "/etc/pgbouncer/userlist.txt";
    expected.admin_users = {"pgbouncer"};
    expected.mode = pool_mode::transaction;
    expected.conffile = data_dir + "/mastodon.ini";
    expected.list_text = {{"listen_addr", "127.0.0.1"}, {"admin_users", "pgbouncer"}};
    EXPECT_TRUE(cfg.bouncer == expected);
}

// A bare [pgbouncer] section yields PgBouncer 1.25's documented default for every key.
TEST(ConfigLoad, DefaultsMatchPgBouncer) {
    const settings s = parse("[pgbouncer]\n", "defaults.ini").bouncer;
    EXPECT_TRUE(s.listen_addr.empty());
    EXPECT_EQ(s.listen_port, 6432);
    EXPECT_EQ(s.listen_backlog, 128);
    EXPECT_EQ(s.unix_socket_dir, "/tmp");
    EXPECT_EQ(s.unix_socket_mode, 0777);
    EXPECT_EQ(s.unix_socket_group, "");
    EXPECT_FALSE(s.so_reuseport);
    EXPECT_TRUE(s.tcp_defer_accept);
    EXPECT_TRUE(s.tcp_keepalive);
    EXPECT_EQ(s.tcp_keepcnt, 0);
    EXPECT_EQ(s.tcp_keepidle, 0);
    EXPECT_EQ(s.tcp_keepintvl, 0);
    EXPECT_EQ(s.tcp_socket_buffer, 0);
    EXPECT_EQ(s.tcp_user_timeout, 0);

    EXPECT_EQ(s.auth, auth_type::md5);
    EXPECT_EQ(s.auth_file, "");
    EXPECT_EQ(s.auth_hba_file, "");
    EXPECT_EQ(s.auth_ident_file, "");
    EXPECT_EQ(s.auth_ldap_options, "");
    EXPECT_EQ(s.auth_query,
              "SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END "
              "FROM pg_authid WHERE rolname=$1 AND rolcanlogin");
    EXPECT_EQ(s.auth_user, "");
    EXPECT_EQ(s.auth_dbname, "");
    EXPECT_TRUE(s.admin_users.empty());
    EXPECT_TRUE(s.stats_users.empty());
    EXPECT_EQ(s.scram_iterations, 4096);

    EXPECT_EQ(s.mode, pool_mode::session);
    EXPECT_EQ(s.max_client_conn, 100);
    EXPECT_EQ(s.default_pool_size, 20);
    EXPECT_EQ(s.min_pool_size, 0);
    EXPECT_EQ(s.reserve_pool_size, 0);
    EXPECT_EQ(s.reserve_pool_timeout, 5s);
    EXPECT_EQ(s.max_db_connections, 0);
    EXPECT_EQ(s.max_user_connections, 0);
    EXPECT_EQ(s.max_db_client_connections, 0);
    EXPECT_EQ(s.max_user_client_connections, 0);
    EXPECT_EQ(s.max_prepared_statements, 200);
    EXPECT_EQ(s.server_reset_query, "DISCARD ALL");
    EXPECT_FALSE(s.server_reset_query_always);
    EXPECT_EQ(s.server_check_query, "<empty>");
    EXPECT_EQ(s.server_check_delay, 30s);
    EXPECT_FALSE(s.server_round_robin);
    EXPECT_FALSE(s.server_fast_close);
    EXPECT_TRUE(s.ignore_startup_parameters.empty());
    EXPECT_EQ(s.track_extra_parameters, std::vector<std::string>{"IntervalStyle"});
    EXPECT_FALSE(s.disable_pqexec);
    EXPECT_FALSE(s.application_name_add_host);
    EXPECT_EQ(s.login_notify_message, "");
    EXPECT_EQ(s.max_packet_size, 2147483647);
    EXPECT_EQ(s.pkt_buf, 4096);
    EXPECT_EQ(s.sbuf_loopcnt, 5);
    EXPECT_EQ(s.autodb_idle_timeout, 3600s);
    EXPECT_EQ(s.pool_idle_timeout, 0s);

    EXPECT_EQ(s.server_lifetime, 3600s);
    EXPECT_EQ(s.server_idle_timeout, 600s);
    EXPECT_EQ(s.server_connect_timeout, 15s);
    EXPECT_EQ(s.server_login_retry, 15s);
    EXPECT_EQ(s.client_login_timeout, 60s);
    EXPECT_EQ(s.client_idle_timeout, 0s);
    EXPECT_EQ(s.query_timeout, 0s);
    EXPECT_EQ(s.query_wait_timeout, 120s);
    EXPECT_EQ(s.query_wait_notify, 5s);
    EXPECT_EQ(s.idle_transaction_timeout, 0s);
    EXPECT_EQ(s.transaction_timeout, 0s);
    EXPECT_EQ(s.cancel_wait_timeout, 10s);
    EXPECT_EQ(s.suspend_timeout, 10s);
    EXPECT_EQ(s.dns_max_ttl, 15s);
    EXPECT_EQ(s.dns_nxdomain_ttl, 15s);
    EXPECT_EQ(s.dns_zone_check_period, 0s);
    EXPECT_EQ(s.resolv_conf, "");

    EXPECT_EQ(s.client_tls_sslmode, "disable");
    EXPECT_EQ(s.client_tls_ca_file, "");
    EXPECT_EQ(s.client_tls_cert_file, "");
    EXPECT_EQ(s.client_tls_key_file, "");
    EXPECT_EQ(s.client_tls_ciphers, "default");
    EXPECT_EQ(s.client_tls13_ciphers, "");
    EXPECT_EQ(s.client_tls_protocols, "secure");
    EXPECT_EQ(s.client_tls_dheparams, "auto");
    EXPECT_EQ(s.client_tls_ecdhcurve, "auto");
    EXPECT_EQ(s.server_tls_sslmode, "prefer");
    EXPECT_EQ(s.server_tls_ca_file, "");
    EXPECT_EQ(s.server_tls_cert_file, "");
    EXPECT_EQ(s.server_tls_key_file, "");
    EXPECT_EQ(s.server_tls_ciphers, "default");
    EXPECT_EQ(s.server_tls13_ciphers, "");
    EXPECT_EQ(s.server_tls_protocols, "secure");

    EXPECT_EQ(s.logfile, "");
    EXPECT_EQ(s.pidfile, "");
    EXPECT_TRUE(s.log_connections);
    EXPECT_TRUE(s.log_disconnections);
    EXPECT_TRUE(s.log_pooler_errors);
    EXPECT_TRUE(s.log_stats);
    EXPECT_EQ(s.stats_period, 60s);
    EXPECT_FALSE(s.syslog);
    EXPECT_EQ(s.syslog_ident, "pgbouncer");
    EXPECT_EQ(s.syslog_facility, "daemon");
    EXPECT_EQ(s.verbose, 0);
    EXPECT_EQ(s.user, "");
    EXPECT_EQ(s.job_name, "pgbouncer");
    EXPECT_EQ(s.conffile, "defaults.ini");
    EXPECT_EQ(s.peer_id, 0);
}

// conffile defaults to the file loaded, but a conffile line in the file wins.
TEST(ConfigLoad, Conffile) {
    EXPECT_EQ(parse("[pgbouncer]\n", "/etc/a.ini").bouncer.conffile, "/etc/a.ini");
    const config cfg = parse("[pgbouncer]\nconffile = /etc/next.ini\n", "/etc/a.ini");
    EXPECT_EQ(cfg.bouncer.conffile, "/etc/next.ini");
    EXPECT_EQ(cfg.file, "/etc/a.ini");
}

// A missing file is one diagnostic naming the file and the system's reason, with no line.
TEST(ConfigLoad, MissingFile) {
    try {
        (void)load("/nonexistent/sabakan.ini");
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        ASSERT_EQ(e.diagnostics().size(), 1U);
        const diagnostic& d = e.diagnostics()[0];
        EXPECT_EQ(d.file, "/nonexistent/sabakan.ini");
        EXPECT_EQ(d.line, 0);
        EXPECT_EQ(format(d),
                  "/nonexistent/sabakan.ini: cannot read the config file: No such file or "
                  "directory");
    }
}

// A directory given as the config file is reported as unreadable, not taken as empty.
TEST(ConfigLoad, DirectoryIsNotAFile) {
    try {
        (void)load(data_dir);
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        ASSERT_EQ(e.diagnostics().size(), 1U);
        EXPECT_EQ(e.diagnostics()[0].file, data_dir);
        EXPECT_NE(e.diagnostics()[0].message.find("Is a directory"), std::string::npos);
    }
}

// PgBouncer refuses a file with no [pgbouncer] section; so does sabakan, once, at line 0.
TEST(ConfigLoad, MainSectionRequired) {
    const auto d = errors_of("[databases]\nfoo = host=x\n", "x.ini");
    ASSERT_EQ(d.size(), 1U);
    EXPECT_EQ(d[0].file, "x.ini");
    EXPECT_EQ(d[0].line, 0);
    EXPECT_EQ(d[0].key, "[pgbouncer]");
    EXPECT_EQ(errors_of("", "x.ini").size(), 1U);
}

// format() writes file:line: key: message, dropping the parts that are absent.
TEST(ConfigLoad, FormatDiagnostic) {
    EXPECT_EQ(format({"a.ini", 3, "listen_port", "bad"}), "a.ini:3: listen_port: bad");
    EXPECT_EQ(format({"a.ini", 3, "", "bad"}), "a.ini:3: bad");
    EXPECT_EQ(format({"a.ini", 0, "", "bad"}), "a.ini: bad");
}

// Every problem, from the ini layer or from a value, is reported together in file order, one
// per line of what().
TEST(ConfigLoad, AllErrorsReportedTogether) {
    const std::string text =
        "[pgbouncer]\n"                  // 1
        "listen_port = http\n"           // 2
        "bogus_key = 1\n"                // 3
        "pool_mode = transaction\n"      // 4 (fine)
        "[databases]\n"                  // 5
        "db = port=0\n"                  // 6
        "%include /nonexistent/x.ini\n"  // 7
        "[nonsense]\n"                   // 8
        "ignored = 1\n";                 // 9: in the unknown section, not reported again
    try {
        (void)parse(text, "multi.ini");
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        const auto& d = e.diagnostics();
        ASSERT_EQ(d.size(), 5U);
        EXPECT_EQ(d[0].line, 2);
        EXPECT_EQ(d[0].key, "listen_port");
        EXPECT_EQ(d[1].line, 3);
        EXPECT_EQ(d[1].key, "bogus_key");
        EXPECT_EQ(d[2].line, 6);
        EXPECT_EQ(d[2].key, "db");
        EXPECT_EQ(d[3].line, 7);
        EXPECT_EQ(d[3].key, "%include");
        EXPECT_EQ(d[4].line, 8);
        EXPECT_EQ(d[4].key, "[nonsense]");
        std::string expected;
        for (const diagnostic& x : d) {
            expected += (expected.empty() ? "" : "\n") + format(x);
        }
        EXPECT_EQ(e.what(), expected);
        EXPECT_EQ(std::string(e.what()).rfind("multi.ini:2: listen_port: ", 0), 0U);
    }
}

// to_string gives PgBouncer's spellings, including the dashed scram-sha-256.
TEST(ConfigLoad, EnumNames) {
    EXPECT_EQ(to_string(pool_mode::session), "session");
    EXPECT_EQ(to_string(pool_mode::transaction), "transaction");
    EXPECT_EQ(to_string(pool_mode::statement), "statement");
    EXPECT_EQ(to_string(auth_type::scram_sha_256), "scram-sha-256");
    EXPECT_EQ(to_string(auth_type::cert), "cert");
    EXPECT_EQ(to_string(auth_type::pam), "pam");
    EXPECT_EQ(to_string(auth_type::ldap), "ldap");
}

}  // namespace
}  // namespace sabakan::config

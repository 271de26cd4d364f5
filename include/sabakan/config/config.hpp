// The loaded configuration: PgBouncer's ini format ([pgbouncer], [databases], [users],
// [peers]) read into typed values. Loading never touches sockets or the pools.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sabakan::config {

enum class pool_mode { session, transaction, statement };
enum class auth_type { cert, md5, scram_sha_256, plain, trust, any, hba, ldap, pam };

std::string_view to_string(pool_mode m) noexcept;
std::string_view to_string(auth_type t) noexcept;

using duration = std::chrono::microseconds;

/// One `[databases]` line: `name = host=... port=... dbname=... user=... password=...`.
struct database_entry {
    std::string name;  // the name clients connect to; "*" is the fallback entry
    std::string host;  // empty: unix socket in the default directory
    int port = 5432;
    std::string dbname;    // empty: the name the client asked for
    std::string user;      // forced server user; empty: the client's user
    std::string password;  // password for the forced user
    int pool_size = -1;    // -1: default_pool_size
    int min_pool_size = -1;
    int reserve_pool_size = -1;
    std::optional<pool_mode> mode;
    std::string client_encoding;
    std::string datestyle;
    std::string timezone;
    std::string application_name;
    std::string connect_query;
    std::string auth_user;
    std::string auth_query;
    std::string auth_dbname;
    std::string load_balance_hosts;  // empty: round-robin
    int max_db_connections = 0;
    int max_db_client_connections = 0;
    std::optional<duration> query_wait_timeout;
    std::optional<duration> server_lifetime;
    std::string file;  // where it was defined, for messages
    int line = 0;
};

/// One `[users]` line: `name = pool_mode=... pool_size=...`.
struct user_entry {
    std::string name;
    std::optional<pool_mode> mode;
    int pool_size = -1;
    int reserve_pool_size = -1;
    int max_user_connections = 0;
    int max_user_client_connections = 0;
    std::optional<duration> query_timeout;
    std::optional<duration> query_wait_timeout;
    std::optional<duration> idle_transaction_timeout;
    std::optional<duration> transaction_timeout;
    std::optional<duration> client_idle_timeout;
    std::string file;
    int line = 0;
};

/// One `[peers]` line: `peer_id = host=... port=... pool_size=...`.
struct peer_entry {
    int peer_id = 0;
    std::string host;
    int port = 6432;
    int pool_size = -1;  // -1: default_pool_size
    std::string file;
    int line = 0;
};

/// The `[pgbouncer]` section. Every key PgBouncer 1.25 knows, with its default.
/// Time values are microseconds; 0 means "off" where PgBouncer says so.
struct settings {
    // Listening
    std::vector<std::string> listen_addr;  // empty: unix socket only; "*": all
    int listen_port = 6432;
    int listen_backlog = 128;
    std::string unix_socket_dir = "/tmp";  // empty: no unix socket
    int unix_socket_mode = 0777;
    std::string unix_socket_group;
    bool so_reuseport = false;
    int workers = 0;  // sabakan's own: event-loop threads; 0 means one per core
    bool tcp_defer_accept = true;
    bool tcp_keepalive = true;
    int tcp_keepcnt = 0;
    int tcp_keepidle = 0;
    int tcp_keepintvl = 0;
    int tcp_socket_buffer = 0;
    int tcp_user_timeout = 0;

    // Authentication
    auth_type auth = auth_type::md5;
    std::string auth_file;
    std::string auth_hba_file;
    std::string auth_ident_file;
    std::string auth_ldap_options;
    std::string auth_query =
        "SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END FROM "
        "pg_authid WHERE rolname=$1 AND rolcanlogin";
    std::string auth_user;
    std::string auth_dbname;
    std::vector<std::string> admin_users;
    std::vector<std::string> stats_users;
    int scram_iterations = 4096;

    // Pooling
    pool_mode mode = pool_mode::session;
    int max_client_conn = 100;
    int default_pool_size = 20;
    int min_pool_size = 0;
    int reserve_pool_size = 0;
    duration reserve_pool_timeout = std::chrono::seconds(5);
    int max_db_connections = 0;
    int max_user_connections = 0;
    int max_db_client_connections = 0;
    int max_user_client_connections = 0;
    int max_prepared_statements = 200;
    int max_client_prepared_statements = 2000;  // sabakan's own: statements one client may hold
    std::string server_reset_query = "DISCARD ALL";
    bool server_reset_query_always = false;
    std::string server_check_query = "<empty>";
    duration server_check_delay = std::chrono::seconds(30);
    bool server_round_robin = false;
    bool server_fast_close = false;
    std::vector<std::string> ignore_startup_parameters;
    std::vector<std::string> track_extra_parameters = {"IntervalStyle"};
    bool disable_pqexec = false;
    bool application_name_add_host = false;
    std::string login_notify_message;
    int max_packet_size = 2147483647;
    int pkt_buf = 4096;
    int sbuf_loopcnt = 5;
    duration autodb_idle_timeout = std::chrono::seconds(3600);
    duration pool_idle_timeout = duration::zero();

    // Timeouts
    duration server_lifetime = std::chrono::seconds(3600);
    duration server_idle_timeout = std::chrono::seconds(600);
    duration server_connect_timeout = std::chrono::seconds(15);
    duration server_login_retry = std::chrono::seconds(15);
    duration client_login_timeout = std::chrono::seconds(60);
    duration client_idle_timeout = duration::zero();
    duration query_timeout = duration::zero();
    duration query_wait_timeout = std::chrono::seconds(120);
    duration query_wait_notify = std::chrono::seconds(5);
    duration idle_transaction_timeout = duration::zero();
    duration transaction_timeout = duration::zero();
    duration cancel_wait_timeout = std::chrono::seconds(10);
    duration suspend_timeout = std::chrono::seconds(10);
    duration dns_max_ttl = std::chrono::seconds(15);
    duration dns_nxdomain_ttl = std::chrono::seconds(15);
    duration dns_zone_check_period = duration::zero();
    std::string resolv_conf;

    // TLS (parsed now; used by a later issue)
    std::string client_tls_sslmode = "disable";
    std::string client_tls_ca_file;
    std::string client_tls_cert_file;
    std::string client_tls_key_file;
    std::string client_tls_ciphers = "default";
    std::string client_tls13_ciphers;
    std::string client_tls_protocols = "secure";
    std::string client_tls_dheparams = "auto";
    std::string client_tls_ecdhcurve = "auto";
    std::string server_tls_sslmode = "prefer";
    std::string server_tls_ca_file;
    std::string server_tls_cert_file;
    std::string server_tls_key_file;
    std::string server_tls_ciphers = "default";
    std::string server_tls13_ciphers;
    std::string server_tls_protocols = "secure";

    // Logging, process
    std::string logfile;
    std::string pidfile;
    bool log_connections = true;
    bool log_disconnections = true;
    bool log_pooler_errors = true;
    bool log_stats = true;
    duration stats_period = std::chrono::seconds(60);
    bool syslog = false;
    std::string syslog_ident = "pgbouncer";
    std::string syslog_facility = "daemon";
    std::string metrics_listen;  // host:port of the Prometheus endpoint; empty: off
    int verbose = 0;
    std::string user;
    std::string job_name = "pgbouncer";
    std::string conffile;
    int peer_id = 0;

    /// The list keys (admin_users, listen_addr, ...) as last written in the file or by SET,
    /// keyed by setting name: SHOW CONFIG prints a list the way it was typed, blanks and empty
    /// items included, as PgBouncer does. A key that was never set has no entry.
    std::map<std::string, std::string, std::less<>> list_text;

    friend bool operator==(const settings&, const settings&) = default;
};

struct config {
    settings bouncer;
    std::vector<database_entry> databases;  // file order; "*" included if present
    std::vector<user_entry> users;
    std::vector<peer_entry> peers;
    std::string file;  // the top-level file that was loaded

    /// The entry for `name`, else the "*" entry, else nullptr.
    const database_entry* find_database(std::string_view name) const noexcept;
    const user_entry* find_user(std::string_view name) const noexcept;
};

/// One problem found while loading, reported as "file:line: key: message". line is 0 for a
/// problem with a whole file (it cannot be read); key is empty when the line has no key.
struct diagnostic {
    std::string file;
    int line = 0;
    std::string key;
    std::string message;
};

std::string format(const diagnostic& d);

/// Thrown by load(); holds every problem found, not only the first.
class config_error : public std::runtime_error {
public:
    explicit config_error(std::vector<diagnostic> diags);
    const std::vector<diagnostic>& diagnostics() const noexcept { return diags_; }

private:
    std::vector<diagnostic> diags_;
};

/// Reads `path` (following %include). Throws config_error on any unknown key, bad value,
/// bad section or unreadable file.
config load(const std::string& path);

/// As load(), but the top-level text is given; `file_name` is used in diagnostics and as
/// config::file. %include lines in `text` still read files.
config parse(std::string_view text, const std::string& file_name);

/// One `[pgbouncer]` key: its name and whether RELOAD applies a new value (PgBouncer's
/// SHOW CONFIG "changeable" column; the others keep their startup value).
struct setting_info {
    std::string_view name;
    bool reloadable = true;
};

/// Every `[pgbouncer]` key, in PgBouncer's SHOW CONFIG order (alphabetical).
std::span<const setting_info> setting_list() noexcept;

/// The `[pgbouncer]` keys with values sabakan refuses because it cannot honour them yet
/// (TLS, auth_user, ...): loading, RELOAD and SET answer such a value with "not supported
/// yet" and what to set instead. Values that mean "off" are accepted.
std::span<const std::string_view> refusable_settings() noexcept;

/// For RELOAD: puts the running value back into `fresh` for every key that needs a restart
/// (listen_*, pkt_buf, unix_socket_*, ...), and returns the names of those whose value the
/// new file changed, so the caller can say they were ignored.
std::vector<std::string_view> keep_startup_settings(settings& fresh, const settings& running);

/// One SHOW CONFIG row: PgBouncer's columns key, value, default, changeable. nullopt in value
/// or default_value is SQL NULL. PgBouncer shows NULL for the string keys whose built-in
/// default is "unset" (auth_file, auth_user, user, conffile, ...) while they are empty, and in
/// the default column of verbose.
struct config_row {
    std::string key;
    std::optional<std::string> value;
    std::optional<std::string> default_value;
    bool changeable = true;  // "yes": RELOAD and SET apply it; "no": it needs a restart
};

/// Every `[pgbouncer]` key in SHOW CONFIG order (alphabetical, as setting_list()), with the
/// running value and the default formatted as PgBouncer formats them: numbers and 0/1 flags in
/// decimal (unix_socket_mode too, though its default reads 0777), times as seconds in C's %g,
/// names in their canonical spelling, strings and lists as written.
std::vector<config_row> show_config(const settings& running);

/// SET key = value from the admin console: applies one reloadable setting to `s`, reading
/// `value` as the config file would. Returns an empty string on success, else the message to
/// show (unknown key, bad value, or the key needs a restart), which starts with the key.
/// `s` is unchanged on failure.
std::string set_setting(settings& s, std::string_view key, std::string_view value);

}  // namespace sabakan::config

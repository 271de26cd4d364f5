// The [pgbouncer] key table. Rows are alphabetical because that is PgBouncer's SHOW CONFIG
// order; defaults live in the settings struct, so a key that is absent keeps its default.
// Integer keys are read as PgBouncer reads them (strtol base 0) but must also be in range.
// The same table drives SHOW CONFIG (values printed as PgBouncer prints them) and admin SET.
#include "settings_table.hpp"

#include "unsupported.hpp"
#include "values.hpp"

#include <sabakan/config/listen_address.hpp>
#include <sabakan/core/log.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <climits>
#include <optional>
#include <span>
#include <variant>

namespace sabakan::config::detail {
namespace {

using field = std::variant<int settings::*, bool settings::*, duration settings::*,
                           std::string settings::*, std::vector<std::string> settings::*,
                           pool_mode settings::*, auth_type settings::*>;

struct key_spec {
    std::string_view name;
    field target;
    bool reloadable = true;
    long long min = 0;  // integer keys only
    long long max = INT_MAX;
    bool octal = false;                              // unix_socket_mode
    std::span<const std::string_view> choices = {};  // text keys limited to these names
    bool null_when_empty = false;  // PgBouncer's default is "unset": SHOW CONFIG prints NULL
    bool null_default = false;     // PgBouncer's table gives no default text (verbose)
    std::string_view (*check)(std::string_view value) = nullptr;  // text keys: "" when valid
};

constexpr std::string_view sslmode_names[] = {"disable", "allow",     "prefer",
                                              "require", "verify-ca", "verify-full"};

constexpr key_spec key(std::string_view name, field target) {
    return {name, target};
}
constexpr key_spec number(std::string_view name, int settings::*target, long long min = 0,
                          long long max = INT_MAX) {
    return {name, target, true, min, max};
}
constexpr key_spec choice(std::string_view name, std::string settings::*target,
                          std::span<const std::string_view> choices) {
    key_spec k{name, target};
    k.choices = choices;
    return k;
}
// CF_NO_RELOAD in PgBouncer: read at startup, kept as they were on RELOAD.
constexpr key_spec startup_only(key_spec k) {
    k.reloadable = false;
    return k;
}
// A text key whose value must also pass `check`, which says what is wrong or returns "".
constexpr key_spec checked(key_spec k, std::string_view (*check)(std::string_view)) {
    k.check = check;
    return k;
}
std::string_view check_metrics_listen(std::string_view value) {
    if (value.empty() || parse_listen_address(value)) {
        return {};
    }
    return "expected host:port, e.g. 127.0.0.1:9127 or [::1]:9127 (empty turns it off)";
}
std::string_view check_syslog_facility(std::string_view value) {
    if (log::syslog_facility(value) >= 0) {
        return {};
    }
    return "expected one of auth, authpriv, daemon, user, local0 .. local7";
}
// A string PgBouncer leaves unset (NULL) by default rather than empty.
constexpr key_spec unset(key_spec k) {
    k.null_when_empty = true;
    return k;
}

using s = settings;

constexpr key_spec table[] = {
    key("admin_users", &s::admin_users),
    key("application_name_add_host", &s::application_name_add_host),
    unset(key("auth_dbname", &s::auth_dbname)),
    unset(key("auth_file", &s::auth_file)),
    key("auth_hba_file", &s::auth_hba_file),
    unset(key("auth_ident_file", &s::auth_ident_file)),
    unset(key("auth_ldap_options", &s::auth_ldap_options)),
    key("auth_query", &s::auth_query),
    key("auth_type", &s::auth),
    unset(key("auth_user", &s::auth_user)),
    key("autodb_idle_timeout", &s::autodb_idle_timeout),
    key("cancel_wait_timeout", &s::cancel_wait_timeout),
    key("client_idle_timeout", &s::client_idle_timeout),
    key("client_login_timeout", &s::client_login_timeout),
    unset(key("client_tls13_ciphers", &s::client_tls13_ciphers)),
    key("client_tls_ca_file", &s::client_tls_ca_file),
    key("client_tls_cert_file", &s::client_tls_cert_file),
    key("client_tls_ciphers", &s::client_tls_ciphers),
    key("client_tls_dheparams", &s::client_tls_dheparams),
    key("client_tls_ecdhcurve", &s::client_tls_ecdhcurve),
    key("client_tls_key_file", &s::client_tls_key_file),
    key("client_tls_protocols", &s::client_tls_protocols),
    choice("client_tls_sslmode", &s::client_tls_sslmode, sslmode_names),
    unset(key("conffile", &s::conffile)),
    number("default_pool_size", &s::default_pool_size),
    startup_only(key("disable_pqexec", &s::disable_pqexec)),
    key("dns_max_ttl", &s::dns_max_ttl),
    key("dns_nxdomain_ttl", &s::dns_nxdomain_ttl),
    key("dns_zone_check_period", &s::dns_zone_check_period),
    key("idle_transaction_timeout", &s::idle_transaction_timeout),
    key("ignore_startup_parameters", &s::ignore_startup_parameters),
    startup_only(key("job_name", &s::job_name)),
    startup_only(key("listen_addr", &s::listen_addr)),
    startup_only(number("listen_backlog", &s::listen_backlog)),
    startup_only(number("listen_port", &s::listen_port, 1, 65535)),
    key("log_connections", &s::log_connections),
    key("log_disconnections", &s::log_disconnections),
    key("log_pooler_errors", &s::log_pooler_errors),
    key("log_stats", &s::log_stats),
    key("logfile", &s::logfile),
    key("login_notify_message", &s::login_notify_message),
    number("max_client_conn", &s::max_client_conn),
    // sabakan's own: bounds the memory one client's prepared statements take.
    number("max_client_prepared_statements", &s::max_client_prepared_statements, 1),
    number("max_db_client_connections", &s::max_db_client_connections),
    number("max_db_connections", &s::max_db_connections),
    number("max_packet_size", &s::max_packet_size),
    number("max_prepared_statements", &s::max_prepared_statements),
    number("max_user_client_connections", &s::max_user_client_connections),
    number("max_user_connections", &s::max_user_connections),
    // Not PgBouncer's: the built-in Prometheus endpoint (admin/metrics_endpoint).
    startup_only(checked(key("metrics_listen", &s::metrics_listen), check_metrics_listen)),
    number("min_pool_size", &s::min_pool_size),
    // PgBouncer's docs: 0 turns peering off; the id must fit the cancel key's 14 bits.
    number("peer_id", &s::peer_id, 0, 16383),
    startup_only(key("pidfile", &s::pidfile)),
    startup_only(number("pkt_buf", &s::pkt_buf)),
    key("pool_idle_timeout", &s::pool_idle_timeout),
    key("pool_mode", &s::mode),
    key("query_timeout", &s::query_timeout),
    key("query_wait_notify", &s::query_wait_notify),
    key("query_wait_timeout", &s::query_wait_timeout),
    number("reserve_pool_size", &s::reserve_pool_size),
    key("reserve_pool_timeout", &s::reserve_pool_timeout),
    startup_only(key("resolv_conf", &s::resolv_conf)),
    number("sbuf_loopcnt", &s::sbuf_loopcnt),
    number("scram_iterations", &s::scram_iterations, 1),
    key("server_check_delay", &s::server_check_delay),
    key("server_check_query", &s::server_check_query),
    key("server_connect_timeout", &s::server_connect_timeout),
    key("server_fast_close", &s::server_fast_close),
    key("server_idle_timeout", &s::server_idle_timeout),
    key("server_lifetime", &s::server_lifetime),
    key("server_login_retry", &s::server_login_retry),
    key("server_reset_query", &s::server_reset_query),
    key("server_reset_query_always", &s::server_reset_query_always),
    key("server_round_robin", &s::server_round_robin),
    unset(key("server_tls13_ciphers", &s::server_tls13_ciphers)),
    key("server_tls_ca_file", &s::server_tls_ca_file),
    key("server_tls_cert_file", &s::server_tls_cert_file),
    key("server_tls_ciphers", &s::server_tls_ciphers),
    key("server_tls_key_file", &s::server_tls_key_file),
    key("server_tls_protocols", &s::server_tls_protocols),
    choice("server_tls_sslmode", &s::server_tls_sslmode, sslmode_names),
    startup_only(key("so_reuseport", &s::so_reuseport)),
    key("stats_period", &s::stats_period),
    key("stats_users", &s::stats_users),
    key("suspend_timeout", &s::suspend_timeout),
    key("syslog", &s::syslog),
    checked(key("syslog_facility", &s::syslog_facility), check_syslog_facility),
    key("syslog_ident", &s::syslog_ident),
    key("tcp_defer_accept", &s::tcp_defer_accept),
    key("tcp_keepalive", &s::tcp_keepalive),
    number("tcp_keepcnt", &s::tcp_keepcnt),
    number("tcp_keepidle", &s::tcp_keepidle),
    number("tcp_keepintvl", &s::tcp_keepintvl),
    number("tcp_socket_buffer", &s::tcp_socket_buffer),
    number("tcp_user_timeout", &s::tcp_user_timeout),
    startup_only(key("track_extra_parameters", &s::track_extra_parameters)),
    key("transaction_timeout", &s::transaction_timeout),
    startup_only(key("unix_socket_dir", &s::unix_socket_dir)),
    startup_only(key("unix_socket_group", &s::unix_socket_group)),
    startup_only([] {
        key_spec k = number("unix_socket_mode", &s::unix_socket_mode, 0, 07777);
        k.octal = true;
        return k;
    }()),
    startup_only(unset(key("user", &s::user))),
    [] {
        key_spec k = number("verbose", &s::verbose);
        k.null_default = true;
        return k;
    }(),
    // sabakan's own: PgBouncer has one thread.
    startup_only(number("workers", &s::workers, 0, 256)),
};

constexpr std::array<std::string_view, std::size(table)> key_names = [] {
    std::array<std::string_view, std::size(table)> names{};
    for (std::size_t i = 0; i < std::size(table); ++i) {
        names[i] = table[i].name;
    }
    return names;
}();

constexpr std::array<setting_info, std::size(table)> infos = [] {
    std::array<setting_info, std::size(table)> out{};
    for (std::size_t i = 0; i < std::size(table); ++i) {
        out[i] = {table[i].name, table[i].reloadable};
    }
    return out;
}();

const key_spec* find_key(std::string_view name) noexcept {
    for (const key_spec& k : table) {
        if (k.name == name) {
            return &k;
        }
    }
    return nullptr;
}

// One reader per field type; each returns the diagnostic message, empty on success.

std::string read_into(const key_spec& k, int& out, std::string_view v) {
    if (k.octal) {
        const auto mode = parse_file_mode(v);
        if (!mode) {
            return fmt::format("expected an octal file mode such as 0777 or 0700, got '{}'", v);
        }
        out = *mode;
        return {};
    }
    const auto n = parse_integer(v, k.min, k.max);
    if (!n) {
        return k.max == INT_MAX
                   ? fmt::format("expected a whole number, {} or more, got '{}'", k.min, v)
                   : fmt::format("expected a whole number from {} to {}, got '{}'", k.min, k.max,
                                 v);
    }
    out = static_cast<int>(*n);
    return {};
}

std::string read_into(const key_spec&, bool& out, std::string_view v) {
    const auto b = parse_bool(v);
    if (!b) {
        return fmt::format("expected 1 or 0 (also yes/no, on/off, true/false), got '{}'", v);
    }
    out = *b;
    return {};
}

std::string read_into(const key_spec&, duration& out, std::string_view v) {
    const auto d = parse_seconds(v);
    if (!d) {
        return fmt::format(
            "expected seconds as a plain number such as 30 or 0.5 (no unit), got '{}'", v);
    }
    out = *d;
    return {};
}

std::string read_into(const key_spec& k, std::string& out, std::string_view v) {
    if (k.choices.empty()) {
        out = v;
        return {};
    }
    if (auto c = match_choice(v, k.choices)) {
        out = *c;
        return {};
    }
    return fmt::format("expected {}, got '{}'", one_of(k.choices), v);
}

std::string read_into(const key_spec&, std::vector<std::string>& out, std::string_view v) {
    out = split_list(v);
    return {};
}

std::string read_into(const key_spec&, pool_mode& out, std::string_view v) {
    const auto m = parse_pool_mode(v);
    if (!m) {
        return fmt::format("expected {}, got '{}'", one_of(pool_mode_names), v);
    }
    out = *m;
    return {};
}

std::string read_into(const key_spec&, auth_type& out, std::string_view v) {
    const auto t = parse_auth_type(v);
    if (!t) {
        return fmt::format("expected {}, got '{}'", one_of(auth_type_names), v);
    }
    out = *t;
    return {};
}

// SHOW CONFIG text for each field type, as PgBouncer prints its own values: numbers and 0/1
// flags in decimal, times as seconds in C's %g (six significant digits: 1.000001 shows as 1,
// 1234567 as 1.23457e+06), enums by their canonical name, strings as stored.

std::string show(const key_spec&, const settings&, int v) {
    return fmt::format("{}", v);
}

std::string show(const key_spec&, const settings&, bool v) {
    return v ? "1" : "0";
}

std::string show(const key_spec&, const settings&, duration v) {
    return fmt::format("{:g}", static_cast<double>(v.count()) / 1e6);
}

std::string show(const key_spec&, const settings&, const std::string& v) {
    return v;
}

// PgBouncer keeps a list as the text it was given, so that text is what it prints. The items
// are checked against it in case code changed the list without going through apply_setting.
std::string show(const key_spec& k, const settings& st, const std::vector<std::string>& v) {
    if (const auto it = st.list_text.find(k.name);
        it != st.list_text.end() && split_list(it->second) == v) {
        return it->second;
    }
    return fmt::format("{}", fmt::join(v, ", "));
}

std::string show(const key_spec&, const settings&, pool_mode v) {
    return std::string(to_string(v));
}

std::string show(const key_spec&, const settings&, auth_type v) {
    return std::string(to_string(v));
}

std::optional<std::string> shown_value(const key_spec& k, const settings& st) {
    std::string text = std::visit([&](auto target) { return show(k, st, st.*target); }, k.target);
    if (text.empty() && k.null_when_empty) {
        return std::nullopt;
    }
    return text;
}

// The default column is the text of PgBouncer's key table, which equals the default value
// shown as a value except for two keys: unix_socket_mode (the table says 0777, the value
// prints as 511) and verbose (no text at all).
std::optional<std::string> shown_default(const key_spec& k) {
    static const settings defaults;
    if (k.null_default) {
        return std::nullopt;
    }
    if (k.octal) {
        return fmt::format("0{:o}", defaults.*std::get<int settings::*>(k.target));
    }
    return shown_value(k, defaults);
}

bool is_list(const key_spec& k) noexcept {
    return std::holds_alternative<std::vector<std::string> settings::*>(k.target);
}

}  // namespace

std::string apply_setting(settings& st, std::string_view name, std::string_view value) {
    const key_spec* k = find_key(name);
    if (k == nullptr) {
        const std::string hint = did_you_mean(name, key_names);
        return hint.empty() ? "unknown setting; check the spelling against PgBouncer's list of "
                              "[pgbouncer] settings, all of which sabakan accepts"
                            : "unknown setting; " + hint;
    }
    if (k->check != nullptr) {
        if (std::string_view problem = k->check(value); !problem.empty()) {
            return std::string(problem);
        }
    }
    // A value sabakan cannot honour is refused, and the one before it stays.
    std::string error = std::visit(
        [&](auto target) {
            auto before = st.*target;
            std::string problem = read_into(*k, st.*target, value);
            if (problem.empty()) {
                problem = unsupported_setting(st, name);
            }
            if (!problem.empty()) {
                st.*target = std::move(before);
            }
            return problem;
        },
        k->target);
    if (error.empty() && is_list(*k)) {
        st.list_text.insert_or_assign(std::string(name), std::string(value));
    }
    return error;
}

bool is_setting(std::string_view name) noexcept {
    return find_key(name) != nullptr;
}

}  // namespace sabakan::config::detail

namespace sabakan::config {

std::span<const setting_info> setting_list() noexcept {
    return detail::infos;
}

std::vector<std::string_view> keep_startup_settings(settings& fresh, const settings& running) {
    std::vector<std::string_view> kept;
    for (const detail::key_spec& k : detail::table) {
        if (k.reloadable) {
            continue;
        }
        std::visit(
            [&](auto target) {
                if (!(fresh.*target == running.*target)) {
                    fresh.*target = running.*target;
                    kept.push_back(k.name);
                }
            },
            k.target);
        if (is_list(k)) {
            // The text goes with the items it was read into.
            if (const auto it = running.list_text.find(k.name); it != running.list_text.end()) {
                fresh.list_text.insert_or_assign(it->first, it->second);
            } else if (const auto stale = fresh.list_text.find(k.name);
                       stale != fresh.list_text.end()) {
                fresh.list_text.erase(stale);
            }
        }
    }
    return kept;
}

std::vector<config_row> show_config(const settings& running) {
    std::vector<config_row> rows;
    rows.reserve(std::size(detail::table));
    for (const detail::key_spec& k : detail::table) {
        rows.push_back({std::string(k.name), detail::shown_value(k, running),
                        detail::shown_default(k), k.reloadable});
    }
    return rows;
}

std::string set_setting(settings& s, std::string_view key, std::string_view value) {
    const detail::key_spec* k = detail::find_key(key);
    if (k != nullptr && !k->reloadable) {
        // PgBouncer answers SET for these as if it worked and keeps the old value; say so
        // instead, and say how to change it.
        return fmt::format(
            "{}: needs a restart to change; SET and RELOAD keep the running value, so put the "
            "new value in the config file and restart sabakan",
            key);
    }
    if (std::string error = detail::apply_setting(s, key, value); !error.empty()) {
        return fmt::format("{}: {}", key, error);
    }
    return {};
}

}  // namespace sabakan::config

// The refusal rules. A setting is listed here when honouring it would change what a client
// sees or weaken security, and sabakan cannot honour it yet; the settings that are safe to
// ignore (sbuf_loopcnt, the DNS cache's TTLs, ...) are not, and sabakan.ini(5) says why for
// each. The README's table of refused settings is checked against refusable_settings().
#include "unsupported.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace sabakan::config::detail {
namespace {

struct rule {
    std::string_view key;
    std::string (*why)(const settings&);
};

std::string refuse_auth_type(const settings& s) {
    switch (s.auth) {
        case auth_type::cert:
        case auth_type::hba:
        case auth_type::ldap:
        case auth_type::pam:
            return fmt::format(
                "auth_type = {} is not supported yet; use md5, scram-sha-256, plain, trust or any",
                to_string(s.auth));
        default:
            return {};
    }
}

std::string refuse_auth_user(const settings& s) {
    if (s.auth_user.empty()) {
        return {};
    }
    return "auth_user (looking up users with auth_query) is not supported yet: users missing "
           "from auth_file could not log in; list every user in auth_file and remove auth_user";
}

std::string refuse_client_tls(const settings& s) {
    if (s.client_tls_sslmode == "disable") {
        return {};
    }
    return fmt::format(
        "client_tls_sslmode = {} is not supported yet: sabakan does not speak TLS to clients, "
        "so they would connect in plaintext; set client_tls_sslmode = disable (keep a TLS "
        "proxy in front if clients must use TLS)",
        s.client_tls_sslmode);
}

std::string refuse_server_tls(const settings& s) {
    const std::string& m = s.server_tls_sslmode;
    if (m == "disable" || m == "allow" || m == "prefer") {
        return {};  // these may connect in plaintext; the start logs that they do
    }
    return fmt::format(
        "server_tls_sslmode = {} is not supported yet: sabakan does not speak TLS to servers "
        "and this mode must not fall back to plaintext; use disable, allow or prefer (which "
        "connect in plaintext) only if the network to PostgreSQL is trusted",
        m);
}

std::string refuse_disable_pqexec(const settings& s) {
    if (!s.disable_pqexec) {
        return {};
    }
    return "disable_pqexec = 1 (refusing the simple query protocol) is not supported yet; set "
           "disable_pqexec = 0";
}

std::string refuse_login_notify(const settings& s) {
    if (s.login_notify_message.empty()) {
        return {};
    }
    return "login_notify_message (a notice to each client at login) is not supported yet; "
           "leave it empty";
}

std::string refuse_peer_id(const settings& s) {
    if (s.peer_id == 0) {
        return {};
    }
    return "peering (peer_id and [peers]) is not supported yet, so cancel requests could not "
           "reach other processes; set peer_id = 0, or run one process per port";
}

std::string refuse_resolv_conf(const settings& s) {
    if (s.resolv_conf.empty()) {
        return {};
    }
    return "resolv_conf is not supported yet: host names are resolved through the system's "
           "resolver (/etc/resolv.conf); leave resolv_conf empty";
}

std::string refuse_fast_close(const settings& s) {
    if (!s.server_fast_close) {
        return {};
    }
    return "server_fast_close = 1 is not supported yet: in session pools a server to be "
           "replaced is closed when its client leaves; set server_fast_close = 0";
}

std::string refuse_reset_always(const settings& s) {
    if (!s.server_reset_query_always) {
        return {};
    }
    return "server_reset_query_always = 1 (server_reset_query after every transaction) is "
           "not supported yet; set it to 0: session pools run server_reset_query anyway, and "
           "transaction pools keep each client's session state apart by themselves";
}

std::string refuse_round_robin(const settings& s) {
    if (!s.server_round_robin) {
        return {};
    }
    return "server_round_robin = 1 is not supported yet: idle servers are reused most recent "
           "first; set server_round_robin = 0";
}

std::string refuse_socket_group(const settings& s) {
    if (s.unix_socket_group.empty()) {
        return {};
    }
    return "unix_socket_group is not supported yet: the socket file would keep sabakan's own "
           "group; leave it empty and limit access with unix_socket_mode and the directory";
}

constexpr std::array rules = {
    rule{"auth_type", refuse_auth_type},
    rule{"auth_user", refuse_auth_user},
    rule{"client_tls_sslmode", refuse_client_tls},
    rule{"disable_pqexec", refuse_disable_pqexec},
    rule{"login_notify_message", refuse_login_notify},
    rule{"peer_id", refuse_peer_id},
    rule{"resolv_conf", refuse_resolv_conf},
    rule{"server_fast_close", refuse_fast_close},
    rule{"server_reset_query_always", refuse_reset_always},
    rule{"server_round_robin", refuse_round_robin},
    rule{"server_tls_sslmode", refuse_server_tls},
    rule{"unix_socket_group", refuse_socket_group},
};

constexpr std::array<std::string_view, rules.size()> rule_keys = [] {
    std::array<std::string_view, rules.size()> keys{};
    for (std::size_t i = 0; i < rules.size(); ++i) {
        keys[i] = rules[i].key;
    }
    return keys;
}();

}  // namespace

std::string unsupported_setting(const settings& s, std::string_view key) {
    const auto* r =
        std::find_if(rules.begin(), rules.end(), [&](const rule& x) { return x.key == key; });
    return r == rules.end() ? std::string() : r->why(s);
}

std::string unsupported_database(const database_entry& db) {
    if (db.host.find(',') != std::string::npos) {
        return "host lists (several hosts, with load_balance_hosts) are not supported yet; "
               "give one host, or put a TCP load balancer in front of the servers";
    }
    if (!db.auth_user.empty()) {
        return "auth_user (looking up users with auth_query) is not supported yet: users "
               "missing from auth_file could not log in; list every user in auth_file and "
               "remove auth_user";
    }
    if (!db.connect_query.empty()) {
        return "connect_query (a query run on each new server connection) is not supported "
               "yet; remove it, or set what it sets with ALTER ROLE ... SET or ALTER DATABASE "
               "... SET in PostgreSQL";
    }
    return {};
}

}  // namespace sabakan::config::detail

namespace sabakan::config {

std::span<const std::string_view> refusable_settings() noexcept {
    return detail::rule_keys;
}

}  // namespace sabakan::config

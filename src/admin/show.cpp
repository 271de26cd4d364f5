// The SHOW listings. Column names, order and types follow PgBouncer 1.25 exactly, so tools
// that read its console column by column read sabakan's; a column with no meaning here
// keeps its place and holds PgBouncer's neutral value (0, or NULL for text).
#include "show.hpp"

#include <sabakan/admin/command.hpp>
#include <sabakan/config/config.hpp>
#include <sabakan/core/version.hpp>
#include <sabakan/protocol/result_set.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/server_connection.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sabakan::admin::detail {
namespace {

using protocol::byte_buffer;
using protocol::data_row_writer;
using session::client_session;
using session::pooler;
using session::server_connection;

/// Writes the RowDescription from a list of names and a PgBouncer type string.
template <std::size_t N>
void header(byte_buffer& out, const std::array<std::string_view, N>& names,
            std::string_view types) {
    protocol::append_row_description(out, names, types);
}

void done(byte_buffer& out) {
    protocol::append_command_complete(out, "SHOW");
}

std::string timestamp(std::time_t t) {
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    std::array<char, 32> buf{};
    auto n = std::strftime(buf.data(), buf.size(), "%Y-%m-%d %H:%M:%S UTC", &tm);
    return std::string(buf.data(), n);
}

std::string pointer(const void* p) {
    return p == nullptr ? std::string() : fmt::format("{}", p);
}

void text_or_null(data_row_writer& row, std::string_view v) {
    if (v.empty()) {
        row.null();
    } else {
        row.text(v);
    }
}

std::int64_t seconds(config::duration d) {
    return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

// ---- SHOW STATS family ----

void show_stats(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 25> names{
        "database",
        "total_server_assignment_count",
        "total_xact_count",
        "total_query_count",
        "total_received",
        "total_sent",
        "total_xact_time",
        "total_query_time",
        "total_wait_time",
        "total_client_parse_count",
        "total_server_parse_count",
        "total_bind_count",
        "total_client_login_count",
        "avg_server_assignment_count",
        "avg_xact_count",
        "avg_query_count",
        "avg_recv",
        "avg_sent",
        "avg_xact_time",
        "avg_query_time",
        "avg_wait_time",
        "avg_client_parse_count",
        "avg_server_parse_count",
        "avg_bind_count",
        "avg_client_login_count"};
    header(out, names, "sNNNNNNNNNNNNNNNNNNNNNNNN");
    const auto& averages = p.averages_by_database();
    for (const auto& [db, t] : p.totals_by_database()) {
        auto it = averages.find(db);
        const stats::counters a = it == averages.end() ? stats::counters{} : it->second;
        data_row_writer row{out};
        row.text(db);
        for (const auto* c : {&t, &a}) {
            row.number(c->server_assignment_count);
            row.number(c->xact_count);
            row.number(c->query_count);
            row.number(c->client_bytes);
            row.number(c->server_bytes);
            row.number(c->xact_time);
            row.number(c->query_time);
            row.number(c->wait_time);
            row.number(c->client_parse_count);
            row.number(c->server_parse_count);
            row.number(c->bind_count);
            row.number(c->client_login_count);
        }
        row.finish();
    }
    done(out);
}

/// STATS_TOTALS and STATS_AVERAGES: the same 12 figures, totals or averages.
void show_stats_part(pooler& p, byte_buffer& out, bool averages) {
    static constexpr std::array<std::string_view, 13> total_names{
        "database",   "server_assignment_count", "xact_count",         "query_count",
        "bytes_received", "bytes_sent",          "xact_time",          "query_time",
        "wait_time",  "client_parse_count",      "server_parse_count", "bind_count",
        "client_login_count"};
    static constexpr std::array<std::string_view, 13> average_names{
        "database",       "server_assignment_count", "xact_count",
        "query_count",    "bytes_received",          "bytes_sent",
        "xact_time",      "query_time",              "wait_time",
        "avg_client_parse_count", "avg_server_parse_count", "avg_bind_count",
        "avg_client_login_count"};
    header(out, averages ? average_names : total_names, "sNNNNNNNNNNNN");
    const auto& avg = p.averages_by_database();
    for (const auto& [db, t] : p.totals_by_database()) {
        stats::counters c = t;
        if (averages) {
            auto it = avg.find(db);
            c = it == avg.end() ? stats::counters{} : it->second;
        }
        data_row_writer row{out};
        row.text(db);
        row.number(c.server_assignment_count);
        row.number(c.xact_count);
        row.number(c.query_count);
        row.number(c.client_bytes);
        row.number(c.server_bytes);
        row.number(c.xact_time);
        row.number(c.query_time);
        row.number(c.wait_time);
        row.number(c.client_parse_count);
        row.number(c.server_parse_count);
        row.number(c.bind_count);
        row.number(c.client_login_count);
        row.finish();
    }
    done(out);
}

void show_totals(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 2> names{"name", "value"};
    header(out, names, "sN");
    stats::counters total;
    for (const auto& [db, t] : p.totals_by_database()) {
        total += t;
    }
    const stats::counters& average = p.averages_total();
    for (const auto& [prefix, c] :
         {std::pair<std::string_view, const stats::counters*>{"total", &total},
          std::pair<std::string_view, const stats::counters*>{"avg", &average}}) {
        const std::pair<std::string_view, std::uint64_t> rows[] = {
            {"server_assignment_count", c->server_assignment_count},
            {"xact_count", c->xact_count},
            {"query_count", c->query_count},
            {"client_bytes", c->client_bytes},
            {"server_bytes", c->server_bytes},
            {"xact_time", c->xact_time},
            {"query_time", c->query_time},
            {"wait_time", c->wait_time},
            {"ps_client_parse_count", c->client_parse_count},
            {"ps_server_parse_count", c->server_parse_count},
            {"ps_bind_count", c->bind_count},
            {"client_login_count", c->client_login_count},
        };
        for (const auto& [name, value] : rows) {
            data_row_writer row{out};
            row.text(fmt::format("{}_{}", prefix, name));
            row.number(value);
            row.finish();
        }
    }
    done(out);
}

// ---- pools, clients, servers ----

struct pool_row {
    std::string database;
    std::string user;
    std::uint64_t cl_active = 0;
    std::uint64_t cl_waiting = 0;
    std::uint64_t sv_active = 0;
    std::uint64_t sv_idle = 0;
    std::uint64_t sv_login = 0;
    std::int64_t maxwait_us = 0;
    std::string mode;
    std::string load_balance_hosts;
};

void show_pools(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 17> names{
        "database",  "user",      "cl_active",  "cl_waiting",        "cl_active_cancel_req",
        "cl_waiting_cancel_req",  "sv_active",  "sv_active_cancel",  "sv_being_canceled",
        "sv_idle",   "sv_used",   "sv_tested",  "sv_login",          "maxwait",
        "maxwait_us", "pool_mode", "load_balance_hosts"};
    header(out, names, "ssiiiiiiiiiiiiiss");
    std::vector<pool_row> rows;
    const std::int64_t now = stats::now_us();
    for (const auto& [key, pool] : p.pools()) {
        pool_row r;
        r.database = key.first;
        r.user = key.second;
        r.cl_waiting = pool->waiting_count();
        r.cl_active = pool->client_count() - r.cl_waiting;
        r.sv_active = pool->active_count();
        r.sv_idle = pool->idle_count();
        r.sv_login = pool->login_count();
        if (const auto* w = pool->first_waiter()) {
            r.maxwait_us = now - w->wait_started_us;
        }
        r.mode = config::to_string(pool->settings().mode);
        if (const auto* db = p.cfg().find_database(key.first)) {
            r.load_balance_hosts = db->load_balance_hosts;
        }
        rows.push_back(std::move(r));
    }
    // The console's own pool, as PgBouncer lists it.
    std::set<std::string> admin_users;
    pool_row admin;
    admin.database = "pgbouncer";
    admin.user = "pgbouncer";
    admin.mode = "statement";
    for (const auto& c : p.clients()) {
        admin.cl_active += c.is_admin() && c.logged_in() ? 1 : 0;
    }
    rows.push_back(std::move(admin));
    std::sort(rows.begin(), rows.end(), [](const pool_row& a, const pool_row& b) {
        return std::tie(a.database, a.user) < std::tie(b.database, b.user);
    });
    for (const auto& r : rows) {
        data_row_writer row{out};
        row.text(r.database);
        row.text(r.user);
        row.number(r.cl_active);
        row.number(r.cl_waiting);
        row.number(0);  // cl_active_cancel_req
        row.number(0);  // cl_waiting_cancel_req
        row.number(r.sv_active);
        row.number(0);  // sv_active_cancel
        row.number(0);  // sv_being_canceled
        row.number(r.sv_idle);
        row.number(0);  // sv_used: servers are checked on reuse, never parked unchecked
        row.number(0);  // sv_tested
        row.number(r.sv_login);
        row.number(r.maxwait_us / 1000000);
        row.number(r.maxwait_us % 1000000);
        row.text(r.mode);
        text_or_null(row, r.load_balance_hosts);
        row.finish();
    }
    done(out);
}

constexpr std::array<std::string_view, 21> connection_columns{
    "type",        "user",         "database",     "replication", "state",   "addr",
    "port",        "local_addr",   "local_port",   "connect_time", "request_time",
    "wait",        "wait_us",      "close_needed", "ptr",         "link",    "remote_pid",
    "tls",         "application_name", "prepared_statements", "id"};
constexpr std::string_view connection_types = "ssssssisiTTiiississii";

constexpr std::array<std::string_view, 7> socket_columns{
    "recv_pos", "pkt_pos", "pkt_remain", "send_pos", "send_remain", "pkt_avail", "send_avail"};

void buffer_columns(data_row_writer& row, const net::recv_buffer& b) {
    row.number(b.received_pos());
    row.number(b.parsed_pos());
    row.number(0);  // pkt_remain: bodies are passed over, never held back
    row.number(b.sent_pos());
    row.number(b.parsed_pos() - b.sent_pos());
    row.number(b.received_pos() - b.parsed_pos());
    row.number(0);
}

std::string_view client_state(const client_session& c) {
    if (c.waiting()) {
        return "waiting";
    }
    return c.server() != nullptr || c.is_admin() ? "active" : "idle";
}

void client_row(pooler& p, data_row_writer& row, const client_session& c, bool raw_state) {
    const std::int64_t now = stats::now_us();
    auto [addr, port] = c.peer_address();
    auto [laddr, lport] = c.local_address();
    row.text("C");
    row.text(c.user());
    row.text(c.database());
    row.text("none");
    auto state = client_state(c);
    row.text(raw_state ? fmt::format("cl_{}", state) : std::string(state));
    row.text(addr);
    row.number(port);
    row.text(laddr);
    row.number(lport);
    row.text(timestamp(c.connect_time()));
    row.text(timestamp(c.request_time()));
    const std::int64_t waited = c.waiting() ? now - c.wait_started_us : 0;
    row.number(waited / 1000000);
    row.number(waited % 1000000);
    row.number(0);  // close_needed
    row.text(pointer(&c));
    text_or_null(row, pointer(c.server()));
    row.number(0);  // remote_pid: clients' pids are not known
    row.text("");   // tls
    row.text(c.application_name());
    row.number(0);  // prepared_statements
    row.number(c.id());
    (void)p;
}

std::string_view server_state(const server_connection& s) {
    switch (s.state()) {
        case pool::server_state::active:
            return "active";
        case pool::server_state::idle:
            return "idle";
        case pool::server_state::login:
            return "new";
        case pool::server_state::unlinked:
            break;
    }
    return "closing";
}

void server_row(data_row_writer& row, const server_connection& s, bool raw_state) {
    auto& sc = const_cast<server_connection&>(s);
    auto [addr, port] = s.peer_address();
    auto [laddr, lport] = s.local_address();
    row.text("S");
    row.text(sc.pool().user());
    row.text(sc.pool().database());
    row.text("none");
    auto state = server_state(s);
    row.text(raw_state ? fmt::format("sv_{}", state) : std::string(state));
    row.text(addr);
    row.number(port);
    row.text(laddr);
    row.number(lport);
    row.text(timestamp(s.connect_time()));
    row.text(timestamp(s.request_time() != 0 ? s.request_time() : s.connect_time()));
    row.number(0);  // wait
    row.number(0);  // wait_us
    row.number(s.close_needed() ? 1 : 0);
    row.text(pointer(&s));
    text_or_null(row, pointer(s.client()));
    row.number(s.backend_key().pid);
    row.text("");  // tls
    row.text("");  // application_name of the server connection: none set
    row.number(0);  // prepared_statements
    row.number(s.id());
}

void show_clients(pooler& p, byte_buffer& out) {
    header(out, connection_columns, connection_types);
    for (const auto& c : p.clients()) {
        if (c.logged_in()) {
            data_row_writer row{out};
            client_row(p, row, c, false);
            row.finish();
        }
    }
    done(out);
}

void show_servers(pooler& p, byte_buffer& out) {
    header(out, connection_columns, connection_types);
    for (const auto& s : p.servers()) {
        if (s.state() != pool::server_state::unlinked) {
            data_row_writer row{out};
            server_row(row, s, false);
            row.finish();
        }
    }
    done(out);
}

/// SOCKETS lists every connection with its buffer cursors; ACTIVE_SOCKETS only those
/// with bytes in their buffer or a link.
void show_sockets(pooler& p, byte_buffer& out, bool active_only) {
    std::array<std::string_view, 28> names{};
    std::copy(connection_columns.begin(), connection_columns.end(), names.begin());
    std::copy(socket_columns.begin(), socket_columns.end(), names.begin() + 21);
    header(out, names, fmt::format("{}iiiiiii", connection_types));
    for (const auto& c : p.clients()) {
        const bool busy = c.buffer().received_pos() > 0 || c.server() != nullptr;
        if (c.logged_in() && (!active_only || busy)) {
            data_row_writer row{out};
            client_row(p, row, c, true);
            buffer_columns(row, c.buffer());
            row.finish();
        }
    }
    for (const auto& s : p.servers()) {
        const bool busy = s.buffer().received_pos() > 0 || s.client() != nullptr;
        if (s.state() != pool::server_state::unlinked && (!active_only || busy)) {
            data_row_writer row{out};
            server_row(row, s, true);
            buffer_columns(row, s.buffer());
            row.finish();
        }
    }
    done(out);
}

// ---- databases, users, config ----

struct db_usage {
    std::uint64_t servers = 0;
    std::uint64_t clients = 0;
};

std::map<std::string, db_usage> usage_by_database(pooler& p) {
    std::map<std::string, db_usage> u;
    for (const auto& [key, pool] : p.pools()) {
        u[key.first].servers += pool->server_count();
        u[key.first].clients += pool->client_count();
    }
    return u;
}

void show_databases(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 17> names{
        "name",           "host",         "port",          "database",
        "force_user",     "pool_size",    "min_pool_size", "reserve_pool_size",
        "server_lifetime", "pool_mode",   "load_balance_hosts", "max_connections",
        "current_connections", "max_client_connections", "current_client_connections",
        "paused",         "disabled"};
    header(out, names, "ssissiiiissiiiiii");
    const auto& s = p.settings();
    auto usage = usage_by_database(p);
    auto names_list = p.database_names();
    names_list.push_back("pgbouncer");
    std::sort(names_list.begin(), names_list.end());
    for (const auto& name : names_list) {
        data_row_writer row{out};
        if (name == "pgbouncer") {
            std::uint64_t admins = 0;
            for (const auto& c : p.clients()) {
                admins += c.is_admin() && c.logged_in() ? 1 : 0;
            }
            row.text(name);
            row.null();
            row.number(s.listen_port);
            row.text("pgbouncer");
            row.text("pgbouncer");
            row.number(2);
            row.number(0);
            row.number(0);
            row.number(0);
            row.text("statement");
            row.null();
            row.number(0);
            row.number(0);
            row.number(0);
            row.number(admins);
            row.number(0);
            row.number(0);
            row.finish();
            continue;
        }
        const config::database_entry* db = p.cfg().find_database(name);
        config::database_entry none;
        if (db == nullptr) {
            db = &none;  // removed from the config; its pools drain
        }
        row.text(name);
        text_or_null(row, db->host);
        row.number(db->port);
        row.text(db->dbname.empty() || db->name == "*" ? name : db->dbname);
        text_or_null(row, db->user);
        row.number(db->pool_size >= 0 ? db->pool_size : s.default_pool_size);
        row.number(db->min_pool_size >= 0 ? db->min_pool_size : s.min_pool_size);
        row.number(db->reserve_pool_size >= 0 ? db->reserve_pool_size : s.reserve_pool_size);
        row.number(seconds(db->server_lifetime.value_or(s.server_lifetime)));
        if (db->mode) {
            row.text(config::to_string(*db->mode));
        } else {
            row.null();
        }
        text_or_null(row, db->load_balance_hosts);
        row.number(db->max_db_connections > 0 ? db->max_db_connections : s.max_db_connections);
        row.number(usage[name].servers);
        row.number(db->max_db_client_connections > 0 ? db->max_db_client_connections
                                                     : s.max_db_client_connections);
        row.number(usage[name].clients);
        row.number(p.is_paused(name) ? 1 : 0);
        row.number(p.is_disabled(name) ? 1 : 0);
        row.finish();
    }
    done(out);
}

void show_users(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 8> names{
        "name",          "pool_size",           "reserve_pool_size",
        "pool_mode",     "max_user_connections", "current_connections",
        "max_user_client_connections", "current_client_connections"};
    header(out, names, "ssssiiii");
    std::set<std::string> users;
    for (const auto& [name, secret] : p.users().secrets) {
        users.insert(name);
    }
    for (const auto& u : p.cfg().users) {
        users.insert(u.name);
    }
    std::map<std::string, std::uint64_t> servers;
    for (const auto& [key, pool] : p.pools()) {
        users.insert(key.second);
        servers[key.second] += pool->server_count();
    }
    std::map<std::string, std::uint64_t> clients;
    for (const auto& c : p.clients()) {
        if (c.logged_in()) {
            users.insert(c.user());
            ++clients[c.user()];
        }
    }
    const auto& s = p.settings();
    for (const auto& name : users) {
        const config::user_entry* u = p.cfg().find_user(name);
        data_row_writer row{out};
        row.text(name);
        // PgBouncer prints these two as right-aligned text, empty when not set.
        row.text(u != nullptr && u->pool_size >= 0 ? fmt::format("{:9d}", u->pool_size) : "");
        row.text(u != nullptr && u->reserve_pool_size >= 0
                     ? fmt::format("{:9d}", u->reserve_pool_size)
                     : "");
        if (u != nullptr && u->mode) {
            row.text(config::to_string(*u->mode));
        } else {
            row.null();
        }
        row.number(u != nullptr && u->max_user_connections > 0 ? u->max_user_connections
                                                               : s.max_user_connections);
        row.number(servers[name]);
        row.number(u != nullptr && u->max_user_client_connections > 0
                       ? u->max_user_client_connections
                       : s.max_user_client_connections);
        row.number(clients[name]);
        row.finish();
    }
    done(out);
}

void show_config(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 4> names{"key", "value", "default",
                                                           "changeable"};
    header(out, names, "ssss");
    for (const auto& r : config::show_config(p.settings())) {
        data_row_writer row{out};
        row.text(r.key);
        if (r.value) {
            row.text(*r.value);
        } else {
            row.null();
        }
        if (r.default_value) {
            row.text(*r.default_value);
        } else {
            row.null();
        }
        row.text(r.changeable ? "yes" : "no");
        row.finish();
    }
    done(out);
}

// ---- process-wide lists ----

void show_lists(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 2> names{"list", "items"};
    header(out, names, "si");
    std::uint64_t used_clients = 0;
    std::uint64_t login_clients = 0;
    for (const auto& c : p.clients()) {
        (c.logged_in() ? used_clients : login_clients) += 1;
    }
    std::uint64_t used_servers = 0;
    for (const auto& s : p.servers()) {
        used_servers += s.state() != pool::server_state::unlinked ? 1 : 0;
    }
    std::set<std::string> users;
    for (const auto& [name, secret] : p.users().secrets) {
        users.insert(name);
    }
    for (const auto& [key, pool] : p.pools()) {
        users.insert(key.second);
    }
    const std::pair<std::string_view, std::uint64_t> rows[] = {
        {"databases", p.database_names().size() + 1},  // + the console's "pgbouncer"
        {"users", users.size()},
        {"peers", p.cfg().peers.size()},
        {"pools", p.pools().size() + 1},
        {"peer_pools", 0},
        {"free_clients", 0},  // nothing is cached: a closed connection's memory is freed
        {"used_clients", used_clients},
        {"login_clients", login_clients},
        {"free_servers", 0},
        {"used_servers", used_servers},
        {"dns_names", 0},  // host names are resolved per connect, not cached
        {"dns_zones", 0},
        {"dns_queries", 0},
        {"dns_pending", 0},
    };
    for (const auto& [name, n] : rows) {
        data_row_writer row{out};
        row.text(name);
        row.number(n);
        row.finish();
    }
    done(out);
}

void show_mem(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 5> names{"name", "size", "used", "free",
                                                           "memtotal"};
    header(out, names, "siiii");
    std::uint64_t clients = 0;
    for ([[maybe_unused]] const auto& c : p.clients()) {
        ++clients;
    }
    std::uint64_t servers = 0;
    for ([[maybe_unused]] const auto& s : p.servers()) {
        ++servers;
    }
    const std::uint64_t buffer = static_cast<std::uint64_t>(
        p.settings().pkt_buf < 4096 ? 4096 : p.settings().pkt_buf);
    // PgBouncer's rows, in its order, filled with sabakan's own object classes. Each object
    // is allocated whole and freed when done (no free lists), so free is 0 and memtotal is
    // size * used; classes sabakan does not have (peers, cached credentials, prepared
    // statements, tracked variables) show 0.
    const std::tuple<std::string_view, std::uint64_t, std::uint64_t> rows[] = {
        {"user_cache", sizeof(std::string) * 2, p.users().secrets.size()},
        {"credentials_cache", 0, 0},
        {"db_cache", sizeof(config::database_entry), p.cfg().databases.size()},
        {"peer_cache", sizeof(config::peer_entry), p.cfg().peers.size()},
        {"peer_pool_cache", 0, 0},
        {"pool_cache", sizeof(session::backend_pool), p.pools().size()},
        {"outstanding_request_cache", 0, 0},
        {"server_cache", sizeof(server_connection), servers},
        {"client_cache", sizeof(client_session), clients},
        {"iobuf_cache", buffer, clients + servers},
        {"var_list_cache", 0, 0},
        {"server_prepared_statement_cache", 0, 0},
    };
    for (const auto& [name, size, used] : rows) {
        data_row_writer row{out};
        row.text(name);
        row.number(size);
        row.number(used);
        row.number(0);
        row.number(size * used);
        row.finish();
    }
    done(out);
}

void show_fds(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 15> names{
        "fd",        "task",          "user",        "database",  "addr",
        "port",      "cancel",        "link",        "client_encoding", "std_strings",
        "datestyle", "timezone",      "password",    "scram_client_key", "scram_server_key"};
    header(out, names, "issssiqisssssbb");
    auto nulls = [](data_row_writer& row, int n) {
        for (int i = 0; i < n; ++i) {
            row.null();
        }
    };
    for (auto& c : p.clients()) {
        if (!c.logged_in()) {
            continue;
        }
        auto [addr, port] = c.peer_address();
        data_row_writer row{out};
        row.number(const_cast<client_session&>(c).socket().native_handle());
        row.text("client");
        row.text(c.user());
        row.text(c.database());
        row.text(addr);
        row.number(port);
        row.number(0);
        row.number(c.server() != nullptr
                       ? const_cast<server_connection*>(c.server())->socket().native_handle()
                       : 0);
        nulls(row, 7);  // no session state is handed over; passwords never leave
        row.finish();
    }
    for (auto& s : p.servers()) {
        if (s.state() == pool::server_state::unlinked) {
            continue;
        }
        auto& sc = const_cast<server_connection&>(s);
        auto [addr, port] = s.peer_address();
        data_row_writer row{out};
        row.number(sc.socket().native_handle());
        row.text("server");
        row.text(sc.pool().user());
        row.text(sc.pool().database());
        row.text(addr);
        row.number(port);
        row.number(static_cast<std::int64_t>(
            (static_cast<std::uint64_t>(static_cast<std::uint32_t>(s.backend_key().pid)) << 32) |
            static_cast<std::uint32_t>(s.backend_key().secret)));
        row.number(s.client() != nullptr ? s.client()->socket().native_handle() : 0);
        nulls(row, 7);
        row.finish();
    }
    done(out);
}

void show_peers(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 4> names{"peer_id", "host", "port",
                                                           "pool_size"};
    header(out, names, "isii");
    for (const auto& peer : p.cfg().peers) {
        data_row_writer row{out};
        row.number(peer.peer_id);
        row.text(peer.host);
        row.number(peer.port);
        row.number(peer.pool_size >= 0 ? peer.pool_size : p.settings().default_pool_size);
        row.finish();
    }
    done(out);
}

void show_peer_pools(byte_buffer& out) {
    static constexpr std::array<std::string_view, 5> names{
        "peer_id", "cl_active_cancel_req", "cl_waiting_cancel_req", "sv_active_cancel",
        "sv_login"};
    header(out, names, "iiiii");
    done(out);  // cancels are not forwarded to peers yet, so no peer pool exists
}

void show_state(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 2> names{"key", "value"};
    header(out, names, "ss");
    const bool paused = p.is_paused("");
    const std::pair<std::string_view, bool> rows[] = {
        {"active", !paused && !p.suspended()},
        {"paused", paused},
        {"suspended", p.suspended()},
    };
    for (const auto& [key, on] : rows) {
        data_row_writer row{out};
        row.text(key);
        row.text(on ? "yes" : "no");
        row.finish();
    }
    done(out);
}

void show_version(byte_buffer& out) {
    static constexpr std::array<std::string_view, 1> names{"version"};
    header(out, names, "s");
    data_row_writer row{out};
    row.text(fmt::format("sabakan {}", version));
    row.finish();
    done(out);
}

void show_help(byte_buffer& out) {
    protocol::append_notice(out, "Console usage",
                            "\n\tSHOW HELP|CONFIG|DATABASES|POOLS|CLIENTS|SERVERS|USERS|VERSION"
                            "\n\tSHOW PEERS|PEER_POOLS"
                            "\n\tSHOW FDS|SOCKETS|ACTIVE_SOCKETS|LISTS|MEM|STATE"
                            "\n\tSHOW DNS_HOSTS|DNS_ZONES"
                            "\n\tSHOW STATS|STATS_TOTALS|STATS_AVERAGES|TOTALS"
                            "\n\tSET key = arg"
                            "\n\tRELOAD"
                            "\n\tPAUSE [<db>]"
                            "\n\tRESUME [<db>]"
                            "\n\tDISABLE <db>"
                            "\n\tENABLE <db>"
                            "\n\tRECONNECT [<db>]"
                            "\n\tKILL [<db>]"
                            "\n\tKILL_CLIENT <client_id>"
                            "\n\tSUSPEND"
                            "\n\tSHUTDOWN"
                            "\n\tSHUTDOWN WAIT_FOR_SERVERS|WAIT_FOR_CLIENTS"
                            "\n\tWAIT_CLOSE [<db>]");
    done(out);
}

void show_empty(byte_buffer& out, std::string_view a, std::string_view b, std::string_view c,
                std::string_view types) {
    const std::array<std::string_view, 3> names{a, b, c};
    header(out, names, types);
    done(out);
}

/// The harmless SHOWs drivers send right after connecting, answered with fixed values.
std::optional<std::string_view> fake_variable(std::string_view name) {
    static constexpr std::pair<std::string_view, std::string_view> vars[] = {
        {"client_encoding", "UTF-8"},
        {"default_transaction_isolation", "read committed"},
        {"standard_conforming_strings", "on"},
        {"datestyle", "ISO"},
        {"timezone", "GMT"},
    };
    for (const auto& [n, v] : vars) {
        if (iequals(n, name)) {
            return v;
        }
    }
    return std::nullopt;
}

}  // namespace

bool show(pooler& p, std::string_view what, byte_buffer& out) {
    using handler = std::function<void()>;
    const std::pair<std::string_view, handler> commands[] = {
        {"help", [&] { show_help(out); }},
        {"stats", [&] { show_stats(p, out); }},
        {"stats_totals", [&] { show_stats_part(p, out, false); }},
        {"stats_averages", [&] { show_stats_part(p, out, true); }},
        {"totals", [&] { show_totals(p, out); }},
        {"pools", [&] { show_pools(p, out); }},
        {"clients", [&] { show_clients(p, out); }},
        {"servers", [&] { show_servers(p, out); }},
        {"sockets", [&] { show_sockets(p, out, false); }},
        {"active_sockets", [&] { show_sockets(p, out, true); }},
        {"databases", [&] { show_databases(p, out); }},
        {"users", [&] { show_users(p, out); }},
        {"peers", [&] { show_peers(p, out); }},
        {"peer_pools", [&] { show_peer_pools(out); }},
        {"lists", [&] { show_lists(p, out); }},
        {"config", [&] { show_config(p, out); }},
        {"mem", [&] { show_mem(p, out); }},
        {"version", [&] { show_version(out); }},
        {"state", [&] { show_state(p, out); }},
        {"fds", [&] { show_fds(p, out); }},
        {"dns_hosts", [&] { show_empty(out, "hostname", "ttl", "addrs", "sqs"); }},
        {"dns_zones", [&] { show_empty(out, "zonename", "serial", "count", "sqi"); }},
    };
    for (const auto& [name, run] : commands) {
        if (iequals(name, what)) {
            run();
            return true;
        }
    }
    if (auto value = fake_variable(what)) {
        const std::array<std::string_view, 1> names{what};
        header(out, names, "s");
        data_row_writer row{out};
        row.text(*value);
        row.finish();
        done(out);
        return true;
    }
    return false;
}

}  // namespace sabakan::admin::detail

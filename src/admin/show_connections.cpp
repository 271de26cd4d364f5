// SHOW POOLS, CLIENTS, SERVERS, SOCKETS, ACTIVE_SOCKETS and FDS: the live connections.
#include "listing.hpp"

#include <sabakan/session/client_session.hpp>
#include <sabakan/session/server_connection.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <vector>

namespace sabakan::admin::detail {

namespace {

struct pool_row {
    std::string database;
    std::string user;
    std::uint64_t cl_active = 0;
    std::uint64_t cl_waiting = 0;
    std::uint64_t sv_active = 0;
    std::uint64_t sv_idle = 0;
    std::uint64_t sv_login = 0;
    std::uint64_t sv_tested = 0;
    std::int64_t maxwait_us = 0;
    std::string mode;
    std::string load_balance_hosts;
};

}  // namespace

void show_pools(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 17> names{"database",
                                                            "user",
                                                            "cl_active",
                                                            "cl_waiting",
                                                            "cl_active_cancel_req",
                                                            "cl_waiting_cancel_req",
                                                            "sv_active",
                                                            "sv_active_cancel",
                                                            "sv_being_canceled",
                                                            "sv_idle",
                                                            "sv_used",
                                                            "sv_tested",
                                                            "sv_login",
                                                            "maxwait",
                                                            "maxwait_us",
                                                            "pool_mode",
                                                            "load_balance_hosts"};
    header(out, names, "ssiiiiiiiiiiiiiss");
    // One row per pair: each worker has a share of the pool, and the row adds them up.
    std::map<std::pair<std::string, std::string>, pool_row> merged;
    const std::int64_t now = stats::now_us();
    for (auto* worker : p.all_workers()) {
        for (const auto& [key, pool] : worker->pools()) {
            pool_row& r = merged[key];
            r.database = key.first;
            r.user = key.second;
            const auto waiting = pool->waiting_count();
            r.cl_waiting += waiting;
            r.cl_active += pool->client_count() - waiting;
            r.sv_active += pool->active_count();
            r.sv_idle += pool->idle_count();
            r.sv_login += pool->login_count();
            r.sv_tested += pool->tested_count();
            if (const auto* w = pool->first_waiter()) {
                r.maxwait_us = std::max(r.maxwait_us, now - w->wait_started_us);
            }
            r.mode = config::to_string(pool->settings().mode);
            if (const auto* db = p.cfg().find_database(key.first)) {
                r.load_balance_hosts = db->load_balance_hosts;
            }
        }
    }
    std::vector<pool_row> rows;
    for (auto& [key, r] : merged) {
        rows.push_back(std::move(r));
    }
    // The console's own pool, as PgBouncer lists it.
    std::set<std::string> admin_users;
    pool_row admin;
    admin.database = "pgbouncer";
    admin.user = "pgbouncer";
    admin.mode = "statement";
    for (auto* w : p.all_workers()) {
        for (const auto& c : w->clients()) {
            admin.cl_active += c.is_admin() && c.logged_in() ? 1 : 0;
        }
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
        row.number(r.sv_tested);
        row.number(r.sv_login);
        row.number(r.maxwait_us / 1000000);
        row.number(r.maxwait_us % 1000000);
        row.text(r.mode);
        text_or_null(row, r.load_balance_hosts);
        row.finish();
    }
    done(out);
}

namespace {

constexpr std::array<std::string_view, 21> connection_columns{"type",
                                                              "user",
                                                              "database",
                                                              "replication",
                                                              "state",
                                                              "addr",
                                                              "port",
                                                              "local_addr",
                                                              "local_port",
                                                              "connect_time",
                                                              "request_time",
                                                              "wait",
                                                              "wait_us",
                                                              "close_needed",
                                                              "ptr",
                                                              "link",
                                                              "remote_pid",
                                                              "tls",
                                                              "application_name",
                                                              "prepared_statements",
                                                              "id"};
constexpr std::string_view connection_types = "ssssssisiTTiiississii";

constexpr std::array<std::string_view, 7> socket_columns{
    "recv_pos", "pkt_pos", "pkt_remain", "send_pos", "send_remain", "pkt_avail", "send_avail"};

void buffer_columns(data_row_writer& row, const relay::recv_buffer& b) {
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

void client_row(data_row_writer& row, const client_session& c, bool raw_state) {
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
    row.number(static_cast<std::int64_t>(c.statements().size()));
    row.number(c.id());
}

std::string_view server_state(const server_connection& s) {
    switch (s.state()) {
        case pool::server_state::active:
            return "active";
        case pool::server_state::idle:
            return "idle";
        case pool::server_state::login:
            return "new";
        case pool::server_state::tested:
            return "tested";
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
    row.number(static_cast<std::int64_t>(s.statements().size()));
    row.number(s.id());
}

}  // namespace

void show_clients(pooler& p, byte_buffer& out) {
    header(out, connection_columns, connection_types);
    for (auto* w : p.all_workers()) {
        for (const auto& c : w->clients()) {
            if (c.logged_in()) {
                data_row_writer row{out};
                client_row(row, c, false);
                row.finish();
            }
        }
    }
    done(out);
}

void show_servers(pooler& p, byte_buffer& out) {
    header(out, connection_columns, connection_types);
    for (auto* w : p.all_workers()) {
        for (const auto& s : w->servers()) {
            if (s.state() != pool::server_state::unlinked) {
                data_row_writer row{out};
                server_row(row, s, false);
                row.finish();
            }
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
    for (auto* w : p.all_workers()) {
        for (const auto& c : w->clients()) {
            const bool busy = c.buffer().received_pos() > 0 || c.server() != nullptr;
            if (c.logged_in() && (!active_only || busy)) {
                data_row_writer row{out};
                client_row(row, c, true);
                buffer_columns(row, c.buffer());
                row.finish();
            }
        }
    }
    for (auto* w : p.all_workers()) {
        for (const auto& s : w->servers()) {
            const bool busy = s.buffer().received_pos() > 0 || s.client() != nullptr;
            if (s.state() != pool::server_state::unlinked && (!active_only || busy)) {
                data_row_writer row{out};
                server_row(row, s, true);
                buffer_columns(row, s.buffer());
                row.finish();
            }
        }
    }
    done(out);
}

void show_fds(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 15> names{
        "fd",        "task",     "user",     "database",         "addr",
        "port",      "cancel",   "link",     "client_encoding",  "std_strings",
        "datestyle", "timezone", "password", "scram_client_key", "scram_server_key"};
    header(out, names, "issssiqisssssbb");
    auto nulls = [](data_row_writer& row, int n) {
        for (int i = 0; i < n; ++i) {
            row.null();
        }
    };
    for (auto* w : p.all_workers()) {
        for (auto& c : w->clients()) {
            if (!c.logged_in()) {
                continue;
            }
            auto [addr, port] = c.peer_address();
            data_row_writer row{out};
            row.number(const_cast<client_session&>(c).transport().native_handle());
            row.text("client");
            row.text(c.user());
            row.text(c.database());
            row.text(addr);
            row.number(port);
            row.number(0);
            row.number(c.server() != nullptr
                           ? const_cast<server_connection*>(c.server())->transport().native_handle()
                           : 0);
            nulls(row, 7);  // no session state is handed over; passwords never leave
            row.finish();
        }
    }
    for (auto* w : p.all_workers()) {
        for (auto& s : w->servers()) {
            if (s.state() == pool::server_state::unlinked) {
                continue;
            }
            auto& sc = const_cast<server_connection&>(s);
            auto [addr, port] = s.peer_address();
            data_row_writer row{out};
            row.number(sc.transport().native_handle());
            row.text("server");
            row.text(sc.pool().user());
            row.text(sc.pool().database());
            row.text(addr);
            row.number(port);
            row.number(static_cast<std::int64_t>(
                (static_cast<std::uint64_t>(static_cast<std::uint32_t>(s.backend_key().pid))
                 << 32) |
                static_cast<std::uint32_t>(s.backend_key().secret)));
            row.number(s.client() != nullptr ? s.client()->transport().native_handle() : 0);
            nulls(row, 7);
            row.finish();
        }
    }
    done(out);
}

}  // namespace sabakan::admin::detail

// SHOW DATABASES, USERS and CONFIG: what the configuration says, with live counts.
#include "listing.hpp"

#include <sabakan/session/client_session.hpp>
#include <sabakan/session/server_connection.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace sabakan::admin::detail {

struct db_usage {
    std::uint64_t servers = 0;
    std::uint64_t clients = 0;
};

std::map<std::string, db_usage> usage_by_database(pooler& p) {
    std::map<std::string, db_usage> u;
    for (auto* w : p.all_workers()) {
        for (const auto& [key, pool] : w->pools()) {
            u[key.first].servers += pool->server_count();
            u[key.first].clients += pool->client_count();
        }
    }
    return u;
}

void show_databases(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 17> names{"name",
                                                            "host",
                                                            "port",
                                                            "database",
                                                            "force_user",
                                                            "pool_size",
                                                            "min_pool_size",
                                                            "reserve_pool_size",
                                                            "server_lifetime",
                                                            "pool_mode",
                                                            "load_balance_hosts",
                                                            "max_connections",
                                                            "current_connections",
                                                            "max_client_connections",
                                                            "current_client_connections",
                                                            "paused",
                                                            "disabled"};
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
            for (auto* w : p.all_workers()) {
                for (const auto& c : w->clients()) {
                    admins += c.is_admin() && c.logged_in() ? 1 : 0;
                }
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
    static constexpr std::array<std::string_view, 8> names{"name",
                                                           "pool_size",
                                                           "reserve_pool_size",
                                                           "pool_mode",
                                                           "max_user_connections",
                                                           "current_connections",
                                                           "max_user_client_connections",
                                                           "current_client_connections"};
    header(out, names, "ssssiiii");
    std::set<std::string> users;
    for (const auto& [name, secret] : p.users().secrets) {
        users.insert(name);
    }
    for (const auto& u : p.cfg().users) {
        users.insert(u.name);
    }
    std::map<std::string, std::uint64_t> servers;
    for (auto* w : p.all_workers()) {
        for (const auto& [key, pool] : w->pools()) {
            users.insert(key.second);
            servers[key.second] += pool->server_count();
        }
    }
    std::map<std::string, std::uint64_t> clients;
    for (auto* w : p.all_workers()) {
        for (const auto& c : w->clients()) {
            if (c.logged_in()) {
                users.insert(c.user());
                ++clients[c.user()];
            }
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
    static constexpr std::array<std::string_view, 4> names{"key", "value", "default", "changeable"};
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

}  // namespace sabakan::admin::detail

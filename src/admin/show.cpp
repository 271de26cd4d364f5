// The SHOW commands by name. Column names, order and types follow PgBouncer 1.25 exactly,
// so tools that read its console column by column read sabakan's; a column with no meaning
// here keeps its place and holds PgBouncer's neutral value (0, or NULL for text).
#include "show.hpp"

#include "listing.hpp"

#include <sabakan/admin/command.hpp>

#include <functional>
#include <optional>
#include <utility>

namespace sabakan::admin::detail {
namespace {

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

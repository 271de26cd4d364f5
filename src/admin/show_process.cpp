// SHOW LISTS, MEM, PEERS, PEER_POOLS, STATE, VERSION and HELP: the process as a whole.
#include "listing.hpp"

#include <sabakan/session/client_session.hpp>
#include <sabakan/session/server_connection.hpp>

#include <fmt/format.h>

#include <sabakan/core/version.hpp>

#include <set>
#include <tuple>

namespace sabakan::admin::detail {

void show_lists(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 2> names{"list", "items"};
    header(out, names, "si");
    std::uint64_t used_clients = 0;
    std::uint64_t login_clients = 0;
    for (auto* w : p.all_workers()) {
        for (const auto& c : w->clients()) {
            (c.logged_in() ? used_clients : login_clients) += 1;
        }
    }
    std::uint64_t used_servers = 0;
    for (auto* w : p.all_workers()) {
        for (const auto& s : w->servers()) {
            used_servers += s.state() != pool::server_state::unlinked ? 1 : 0;
        }
    }
    std::set<std::string> users;
    for (const auto& [name, secret] : p.users().secrets) {
        users.insert(name);
    }
    std::set<std::pair<std::string, std::string>> pools;  // one per pair, however many workers
    for (auto* w : p.all_workers()) {
        for (const auto& [key, pool] : w->pools()) {
            users.insert(key.second);
            pools.insert(key);
        }
    }
    const std::pair<std::string_view, std::uint64_t> rows[] = {
        {"databases", p.database_names().size() + 1},  // + the console's "pgbouncer"
        {"users", users.size()},
        {"peers", p.cfg().peers.size()},
        {"pools", pools.size() + 1},
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
    std::uint64_t buffers = 0;  // idle clients give theirs back (client_session::park)
    for (auto* w : p.all_workers()) {
        for (const auto& c : w->clients()) {
            ++clients;
            buffers += c.buffer().holds_memory() ? 1 : 0;
        }
    }
    std::uint64_t servers = 0;
    std::uint64_t pools = 0;
    std::uint64_t server_statements = 0;
    for (auto* w : p.all_workers()) {
        for (const auto& s : w->servers()) {
            ++servers;
            buffers += s.buffer().holds_memory() ? 1 : 0;
            server_statements += s.statements().size();
        }
        pools += w->pools().size();
    }
    const std::uint64_t buffer =
        static_cast<std::uint64_t>(p.settings().pkt_buf < 4096 ? 4096 : p.settings().pkt_buf);
    // PgBouncer's rows, in its order, filled with sabakan's own object classes. Each object
    // is allocated whole and freed when done (no free lists), so free is 0 and memtotal is
    // size * used; classes sabakan does not have (peers, cached credentials, tracked
    // variables) show 0. A prepared statement's query text is not counted in its size.
    const std::tuple<std::string_view, std::uint64_t, std::uint64_t> rows[] = {
        {"user_cache", sizeof(std::string) * 2, p.users().secrets.size()},
        {"credentials_cache", 0, 0},
        {"db_cache", sizeof(config::database_entry), p.cfg().databases.size()},
        {"peer_cache", sizeof(config::peer_entry), p.cfg().peers.size()},
        {"peer_pool_cache", 0, 0},
        {"pool_cache", sizeof(session::backend_pool), pools},
        {"outstanding_request_cache", 0, 0},
        {"server_cache", sizeof(server_connection), servers},
        {"client_cache", sizeof(client_session), clients},
        {"iobuf_cache", buffer, buffers},
        {"var_list_cache", 0, 0},
        // An LRU entry: the id in a list node and in a hash node.
        {"server_prepared_statement_cache", sizeof(relay::statement_id) * 4, server_statements},
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

void show_peers(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 4> names{"peer_id", "host", "port", "pool_size"};
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
        "peer_id", "cl_active_cancel_req", "cl_waiting_cancel_req", "sv_active_cancel", "sv_login"};
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

}  // namespace sabakan::admin::detail

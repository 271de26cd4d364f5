// SHOW STATS, STATS_TOTALS, STATS_AVERAGES and TOTALS: the traffic counters per database,
// as totals and as averages over the last stats_period.
#include "listing.hpp"

#include <sabakan/session/client_session.hpp>
#include <sabakan/session/server_connection.hpp>

#include <fmt/format.h>

namespace sabakan::admin::detail {

void show_stats(pooler& p, byte_buffer& out) {
    static constexpr std::array<std::string_view, 25> names{"database",
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
        "database",           "server_assignment_count",
        "xact_count",         "query_count",
        "bytes_received",     "bytes_sent",
        "xact_time",          "query_time",
        "wait_time",          "client_parse_count",
        "server_parse_count", "bind_count",
        "client_login_count"};
    static constexpr std::array<std::string_view, 13> average_names{"database",
                                                                    "server_assignment_count",
                                                                    "xact_count",
                                                                    "query_count",
                                                                    "bytes_received",
                                                                    "bytes_sent",
                                                                    "xact_time",
                                                                    "query_time",
                                                                    "wait_time",
                                                                    "avg_client_parse_count",
                                                                    "avg_server_parse_count",
                                                                    "avg_bind_count",
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

}  // namespace sabakan::admin::detail

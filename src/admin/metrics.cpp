// The exposition is built from the console's own listings, read back from the bytes the
// console would send: the endpoint and SHOW can never disagree, and a column added to a
// listing needs one line here to become a metric.
#include <sabakan/admin/metrics.hpp>
#include <sabakan/protocol/result_reader.hpp>

#include "listing.hpp"

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <span>

namespace sabakan::admin {
namespace {

enum class kind { gauge, counter };

/// One numeric column of a listing, shown as one metric with the listing's labels.
struct column_metric {
    std::string_view column;
    std::string_view name;
    kind type;
    double divisor;  // 1e6: the listing counts microseconds, Prometheus wants seconds
    std::string_view help;
};

constexpr double micro = 1e6;

constexpr column_metric database_metrics[] = {
    {"pool_size", "pgbouncer_databases_pool_size", kind::gauge, 1,
     "Server connections the pool of each user may open to this database"},
    {"reserve_pool_size", "pgbouncer_databases_reserve_pool", kind::gauge, 1,
     "Extra server connections a pool may open when clients wait too long"},
    {"max_connections", "pgbouncer_databases_max_connections", kind::gauge, 1,
     "Limit on server connections to this database over all users (0: none)"},
    {"current_connections", "pgbouncer_databases_current_connections", kind::gauge, 1,
     "Server connections open to this database"},
    {"paused", "pgbouncer_databases_paused", kind::gauge, 1, "1 while the database is paused"},
    {"disabled", "pgbouncer_databases_disabled", kind::gauge, 1,
     "1 while the database refuses new clients"},
};

constexpr column_metric stats_metrics[] = {
    {"query_count", "pgbouncer_stats_queries_pooled_total", kind::counter, 1,
     "Queries run through the pooler"},
    {"query_time", "pgbouncer_stats_queries_duration_seconds_total", kind::counter, micro,
     "Time servers spent running queries"},
    {"bytes_received", "pgbouncer_stats_received_bytes_total", kind::counter, 1,
     "Bytes received from clients"},
    {"bytes_sent", "pgbouncer_stats_sent_bytes_total", kind::counter, 1, "Bytes sent to clients"},
    {"wait_time", "pgbouncer_stats_client_wait_seconds_total", kind::counter, micro,
     "Time clients spent waiting for a server"},
    {"xact_count", "pgbouncer_stats_sql_transactions_pooled_total", kind::counter, 1,
     "Transactions run through the pooler"},
    {"xact_time", "pgbouncer_stats_server_in_transaction_seconds_total", kind::counter, micro,
     "Time servers spent inside transactions, running or idle"},
    {"client_parse_count", "pgbouncer_stats_client_parses_total", kind::counter, 1,
     "Parse messages received from clients"},
    {"server_parse_count", "pgbouncer_stats_server_parses_total", kind::counter, 1,
     "Parse messages sent to servers"},
    {"bind_count", "pgbouncer_stats_binds_total", kind::counter, 1,
     "Bind messages received from clients"},
};

constexpr column_metric pool_metrics[] = {
    {"cl_active", "pgbouncer_pools_client_active_connections", kind::gauge, 1,
     "Clients linked to a server or idle between transactions"},
    {"cl_waiting", "pgbouncer_pools_client_waiting_connections", kind::gauge, 1,
     "Clients waiting for a server"},
    {"cl_active_cancel_req", "pgbouncer_pools_client_active_cancel_connections", kind::gauge, 1,
     "Clients whose cancel request was forwarded and is awaiting the server"},
    {"cl_waiting_cancel_req", "pgbouncer_pools_client_waiting_cancel_connections", kind::gauge, 1,
     "Clients whose cancel request waits to be forwarded"},
    {"sv_active", "pgbouncer_pools_server_active_connections", kind::gauge, 1,
     "Servers linked to a client"},
    {"sv_active_cancel", "pgbouncer_pools_server_active_cancel_connections", kind::gauge, 1,
     "Connections forwarding a cancel request to the server"},
    {"sv_being_canceled", "pgbouncer_pools_server_being_canceled_connections", kind::gauge, 1,
     "Servers held back until the cancel requests aimed at them finish"},
    {"sv_idle", "pgbouncer_pools_server_idle_connections", kind::gauge, 1,
     "Servers idle and ready for a client"},
    {"sv_used", "pgbouncer_pools_server_used_connections", kind::gauge, 1,
     "Servers idle long enough to need server_check_query before use"},
    {"sv_tested", "pgbouncer_pools_server_testing_connections", kind::gauge, 1,
     "Servers running server_reset_query or server_check_query"},
    {"sv_login", "pgbouncer_pools_server_login_connections", kind::gauge, 1, "Servers logging in"},
};

/// SHOW LISTS rows, by the row's name.
constexpr column_metric list_metrics[] = {
    {"databases", "pgbouncer_databases", kind::gauge, 1, "Databases known to the pooler"},
    {"users", "pgbouncer_users", kind::gauge, 1, "Users known to the pooler"},
    {"pools", "pgbouncer_pools", kind::gauge, 1, "Pools, one per database and user"},
    {"free_clients", "pgbouncer_free_clients", kind::gauge, 1, "Client slots kept for reuse"},
    {"used_clients", "pgbouncer_used_clients", kind::gauge, 1, "Clients connected"},
    {"login_clients", "pgbouncer_login_clients", kind::gauge, 1, "Clients logging in"},
    {"free_servers", "pgbouncer_free_servers", kind::gauge, 1, "Server slots kept for reuse"},
    {"used_servers", "pgbouncer_used_servers", kind::gauge, 1, "Server connections open"},
    {"dns_names", "pgbouncer_cached_dns_names", kind::gauge, 1, "Host names in the DNS cache"},
    {"dns_zones", "pgbouncer_cached_dns_zones", kind::gauge, 1, "DNS zones in the cache"},
    {"dns_queries", "pgbouncer_in_flight_dns_queries", kind::gauge, 1, "DNS lookups running"},
};

/// SHOW CONFIG rows, by key.
constexpr column_metric config_metrics[] = {
    {"max_client_conn", "pgbouncer_config_max_client_connections", kind::gauge, 1,
     "The max_client_conn setting"},
    {"max_user_connections", "pgbouncer_config_max_user_connections", kind::gauge, 1,
     "The max_user_connections setting"},
};

std::optional<double> number(const std::optional<std::string>& text) {
    if (!text) {
        return std::nullopt;
    }
    double v = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc{} || end != text->data() + text->size()) {
        return std::nullopt;
    }
    return v;
}

/// A label value with backslash, double quote and newline escaped, as the format asks.
void append_label_value(std::string& out, std::string_view v) {
    for (char c : v) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
}

class exposition {
public:
    void family(const column_metric& m) {
        fmt::format_to(std::back_inserter(text_), "# HELP {} {}\n# TYPE {} {}\n", m.name, m.help,
                       m.name, m.type == kind::counter ? "counter" : "gauge");
    }

    /// One sample: `labels` names the label columns of `row` in `table`.
    void sample(std::string_view name, const protocol::result_table& table,
                std::span<const std::string_view> labels,
                const std::vector<std::optional<std::string>>& row, double value) {
        text_ += name;
        if (!labels.empty()) {
            char sep = '{';
            for (auto label : labels) {
                const int i = table.column(label);
                text_ += sep;
                text_ += label;
                text_ += "=\"";
                if (i >= 0 && row[static_cast<std::size_t>(i)]) {
                    append_label_value(text_, *row[static_cast<std::size_t>(i)]);
                }
                text_ += '"';
                sep = ',';
            }
            text_ += '}';
        }
        fmt::format_to(std::back_inserter(text_), " {}\n", value);
    }

    /// A metric per column, a sample per row.
    void columns(const protocol::result_table& table, std::span<const column_metric> metrics,
                 std::span<const std::string_view> labels) {
        for (const auto& m : metrics) {
            const int i = table.column(m.column);
            if (i < 0) {
                continue;
            }
            family(m);
            for (const auto& row : table.rows) {
                if (auto v = number(row[static_cast<std::size_t>(i)])) {
                    sample(m.name, table, labels, row, *v / m.divisor);
                }
            }
        }
    }

    /// A metric per row: `key_column` names it, `value_column` holds its value.
    void rows(const protocol::result_table& table, std::span<const column_metric> metrics,
              std::string_view key_column, std::string_view value_column) {
        const int key = table.column(key_column);
        const int value = table.column(value_column);
        if (key < 0 || value < 0) {
            return;
        }
        for (const auto& m : metrics) {
            for (const auto& row : table.rows) {
                if (row[static_cast<std::size_t>(key)] != m.column) {
                    continue;
                }
                if (auto v = number(row[static_cast<std::size_t>(value)])) {
                    family(m);
                    sample(m.name, table, {}, row, *v / m.divisor);
                }
                break;
            }
        }
    }

    std::string& text() { return text_; }

private:
    std::string text_;
};

template <typename Show>
protocol::result_table listing(Show show) {
    protocol::byte_buffer out;
    show(out);
    // The console wrote these bytes a moment ago; failing to read them is a bug.
    auto table = protocol::read_result_set(out);
    return table ? std::move(*table) : protocol::result_table{};
}

}  // namespace

std::string prometheus_metrics(session::pooler& p) {
    exposition e;
    e.text() +=
        "# HELP pgbouncer_up 1 when the pooler answered this scrape\n"
        "# TYPE pgbouncer_up gauge\npgbouncer_up 1\n";
    fmt::format_to(std::back_inserter(e.text()),
                   "# HELP pgbouncer_version_info The pooler's version\n"
                   "# TYPE pgbouncer_version_info gauge\n"
                   "pgbouncer_version_info{{version=\"sabakan {}\"}} 1\n",
                   SABAKAN_VERSION);

    static constexpr std::string_view database_labels[] = {"name",     "host",       "port",
                                                           "database", "force_user", "pool_mode"};
    e.columns(listing([&](auto& out) { detail::show_databases(p, out); }), database_metrics,
              database_labels);

    static constexpr std::string_view stats_labels[] = {"database"};
    e.columns(listing([&](auto& out) { detail::show_stats_part(p, out, false); }), stats_metrics,
              stats_labels);

    static constexpr std::string_view pool_labels[] = {"database", "user"};
    auto pools = listing([&](auto& out) { detail::show_pools(p, out); });
    e.columns(pools, pool_metrics, pool_labels);
    // The oldest waiter's age, whole seconds and microseconds joined into one figure.
    const int wait_s = pools.column("maxwait");
    const int wait_us = pools.column("maxwait_us");
    if (wait_s >= 0 && wait_us >= 0) {
        static constexpr column_metric maxwait{"maxwait", "pgbouncer_pools_client_maxwait_seconds",
                                               kind::gauge, 1,
                                               "How long the oldest waiting client has waited"};
        e.family(maxwait);
        for (const auto& row : pools.rows) {
            auto s = number(row[static_cast<std::size_t>(wait_s)]);
            auto us = number(row[static_cast<std::size_t>(wait_us)]);
            if (s && us) {
                e.sample(maxwait.name, pools, pool_labels, row, *s + *us / micro);
            }
        }
    }

    e.rows(listing([&](auto& out) { detail::show_lists(p, out); }), list_metrics, "list", "items");
    e.rows(listing([&](auto& out) { detail::show_config(p, out); }), config_metrics, "key",
           "value");
    return std::move(e.text());
}

}  // namespace sabakan::admin

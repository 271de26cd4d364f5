// [databases], [users] and [peers] lines. Keys are matched exactly (PgBouncer compares them
// case-sensitively) and numbers are plain decimal, as PgBouncer reads them with atoi; unlike
// atoi, trailing junk is an error rather than silently dropped.
#include "entries.hpp"

#include "connection_string.hpp"
#include "unsupported.hpp"
#include "values.hpp"

#include <fmt/format.h>

#include <array>
#include <climits>
#include <span>
#include <variant>

namespace sabakan::config::detail {
namespace {

constexpr std::string_view load_balance_names[] = {"round-robin", "disable"};

template <class Entry>
struct param_spec {
    std::string_view name;
    std::variant<std::string Entry::*, int Entry::*, std::optional<pool_mode> Entry::*,
                 std::optional<duration> Entry::*>
        target;
    long long min = -1;  // PgBouncer's docs: -1 means "not set" for these per-entry numbers
    long long max = INT_MAX;
    std::span<const std::string_view> choices = {};
    // PgBouncer's loader starts these at 0 and treats 0 as "use the [pgbouncer] value".
    bool zero_is_unset = false;
};

using db = database_entry;
constexpr param_spec<db> database_params[] = {
    {"dbname", &db::dbname},
    {"host", &db::host},
    {"port", &db::port, 1, 65535},
    {"user", &db::user},
    {"password", &db::password},
    {"auth_user", &db::auth_user},
    {"auth_query", &db::auth_query},
    {"auth_dbname", &db::auth_dbname},
    {"pool_size", &db::pool_size},
    {"min_pool_size", &db::min_pool_size},
    {"reserve_pool_size", &db::reserve_pool_size},
    {"reserve_pool", &db::reserve_pool_size},  // the older spelling, still accepted
    {"connect_query", &db::connect_query},
    {"pool_mode", &db::mode},
    {"query_wait_timeout", &db::query_wait_timeout},
    {"load_balance_hosts", &db::load_balance_hosts, -1, INT_MAX, load_balance_names},
    {"max_db_connections", &db::max_db_connections},
    {"max_db_client_connections", &db::max_db_client_connections},
    {"server_lifetime", &db::server_lifetime, -1, INT_MAX, {}, true},
    {"client_encoding", &db::client_encoding},
    {"datestyle", &db::datestyle},
    {"timezone", &db::timezone},
    {"application_name", &db::application_name},
};

using us = user_entry;
constexpr param_spec<us> user_params[] = {
    {"pool_mode", &us::mode},
    {"pool_size", &us::pool_size},
    {"reserve_pool_size", &us::reserve_pool_size},
    {"max_user_connections", &us::max_user_connections},
    {"max_user_client_connections", &us::max_user_client_connections},
    {"query_timeout", &us::query_timeout},
    {"query_wait_timeout", &us::query_wait_timeout},
    {"idle_transaction_timeout", &us::idle_transaction_timeout},
    {"transaction_timeout", &us::transaction_timeout},
    {"client_idle_timeout", &us::client_idle_timeout, -1, INT_MAX, {}, true},
};

using pe = peer_entry;
constexpr param_spec<pe> peer_params[] = {
    {"host", &pe::host},
    {"port", &pe::port, 1, 65535},
    {"pool_size", &pe::pool_size},
};

template <class Spec>
std::string read_param(const Spec& k, std::string& out, std::string_view v) {
    if (k.choices.empty()) {
        out = v;
        return {};
    }
    if (auto c = match_choice(v, k.choices)) {
        out = *c;
        return {};
    }
    return fmt::format("{} must be {}, got '{}'", k.name, one_of(k.choices), v);
}

template <class Spec>
std::string read_param(const Spec& k, int& out, std::string_view v) {
    const auto n = parse_decimal(v, k.min, k.max);
    if (!n && k.min == -1) {
        return fmt::format("{} must be a whole number, 0 or more (-1: not set), got '{}'", k.name,
                           v);
    }
    if (!n) {
        return fmt::format("{} must be a whole number from {} to {}, got '{}'", k.name, k.min,
                           k.max, v);
    }
    if (*n != -1) {
        out = static_cast<int>(*n);
    }
    return {};
}

template <class Spec>
std::string read_param(const Spec& k, std::optional<pool_mode>& out, std::string_view v) {
    out = parse_pool_mode(v);
    if (!out) {
        return fmt::format("{} must be {}, got '{}'", k.name, one_of(pool_mode_names), v);
    }
    return {};
}

template <class Spec>
std::string read_param(const Spec& k, std::optional<duration>& out, std::string_view v) {
    if (v == "-1") {
        out.reset();
        return {};
    }
    out = parse_seconds(v);
    if (!out) {
        return fmt::format(
            "{} must be seconds as a plain number such as 30 or 0.5 (no unit; -1: "
            "not set), got '{}'",
            k.name, v);
    }
    if (k.zero_is_unset && *out == duration::zero()) {
        out.reset();
    }
    return {};
}

template <class Entry, std::size_t N>
bool read_params(const ini_item& item, const param_spec<Entry> (&specs)[N],
                 std::string_view section, Entry& out, std::vector<diagnostic>& diags) {
    const auto report = [&](std::string message) {
        diags.push_back({item.file, item.line, item.name, std::move(message)});
    };
    std::vector<conn_param> params;
    if (std::string error = split_connection_string(item.value, params); !error.empty()) {
        report(std::move(error));
        return false;
    }
    std::array<std::string_view, N> names;
    for (std::size_t i = 0; i < N; ++i) {
        names[i] = specs[i].name;
    }
    bool ok = true;
    for (const conn_param& p : params) {
        const param_spec<Entry>* spec = nullptr;
        for (const param_spec<Entry>& s : specs) {
            if (s.name == p.key) {
                spec = &s;
                break;
            }
        }
        std::string error;
        if (spec == nullptr) {
            const std::string hint = did_you_mean(p.key, names);
            error = hint.empty() ? fmt::format("unknown parameter '{}'; {} entries take {}", p.key,
                                               section, one_of(names))
                                 : fmt::format("unknown parameter '{}'; {}", p.key, hint);
        } else {
            error = std::visit([&](auto target) { return read_param(*spec, out.*target, p.value); },
                               spec->target);
        }
        if (!error.empty()) {
            report(std::move(error));
            ok = false;
        }
    }
    return ok;
}

}  // namespace

bool read_database(const ini_item& item, database_entry& out, std::vector<diagnostic>& diags) {
    out.name = item.name;
    out.file = item.file;
    out.line = item.line;
    bool ok = true;
    // PgBouncer's docs: the admin console owns this name.
    if (item.name == "pgbouncer") {
        diags.push_back({item.file, item.line, item.name,
                         "this name is reserved for the admin console; give the database "
                         "another name (dbname=pgbouncer can still point at it)"});
        ok = false;
    }
    if (!read_params(item, database_params, "[databases]", out, diags)) {
        return false;
    }
    if (std::string why = unsupported_database(out); !why.empty()) {
        diags.push_back({item.file, item.line, item.name, std::move(why)});
        ok = false;
    }
    return ok;
}

bool read_user(const ini_item& item, user_entry& out, std::vector<diagnostic>& diags) {
    out.name = item.name;
    out.file = item.file;
    out.line = item.line;
    return read_params(item, user_params, "[users]", out, diags);
}

bool read_peer(const ini_item& item, peer_entry& out, std::vector<diagnostic>& diags) {
    out.file = item.file;
    out.line = item.line;
    bool ok = true;
    // PgBouncer's loader accepts 1..65535 here (strtonum), decimal only.
    if (const auto id = parse_decimal(item.name, 1, 65535)) {
        out.peer_id = static_cast<int>(*id);
    } else {
        diags.push_back({item.file, item.line, item.name,
                         "a [peers] key is a peer_id, a whole number from 1 to 65535"});
        ok = false;
    }
    if (!read_params(item, peer_params, "[peers]", out, diags)) {
        return false;
    }
    if (out.host.empty()) {
        diags.push_back({item.file, item.line, item.name,
                         "host is missing; a peer needs host=<name, address or /socket/dir>"});
        ok = false;
    }
    // Read first, so that a typo is reported as one; an entry that reads well is refused.
    if (ok) {
        diags.push_back({item.file, item.line, item.name,
                         "peering ([peers] and peer_id) is not supported yet, so cancel requests "
                         "could not reach other processes; remove the [peers] entries"});
    }
    return false;
}

}  // namespace sabakan::config::detail

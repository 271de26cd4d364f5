// What every SHOW listing is made of: the header, the closing tag, and PgBouncer's way of
// printing times, pointers and unset text.
#pragma once

#include <sabakan/config/config.hpp>
#include <sabakan/protocol/result_set.hpp>
#include <sabakan/session/pooler.hpp>

#include <array>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace sabakan::admin::detail {

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

/// The CommandComplete every SHOW ends with.
void done(byte_buffer& out);
/// A time as PgBouncer prints it: "2026-11-22 10:16:52 UTC".
std::string timestamp(std::time_t t);
/// An object's address as PgBouncer prints it (0x55...), empty for none.
std::string pointer(const void* p);
/// NULL for an empty value, as PgBouncer shows unset text.
void text_or_null(data_row_writer& row, std::string_view v);
std::int64_t seconds(config::duration d);

// The listings, one function each; show.cpp picks one by name.
void show_stats(pooler& p, byte_buffer& out);
void show_stats_part(pooler& p, byte_buffer& out, bool averages);
void show_totals(pooler& p, byte_buffer& out);
void show_pools(pooler& p, byte_buffer& out);
void show_clients(pooler& p, byte_buffer& out);
void show_servers(pooler& p, byte_buffer& out);
void show_sockets(pooler& p, byte_buffer& out, bool active_only);
void show_fds(pooler& p, byte_buffer& out);
void show_databases(pooler& p, byte_buffer& out);
void show_users(pooler& p, byte_buffer& out);
void show_config(pooler& p, byte_buffer& out);
void show_lists(pooler& p, byte_buffer& out);
void show_mem(pooler& p, byte_buffer& out);
void show_peers(pooler& p, byte_buffer& out);
void show_peer_pools(byte_buffer& out);
void show_state(pooler& p, byte_buffer& out);
void show_version(byte_buffer& out);
void show_help(byte_buffer& out);
void show_empty(byte_buffer& out, std::string_view a, std::string_view b, std::string_view c,
                std::string_view types);

}  // namespace sabakan::admin::detail

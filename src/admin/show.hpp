// SHOW commands: each appends PgBouncer's columns, in PgBouncer's order and types, and one
// row per object, then CommandComplete "SHOW".
#pragma once

#include <sabakan/protocol/message_writer.hpp>
#include <sabakan/session/pooler.hpp>

#include <string_view>

namespace sabakan::admin::detail {

/// Appends the answer to `SHOW <what>`; false when `what` is no SHOW subcommand sabakan
/// knows (the caller then reports an invalid command).
bool show(session::pooler& p, std::string_view what, protocol::byte_buffer& out);

}  // namespace sabakan::admin::detail

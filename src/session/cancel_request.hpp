// Carrying out a client's CancelRequest (cancel_request.cpp says how).
#pragma once

#include <sabakan/net/asio.hpp>
#include <sabakan/protocol/startup.hpp>

#include <cstdint>

namespace sabakan::session {

class pooler;

/// Cancels the query of the client `key` names, on whichever worker holds it: PostgreSQL
/// gets a CancelRequest for that client's server, bounded by cancel_wait_timeout.
/// `requester` names the cancelling connection in the log. Nothing happens for a key
/// nobody holds, or a client with no query running.
net::awaitable<void> forward_cancel(pooler& owner, protocol::cancel_key key,
                                    std::uint64_t requester);

}  // namespace sabakan::session

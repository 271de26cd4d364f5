// Accounting of requests in flight between a client and its server.
#include <sabakan/protocol/tags.hpp>
#include <sabakan/session/server_connection.hpp>

namespace sabakan::session {

using protocol::frontend_tag;

void link_state::on_client_message(char tag) noexcept {
    used = true;
    switch (static_cast<frontend_tag>(tag)) {
    // Each of these is answered by exactly one ReadyForQuery (protocol-flow.html).
    case frontend_tag::query:
    case frontend_tag::sync:
    case frontend_tag::function_call:
        ++rfq_pending;
        ext_unsynced = false;
        break;
    // COPY sub-protocol messages belong to a Query or Execute already counted.
    case frontend_tag::copy_data:
    case frontend_tag::copy_done:
    case frontend_tag::copy_fail:
        break;
    // Parse/Bind/Describe/Execute/Close/Flush and anything unknown: the server answers
    // them only up to the next Sync, so the link must hold until that Sync is answered.
    default:
        ext_unsynced = true;
        break;
    }
}

void link_state::on_ready_for_query(char status_byte) noexcept {
    if (rfq_pending > 0) {
        --rfq_pending;
    }
    status = status_byte;
}

}  // namespace sabakan::session

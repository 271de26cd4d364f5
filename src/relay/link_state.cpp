// Accounting of requests in flight between a client and its server.
#include <sabakan/protocol/tags.hpp>
#include <sabakan/relay/link_state.hpp>

namespace sabakan::relay {

using protocol::backend_tag;
using protocol::frontend_tag;

void link_state::on_client_message(char tag) noexcept {
    used = true;
    switch (static_cast<frontend_tag>(tag)) {
        // Each of these is answered by exactly one ReadyForQuery (protocol-flow.html).
        case frontend_tag::query:
            ++rfq_pending;
            ext_unsynced = false;
            execute_last = false;
            syncs_after_execute = 0;
            break;
        case frontend_tag::function_call:
            ++rfq_pending;
            ext_unsynced = false;
            break;
        case frontend_tag::sync:
            client_copy = false;  // a client may end a failed extended COPY with Sync alone
            if (copy_in) {
                break;  // ignored by the server in copy-in mode: no ReadyForQuery for it
            }
            ++rfq_pending;
            ext_unsynced = false;
            ++syncs_after_execute;
            break;
        // COPY sub-protocol messages belong to a Query or Execute already counted.
        case frontend_tag::copy_data:
            break;
        case frontend_tag::copy_done:
        case frontend_tag::copy_fail:
            copy_in = false;
            client_copy = false;
            break;
        case frontend_tag::flush:
            if (!copy_in) {
                ext_unsynced = true;
            }
            break;
        case frontend_tag::execute:
            ext_unsynced = true;
            execute_last = true;
            syncs_after_execute = 0;
            break;
        // Parse/Bind/Describe/Close and anything unknown: the server answers them only up to
        // the next Sync, so the link must hold until that Sync is answered.
        default:
            ext_unsynced = true;
            break;
    }
}

void link_state::on_ready_for_query(char status_byte) noexcept {
    if (rfq_pending > 0) {
        --rfq_pending;
        ++ready_seen;
    }
    status = static_cast<protocol::transaction_status>(status_byte);
}

void link_state::on_server_message(char tag) noexcept {
    switch (static_cast<backend_tag>(tag)) {
        case backend_tag::copy_in_response:
            // The server reads every message after the COPY's Query or Execute in copy-in mode,
            // and there it ignores Sync (protocol-flow.html#PROTOCOL-FLOW-COPY; libpq sends a
            // Sync right after Execute, not knowing the statement is a COPY). So those Syncs
            // will get no ReadyForQuery. A COPY run by Execute still owes one: the client
            // sends another Sync after CopyDone or CopyFail.
            copy_in = true;
            // The client streams CopyData until it sends CopyDone or CopyFail (or Sync), even
            // when the server has already failed the COPY and said ReadyForQuery (libpq reads
            // nothing while in copy-in), so the link holds until then.
            client_copy = true;
            if (execute_last) {
                rfq_pending -=
                    syncs_after_execute < rfq_pending ? syncs_after_execute : rfq_pending;
                ext_unsynced = true;
            }
            syncs_after_execute = 0;
            break;
        case backend_tag::error_response:
            // An error ends copy-in mode on the server's side; later Syncs count again.
            copy_in = false;
            break;
        default:
            break;
    }
}

}  // namespace sabakan::relay

// The release rule's bookkeeping: what one client has asked of the server it holds that the
// server has not finished answering. Pure data fed message tags, no I/O.
#pragma once

#include <sabakan/protocol/tags.hpp>

#include <cstdint>

namespace sabakan::relay {

/// What the client side has sent that the server has not finished answering.
/// Pure data, so the release rule is one table-testable function.
struct link_state {
    int rfq_pending = 0;        // Query/Sync/FunctionCall forwarded, ReadyForQuery not yet seen
    bool ext_unsynced = false;  // extended-protocol messages forwarded since the last Sync
    protocol::transaction_status status = protocol::transaction_status::idle;  // the last RFQ's
    bool used = false;             // the client has sent anything on this link
    bool copy_in = false;          // the server is in copy-in mode: it ignores Sync and Flush
    bool execute_last = false;     // the latest Query/Execute forwarded was an Execute
    int syncs_after_execute = 0;   // Syncs forwarded since that Query/Execute
    bool client_copy = false;      // CopyInResponse sent; no CopyDone/CopyFail/Sync since
    bool client_busy = false;      // a client write is in flight or stopped inside a message
    std::uint64_t ready_seen = 0;  // ReadyForQuery messages that answered a counted request

    /// The epoch of a request sent now: how many ReadyForQuery come before its answer.
    std::uint64_t next_epoch() const noexcept {
        return ready_seen + static_cast<std::uint64_t>(rfq_pending);
    }

    /// Accounts for one message the client forwards to the server.
    void on_client_message(char tag) noexcept;
    /// Accounts for a ReadyForQuery from the server.
    void on_ready_for_query(char status_byte) noexcept;
    /// Accounts for any other message from the server (only CopyInResponse and
    /// ErrorResponse matter).
    void on_server_message(char tag) noexcept;
    /// The server owes the client nothing, holds no transaction open, and the client is not
    /// halfway through sending something: the server may go to another client.
    bool clean() const noexcept {
        return status == protocol::transaction_status::idle && rfq_pending == 0 && !ext_unsynced &&
               !client_copy && !client_busy;
    }
};

}  // namespace sabakan::relay

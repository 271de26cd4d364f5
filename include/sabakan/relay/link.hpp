// The relay core of one server connection: what the client it is lent to has asked, what
// the server still owes, the server's statement cache and session parameters, and what
// becomes of each message the server sends. No sockets and no Asio: the server's pump
// scans a message, calls on_server_message(), and does what the verdict says; the buffer
// edits (a reply dropped, a tag changed) are made here, in place.
// Owned by: the server connection, on its worker; never touched from another thread.
#pragma once

#include <sabakan/config/config.hpp>
#include <sabakan/protocol/frame_scanner.hpp>
#include <sabakan/relay/link_state.hpp>
#include <sabakan/relay/prepared_statements.hpp>
#include <sabakan/relay/recv_buffer.hpp>
#include <sabakan/relay/session_params.hpp>
#include <sabakan/stats/counters.hpp>

#include <cstdint>
#include <vector>

namespace sabakan::relay {

/// What the server's pump does after on_server_message().
enum class server_verdict : std::uint8_t {
    pass,   // forwarded as it is, or dropped or retagged in the buffer: scan on
    ready,  // a ReadyForQuery (statistics count it): scan on
    free,   // a ReadyForQuery after which the server owes the client nothing and holds no
            // transaction (transaction and statement mode): stop scanning, anything after
            // it belongs to no client
    refuse_transaction,  // statement mode, and the client opened a transaction block
};

/// When the running query and the open transaction began (steady-clock µs, 0: none):
/// for the statistics and the sweep's query and transaction timeouts.
struct link_times {
    std::int64_t query_started_us = 0;
    std::int64_t xact_started_us = 0;
    std::int64_t last_ready_us = 0;  // the last ReadyForQuery (kept across clients)
};

/// Why link::scan() stopped.
enum class server_stop : std::uint8_t {
    need_more,           // everything received is scanned: forward it, then read on
    free,                // the server is free after a ReadyForQuery; anything after it in
                         // the buffer belongs to no client
    refuse_transaction,  // statement mode, and the client opened a transaction block
    bad_length,          // a length word out of range: the stream is out of sync
};

/// The side of a client the link updates as the server answers it.
struct client_view {
    client_statements* statements = nullptr;  // its statement names (tracking links only)
    parameter_overrides* parameters = nullptr;
};

class link {
public:
    explicit link(const tracked_parameters& tracked) noexcept : tracked_(&tracked) {}

    /// Lent to a client. `tracks_statements`: its named statements are renamed to shared
    /// server-side ones (transaction and statement mode, max_prepared_statements > 0).
    void attach(client_view client, bool tracks_statements);
    /// The client is gone, or the server went back to the pool.
    void detach() noexcept { client_ = {}; }

    const link_state& state() const noexcept { return state_; }
    /// The client side is writing, or stopped inside a message: the server must stay.
    void set_client_busy(bool busy) noexcept { state_.client_busy = busy; }
    bool tracks_statements() const noexcept { return tracks_statements_; }

    /// Accounts for one message the client side forwards. True when it is answered by a
    /// ReadyForQuery of its own (Query, Sync, FunctionCall): a new epoch starts.
    bool on_client_message(char tag) noexcept {
        if (times_.query_started_us == 0) {
            times_.query_started_us = stats::now_us();
            if (times_.xact_started_us == 0) {
                times_.xact_started_us = times_.query_started_us;
            }
        }
        const int pending = state_.rfq_pending;
        state_.on_client_message(tag);
        if (state_.rfq_pending == pending) {
            return false;
        }
        replies_.note_sync_point();
        return true;
    }
    link_times& times() noexcept { return times_; }
    const link_times& times() const noexcept { return times_; }

    /// Scans what the server sent, in `buf` from where the last call stopped, while linked:
    /// each message through on_server_message(), each ReadyForQuery counted into `st`.
    server_stop scan(recv_buffer& buf, protocol::frame_scanner& sc, config::pool_mode mode,
                     stats::counters& st);

    /// A message from the server, scanned and advanced past in `buf`, while linked. Replies
    /// to statements sabakan renamed are dropped or retagged in `buf` as the reply tracker
    /// says; ParameterStatus updates both sides' tracked values; ReadyForQuery decides
    /// whether the server is free. `mode` is read per call: a RELOAD may change it.
    server_verdict on_server_message(const protocol::scan_result& r, recv_buffer& buf,
                                     config::pool_mode mode);

    /// A ParameterStatus body from the server, linked or not: the server's tracked value
    /// (and its client's, if any) follows. Returns the tracked index, or -1.
    int note_parameter(protocol::bytes_view body);

    // ---- the server's statements, kept across clients ----
    server_statements& cache() noexcept { return cache_; }
    const server_statements& cache() const noexcept { return cache_; }
    reply_tracker& replies() noexcept { return replies_; }
    /// The epoch of a request the client side sends now.
    std::uint64_t next_epoch() const noexcept { return state_.next_epoch(); }
    /// The first CommandComplete of epoch `epoch` is sabakan's, not the client's: dropped.
    void drop_command_complete(std::uint64_t epoch) { drop_complete_in_.push_back(epoch); }

    /// The server's tracked session parameters that differ from its pool's defaults.
    parameter_overrides& parameters() noexcept { return parameters_; }
    const parameter_overrides& parameters() const noexcept { return parameters_; }

private:
    /// Statistics for a ReadyForQuery that on_server_message() reported (ready, free or
    /// refuse_transaction) at steady-clock µs `now`: query and transaction counts and times.
    void count_ready_for_query(stats::counters& st, std::int64_t now) noexcept;
    void on_statement_reply(std::size_t length, recv_buffer& buf);
    /// An entry whose request the server skipped or failed: the caches forget what it
    /// would have done.
    void forget_unanswered(const pending_reply& p);
    /// The client's name that entry would have taken is free again.
    void forget_name(const pending_reply& p);

    const tracked_parameters* tracked_;
    client_view client_;
    link_state state_;
    link_times times_;
    reply_tracker replies_;
    std::vector<std::uint64_t> drop_complete_in_;  // epochs, oldest first
    server_statements cache_;
    parameter_overrides parameters_;
    bool tracks_statements_ = false;
};

}  // namespace sabakan::relay

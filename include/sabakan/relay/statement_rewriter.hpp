// The client side of named prepared statements on a transaction-mode link: the client's
// Parse, Bind, Describe and Close (and a simple-query DEALLOCATE) are rewritten to shared
// server-side names, and the replies the client did not ask for are announced to the
// link's reply tracker. No I/O: the client's pump scans, hands each message here, and sends
// out() (when not empty) instead of the receive buffer's scanned bytes.
// Owned by: one client session, on its worker; never touched from another thread.
#pragma once

#include <sabakan/protocol/bytes.hpp>
#include <sabakan/protocol/frame_scanner.hpp>
#include <sabakan/protocol/message_writer.hpp>
#include <sabakan/relay/link.hpp>
#include <sabakan/relay/prepared_statements.hpp>
#include <sabakan/relay/recv_buffer.hpp>
#include <sabakan/stats/counters.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sabakan::relay {

/// What a rewrite reads of the worker around it; the limits are read per message, so a
/// RELOAD applies to the next one.
struct rewrite_context {
    statement_registry& registry;
    std::size_t server_cache;  // max_prepared_statements
    std::size_t client_names;  // max_client_prepared_statements
    stats::counters& stats;    // the pool's
    std::uint64_t client_id;   // for log lines
};

/// Why a client message ends the link. The server side tells the client (an ErrorResponse
/// after what the server still owes it) and closes.
struct refusal {
    std::string_view sqlstate;
    std::string message;
    std::string hint;
};

class statement_rewriter {
public:
    /// Whether the scanned `r` goes to take() on a tracking link: a Parse, Bind, Describe
    /// or Close, or a whole Query (a DEALLOCATE, or SQL naming the reserved prefix). While
    /// gathering(), every piece goes to take().
    bool wants(const protocol::scan_result& r) const noexcept;
    /// Consumes `r` from `buf`: passed as it is, or rewritten into out() together with the
    /// scanned bytes before it. A message longer than the buffer is gathered first;
    /// `at_boundary` says whether `r` ends it. False when the client is refused: refused()
    /// says why, and nothing more of it may be forwarded.
    bool take(const protocol::scan_result& r, recv_buffer& buf, bool at_boundary, link& l,
              const rewrite_context& ctx);
    /// Bytes to send next, in place of `buf.to_send()`: rewritten messages and what was
    /// scanned before and after them. Cleared by the caller once sent.
    protocol::byte_buffer& out() noexcept { return out_; }
    /// Moves the scanned bytes not yet sent into out(), so that they keep their order.
    void take_pending(recv_buffer& buf);
    /// Inside a message gathered whole before it can be rewritten.
    bool gathering() const noexcept { return spilling_; }
    /// After a refusal: nothing gathered or rewritten is sent.
    void drop_all() noexcept;
    const refusal& refused() const noexcept { return refusal_; }

    /// The client's names for its statements.
    client_statements& names() noexcept { return names_; }
    const client_statements& names() const noexcept { return names_; }

private:
    enum class outcome : std::uint8_t { as_is, rewritten, refused };
    /// What a whole Parse/Bind/Describe/Close/Query becomes; rewritten ones are in out_.
    outcome rewrite(protocol::bytes_view msg, recv_buffer& buf, link& l,
                    const rewrite_context& ctx);
    /// Makes sure the server has `s` prepared, adding a Parse (and the Close of the
    /// statement it displaces) to out_ when not.
    void prepare_on_server(const prepared_statement& s, link& l, const rewrite_context& ctx);
    /// Records `s` in the server's cache; a statement displaced is closed on the server.
    void make_room(const prepared_statement& s, link& l, const rewrite_context& ctx);
    /// SQL naming the reserved statement prefix (42939).
    void refuse_reserved_name(const rewrite_context& ctx);

    client_statements names_;
    protocol::byte_buffer out_;    // rewritten messages and what preceded them, to send next
    protocol::byte_buffer spill_;  // a Parse/Bind/Describe/Close longer than the buffer
    bool spilling_ = false;
    refusal refusal_;
};

}  // namespace sabakan::relay

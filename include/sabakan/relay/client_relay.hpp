// The client's direction of a link: what the client sent, scanned message by message,
// accounted to the link of the server it holds, statement messages rewritten, and what is
// to be written to the server. No I/O: the client's pump reads into the buffer, calls
// scan(), gets a server when asked to, writes output() to the server and reports sent().
// Owned by: one client session, on its worker; never touched from another thread.
#pragma once

#include <sabakan/protocol/bytes.hpp>
#include <sabakan/protocol/frame_scanner.hpp>
#include <sabakan/relay/link.hpp>
#include <sabakan/relay/recv_buffer.hpp>
#include <sabakan/relay/statement_rewriter.hpp>

#include <cstdint>

namespace sabakan::relay {

/// Why scan() stopped.
enum class client_stop : std::uint8_t {
    need_more,    // everything received is scanned: write output(), then read on
    terminate,    // the next message is a Terminate (not consumed)
    need_server,  // a message starts and no server is linked: link one, then scan again
    refused,      // a statement message was refused: refused() says why; nothing more of
                  // the client's may reach the server
    bad_length,   // a length word out of range: the stream is out of sync
    lost_server,  // inside a message whose start went to a server that is gone
};

class client_relay {
public:
    /// Scans `buf` from where the last call stopped. `server` is the link of the server
    /// the client holds, or nullptr.
    client_stop scan(recv_buffer& buf, protocol::frame_scanner& sc, link* server,
                     const rewrite_context& ctx);
    /// The bytes to write to the server now (maybe none): messages rewritten with what
    /// was scanned around them, or else the buffer's scanned slice. While there are any,
    /// or a message is only partly scanned, the server must stay with this client.
    protocol::bytes_view output(recv_buffer& buf, link& server);
    /// output() has been written whole. (After a failed write the link ends: the pump
    /// does not call this, so the server stays marked busy and is closed, not reused.)
    void sent(recv_buffer& buf, link& server, bool at_boundary);
    /// After a refusal: nothing gathered or rewritten is sent.
    void drop_all() noexcept { rewriter_.drop_all(); }
    const refusal& refused() const noexcept { return rewriter_.refused(); }

    /// The client's names for its statements.
    client_statements& names() noexcept { return rewriter_.names(); }
    const client_statements& names() const noexcept { return rewriter_.names(); }

private:
    statement_rewriter rewriter_;
};

}  // namespace sabakan::relay

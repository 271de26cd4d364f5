// The client's direction of a link, message by message.
#include <sabakan/protocol/tags.hpp>
#include <sabakan/relay/client_relay.hpp>

namespace sabakan::relay {

using protocol::scan_status;

client_stop client_relay::scan(recv_buffer& buf, protocol::frame_scanner& sc, link* server,
                               const rewrite_context& ctx) {
    for (;;) {
        if (sc.at_boundary()) {
            const auto in = buf.unparsed();
            if (in.size() < protocol::frame_scanner::header_size) {
                return client_stop::need_more;
            }
            if (static_cast<protocol::frontend_tag>(in[0]) == protocol::frontend_tag::terminate) {
                return client_stop::terminate;
            }
            if (server == nullptr) {
                return client_stop::need_server;
            }
        } else if (server == nullptr) {
            // The release rule keeps a server until the message it got the start of is
            // whole; never write the rest through a null link.
            return client_stop::lost_server;
        }
        const auto r = sc.next(buf.unparsed());
        if (r.status == scan_status::need_more) {
            return client_stop::need_more;
        }
        if (r.status == scan_status::bad_length) {
            return client_stop::bad_length;
        }
        if (r.status == scan_status::message) {
            server->on_client_message(r.tag);
        }
        // A Query longer than the buffer is no DEALLOCATE: it goes as it is, unread (and
        // so unchecked for the reserved prefix: buffering it whole would let one client
        // hold max_packet_size of memory).
        if (rewriter_.gathering() || (server->tracks_statements() && rewriter_.wants(r))) {
            if (!rewriter_.take(r, buf, sc.at_boundary(), *server, ctx)) {
                return client_stop::refused;
            }
            continue;
        }
        buf.advance(r.consumed());
    }
}

protocol::bytes_view client_relay::output(recv_buffer& buf, link& server) {
    auto& out = rewriter_.out();
    if (!out.empty()) {
        // Rewritten statement messages: what is scanned after them goes along, in order.
        rewriter_.take_pending(buf);
    }
    if (rewriter_.gathering()) {
        server.set_client_busy(true);  // inside a message gathered whole
    }
    const protocol::bytes_view data = out.empty() ? buf.to_send() : protocol::bytes_view(out);
    if (!data.empty()) {
        // While bytes are on their way, or a message is only partly sent, the server must
        // not go to another client even if it has answered everything so far.
        server.set_client_busy(true);
    }
    return data;
}

void client_relay::sent(recv_buffer& buf, link& server, bool at_boundary) {
    buf.mark_sent();
    rewriter_.out().clear();
    server.set_client_busy(!at_boundary);
}

}  // namespace sabakan::relay

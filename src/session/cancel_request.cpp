// A cancel request from a client (CancelRequest, protocol.html#PROTOCOL-FLOW-CANCELING-REQUESTS):
// the key names a client, and PostgreSQL gets a cancel for the server that client holds, on
// a connection of its own.
#include "cancel_request.hpp"

#include <sabakan/core/log.hpp>
#include <sabakan/protocol/messages.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/pooler.hpp>
#include <sabakan/session/server_connection.hpp>
#include <sabakan/session/worker_group.hpp>

#include <array>
#include <memory>

namespace sabakan::session {

namespace asio = net::asio;
using net::error_code;

namespace {

/// Sends the cancel on `owner`, the worker that gave the key out.
net::awaitable<void> send_cancel(pooler& owner, protocol::cancel_key key, std::uint64_t requester) {
    client_session* target = owner.find_client(key);
    if (target == nullptr || target->server() == nullptr || target->server()->closed()) {
        co_return;  // nothing running for that key: nothing to cancel
    }
    auto server = target->server()->shared_from_this();
    // The socket and the flag are shared with the deadline's handler, which may run after
    // this task has ended (both completed in the same turn of the event loop).
    auto sock = std::make_shared<net::stream_socket>(owner.io());
    auto timed_out = std::make_shared<bool>(false);
    net::stream_socket& s = *sock;
    // cancel_wait_timeout bounds the whole cancel (connect, send, PostgreSQL's close), so a
    // hung server cannot pile up cancel connections. Off (0) it is still bounded, by 10 s:
    // the server waits for the cancel before it serves anyone else.
    net::steady_timer deadline(owner.io());
    const auto limit = owner.settings().cancel_wait_timeout;
    deadline.expires_after(limit > config::duration::zero() ? limit : config::duration(10'000'000));
    deadline.async_wait([sock, timed_out](const error_code& e) {
        if (!e) {
            *timed_out = true;
            error_code ignored;
            sock->close(ignored);
        }
    });
    error_code ec;
    co_await s.async_connect(server->endpoint(), asio::redirect_error(net::use_awaitable, ec));
    if (ec) {
        log::warning("C-{}: could not connect to send a cancel request: {}", requester,
                     ec.message());
        co_return;
    }
    // While connecting, the query may have ended and the server gone to another client,
    // whose query must not be cancelled instead.
    target = owner.find_client(key);
    if (target == nullptr || target->server() != server.get()) {
        co_return;
    }
    // From here until PostgreSQL has taken the request, the server is not lent to anyone
    // else: the cancel would hit that client's query.
    // Ended below, not by a destructor: a frame destroyed at exit must not touch the pool.
    server->begin_cancel();
    protocol::byte_buffer out;
    protocol::append_cancel_request(out, server->backend_key());
    co_await asio::async_write(s, asio::buffer(out), asio::redirect_error(net::use_awaitable, ec));
    // PostgreSQL closes the connection once it has signalled the backend.
    std::array<char, 1> sink{};
    co_await s.async_read_some(asio::buffer(sink), asio::redirect_error(net::use_awaitable, ec));
    server->end_cancel();
    if (*timed_out) {
        log::warning(
            "C-{}: cancel request given up after cancel_wait_timeout: the server did not "
            "finish it in time",
            requester);
    }
}

}  // namespace

net::awaitable<void> forward_cancel(pooler& owner, protocol::cancel_key key,
                                    std::uint64_t requester) {
    if (const int w = owner.worker_of(key); w != owner.worker_index()) {
        // The key's client lives on another worker: the cancel is carried out there.
        pooler& other = owner.group()->worker(w);
        co_await asio::co_spawn(other.io(), send_cancel(other, key, requester), net::use_awaitable);
        co_return;
    }
    co_await send_cancel(owner, key, requester);
}

}  // namespace sabakan::session

// A logged-in client's pump: the forwarding loop, and its wait for a server. The loop is
// flat (no nested awaitables per message) and copies nothing: scanned bytes go from the
// receive buffer straight to the server's transport, as relay::client_relay says.
#include <sabakan/core/log.hpp>
#include <sabakan/net/transport.hpp>
#include <sabakan/protocol/sqlstate.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/pooler.hpp>
#include <sabakan/session/server_connection.hpp>

namespace sabakan::session {

namespace asio = net::asio;
using net::error_code;
namespace sqlstate = protocol::sqlstate;

void client_session::wake(pool::server_slot* slot) {
    if (slot != nullptr) {
        wait_ = wait_answer::served;
        link_to(slot);
    } else {
        // Kept until wait_failed() reports it (a later login may clear the pool's copy).
        close_reason_ = pool_->last_error();
        wait_ = wait_answer::refused;
    }
    wait_timer_.cancel();
}

void client_session::link_to(pool::server_slot* slot) {
    auto* server = static_cast<server_connection*>(slot);
    ++pool_->stats().server_assignment_count;
    server_ = server->shared_from_this();
    server_->attach(shared_from_this());
}

void client_session::wait_timed_out() {
    if (wait_ == wait_answer::none) {
        wait_timer_.cancel();  // end_wait() finds it not woken: query_wait_timeout
    }
}

relay::rewrite_context client_session::rewrite_context() {
    const auto& s = owner_.settings();
    return {owner_.statements(), static_cast<std::size_t>(s.max_prepared_statements),
            static_cast<std::size_t>(s.max_client_prepared_statements), pool_->stats(), who_.id};
}

bool client_session::try_acquire() {
    wait_ = wait_answer::none;
    request_time_ = std::time(nullptr);
    if (auto* slot = pool_->acquire(*this)) {
        link_to(slot);
        return true;
    }
    if (wait_ == wait_answer::refused) {
        // Refused on the spot (server_login_retry): the wait that follows ends at once.
        wait_ = wait_answer::refused_at_once;
        wait_timer_.expires_at(net::steady_timer::time_point::min());
        return false;
    }
    // The timer never fires: it is what wake() and the sweep's query_wait_timeout
    // (wait_timed_out) cancel. With every queued client's timer at the same far end,
    // queueing and waking cost no reordering of the timer heap and no timerfd update,
    // which a real deadline per wait did (a sixth of the instructions at 500 clients).
    wait_timer_.expires_at(net::steady_timer::time_point::max());
    return false;
}

client_session::wait_result client_session::end_wait() {
    if (closing()) {
        return wait_result::client_gone;  // e.g. the server was lost and said so already
    }
    if (wait_ == wait_answer::none) {
        pool_->cancel_wait(*this);
        return wait_result::timed_out;
    }
    if (!server_) {
        return wait_result::login_failed;
    }
    if (left_while_waiting()) {
        // Nobody waits for the answer to the queued request any more, so it must not run
        // now; and the server was just handed over clean, so it goes straight back to the
        // pool instead of being closed as a link with a request in flight.
        log::debug("C-{}: client left while waiting for a server", who_.id);
        set_phase(client_phase::closing);
        auto s = server_;
        s->client_gone();
        return wait_result::client_gone;
    }
    pool_->stats().wait_time += static_cast<std::uint64_t>(stats::now_us() - wait_started_us);
    return wait_result::served;
}

net::awaitable<void> client_session::no_such_database() {
    co_await fatal(sqlstate::invalid_catalog_name,
                   fmt::format("no such database: {}", who_.database),
                   "add it to [databases] in the pooler's config, or add a \"*\" entry");
}

net::awaitable<void> client_session::wait_failed(wait_result r) {
    switch (r) {
        case wait_result::timed_out:
            co_await fatal(sqlstate::protocol_violation, "query_wait_timeout",
                           "no server connection became free in time: raise pool_size or "
                           "query_wait_timeout, or look for long transactions");
            break;
        case wait_result::login_failed: {
            // A named string, not a conditional temporary in the co_await: GCC 12 destroys
            // such a temporary before the coroutine resumes.
            std::string message = wait_ == wait_answer::refused_at_once
                                      ? fmt::format(
                                            "server login has been failing, cached error: {} "
                                            "(server_login_retry)",
                                            close_reason_)
                                      : fmt::format("server login failed: {}", close_reason_);
            co_await fatal(sqlstate::connection_failure, message,
                           "check that PostgreSQL is running and the [databases] entry's host, "
                           "port, user and password");
            break;
        }
        case wait_result::served:
        case wait_result::client_gone:
            break;
    }
}

bool client_session::left_while_waiting() {
    // The forwarding loop does not read while it waits for a server, so a hang-up shows
    // only now. Read what is there without waiting; the bytes stay queued for forwarding.
    for (;;) {
        auto space = buf_.free_space();
        if (space.empty()) {
            return false;
        }
        bool broken = false;
        const auto n = transport_.read_now(space, broken);
        if (n > 0) {
            buf_.commit(static_cast<std::size_t>(n));
            continue;
        }
        return n == 0 || broken;
    }
}

net::awaitable<bool> client_session::forward() {
    for (;;) {
        auto stop =
            relay_.scan(buf_, scanner_, server_ ? &server_->link() : nullptr, rewrite_context());
        while (stop == relay::client_stop::need_server) {
            // The first message of a transaction: borrow a server for it. A header with an
            // impossible length is refused first, while no server is linked and so the
            // client can still be sent an ErrorResponse.
            if (!scanner_.header_ok(buf_.unparsed())) {
                co_await fatal(sqlstate::protocol_violation, "invalid message length",
                               "the client sent a malformed or oversized message (see "
                               "max_packet_size)");
                co_return false;
            }
            // SHUTDOWN WAIT_FOR_SERVERS: transactions under way finish, no new one starts
            // (waiting would last as long as the longest of them).
            if (owner_.shutting_down() == shutdown_mode::wait_for_servers) {
                co_await fatal(sqlstate::admin_shutdown, "server shutting down",
                               "the pooler is stopping; connect again in a moment (to the new "
                               "process, after a restart)");
                co_return false;
            }
            // The wait is inlined, not a nested coroutine, so that queueing for a server
            // allocates no coroutine frame.
            if (!try_acquire()) {
                error_code ec;
                co_await wait_timer_.async_wait(asio::redirect_error(net::use_awaitable, ec));
                if (auto w = end_wait(); w != wait_result::served) {
                    co_await wait_failed(w);
                    co_return false;
                }
            }
            // A server whose session parameters differ from what this client expects
            // (another client's SET, or this one's) is brought in line first. Both sides
            // keep only values off the pool's defaults, so mostly there is nothing to
            // compare.
            if (!parameters_.empty() || !server_->parameters().empty()) {
                std::uint32_t synced = 0;
                auto sql = relay::parameter_sync_query(owner_.tracked(), pool_->server_params(),
                                                       parameters_, server_->parameters(), synced);
                if (!sql.empty()) {
                    server_->start_parameter_sync(std::move(sql), synced);
                    wait_timer_.expires_at(net::steady_timer::time_point::max());
                    error_code ec;
                    co_await wait_timer_.async_wait(asio::redirect_error(net::use_awaitable, ec));
                    if (closing() || !server_) {
                        co_return false;  // the server side told the client why
                    }
                    if (!server_->sync_error().empty()) {
                        const std::string_view state = server_->sync_sqlstate().empty()
                                                           ? sqlstate::protocol_violation
                                                           : server_->sync_sqlstate();
                        co_await fatal(
                            state,
                            fmt::format("invalid session parameter: {}", server_->sync_error()),
                            "fix the parameter in the application's connection "
                            "settings");
                        co_return false;
                    }
                }
            }
            stop = relay_.scan(buf_, scanner_, &server_->link(), rewrite_context());
        }
        switch (stop) {
            case relay::client_stop::lost_server:
                log::error("C-{}: lost its server in the middle of a message; closing", who_.id);
                co_return false;
            case relay::client_stop::bad_length:
                // Linked: the server side may be writing to the client at this moment, so no
                // ErrorResponse can be slipped in. The bad bytes are never forwarded.
                log::warning("C-{}: invalid message length from client; closing", who_.id);
                close_reason_ = "invalid message length";
                co_return false;
            case relay::client_stop::refused: {
                // The server side tells the client why and closes it; until then what the
                // client sends is dropped.
                const auto& why = relay_.refused();
                server_->close_for_client(why.sqlstate, why.message, why.hint);
                relay_.drop_all();
                for (;;) {
                    buf_.advance(buf_.unparsed().size());
                    buf_.mark_sent();
                    error_code ec;
                    auto space = buf_.free_space();
                    auto n = co_await transport_.async_read_some(
                        space, asio::redirect_error(net::use_awaitable, ec));
                    if (ec || n == 0 || closing()) {
                        co_return false;
                    }
                    buf_.commit(n);
                }
            }
            default:
                break;
        }
        if (server_) {
            const protocol::bytes_view data = relay_.output(buf_, server_->link());
            if (!data.empty()) {
                error_code ec;
                auto& to = server_->transport();
                const auto done = to.write_now(data, ec);
                if (!ec && done < data.size()) {
                    co_await to.async_write(data.subspan(done),
                                            asio::redirect_error(net::use_awaitable, ec));
                }
                if (ec || closing()) {
                    co_return false;  // the server side reports the loss to the client
                }
                relay_.sent(buf_, server_->link(), scanner_.at_boundary());
                server_->release_if_done();
            }
        }
        const bool terminate = stop == relay::client_stop::terminate;
        if (terminate || closing()) {
            co_return false;
        }
        if (owner_.suspended()) {
            co_await owner_.wait_while_suspended();  // SUSPEND: no new reads
        }
        error_code ec;
        auto space = buf_.free_space();
        reading_ = true;
        auto n = co_await transport_.async_read_some(space,
                                                     asio::redirect_error(net::use_awaitable, ec));
        reading_ = false;
        if (phase_ == client_phase::parking) {
            set_phase(client_phase::forwarding);
            if (ec == asio::error::operation_aborted && !closing()) {
                co_return true;  // park(): the frames end here, a plain handler waits
            }
        }
        if (ec || n == 0 || closing()) {
            co_return false;
        }
        buf_.commit(n);
        pool_->stats().client_bytes += n;
        if (owner_.suspended()) {
            co_await owner_.wait_while_suspended();  // SUSPEND: act only after RESUME
            if (closing()) {
                co_return false;  // killed meanwhile: what it sent must not run
            }
        }
    }
}

}  // namespace sabakan::session

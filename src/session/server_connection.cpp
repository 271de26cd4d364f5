// Server side of a link: logs in (server_login), then forwards the server's bytes to the
// linked client out of the receive buffer (the pump), reading only what the relay link
// needs to decide when the server goes back to the pool.
#include <sabakan/core/log.hpp>
#include <sabakan/net/transport.hpp>
#include <sabakan/protocol/extended.hpp>
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/sqlstate.hpp>
#include <sabakan/relay/scanners.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/pooler.hpp>
#include <sabakan/session/server_connection.hpp>

#include "address.hpp"
#include "buffer_size.hpp"
#include "server_login.hpp"
#include "task_failure.hpp"

namespace sabakan::session {

namespace asio = net::asio;
using net::error_code;
using protocol::backend_tag;
using protocol::scan_status;

server_connection::server_connection(pooler& owner, backend_pool& pool)
    : owner_(owner),
      pool_(pool),
      transport_(owner.io()),
      buf_(buffer_size(owner.settings())),
      scanner_(relay::server_scanner(buf_.capacity())),
      link_(owner.tracked()),
      id_(owner.next_connection_id()),
      connect_time_(std::time(nullptr)) {
    owner.add(*this);
}

std::pair<std::string, int> server_connection::local_address() const {
    return detail::local_end(transport_.socket());
}

std::pair<std::string, int> server_connection::peer_address() const {
    auto a = detail::split_endpoint(endpoint_);
    if (a.first == "unix") {
        a.second = pool_.target().port;
    }
    return a;
}

server_connection::~server_connection() = default;

void server_connection::start() {
    asio::co_spawn(
        owner_.io(), [self = shared_from_this()] { return self->run(); },
        log_task_failure{"server connection"});
}

void server_connection::attach(std::shared_ptr<client_session> c) {
    client_ = std::move(c);
    link_.attach({&client_->statements(), &client_->parameters()},
                 pool_.settings().mode != config::pool_mode::session &&
                     owner_.settings().max_prepared_statements > 0);
    request_time_ = std::time(nullptr);
}

void server_connection::detach() {
    if (client_) {
        client_->note_idle_since(link_.times().last_ready_us);
        client_->detach_server();
        forget_client();
    }
}

void server_connection::release() {
    detach();
    return_to_pool();
}

void server_connection::return_to_pool() {
    if (cancels_in_flight_ > 0) {
        held_for_cancel_ = true;  // end_cancel() returns it
        return;
    }
    if (auto out = pool_.release(*this); pool::must_close(out)) {
        close(pool::to_string(out));
    }
}

void server_connection::end_cancel() {
    --cancels_in_flight_;
    if (cancels_in_flight_ == 0 && held_for_cancel_) {
        held_for_cancel_ = false;
        if (!closed_) {
            return_to_pool();
        }
    }
}

void server_connection::close_for_client(std::string_view sqlstate, std::string_view reason,
                                         std::string_view hint) {
    client_sqlstate_ = std::string(sqlstate);
    client_hint_ = std::string(hint);
    close(reason);
}

void server_connection::close(std::string_view reason) {
    if (closed_) {
        return;
    }
    closed_ = true;
    close_reason_ = std::string(reason);
    transport_.close();
}

void server_connection::client_gone() {
    if (writing_to_client_) {
        // The forward loop is writing to the client's socket; it decides once that write
        // completes, so the client object stays alive until then.
        client_->detach_server();
        client_left_ = true;
        return;
    }
    client_->detach_server();
    forget_client();
    after_client_left();
}

void server_connection::after_client_left() {
    if (closed_ || running_ == own_query::parameters) {
        return;  // a parameter sync's answer is still coming: it returns the server then
    }
    if (!link_.state().clean()) {
        close("client disconnected with a transaction or request open");
        return;
    }
    if (buf_.has_unparsed()) {
        close("server sent data after ReadyForQuery");
        return;
    }
    const auto& s = owner_.settings();
    bool reset = link_.state().used && (pool_.settings().mode == config::pool_mode::session ||
                                        s.server_reset_query_always);
    if (reset && !s.server_reset_query.empty()) {
        running_ = own_query::reset;
        asio::co_spawn(
            owner_.io(),
            [self = shared_from_this(), sql = s.server_reset_query] {
                return self->send_own_query(sql);
            },
            asio::detached);
        return;
    }
    return_to_pool();
}

void server_connection::start_check() {
    // "<empty>" is PgBouncer's way of saying: an empty query, the cheapest round trip.
    const std::string& q = owner_.settings().server_check_query;
    running_ = own_query::check;
    asio::co_spawn(
        owner_.io(),
        [self = shared_from_this(), sql = q == "<empty>" ? std::string() : q] {
            return self->send_own_query(sql);
        },
        asio::detached);
}

void server_connection::start_parameter_sync(std::string sql, std::uint32_t synced) {
    running_ = own_query::parameters;
    sync_.start(synced);
    asio::co_spawn(
        owner_.io(),
        [self = shared_from_this(), sql = std::move(sql)] { return self->send_own_query(sql); },
        asio::detached);
}

bool server_connection::consume_parameter_sync() {
    for (;;) {
        auto r = scanner_.next(buf_.unparsed());
        if (r.status == scan_status::need_more) {
            return true;
        }
        if (r.status == scan_status::bad_length) {
            close("server sent a message with a bad length");
            return false;
        }
        buf_.advance(r.consumed());
        buf_.discard_parsed();
        if (r.status != scan_status::message || !r.whole) {
            continue;
        }
        const auto step = sync_.on_message(r.tag, r.body(), link_);
        if (step == relay::parameter_sync::step::more) {
            continue;
        }
        running_ = own_query::none;
        if (step == relay::parameter_sync::step::busy || buf_.has_unparsed()) {
            close("setting the client's session parameters left the server busy");
            return false;
        }
        if (!client_) {
            return_to_pool();  // the client left meanwhile
            return !closed_;
        }
        if (sync_.error().empty()) {
            sync_.apply(link_, client_->parameters(), pool_.server_params(), owner_.tracked());
        }
        // On an error the client reads it (sync_error()) and ends.
        client_->parameters_synced();
        return true;
    }
}

net::awaitable<void> server_connection::send_own_query(std::string sql) {
    protocol::byte_buffer out;
    protocol::append_query(out, sql);
    error_code ec;
    co_await transport_.async_write(out, asio::redirect_error(net::use_awaitable, ec));
    if (ec) {
        close(running_ == own_query::check        ? "could not send server_check_query"
              : running_ == own_query::parameters ? "could not send the session parameters"
                                                  : "could not send server_reset_query");
    }
}

std::string server_connection::server_address() const {
    const server_target& t = pool_.target();
    return t.host.empty() || t.host.front() == '/' ? fmt::format("unix:{}", t.port)
                                                   : fmt::format("{}:{}", t.host, t.port);
}

void server_connection::fail_login(std::string message, pool::login_failure why) {
    if (timed_out_) {
        why = pool::login_failure::unreachable;
        message = fmt::format(
            "server_connect_timeout ({} s) reached while connecting and "
            "logging in",
            owner_.settings().server_connect_timeout.count() / 1000000.0);
    }
    log::warning("S-{}: {}/{}@{} login failed: {}", id_, pool_.database(), pool_.user(),
                 server_address(), message);
    closed_ = true;
    transport_.close();
    pool_.login_failed(*this, std::move(message), why);
}

net::awaitable<void> server_connection::run() {
    // server_connect_timeout bounds connect and login together, so a blackholed host or
    // a stuck login never holds a pool slot (and its waiting clients) for long.
    net::steady_timer deadline(owner_.io());
    auto limit = owner_.settings().server_connect_timeout;
    if (limit > config::duration::zero()) {
        deadline.expires_after(limit);
        deadline.async_wait([weak = weak_from_this()](const error_code& ec) {
            auto self = weak.lock();
            if (!ec && self && !self->logged_in_) {
                self->timed_out_ = true;
                self->transport_.close();
            }
        });
    }
    server_login login(owner_, pool_.target(), transport_, buf_, scanner_, endpoint_, timed_out_,
                       closed_);
    bool ok = co_await login.connect();  // one co_await per statement (GCC 12)
    if (ok) {
        ok = co_await login.log_in();
    }
    deadline.cancel();
    if (!ok) {
        fail_login(login.failure(), login.failure_kind());
        co_return;
    }
    key_ = login.backend_key();
    if (!pool_.has_server_params()) {
        pool_.set_server_params(std::move(login.server_params()));
    }
    logged_in_ = true;
    if (owner_.settings().log_connections) {
        const auto [local, local_port] = detail::local_end(transport_.socket());
        log::info("S-{}: {}/{}@{} new connection to server (from {}:{})", id_, pool_.database(),
                  pool_.user(), server_address(), local, local_port);
    }
    if (auto out = pool_.login_done(*this); pool::must_close(out)) {
        close(pool::to_string(out));
    }
    co_await serve();
}

net::awaitable<void> server_connection::serve() {
    co_await forward();
    if (moving_to_ >= 0) {
        finish_move();
        co_return;
    }

    // The read loop ended: the socket is closed or broken.
    closed_ = true;
    transport_.close();
    if (client_) {
        auto client = client_;
        detach();
        if (!scanner_.at_boundary()) {
            // The client has part of a message (rows were streaming): it can only be told
            // by the connection closing.
            client->abort(close_reason_.empty() ? "server closed the connection mid-message"
                                                : close_reason_);
        } else if (client_sqlstate_.empty()) {
            client->server_lost(close_reason_.empty() ? "server closed the connection unexpectedly"
                                                      : close_reason_);
        } else {
            client->end_with_error(client_sqlstate_, close_reason_, client_hint_);
        }
    }
    if (state() != pool::server_state::unlinked) {
        pool_.remove(*this);
    }
    if (owner_.settings().log_disconnections) {
        log::info("S-{}: {}/{}@{} closing because: {}", id_, pool_.database(), pool_.user(),
                  server_address(), close_reason_.empty() ? "server went away" : close_reason_);
    }
}

bool server_connection::consume_unlinked() {
    // No client: only the answer to server_reset_query, or harmless chatter, may arrive.
    for (;;) {
        auto r = scanner_.next(buf_.unparsed());
        if (r.status == scan_status::need_more) {
            break;
        }
        if (r.status == scan_status::bad_length) {
            close("server sent a message with a bad length");
            return false;
        }
        buf_.advance(r.consumed());
        buf_.discard_parsed();
        if (r.status != scan_status::message) {
            continue;
        }
        auto tag = static_cast<backend_tag>(r.tag);
        if (tag == backend_tag::parameter_status && r.whole) {
            link_.note_parameter(r.body());  // e.g. server_reset_query's RESET ALL
            continue;
        }
        if (running_ != own_query::none) {
            const bool check = running_ == own_query::check;
            if (tag == backend_tag::ready_for_query && r.whole) {
                running_ = own_query::none;
                const bool idle =
                    !r.body().empty() && static_cast<protocol::transaction_status>(r.body()[0]) ==
                                             protocol::transaction_status::idle;
                if (!idle || buf_.has_unparsed()) {
                    close(check ? "server_check_query left the server in a transaction"
                                : "server_reset_query left the server in a transaction");
                    return false;
                }
                if (!check) {
                    return_to_pool();
                } else if (auto out = pool_.check_done(*this); pool::must_close(out)) {
                    close(pool::to_string(out));
                }
                return !closed_;
            }
            if (tag == backend_tag::error_response) {
                // A reset that failed leaves state behind that the next client must not see;
                // a failed check means the server is not fit to serve.
                close(check ? "server_check_query failed" : "server_reset_query failed");
                return false;
            }
            if (tag == backend_tag::command_complete && r.whole &&
                protocol::drops_prepared_statements(r.body())) {
                link_.cache().clear();  // server_reset_query = DISCARD ALL
            }
            continue;  // CommandComplete, EmptyQueryResponse, notices
        }
        if (tag == backend_tag::parameter_status || tag == backend_tag::notice_response) {
            continue;
        }
        if (tag == backend_tag::error_response && r.whole) {
            protocol::error_fields f;
            protocol::decode_error(r.body(), f);
            close(fmt::format("idle server sent an error: {}", f.message));
        } else {
            close(
                fmt::format("idle server sent an unexpected {} message", protocol::to_string(tag)));
        }
        return false;
    }
    return true;
}

net::awaitable<void> server_connection::forward() {
    for (;;) {
        if (owner_.suspended()) {
            co_await owner_.wait_while_suspended();  // SUSPEND: no new reads
        }
        if (moving_to_ >= 0) {
            co_return;
        }
        error_code ec;
        auto space = buf_.free_space();
        auto n = co_await transport_.async_read_some(space,
                                                     asio::redirect_error(net::use_awaitable, ec));
        if (ec || n == 0 || moving_to_ >= 0) {
            if (n > 0) {
                buf_.commit(n);  // what it said while leaving stops the move
            }
            co_return;
        }
        buf_.commit(n);
        if (owner_.suspended()) {
            co_await owner_.wait_while_suspended();  // SUSPEND: act only after RESUME
            if (closed_) {
                co_return;
            }
        }
        if (running_ == own_query::parameters) {
            if (!consume_parameter_sync()) {
                co_return;
            }
            continue;
        }
        if (!client_) {
            if (!consume_unlinked()) {
                co_return;
            }
            continue;
        }
        pool_.stats().server_bytes += n;

        switch (link_.scan(buf_, scanner_, pool_.settings().mode, pool_.stats())) {
            case relay::server_stop::bad_length:
                close("server sent a message with a bad length");
                co_return;
            case relay::server_stop::refuse_transaction:
                close("transaction blocks not allowed in statement pooling mode");
                co_return;
            case relay::server_stop::need_more:
            case relay::server_stop::free:
                break;
        }

        if (!buf_.to_send().empty()) {
            auto data = buf_.to_send();
            auto& to = client_->transport();
            const auto done = to.write_now(data, ec);
            if (!ec && done < data.size()) {
                writing_to_client_ = true;
                co_await to.async_write(data.subspan(done),
                                        asio::redirect_error(net::use_awaitable, ec));
                writing_to_client_ = false;
            }
            buf_.mark_sent();
            if (client_left_) {
                client_left_ = false;
                forget_client();
                after_client_left();
                if (closed_) {
                    co_return;
                }
                continue;
            }
            // A failed write means the client is gone; its own read fails too and it
            // calls client_gone(), which decides what happens to this server.
        }
        release_if_done();
        if (closed_ || moving_to_ >= 0) {
            co_return;
        }
    }
}

void server_connection::release_if_done() {
    if (closed_ || !client_ || writing_to_client_ || !link_.state().used ||
        !link_.state().clean() || pool_.settings().mode == config::pool_mode::session) {
        return;
    }
    if (buf_.has_unparsed()) {
        close("server sent data after ReadyForQuery");
        return;
    }
    release();
}

}  // namespace sabakan::session

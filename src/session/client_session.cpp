// A client connection: its life cycle, the wait for a server, and the forwarding loop
// (the pump). The loop is flat (no nested awaitables per message) and copies nothing:
// scanned bytes go from the receive buffer straight to the server's transport. The login
// is client_login's, a cancel request cancel_request's.
#include <sabakan/core/assert.hpp>
#include <sabakan/core/log.hpp>
#include <sabakan/net/transport.hpp>
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/sqlstate.hpp>
#include <sabakan/relay/scanners.hpp>
#include <sabakan/session/client_login.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/pooler.hpp>
#include <sabakan/session/server_connection.hpp>

#include "address.hpp"
#include "cancel_request.hpp"

#include <sys/socket.h>

#include <cstring>

namespace sabakan::session {

namespace asio = net::asio;
using net::error_code;
using protocol::scan_status;
namespace sqlstate = protocol::sqlstate;

namespace {

std::size_t buffer_size(const config::settings& s) {
    return s.pkt_buf < 4096 ? 4096 : static_cast<std::size_t>(s.pkt_buf);
}

std::string describe_peer(const net::stream_socket& s, bool is_unix) {
    if (is_unix) {
        return "unix";
    }
    error_code ec;
    auto ep = s.remote_endpoint(ec);
    if (ec) {
        return "?";
    }
    if (ep.protocol().family() == AF_INET || ep.protocol().family() == AF_INET6) {
        asio::ip::tcp::endpoint tep;
        std::memcpy(tep.data(), ep.data(), ep.size());
        return fmt::format("{}:{}", tep.address().to_string(), tep.port());
    }
    return "?";
}

}  // namespace

client_session::client_session(pooler& owner, net::stream_socket socket, bool is_unix)
    : owner_(owner),
      transport_(std::move(socket)),
      buf_(buffer_size(owner.settings())),
      scanner_(relay::client_scanner(buf_.capacity(),
                                     static_cast<std::uint32_t>(owner.settings().max_packet_size))),
      wait_timer_(owner.io()),
      connect_time_(std::time(nullptr)),
      request_time_(connect_time_) {
    who_.id = owner.next_connection_id();
    who_.is_unix = is_unix;
    who_.peer = describe_peer(transport_.socket(), is_unix);
    // TCP listeners close when a shutdown begins, so a TCP client made now was accepted
    // before; only the unix socket (kept for admins) takes new clients then.
    came_during_shutdown_ = is_unix && owner.shutting_down() != shutdown_mode::none;
    owner.add(*this);
}

std::pair<std::string, int> client_session::local_address() const {
    if (who_.is_unix) {
        return {"unix", owner_.settings().listen_port};
    }
    return detail::local_end(transport_.socket());
}

std::pair<std::string, int> client_session::peer_address() const {
    if (who_.is_unix) {
        return {"unix", owner_.settings().listen_port};
    }
    return detail::remote_end(transport_.socket());
}

void client_session::kill(std::string_view reason) {
    if (closing()) {
        return;
    }
    if (authenticated_ && !server_ && !who_.is_admin) {
        // Nothing else writes to it now (no server is linked, and it is past its login):
        // tell it why before closing, as PgBouncer does.
        end_with_error(sqlstate::admin_shutdown, reason,
                       "an administrator or a shutdown closed this connection; reconnect");
        return;
    }
    abort(reason);
}

void client_session::abort(std::string_view reason) {
    if (closing()) {
        return;
    }
    close_reason_ = std::string(reason);
    set_phase(client_phase::closing);
    wait_timer_.cancel();  // a queued client stops waiting; end_wait() sees it closing
    transport_.close();
}

void client_session::set_phase(client_phase next) noexcept {
    using enum client_phase;
    if (phase_ == closing) {
        // The end of every path, never left. A step asked for now comes from a task that
        // resumed after a close it has yet to notice (a login finishing as KILL or the
        // login timeout closes it): it stays closing, and that task ends at its next look.
        return;
    }
    // The life cycle's legal steps.
    bool legal = false;
    switch (phase_) {
        case login:
            legal = next == console || next == forwarding || next == closing;
            break;
        case console:
            legal = next == closing;
            break;
        case forwarding:
            legal = next == parking || next == parked || next == closing;
            break;
        case parking:
            legal = next == forwarding || next == closing;
            break;
        case parked:
            legal = next == forwarding || next == closing;
            break;
        case closing:
            break;
    }
    SABAKAN_ASSERT(legal);
    if (!legal) {
        // Without assertions (release builds): say so, and stay where it is.
        log::error("C-{}: no step from phase {} to {}; staying", who_.id, static_cast<int>(phase_),
                   static_cast<int>(next));
        return;
    }
    phase_ = next;
}

client_session::~client_session() = default;

namespace {

/// The completion of a client task: what escaped it is logged.
void log_task_failure(std::exception_ptr e) {
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log::error("client task failed: {}", ex.what());
    }
}

}  // namespace

void client_session::start() {
    asio::co_spawn(
        owner_.io(), [self = shared_from_this()] { return self->run(); }, log_task_failure);
}

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

void client_session::detach_server() noexcept {
    server_.reset();
}

void client_session::server_lost(std::string_view message) {
    end_with_error(sqlstate::connection_failure, message,
                   "the server connection was lost; reconnect and retry");
}

void client_session::end_with_error(std::string_view state, std::string_view message,
                                    std::string_view hint) {
    if (closing()) {
        return;
    }
    set_phase(client_phase::closing);
    close_reason_ = message;
    wait_timer_.cancel();  // a queued client stops waiting
    if (sending_) {
        // Its own write is in flight (a login answer): a second one must not interleave,
        // so it only closes.
        transport_.close();
        return;
    }
    asio::co_spawn(
        owner_.io(),
        [self = shared_from_this(), state = std::string(state), text = std::string(message),
         hint = std::string(hint)]() -> net::awaitable<void> {
            protocol::byte_buffer out;
            protocol::append_error(out, "FATAL", state, text, hint);
            co_await self->send(out);
            self->transport_.close();
        },
        asio::detached);
}

net::awaitable<void> client_session::send(protocol::byte_buffer& out) {
    error_code ec;
    sending_ = true;
    co_await transport_.async_write(out, asio::redirect_error(net::use_awaitable, ec));
    sending_ = false;
    if (ec) {
        set_phase(client_phase::closing);
    }
    out.clear();
}

relay::rewrite_context client_session::rewrite_context() {
    const auto& s = owner_.settings();
    return {owner_.statements(), static_cast<std::size_t>(s.max_prepared_statements),
            static_cast<std::size_t>(s.max_client_prepared_statements), pool_->stats(), who_.id};
}

net::awaitable<void> client_session::fatal(std::string_view state, std::string_view message,
                                           std::string_view hint) {
    if (owner_.settings().log_pooler_errors) {
        log::warning("C-{}: {}/{}@{} pooler error: {}", who_.id, who_.database, who_.user,
                     who_.peer, message);
    }
    close_reason_ = std::string(message);
    protocol::byte_buffer out;
    protocol::append_error(out, "FATAL", state, message, hint);
    co_await send(out);
    set_phase(client_phase::closing);
}

net::awaitable<void> client_session::run() {
    bool parked = false;
    try {
        parked = co_await run_session();
    } catch (const std::exception& e) {
        log::error("C-{}: {}/{}@{} session failed: {}", who_.id, who_.database, who_.user,
                   who_.peer, e.what());
    }
    after_forward(parked);
}

net::awaitable<void> client_session::resume() {
    bool parked = false;
    try {
        parked = co_await forward();
    } catch (const std::exception& e) {
        log::error("C-{}: {}/{}@{} session failed: {}", who_.id, who_.database, who_.user,
                   who_.peer, e.what());
    }
    after_forward(parked);
}

void client_session::park() noexcept {
    if (reading_ && phase_ == client_phase::forwarding && !server_ && !sending_ && buf_.empty() &&
        scanner_.at_boundary()) {
        set_phase(client_phase::parking);
        transport_.cancel();  // the read ends with operation_aborted; forward() returns
    }
}

void client_session::after_forward(bool parked) {
    if (parked && !closing()) {
        set_phase(client_phase::parked);
        owner_.client_parked(*this);
        buf_.release();
        transport_.async_wait_readable(
            [self = shared_from_this()](const error_code& ec) { self->unpark(ec); });
        return;
    }
    finish();  // always: the cancel-key registry and the pool must forget this client
}

void client_session::unpark(const error_code& ec) {
    owner_.client_unparked(*this);
    if (phase_ == client_phase::parked) {
        set_phase(client_phase::forwarding);
    }
    if (ec || closing()) {
        finish();  // closed while parked (KILL, a timeout, shutdown) or the socket failed
        return;
    }
    asio::co_spawn(
        owner_.io(), [self = shared_from_this()] { return self->resume(); }, log_task_failure);
}

void client_session::arm_login_timer() {
    // client_login_timeout: a connection that never finishes logging in is closed, so idle
    // sockets cannot pile up against max_client_conn.
    auto limit = owner_.settings().client_login_timeout;
    if (limit <= config::duration::zero()) {
        return;
    }
    wait_timer_.expires_after(limit);
    wait_timer_.async_wait([weak = weak_from_this()](const error_code& ec) {
        auto self = weak.lock();
        if (!ec && self && self->phase_ == client_phase::login) {
            self->close_reason_ = "client_login_timeout";
            self->set_phase(client_phase::closing);
            self->transport_.close();
        }
    });
}

net::awaitable<bool> client_session::run_session() {
    owner_.client_opened();
    counted_ = true;
    arm_login_timer();
    client_login login(owner_, *this, transport_, buf_, scanner_, who_);
    protocol::startup_packet sp;
    std::string startup_bytes;  // what `sp` views; lives only as long as the login
    for (;;) {
        if (!co_await login.read_startup(sp, startup_bytes)) {
            co_return false;
        }
        if (sp.kind == protocol::startup_kind::ssl_request ||
            sp.kind == protocol::startup_kind::gssenc_request) {
            // No TLS or GSS encryption yet: 'N' tells the client to go on in plain text.
            static constexpr std::byte no[] = {std::byte{'N'}};
            error_code ec;
            co_await transport_.async_write(protocol::bytes_view(no),
                                            asio::redirect_error(net::use_awaitable, ec));
            if (ec) {
                co_return false;
            }
            continue;
        }
        break;
    }
    if (sp.kind == protocol::startup_kind::cancel_request) {
        co_await forward_cancel(owner_, sp.cancel, who_.id);
        co_return false;
    }
    // Never co_await inside || or &&: GCC 12 miscompiles the short circuit (both sides
    // run). One co_await per statement.
    if (!co_await login.check_startup(sp, parameters_)) {
        co_return false;
    }
    // WAIT_FOR_CLIENTS serves every client that connected before it (a rolling restart's
    // last arrivals included); WAIT_FOR_SERVERS ends clients as their transactions do.
    if (!who_.is_admin &&
        (came_during_shutdown_ || owner_.shutting_down() == shutdown_mode::wait_for_servers)) {
        co_await fatal(sqlstate::cannot_connect_now, "pooler is shutting down",
                       "connect again in a moment (to the new process, after a restart)");
        co_return false;
    }
    if (!co_await login.authenticate()) {
        co_return false;
    }
    // Which databases exist is told only to clients that proved who they are.
    if (!who_.is_admin && owner_.cfg().find_database(who_.database) == nullptr) {
        co_await no_such_database();
        co_return false;
    }
    if (!who_.is_admin && owner_.is_disabled(who_.database)) {
        co_await fatal(sqlstate::cannot_connect_now,
                       fmt::format("database \"{}\" is disabled", who_.database),
                       "an administrator ran DISABLE on it; ENABLE in the admin console lets "
                       "clients in again");
        co_return false;
    }
    authenticated_ = true;
    wait_timer_.cancel();  // the login timer
    set_phase(who_.is_admin ? client_phase::console : client_phase::forwarding);
    if (who_.is_admin) {
        if (!co_await welcome_console()) {
            co_return false;
        }
        co_await serve_console();
        co_return false;
    }
    if (auto limit = owner_.admit_client(who_.database, who_.user); !limit.empty()) {
        co_await fatal(sqlstate::too_many_connections,
                       fmt::format("no more connections allowed ({})", limit),
                       fmt::format("raise {} in the pooler's config, or have the application "
                                   "open fewer connections",
                                   limit));
        co_return false;
    }
    admitted_ = true;
    pool_ = owner_.pool_for(who_.database, who_.user);
    if (pool_ == nullptr) {  // the entry vanished in a reload during authentication
        co_await no_such_database();
        co_return false;
    }
    user_limits_ = owner_.user_limits_for(who_.user);
    pool_->client_joined();  // counted while it waits for its first server, too
    joined_pool_ = true;
    if (!co_await welcome()) {
        co_return false;
    }
    co_return co_await forward();
}

net::awaitable<bool> client_session::welcome() {
    if (!pool_->has_server_params()) {
        // The first client of a pool waits for one server login, which teaches the pool
        // the parameters every later client is welcomed with.
        logging_in = true;
        if (!try_acquire()) {
            error_code ec;
            co_await wait_timer_.async_wait(asio::redirect_error(net::use_awaitable, ec));
            if (auto r = end_wait(); r != wait_result::served) {
                co_await wait_failed(r);
                co_return false;
            }
        }
        logging_in = false;
        auto s = server_;
        s->client_gone();
    }
    key_ = owner_.register_client(this);
    registered_ = true;
    ++pool_->stats().client_login_count;
    idle_since_us_ = stats::now_us();
    protocol::byte_buffer out;
    out.reserve(512);  // AuthenticationOk, about a dozen ParameterStatus, BackendKeyData
    protocol::append_auth_request(out, protocol::auth_request::ok);
    // The pool's parameters, with the client's own values where it asked for others. A
    // value equal to the pool's needs no keeping: it is what every server starts with.
    for (const auto& [name, value] : pool_->server_params()) {
        const int i = owner_.tracked().index_of(name);
        const std::string* own = i >= 0 ? parameters_.find(i) : nullptr;
        protocol::append_parameter_status(out, name, own != nullptr ? *own : value);
        if (own != nullptr && *own == value) {
            parameters_.erase(i);
        }
    }
    protocol::append_backend_key_data(out, key_);
    protocol::append_ready_for_query(out, protocol::transaction_status::idle);
    co_await send(out);
    co_return !closing();
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

void client_session::finish() {
    if (registered_) {
        owner_.unregister_client(key_);
        registered_ = false;
    }
    if (pool_ != nullptr) {
        pool_->cancel_wait(*this);
        if (joined_pool_) {
            pool_->client_left();
            joined_pool_ = false;
        }
    }
    if (server_) {
        auto s = server_;
        s->client_gone();
        server_.reset();
    }
    if (counted_) {
        owner_.client_closed();
        counted_ = false;
    }
    if (admitted_) {
        owner_.client_left(who_.database, who_.user);
        admitted_ = false;
    }
    // A connection that never said who it is (a port scan, a health check) is logged only
    // when sabakan closed it for a reason.
    if (owner_.settings().log_disconnections && (!who_.user.empty() || !close_reason_.empty())) {
        log::info("C-{}: {}/{}@{} closing because: {}", who_.id,
                  who_.database.empty() ? "(nodb)" : who_.database,
                  who_.user.empty() ? "(nouser)" : who_.user, who_.peer,
                  close_reason_.empty() ? "client close request" : close_reason_);
    }
    set_phase(client_phase::closing);
    transport_.close();
}

}  // namespace sabakan::session

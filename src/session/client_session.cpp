// A client connection's life cycle: from accept through login (client_login) and the
// welcome to its end, parked or not. The forwarding loop is in client_forward.cpp, the
// console in client_console.cpp, a cancel request in cancel_request.cpp.
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
#include "buffer_size.hpp"
#include "cancel_request.hpp"
#include "task_failure.hpp"

#include <sys/socket.h>

#include <cstring>

namespace sabakan::session {

namespace asio = net::asio;
using net::error_code;
namespace sqlstate = protocol::sqlstate;

namespace {

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

void client_session::start() {
    asio::co_spawn(
        owner_.io(), [self = shared_from_this()] { return self->run(); },
        log_task_failure{"client"});
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
        owner_.io(), [self = shared_from_this()] { return self->resume(); },
        log_task_failure{"client"});
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

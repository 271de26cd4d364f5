// Server side of a link: connect, log in (trust, cleartext, md5, SCRAM-SHA-256), then
// forward the server's bytes to the linked client out of the receive buffer, reading
// only ReadyForQuery to decide when the server goes back to the pool.
#include <sabakan/auth/md5.hpp>
#include <sabakan/auth/scram.hpp>
#include <sabakan/core/log.hpp>
#include <sabakan/net/tcp_options.hpp>
#include <sabakan/net/transport.hpp>
#include <sabakan/protocol/extended.hpp>
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/sqlstate.hpp>
#include <sabakan/relay/scanners.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/pooler.hpp>
#include <sabakan/session/server_connection.hpp>

#include "address.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

namespace sabakan::session {

namespace asio = net::asio;
using net::error_code;
using protocol::backend_tag;
using protocol::scan_status;

namespace {

std::size_t buffer_size(const config::settings& s) {
    return s.pkt_buf < 4096 ? 4096 : static_cast<std::size_t>(s.pkt_buf);
}

std::string unix_socket_path(const std::string& dir, int port) {
    return dir + "/.s.PGSQL." + std::to_string(port);
}

std::string default_unix_dir() {
    // Debian's PostgreSQL puts its socket here; upstream's default is /tmp.
    std::error_code ec;
    if (std::filesystem::is_directory("/var/run/postgresql", ec)) {
        return "/var/run/postgresql";
    }
    return "/tmp";
}

/// The completion handler of a server's task: an exception escaping it is logged.
void log_task_failure(std::exception_ptr e) {
    if (e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log::error("server connection task failed: {}", ex.what());
        }
    }
}

}  // namespace

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

server_connection::server_connection(pooler& owner, backend_pool& pool, moving_server&& from)
    : owner_(owner),
      pool_(pool),
      transport_(owner.io()),
      endpoint_(from.endpoint),
      buf_(buffer_size(owner.settings())),
      scanner_(relay::server_scanner(buf_.capacity())),
      key_(from.key),
      link_(owner.tracked()),
      id_(from.id),
      logged_in_(true),
      connect_time_(from.connect_time) {
    owner.add(*this);
    for (auto it = from.statements.rbegin(); it != from.statements.rend(); ++it) {
        link_.cache().insert(*it, from.statements.size());
    }
    link_.parameters() = std::move(from.parameters);
    error_code ec;
    transport_.socket().assign(endpoint_.protocol(), from.fd, ec);
    if (ec) {
        ::close(from.fd);
        closed_ = true;
        close_reason_ = "could not take over a server from another worker: " + ec.message();
    }
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
        owner_.io(), [self = shared_from_this()] { return self->run(); }, log_task_failure);
}

void server_connection::start_adopted(const moving_server& from) {
    asio::co_spawn(
        owner_.io(),
        [self = shared_from_this(), created = from.created_us, generation = from.generation,
         idle_since = from.idle_since_us]() -> net::awaitable<void> {
            if (self->closed_) {
                self->pool_.budget().give_back();
                self->pool_.ask_refused();
                log::warning("S-{}: {}", self->id_, self->close_reason_);
                co_return;
            }
            if (auto out = self->pool_.adopt(*self, created, generation, idle_since);
                pool::must_close(out)) {
                self->close(pool::to_string(out));
            }
            co_await self->serve();
        },
        log_task_failure);
}

void server_connection::move_to(int worker) {
    moving_to_ = worker;
    transport_.cancel();  // a pending read ends with operation_aborted; forward() returns
}

void server_connection::finish_move() {
    const int to = std::exchange(moving_to_, -1);
    if (closed_ || client_ || buf_.has_unparsed() || !scanner_.at_boundary() ||
        running_ != own_query::none) {
        // It spoke (an error, a notice) or closed while leaving: not fit to hand over.
        pool_.budget().give_back();
        closed_ = true;
        transport_.close();
        log::debug("S-{}: closed instead of moving to worker {}", id_, to);
        owner_.send_refusal(to, pool_);
        return;
    }
    moving_server m;
    error_code ec;
    m.fd = transport_.socket().release(ec);
    if (ec) {
        pool_.budget().give_back();
        closed_ = true;
        transport_.close();
        owner_.send_refusal(to, pool_);
        return;
    }
    log::debug("S-{}: moves to worker {}", id_, to);
    m.endpoint = endpoint_;
    m.key = key_;
    m.id = id_;
    m.connect_time = connect_time_;
    m.created_us = created_us();
    m.generation = pool_.generation_of(*this);
    m.idle_since_us = idle_since_us();
    m.database = pool_.database();
    m.user = pool_.user();
    m.statements = link_.cache().ids();
    m.parameters = link_.parameters();
    closed_ = true;  // this object is done; the socket lives on in the other worker
    owner_.send_server(to, std::move(m));
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
    syncing_ = synced;
    reported_ = 0;
    sync_error_.clear();
    sync_sqlstate_.clear();
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
            continue;  // CommandComplete for each SET
        }
        switch (static_cast<backend_tag>(r.tag)) {
            case backend_tag::parameter_status:
                if (const int i = link_.note_parameter(r.body()); i >= 0) {
                    reported_ |= 1u << i;
                }
                break;
            case backend_tag::error_response: {
                protocol::error_fields f;
                protocol::decode_error(r.body(), f);
                sync_error_ = f.message;
                sync_sqlstate_ = f.sqlstate;
                break;
            }
            case backend_tag::ready_for_query: {
                running_ = own_query::none;
                if (static_cast<char>(r.body()[0]) != 'I' || buf_.has_unparsed()) {
                    close("setting the client's session parameters left the server busy");
                    return false;
                }
                if (!client_) {
                    return_to_pool();  // the client left meanwhile
                    return !closed_;
                }
                if (!sync_error_.empty()) {
                    // The SETs ran as one implicit transaction: none took effect. The client
                    // reads sync_error() and ends.
                    client_->parameters_synced();
                    return true;
                }
                // What PostgreSQL did not report is what was set: it did not change its form.
                for (int i = 0; i < 32; ++i) {
                    if (((syncing_ & ~reported_) >> i) & 1u) {
                        if (const std::string* v = client_->parameters().find(i)) {
                            link_.parameters().set(i, *v);
                        } else if (const std::string* d = relay::find_parameter(
                                       pool_.server_params(), owner_.tracked().name(i))) {
                            link_.parameters().set(i, *d);
                        } else {
                            link_.parameters().erase(i);  // RESET to a default nobody knows
                        }
                    }
                }
                client_->parameters_synced();
                return true;
            }
            default:
                break;
        }
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
    bool ok = co_await connect();  // one co_await per statement (see client_session.cpp)
    if (ok) {
        ok = co_await login();
    }
    deadline.cancel();
    if (!ok) {
        co_return;
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

net::awaitable<bool> server_connection::connect() {
    const server_target t = pool_.target();  // a copy: a RELOAD may change the pool's
    error_code ec;
    std::optional<net::stream_endpoint> ep;
    bool tcp = false;
    if (t.host.empty() || t.host.front() == '/') {
        auto dir = t.host.empty() ? default_unix_dir() : t.host;
        ep = net::stream_endpoint(
            asio::local::stream_protocol::endpoint(unix_socket_path(dir, t.port)));
    } else {
        auto addr = asio::ip::make_address(t.host, ec);
        if (!ec) {
            ep = net::stream_endpoint(
                asio::ip::tcp::endpoint(addr, static_cast<unsigned short>(t.port)));
        } else {
            asio::ip::tcp::resolver resolver(owner_.io());
            auto results = co_await resolver.async_resolve(
                t.host, std::to_string(t.port), asio::redirect_error(net::use_awaitable, ec));
            // The deadline may have passed during the lookup, when there was no socket yet
            // for it to close: honour it here (fail_login then names the timeout).
            if (ec || results.empty() || timed_out_) {
                fail_login(fmt::format("could not resolve host \"{}\": {}", t.host, ec.message()),
                           pool::login_failure::unreachable);
                co_return false;
            }
            ep = net::stream_endpoint(results.begin()->endpoint());
        }
        tcp = true;
    }
    endpoint_ = *ep;
    co_await transport_.socket().async_connect(endpoint_,
                                               asio::redirect_error(net::use_awaitable, ec));
    if (ec) {
        fail_login(fmt::format("could not connect to server at {}:{}: {}",
                               t.host.empty() ? default_unix_dir() : t.host, t.port, ec.message()),
                   pool::login_failure::unreachable);
        co_return false;
    }
    if (tcp) {
        net::apply_tcp_options(transport_.native_handle(), owner_.settings());
    }
    co_return true;
}

net::awaitable<bool> server_connection::read_message(protocol::scan_result& out) {
    for (;;) {
        auto r = scanner_.next(buf_.unparsed());
        if (r.status == scan_status::message && r.whole) {
            buf_.advance(r.consumed());
            buf_.discard_parsed();
            out = r;
            co_return true;
        }
        if (r.status != scan_status::need_more) {
            co_return false;  // bad length, or a login message too long to hold
        }
        error_code ec;
        auto space = buf_.free_space();
        if (space.empty()) {
            co_return false;
        }
        auto n = co_await transport_.async_read_some(space,
                                                     asio::redirect_error(net::use_awaitable, ec));
        if (ec) {
            co_return false;
        }
        buf_.commit(n);
    }
}

net::awaitable<bool> server_connection::login() {
    const server_target t = pool_.target();  // a copy: a RELOAD may change the pool's
    protocol::byte_buffer out;
    std::vector<std::pair<std::string, std::string>> params{{"user", t.user},
                                                            {"database", t.dbname}};
    for (const auto& kv : t.startup_extra) {
        params.push_back(kv);
    }
    protocol::append_startup(out, params);
    error_code ec;
    co_await transport_.async_write(out, asio::redirect_error(net::use_awaitable, ec));
    if (ec) {
        fail_login(fmt::format("could not send startup packet: {}", ec.message()),
                   pool::login_failure::unreachable);
        co_return false;
    }

    std::optional<auth::scram_client> scram;
    std::vector<std::pair<std::string, std::string>> server_params;
    for (;;) {
        protocol::scan_result m;
        if (!co_await read_message(m)) {
            // A server that crashed or is restarting hangs up like this: try again later.
            fail_login(
                closed_ ? "server connection closed during login"
                        : "server closed the connection or sent a malformed message during login",
                pool::login_failure::unreachable);
            co_return false;
        }
        auto body = m.body();
        out.clear();
        switch (static_cast<backend_tag>(m.tag)) {
            case backend_tag::authentication: {
                protocol::auth_request code{};
                protocol::bytes_view rest;
                if (!protocol::decode_auth_request(body, code, rest)) {
                    fail_login("malformed authentication request from server");
                    co_return false;
                }
                switch (code) {
                    case protocol::auth_request::ok:
                        break;
                    case protocol::auth_request::cleartext_password:
                        if (t.password.empty() || auth::is_md5_secret(t.password)) {
                            fail_login(fmt::format(
                                "server asks for a cleartext password for user \"{}\"; "
                                "set password= in [databases] or a plain password in auth_file",
                                t.user));
                            co_return false;
                        }
                        protocol::append_password(out, t.password);
                        break;
                    case protocol::auth_request::md5_password: {
                        if (rest.size() != 4 || t.password.empty()) {
                            fail_login(fmt::format(
                                "server asks for an md5 password for user \"{}\" and none is "
                                "configured; set password= in [databases] or add the user to "
                                "auth_file",
                                t.user));
                            co_return false;
                        }
                        protocol::append_password(
                            out, auth::md5_salted_response(t.password, t.user, rest.first<4>()));
                        break;
                    }
                    case protocol::auth_request::sasl: {
                        // The body lists mechanism names, each NUL-terminated, then an empty one.
                        auto mechs = protocol::as_text(rest);
                        if (mechs.find("SCRAM-SHA-256") == std::string_view::npos) {
                            fail_login(
                                "server offers no SASL mechanism sabakan supports (SCRAM-SHA-256)");
                            co_return false;
                        }
                        if (t.password.empty() || auth::is_md5_secret(t.password)) {
                            fail_login(fmt::format(
                                "server requires SCRAM for user \"{}\", which needs the plain "
                                "password: set "
                                "password= in [databases] or a plain password in auth_file",
                                t.user));
                            co_return false;
                        }
                        scram.emplace(t.password);
                        protocol::append_sasl_initial(out, "SCRAM-SHA-256",
                                                      scram->client_first_message());
                        break;
                    }
                    case protocol::auth_request::sasl_continue: {
                        std::string final_msg;
                        std::string error;
                        if (!scram || !scram->handle_server_first(protocol::as_text(rest),
                                                                  final_msg, error)) {
                            fail_login("SCRAM authentication with server failed: " + error);
                            co_return false;
                        }
                        protocol::append_sasl_response(out, final_msg);
                        break;
                    }
                    case protocol::auth_request::sasl_final: {
                        std::string error;
                        if (!scram || !scram->verify_server_final(protocol::as_text(rest), error)) {
                            fail_login("SCRAM server signature check failed: " + error);
                            co_return false;
                        }
                        break;
                    }
                    default:
                        fail_login(
                            fmt::format("server asks for an authentication method sabakan does not "
                                        "support (code {})",
                                        static_cast<int>(code)));
                        co_return false;
                }
                break;
            }
            case backend_tag::parameter_status: {
                std::string_view name;
                std::string_view value;
                if (protocol::decode_parameter_status(body, name, value)) {
                    server_params.emplace_back(name, value);
                }
                break;
            }
            case backend_tag::backend_key_data:
                if (!protocol::decode_backend_key_data(body, key_)) {
                    fail_login("malformed BackendKeyData from server");
                    co_return false;
                }
                break;
            case backend_tag::error_response: {
                protocol::error_fields f;
                protocol::decode_error(body, f);
                // Class 57P (operator intervention): starting up, shutting down, in
                // recovery; it will take logins again by itself.
                fail_login(std::string(f.message), f.sqlstate.starts_with("57P")
                                                       ? pool::login_failure::unreachable
                                                       : pool::login_failure::refused);
                co_return false;
            }
            case backend_tag::ready_for_query:
                if (!pool_.has_server_params()) {
                    pool_.set_server_params(std::move(server_params));
                }
                co_return true;
            default:
                break;  // NoticeResponse, NegotiateProtocolVersion: nothing to do
        }
        if (!out.empty()) {
            co_await transport_.async_write(out, asio::redirect_error(net::use_awaitable, ec));
            if (ec) {
                fail_login(fmt::format("could not send to server during login: {}", ec.message()),
                           pool::login_failure::unreachable);
                co_return false;
            }
        }
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
                auto status = static_cast<char>(r.body()[0]);
                if (status != 'I' || buf_.has_unparsed()) {
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

// A server connection's login (server_login.hpp says what it covers).
#include "server_login.hpp"

#include <sabakan/auth/md5.hpp>
#include <sabakan/core/log.hpp>
#include <sabakan/net/tcp_options.hpp>
#include <sabakan/protocol/messages.hpp>

#include <filesystem>

namespace sabakan::session {

namespace asio = net::asio;
using net::error_code;
using protocol::backend_tag;
using protocol::scan_status;

namespace {

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

}  // namespace

bool server_login::fail(std::string message, pool::login_failure kind) {
    failure_ = std::move(message);
    failure_kind_ = kind;
    return false;
}

net::awaitable<bool> server_login::connect() {
    const server_target& t = target_;
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
                co_return fail(
                    fmt::format("could not resolve host \"{}\": {}", t.host, ec.message()),
                    pool::login_failure::unreachable);
            }
            ep = net::stream_endpoint(results.begin()->endpoint());
        }
        tcp = true;
    }
    endpoint_ = *ep;
    co_await transport_.socket().async_connect(endpoint_,
                                               asio::redirect_error(net::use_awaitable, ec));
    if (ec) {
        co_return fail(
            fmt::format("could not connect to server at {}:{}: {}",
                        t.host.empty() ? default_unix_dir() : t.host, t.port, ec.message()),
            pool::login_failure::unreachable);
    }
    if (tcp) {
        net::apply_tcp_options(transport_.native_handle(), owner_.settings());
    }
    co_return true;
}

net::awaitable<bool> server_login::read_message(protocol::scan_result& out) {
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

net::awaitable<bool> server_login::log_in() {
    const server_target& t = target_;
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
        co_return fail(fmt::format("could not send startup packet: {}", ec.message()),
                       pool::login_failure::unreachable);
    }

    for (;;) {
        protocol::scan_result m;
        if (!co_await read_message(m)) {
            // A server that crashed or is restarting hangs up like this: try again later.
            co_return fail(
                closed_ ? "server connection closed during login"
                        : "server closed the connection or sent a malformed message during login",
                pool::login_failure::unreachable);
        }
        auto body = m.body();
        out.clear();
        switch (static_cast<backend_tag>(m.tag)) {
            case backend_tag::authentication:
                if (!answer_auth(body, out)) {
                    co_return false;
                }
                break;
            case backend_tag::parameter_status: {
                std::string_view name;
                std::string_view value;
                if (protocol::decode_parameter_status(body, name, value)) {
                    server_params_.emplace_back(name, value);
                }
                break;
            }
            case backend_tag::backend_key_data:
                if (!protocol::decode_backend_key_data(body, key_)) {
                    co_return fail("malformed BackendKeyData from server");
                }
                break;
            case backend_tag::error_response: {
                protocol::error_fields f;
                protocol::decode_error(body, f);
                // Class 57P (operator intervention): starting up, shutting down, in
                // recovery; it will take logins again by itself.
                co_return fail(std::string(f.message), f.sqlstate.starts_with("57P")
                                                           ? pool::login_failure::unreachable
                                                           : pool::login_failure::refused);
            }
            case backend_tag::ready_for_query:
                co_return true;
            default:
                break;  // NoticeResponse, NegotiateProtocolVersion: nothing to do
        }
        if (!out.empty()) {
            co_await transport_.async_write(out, asio::redirect_error(net::use_awaitable, ec));
            if (ec) {
                co_return fail(
                    fmt::format("could not send to server during login: {}", ec.message()),
                    pool::login_failure::unreachable);
            }
        }
    }
}

bool server_login::answer_auth(protocol::bytes_view body, protocol::byte_buffer& out) {
    const server_target& t = target_;
    protocol::auth_request code{};
    protocol::bytes_view rest;
    if (!protocol::decode_auth_request(body, code, rest)) {
        return fail("malformed authentication request from server");
    }
    switch (code) {
        case protocol::auth_request::ok:
            break;
        case protocol::auth_request::cleartext_password:
            if (t.password.empty() || auth::is_md5_secret(t.password)) {
                return fail(
                    fmt::format("server asks for a cleartext password for user \"{}\"; "
                                "set password= in [databases] or a plain password in auth_file",
                                t.user));
            }
            protocol::append_password(out, t.password);
            break;
        case protocol::auth_request::md5_password: {
            if (rest.size() != 4 || t.password.empty()) {
                return fail(
                    fmt::format("server asks for an md5 password for user \"{}\" and none is "
                                "configured; set password= in [databases] or add the user to "
                                "auth_file",
                                t.user));
            }
            protocol::append_password(
                out, auth::md5_salted_response(t.password, t.user, rest.first<4>()));
            break;
        }
        case protocol::auth_request::sasl: {
            // The body lists mechanism names, each NUL-terminated, then an empty one.
            auto mechs = protocol::as_text(rest);
            if (mechs.find("SCRAM-SHA-256") == std::string_view::npos) {
                return fail("server offers no SASL mechanism sabakan supports (SCRAM-SHA-256)");
            }
            if (t.password.empty() || auth::is_md5_secret(t.password)) {
                return fail(
                    fmt::format("server requires SCRAM for user \"{}\", which needs the plain "
                                "password: set "
                                "password= in [databases] or a plain password in auth_file",
                                t.user));
            }
            scram_.emplace(t.password);
            protocol::append_sasl_initial(out, "SCRAM-SHA-256", scram_->client_first_message());
            break;
        }
        case protocol::auth_request::sasl_continue: {
            std::string final_msg;
            std::string error;
            if (!scram_ ||
                !scram_->handle_server_first(protocol::as_text(rest), final_msg, error)) {
                return fail("SCRAM authentication with server failed: " + error);
            }
            protocol::append_sasl_response(out, final_msg);
            break;
        }
        case protocol::auth_request::sasl_final: {
            std::string error;
            if (!scram_ || !scram_->verify_server_final(protocol::as_text(rest), error)) {
                return fail("SCRAM server signature check failed: " + error);
            }
            break;
        }
        default:
            return fail(
                fmt::format("server asks for an authentication method sabakan does not "
                            "support (code {})",
                            static_cast<int>(code)));
    }
    return true;
}

}  // namespace sabakan::session

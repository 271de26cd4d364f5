// A client's login, from its startup packet to its proof of identity. What it sends and
// what it refuses goes out through the session that owns the stream (login_channel).
#include <sabakan/session/client_login.hpp>

#include <sabakan/auth/md5.hpp>
#include <sabakan/auth/random.hpp>
#include <sabakan/auth/scram.hpp>
#include <sabakan/core/log.hpp>
#include <sabakan/protocol/message_reader.hpp>
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/sqlstate.hpp>
#include <sabakan/session/pooler.hpp>

#include <openssl/crypto.h>
#include <strings.h>
#include <sys/socket.h>

#include <unistd.h>

#include <array>
#include <optional>
#include <utility>
#include <vector>

namespace sabakan::session {

namespace asio = net::asio;
using net::error_code;
using protocol::scan_status;
namespace sqlstate = protocol::sqlstate;

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

/// Whether ignore_startup_parameters names `name`.
bool is_ignored(const config::settings& s, std::string_view name) {
    for (const auto& i : s.ignore_startup_parameters) {
        if (iequals(name, i)) {
            return true;
        }
    }
    return false;
}

/// Reads a startup packet's `options` into `settings`; what is not acceptable there (a
/// setting neither tracked nor ignored, or not a -c setting at all), or "" when all is.
std::string vet_options(std::string_view options, const config::settings& s,
                        const relay::tracked_parameters& tracked,
                        std::vector<std::pair<std::string, std::string>>& settings) {
    if (!protocol::decode_startup_options(options, settings)) {
        return std::string(options);
    }
    for (const auto& [name, value] : settings) {
        if (tracked.index_of(name) < 0 && !is_ignored(s, name)) {
            return name;
        }
    }
    return {};
}

// Startup parameters PostgreSQL reports back and sabakan passes on (or tracks later).
constexpr std::array<std::string_view, 7> accepted_params{
    "user",      "database", "application_name", "client_encoding",
    "DateStyle", "TimeZone", "IntervalStyle"};

}  // namespace

bool peer_is_own_user(const net::transport& transport) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(const_cast<net::transport&>(transport).native_handle(), SOL_SOCKET,
                     SO_PEERCRED, &cred, &len) != 0) {
        return false;
    }
    return cred.uid == ::getuid();
}

net::awaitable<bool> client_login::read_more() {
    error_code ec;
    auto space = buf_.free_space();
    auto n =
        co_await transport_.async_read_some(space, asio::redirect_error(net::use_awaitable, ec));
    if (ec || n == 0) {
        co_return false;
    }
    buf_.commit(n);
    co_return true;
}

net::awaitable<bool> client_login::ask(protocol::byte_buffer& out, std::string& answer,
                                       bool is_cstring) {
    co_await channel_.send(out);
    if (channel_.closing()) {
        co_return false;
    }
    co_return co_await read_password(answer, is_cstring);
}

net::awaitable<bool> client_login::fatal(std::string_view state, std::string_view message,
                                         std::string_view hint) {
    co_await channel_.fatal(state, message, hint);
    co_return false;
}

net::awaitable<bool> client_login::read_startup(protocol::startup_packet& sp, std::string& bytes) {
    for (;;) {
        auto in = buf_.unparsed();
        if (auto len = protocol::startup_length(in)) {
            if (*len < 8 || *len > protocol::max_startup_packet) {
                co_await fatal(sqlstate::protocol_violation, "invalid length of startup packet");
                co_return false;
            }
            if (*len > buf_.capacity()) {
                co_await fatal(
                    sqlstate::protocol_violation,
                    fmt::format("startup packet of {} bytes is larger than pkt_buf", *len),
                    "raise pkt_buf in the pooler's config, or send fewer or shorter "
                    "startup parameters");
                co_return false;
            }
            if (in.size() >= *len) {
                bytes.assign(reinterpret_cast<const char*>(in.data()), *len);
                buf_.advance(*len);
                buf_.discard_parsed();
                switch (protocol::decode_startup(protocol::as_bytes(bytes), sp)) {
                    case protocol::startup_error::none:
                        co_return true;
                    case protocol::startup_error::bad_version:
                        co_await fatal(
                            sqlstate::feature_not_supported,
                            fmt::format("unsupported frontend protocol {}.{}: server supports 3.0",
                                        sp.version >> 16, sp.version & 0xffff));
                        co_return false;
                    case protocol::startup_error::bad_length:
                        co_await fatal(sqlstate::protocol_violation,
                                       "invalid length of startup packet");
                        co_return false;
                    case protocol::startup_error::malformed:
                        co_await fatal(sqlstate::protocol_violation,
                                       "invalid startup packet layout: "
                                       "expected name/value pairs ending with a NUL");
                        co_return false;
                }
            }
        }
        if (!co_await read_more()) {
            co_return false;
        }
    }
}

net::awaitable<bool> client_login::check_startup(const protocol::startup_packet& sp,
                                                 relay::parameter_overrides& parameters) {
    const auto& s = owner_.settings();
    who_.user = std::string(sp.param("user"));
    who_.database = std::string(sp.param("database"));
    if (who_.database.empty()) {
        who_.database = who_.user;
    }
    if (who_.user.empty()) {
        co_await fatal(sqlstate::invalid_authorization,
                       "no PostgreSQL user name specified in startup packet");
        co_return false;
    }
    who_.application_name = std::string(sp.param("application_name"));
    who_.is_admin = who_.database == "pgbouncer";
    // protocol.html#PROTOCOL-VERSIONS: a newer 3.x minor version or `_pq_.` options get
    // NegotiateProtocolVersion (3.0, none recognised) before authentication, as from
    // PostgreSQL 15, and the client goes on with 3.0 or hangs up.
    if (protocol::byte_buffer out; protocol::append_protocol_negotiation(sp, out)) {
        co_await channel_.send(out);
        if (channel_.closing()) {
            co_return false;
        }
    }
    // `options` (PGOPTIONS): each -c setting must be tracked or ignored, like a parameter.
    std::vector<std::pair<std::string, std::string>> option_settings;
    if (const auto bad = vet_options(sp.param("options"), s, owner_.tracked(), option_settings);
        !bad.empty()) {
        co_await fatal(sqlstate::protocol_violation,
                       fmt::format("unsupported startup parameter in options: {}", bad),
                       "pass only -c name=value settings in options, and add the name to "
                       "ignore_startup_parameters or track_extra_parameters in the pooler's "
                       "config");
        co_return false;
    }
    for (const auto& [name, value] : sp.params) {
        bool ok = name.starts_with("_pq_.");
        for (auto a : accepted_params) {
            ok = ok || iequals(name, a);
        }
        ok = ok || is_ignored(s, name) || owner_.tracked().index_of(name) >= 0 || name == "options";
        if (!ok) {
            co_await fatal(sqlstate::protocol_violation,
                           fmt::format("unsupported startup parameter: {}", name),
                           "remove it from the connection settings, or add it to "
                           "ignore_startup_parameters in the pooler's config");
            co_return false;
        }
    }
    // The session parameters the client asks for; each server it borrows gets them before
    // its first message there.
    if (s.application_name_add_host && !who_.is_unix) {
        who_.application_name = fmt::format("{} - {}", who_.application_name, who_.peer);
    }
    for (const auto& [name, value] : sp.params) {
        if (const int i = owner_.tracked().index_of(name); i >= 0) {
            parameters.set(i, value);
        }
    }
    for (const auto& [name, value] : option_settings) {
        if (const int i = owner_.tracked().index_of(name); i >= 0) {
            parameters.set(i, value);
        }
    }
    if (const int i = owner_.tracked().index_of("application_name");
        i >= 0 && !who_.application_name.empty()) {
        parameters.set(i, who_.application_name);
    }
    if (s.log_connections) {
        log::info("C-{}: {}/{}@{} login attempt: db={} user={} tls=no", who_.id, who_.database,
                  who_.user, who_.peer, who_.database, who_.user);
    }
    // The console is exempt, as in PgBouncer: an operator can still look and act while
    // clients (or silent connections waiting out client_login_timeout) fill the limit.
    if (!who_.is_admin && owner_.client_count() > s.max_client_conn) {
        co_await fatal(sqlstate::too_many_connections,
                       "no more connections allowed (max_client_conn)",
                       "raise max_client_conn, or have the application open fewer connections");
        co_return false;
    }
    co_return true;
}

net::awaitable<bool> client_login::read_password(std::string& out, bool is_cstring) {
    for (;;) {
        auto r = scanner_.next(buf_.unparsed());
        if (r.status == scan_status::message && r.whole &&
            static_cast<protocol::frontend_tag>(r.tag) == protocol::frontend_tag::password) {
            auto body = protocol::as_text(r.body());
            if (is_cstring) {
                if (body.empty() || body.back() != '\0') {
                    co_await fatal(sqlstate::protocol_violation, "invalid password packet");
                    co_return false;
                }
                body.remove_suffix(1);
                // As PostgreSQL answers it, known and unknown users alike: an empty password
                // never logs in, whatever the auth_file holds.
                if (body.empty()) {
                    co_await fatal(sqlstate::invalid_password, "empty password returned by client",
                                   "give the user's password in the connection settings");
                    co_return false;
                }
            }
            out.assign(body);
            buf_.advance(r.consumed());
            buf_.discard_parsed();
            co_return true;
        }
        if (r.status != scan_status::need_more) {
            co_await fatal(sqlstate::protocol_violation,
                           "expected a password message during authentication");
            co_return false;
        }
        if (!co_await read_more()) {
            co_return false;
        }
    }
}

net::awaitable<bool> client_login::authenticate() {
    // A RELOAD may replace the config and userlist while this login waits for the client:
    // keep the ones it started with alive until it ends.
    const auto cfg = owner_.cfg_ptr();
    const auto users = owner_.users_ptr();
    const auto& s = cfg->bouncer;
    const std::string* secret = users->find(who_.user);
    // An empty entry names a user for auth_type = trust; under a password method it must not
    // mean "the empty password", so it is no secret at all.
    if (secret != nullptr && secret->empty() && s.auth != config::auth_type::trust) {
        secret = nullptr;
    }
    auto failed = [&]() -> net::awaitable<bool> {
        co_await fatal(sqlstate::invalid_password,
                       fmt::format("password authentication failed for user \"{}\"", who_.user),
                       "check the user name and password, and the pooler's auth_file");
        co_return false;
    };
    protocol::byte_buffer out;
    // The console's own user needs no password on the unix socket when it runs as the
    // same OS user as the pooler (the way init scripts and restarts reach it).
    if (who_.is_admin && who_.is_unix && who_.user == "pgbouncer" && peer_is_own_user(transport_)) {
        co_return true;
    }
    switch (s.auth) {
        case config::auth_type::any:
            co_return true;
        case config::auth_type::trust:
            if (secret == nullptr && !s.auth_file.empty()) {
                co_await fatal(sqlstate::invalid_authorization,
                               fmt::format("no such user: {}", who_.user),
                               "add the user to the pooler's auth_file");
                co_return false;
            }
            co_return true;
        case config::auth_type::plain: {
            protocol::append_auth_request(out, protocol::auth_request::cleartext_password);
            std::string password;
            if (!co_await ask(out, password)) {
                co_return false;
            }
            if (secret == nullptr) {
                co_return co_await failed();
            }
            std::string expected = auth::is_md5_secret(*secret)
                                       ? auth::md5_password_secret(password, who_.user)
                                       : password;
            if (expected.size() != secret->size() ||
                CRYPTO_memcmp(expected.data(), secret->data(), expected.size()) != 0) {
                co_return co_await failed();
            }
            co_return true;
        }
        case config::auth_type::scram_sha_256:
            if (co_await authenticate_scram(secret)) {
                co_return true;
            }
            co_return co_await failed();
        case config::auth_type::md5: {
            if (secret != nullptr && auth::parse_scram_secret(*secret)) {
                // A SCRAM secret cannot answer an md5 challenge: use SCRAM with this client,
                // as PgBouncer does.
                if (co_await authenticate_scram(secret)) {
                    co_return true;
                }
                co_return co_await failed();
            }
            std::array<std::byte, 4> salt{};
            auth::random_bytes(salt);
            protocol::append_auth_request(out, protocol::auth_request::md5_password, salt);
            std::string response;
            if (!co_await ask(out, response)) {
                co_return false;
            }
            // An unknown user is challenged like a known one, so a failed login does not
            // reveal which user names exist.
            if (secret == nullptr ||
                !auth::verify_md5_response(*secret, who_.user, salt, response)) {
                co_return co_await failed();
            }
            co_return true;
        }
        default:
            co_await fatal(
                sqlstate::feature_not_supported,
                fmt::format("auth_type {} is not supported yet", config::to_string(s.auth)),
                "use auth_type = md5, plain, trust or any");
            co_return false;
    }
}

net::awaitable<bool> client_login::authenticate_scram(const std::string* secret) {
    // SASL exchange (sasl-authentication.html): mechanism list, client-first,
    // server-first, client-final, server-final. An unknown user gets a made-up secret so
    // the exchange looks the same (salt and iterations included) and fails only at the proof.
    // Neither a stand-in nor a cached plain password costs PBKDF2 per attempt: made-up
    // users cost the event loop little, and answer as fast as stored secrets.
    std::optional<auth::scram_secret> parsed;
    const int iterations = owner_.settings().scram_iterations;
    if (secret != nullptr) {
        parsed = auth::parse_scram_secret(*secret);
        if (!parsed && !auth::is_md5_secret(*secret) && !secret->empty()) {
            parsed = owner_.scram_cache().get(who_.user, *secret, iterations);
        }
    }
    bool known = parsed.has_value();
    if (!known) {
        parsed = auth::stand_in_secret(who_.user, iterations);
    }
    auth::scram_server server(std::move(*parsed));
    protocol::byte_buffer out;
    std::string mechs = std::string(auth::scram_mechanism);
    mechs.push_back('\0');
    mechs.push_back('\0');
    protocol::append_auth_request(out, protocol::auth_request::sasl, protocol::as_bytes(mechs));
    std::string msg;
    if (!co_await ask(out, msg, false)) {
        co_return false;
    }
    protocol::message_reader r{protocol::as_bytes(msg)};
    auto mech = r.cstring();
    auto len = r.i32();
    auto data = protocol::as_text(r.rest());
    if (r.failed() || mech != auth::scram_mechanism ||
        len != static_cast<std::int32_t>(data.size())) {
        co_await fatal(sqlstate::protocol_violation, "invalid SASL initial response",
                       "the client must choose SCRAM-SHA-256");
        co_return false;
    }
    std::string reply;
    std::string error;
    if (!server.handle_client_first(data, reply, error)) {
        co_await fatal(sqlstate::protocol_violation,
                       fmt::format("invalid SCRAM message: {}", error));
        co_return false;
    }
    protocol::append_auth_request(out, protocol::auth_request::sasl_continue,
                                  protocol::as_bytes(reply));
    if (!co_await ask(out, msg, false)) {
        co_return false;
    }
    if (!server.handle_client_final(msg, reply, error) || !known) {
        log::debug("C-{}: SCRAM exchange failed: {}", who_.id, known ? error : "unknown user");
        co_return false;
    }
    protocol::append_auth_request(out, protocol::auth_request::sasl_final,
                                  protocol::as_bytes(reply));
    co_await channel_.send(out);
    co_return !channel_.closing();
}

}  // namespace sabakan::session

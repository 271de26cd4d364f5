// The client side of an admin console session: who may log in to the pseudo-database
// "pgbouncer", its welcome, and the loop that reads simple queries and hands them to the
// console (the admin layer), which decides the answers.
#include <sabakan/core/log.hpp>
#include <sabakan/core/version.hpp>
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/sqlstate.hpp>
#include <sabakan/relay/scanners.hpp>
#include <sabakan/session/client_login.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/pooler.hpp>

#include <algorithm>

namespace sabakan::session {

namespace asio = net::asio;
using net::error_code;
using protocol::scan_status;
namespace sqlstate = protocol::sqlstate;

bool client_session::hung_up() const {
    if (closing()) {
        return true;
    }
    std::byte byte{};
    const int n = transport_.peek(byte);
    if (n > 0) {
        // A Terminate waiting to be read is a hang-up too (libpq sends one when it closes).
        return static_cast<protocol::frontend_tag>(byte) == protocol::frontend_tag::terminate;
    }
    return n != -1;
}

net::awaitable<bool> client_session::welcome_console() {
    const auto& s = owner_.settings();
    auto listed = [&](const std::vector<std::string>& names) {
        return std::find(names.begin(), names.end(), who_.user) != names.end();
    };
    const bool own_socket_user =
        who_.is_unix && who_.user == "pgbouncer" && peer_is_own_user(transport_);
    admin_user_ = own_socket_user || listed(s.admin_users);
    // auth_type = any lets everyone in, read-only unless listed in admin_users.
    const bool may_read = listed(s.stats_users) || s.auth == config::auth_type::any;
    if (!admin_user_ && !may_read) {
        co_await fatal(
            sqlstate::invalid_authorization,
            fmt::format("not allowed: user \"{}\" may not use the admin console", who_.user),
            "add the user to admin_users (all commands) or stats_users (SHOW only) "
            "in the pooler's config");
        co_return false;
    }
    ++owner_.admin_stats().client_login_count;
    key_ = owner_.register_client(this);
    registered_ = true;
    protocol::byte_buffer out;
    protocol::append_auth_request(out, protocol::auth_request::ok);
    const std::string server_version = fmt::format("{}/sabakan", version);
    const std::pair<std::string_view, std::string_view> params[] = {
        {"server_version", server_version},
        {"client_encoding", "UTF8"},
        {"server_encoding", "UTF8"},
        {"DateStyle", "ISO"},
        {"TimeZone", "GMT"},
        {"standard_conforming_strings", "on"},
        {"is_superuser", "on"},
    };
    for (const auto& [name, value] : params) {
        protocol::append_parameter_status(out, name, value);
    }
    protocol::append_backend_key_data(out, key_);
    protocol::append_ready_for_query(out, protocol::transaction_status::idle);
    co_await send(out);
    co_return !closing();
}

net::awaitable<void> client_session::serve_console() {
    console* con = owner_.admin_console();
    // Console queries are read whole; one longer than the buffer is refused.
    protocol::frame_scanner scanner(relay::console_whole_tags, buf_.capacity(),
                                    static_cast<std::uint32_t>(buf_.capacity() - 1));
    protocol::byte_buffer out;
    for (;;) {
        auto r = scanner.next(buf_.unparsed());
        if (r.status == scan_status::need_more) {
            error_code ec;
            auto space = buf_.free_space();
            auto n = co_await transport_.async_read_some(
                space, asio::redirect_error(net::use_awaitable, ec));
            if (ec || n == 0 || closing()) {
                co_return;
            }
            buf_.commit(n);
            continue;
        }
        if (r.status != scan_status::message || !r.whole) {
            co_await fatal(sqlstate::protocol_violation,
                           "invalid or oversized message for the admin console",
                           "console commands are short simple queries, such as SHOW POOLS;");
            co_return;
        }
        buf_.advance(r.consumed());
        buf_.discard_parsed();
        if (static_cast<protocol::frontend_tag>(r.tag) == protocol::frontend_tag::terminate) {
            co_return;
        }
        if (static_cast<protocol::frontend_tag>(r.tag) != protocol::frontend_tag::query ||
            con == nullptr) {
            // An ERROR, then the connection closes, as PgBouncer does.
            close_reason_ = "extended query protocol not supported by admin console";
            protocol::append_error(out, "ERROR", sqlstate::protocol_violation, close_reason_,
                                   "use the simple query protocol (psql does), e.g. psql -c "
                                   "'SHOW POOLS'");
            co_await send(out);
            co_return;
        }
        auto text = protocol::as_text(r.body());
        if (!text.empty() && text.back() == '\0') {
            text.remove_suffix(1);
        }
        auto& st = owner_.admin_stats();
        ++st.query_count;
        ++st.xact_count;
        st.client_bytes += r.consumed();
        request_time_ = std::time(nullptr);
        const bool keep = co_await con->execute(*this, std::string(text), out);
        if (keep && !closing()) {
            protocol::append_ready_for_query(out, protocol::transaction_status::idle);
        }
        st.server_bytes += out.size();
        co_await send(out);
        if (!keep || closing()) {
            close_reason_ = close_reason_.empty() ? "admin console command" : close_reason_;
            co_return;
        }
    }
}

}  // namespace sabakan::session

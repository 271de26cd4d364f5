// Opening a server connection: connect to the [databases] entry's address, send the
// startup packet, answer PostgreSQL's authentication (trust, cleartext, md5,
// SCRAM-SHA-256) and collect what it reports until ReadyForQuery. The connection it works
// for decides what a failure means (server_connection::fail_login).
#pragma once

#include <sabakan/auth/scram.hpp>
#include <sabakan/net/asio.hpp>
#include <sabakan/net/transport.hpp>
#include <sabakan/pool/server_pool.hpp>
#include <sabakan/protocol/frame_scanner.hpp>
#include <sabakan/protocol/startup.hpp>
#include <sabakan/relay/recv_buffer.hpp>
#include <sabakan/session/pooler.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sabakan::session {

class server_login {
public:
    /// `endpoint` is the connection's own, set as soon as the address is known (SHOW
    /// SERVERS shows it while the connect runs). `timed_out` and `closed` are its flags, set
    /// while the login runs (server_connect_timeout, a close from outside); they shape what
    /// a failure says.
    server_login(pooler& owner, server_target target, net::transport& transport,
                 relay::recv_buffer& buf, protocol::frame_scanner& scanner,
                 net::stream_endpoint& endpoint, const bool& timed_out, const bool& closed)
        : owner_(owner),
          target_(std::move(target)),
          transport_(transport),
          buf_(buf),
          scanner_(scanner),
          endpoint_(endpoint),
          timed_out_(timed_out),
          closed_(closed) {}

    /// Resolves the address and connects; false with failure() set when it cannot.
    net::awaitable<bool> connect();
    /// Logs in on the connected transport; false with failure() set when it cannot.
    net::awaitable<bool> log_in();

    protocol::cancel_key backend_key() const noexcept { return key_; }
    /// The ParameterStatus values the server reported during the login.
    std::vector<std::pair<std::string, std::string>>& server_params() noexcept {
        return server_params_;
    }
    /// Why the last step failed, and whether a later attempt may succeed by itself.
    const std::string& failure() const noexcept { return failure_; }
    pool::login_failure failure_kind() const noexcept { return failure_kind_; }

private:
    /// Reads one whole message of the login into `out`; false on a broken stream.
    net::awaitable<bool> read_message(protocol::scan_result& out);
    /// Answers one authentication request into `out`; false when it cannot.
    bool answer_auth(protocol::bytes_view body, protocol::byte_buffer& out);
    bool fail(std::string message, pool::login_failure kind = pool::login_failure::refused);

    pooler& owner_;
    const server_target target_;  // a copy: a RELOAD may change the pool's meanwhile
    net::transport& transport_;
    relay::recv_buffer& buf_;
    protocol::frame_scanner& scanner_;
    net::stream_endpoint& endpoint_;
    const bool& timed_out_;
    const bool& closed_;
    protocol::cancel_key key_;
    std::optional<auth::scram_client> scram_;
    std::vector<std::pair<std::string, std::string>> server_params_;
    std::string failure_;
    pool::login_failure failure_kind_ = pool::login_failure::refused;
};

}  // namespace sabakan::session

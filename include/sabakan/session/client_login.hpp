// A client's login: the startup packet, the checks on what it asks for, and authentication
// against the userlist. It is a conversation on the client's own stream; the session that
// owns the stream sends every answer and every refusal (login_channel), so that no two of
// its writes can interleave.
#pragma once

#include <sabakan/net/asio.hpp>
#include <sabakan/net/transport.hpp>
#include <sabakan/protocol/frame_scanner.hpp>
#include <sabakan/protocol/message_writer.hpp>
#include <sabakan/protocol/startup.hpp>
#include <sabakan/relay/recv_buffer.hpp>
#include <sabakan/relay/session_params.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sabakan::session {

class pooler;

/// Who a client is: known from its socket at once, from its startup packet after that.
struct client_identity {
    std::uint64_t id = 0;
    std::string peer;  // "addr:port", or "unix"
    bool is_unix = false;
    std::string user;
    std::string database;
    std::string application_name;
    bool is_admin = false;  // it asked for the console's pseudo-database "pgbouncer"
};

/// The writes a login makes, done by the connection that owns the stream.
class login_channel {
public:
    /// Writes `out` whole and clears it; a failed write leaves the connection closing.
    virtual net::awaitable<void> send(protocol::byte_buffer& out) = 0;
    /// Sends a FATAL ErrorResponse and leaves the connection closing.
    virtual net::awaitable<void> fatal(std::string_view sqlstate, std::string_view message,
                                       std::string_view hint) = 0;
    /// Closed or being closed: the login ends at its next step.
    virtual bool closing() const noexcept = 0;

protected:
    ~login_channel() = default;
};

class client_login {
public:
    client_login(pooler& owner, login_channel& channel, net::transport& transport,
                 relay::recv_buffer& buf, protocol::frame_scanner& scanner, client_identity& who)
        : owner_(owner),
          channel_(channel),
          transport_(transport),
          buf_(buf),
          scanner_(scanner),
          who_(who) {}

    /// Reads the startup packet into `bytes` and decodes it into `sp`, which views `bytes`.
    /// False: refused (and told why) or gone.
    net::awaitable<bool> read_startup(protocol::startup_packet& sp, std::string& bytes);
    /// Takes the user, database and settings the startup packet asks for, refusing what
    /// cannot be served; `parameters` gets the session parameters to keep.
    net::awaitable<bool> check_startup(const protocol::startup_packet& sp,
                                       relay::parameter_overrides& parameters);
    /// Authenticates the user by the auth_type in force.
    net::awaitable<bool> authenticate();

private:
    /// Reads what the client has sent into the buffer; false when it has gone.
    net::awaitable<bool> read_more();
    /// Sends `out` (an authentication request) and reads the client's answer into
    /// `answer`; false when the client has gone or was refused.
    net::awaitable<bool> ask(protocol::byte_buffer& out, std::string& answer,
                             bool is_cstring = true);
    net::awaitable<bool> read_password(std::string& out, bool is_cstring = true);
    net::awaitable<bool> authenticate_scram(const std::string* secret);
    /// Refuses the login: the channel sends the error. Always false.
    net::awaitable<bool> fatal(std::string_view sqlstate, std::string_view message,
                               std::string_view hint = {});

    pooler& owner_;
    login_channel& channel_;
    net::transport& transport_;
    relay::recv_buffer& buf_;
    protocol::frame_scanner& scanner_;
    client_identity& who_;
};

/// Whether the peer of a unix socket runs as this process's OS user.
bool peer_is_own_user(const net::transport& transport);

}  // namespace sabakan::session

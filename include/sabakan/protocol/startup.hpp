// The untagged packets that open a connection: StartupMessage, SSLRequest,
// GSSENCRequest and CancelRequest (protocol-message-formats.html).
#pragma once

#include <sabakan/protocol/bytes.hpp>
#include <sabakan/protocol/message_writer.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sabakan::protocol {

/// Startup packets longer than this are refused, as PostgreSQL does.
inline constexpr std::uint32_t max_startup_packet = 10000;

enum class startup_kind : std::uint8_t { startup, ssl_request, gssenc_request, cancel_request };

enum class startup_error : std::uint8_t {
    none,
    bad_length,   // shorter than 8 bytes or over max_startup_packet
    bad_version,  // an unsupported protocol version
    malformed,    // parameters not NUL-terminated pairs, or a missing final NUL
};

struct cancel_key {
    std::int32_t pid = 0;
    std::int32_t secret = 0;
    friend bool operator==(const cancel_key&, const cancel_key&) = default;
};

struct startup_packet {
    startup_kind kind = startup_kind::startup;
    std::int32_t version = 0;
    /// name/value pairs; views into the packet's bytes.
    std::vector<std::pair<std::string_view, std::string_view>> params;
    cancel_key cancel;

    std::string_view param(std::string_view name) const noexcept;
    bool has(std::string_view name) const noexcept;
};

/// The length word of a startup packet, if 4 bytes are present.
std::optional<std::uint32_t> startup_length(bytes_view in) noexcept;

/// Decodes one complete startup packet (length word included).
startup_error decode_startup(bytes_view packet, startup_packet& out);

/// Appends the NegotiateProtocolVersion a startup needs (a minor version above 0, or
/// `_pq_.` options, none of which are recognised) and returns true; false when it needs
/// none. Serves protocol 3.0, as PostgreSQL 15 does.
bool append_protocol_negotiation(const startup_packet& sp, byte_buffer& out);

/// The settings in a startup packet's `options` value, as PostgreSQL reads them: words
/// split at blanks (a backslash keeps the next character, blank or not), each `-c name=value`,
/// `-cname=value` or `--name=value`. False for anything else (other command-line switches).
bool decode_startup_options(std::string_view options,
                            std::vector<std::pair<std::string, std::string>>& out);

}  // namespace sabakan::protocol

// The scanners of the two directions of a link, and the messages each must see whole:
// the relay reads those, and passes every other message by its header.
#pragma once

#include <sabakan/protocol/frame_scanner.hpp>
#include <sabakan/protocol/tags.hpp>

#include <cstddef>
#include <cstdint>

namespace sabakan::relay {

namespace detail {
constexpr char tag_byte(protocol::frontend_tag t) noexcept {
    return static_cast<char>(t);
}
constexpr char tag_byte(protocol::backend_tag t) noexcept {
    return static_cast<char>(t);
}
}  // namespace detail

/// From the client: PasswordMessage during login, and the messages that name prepared
/// statements, which a tracking link rewrites (Parse, Bind, Describe, Close, and a Query
/// that may be a DEALLOCATE).
inline constexpr protocol::tag_set client_whole_tags{
    detail::tag_byte(protocol::frontend_tag::password),
    detail::tag_byte(protocol::frontend_tag::parse),
    detail::tag_byte(protocol::frontend_tag::bind),
    detail::tag_byte(protocol::frontend_tag::describe),
    detail::tag_byte(protocol::frontend_tag::close),
    detail::tag_byte(protocol::frontend_tag::query)};

/// From the server: ReadyForQuery for the release rule, CommandComplete for DISCARD ALL
/// and DEALLOCATE (which drop prepared statements), ParameterStatus for the session
/// parameters, and the login-phase messages.
inline constexpr protocol::tag_set server_whole_tags{
    detail::tag_byte(protocol::backend_tag::ready_for_query),
    detail::tag_byte(protocol::backend_tag::command_complete),
    detail::tag_byte(protocol::backend_tag::authentication),
    detail::tag_byte(protocol::backend_tag::error_response),
    detail::tag_byte(protocol::backend_tag::parameter_status),
    detail::tag_byte(protocol::backend_tag::backend_key_data),
    detail::tag_byte(protocol::backend_tag::notice_response),
    detail::tag_byte(protocol::backend_tag::negotiate_protocol_version)};

/// The console: simple queries only.
inline constexpr protocol::tag_set console_whole_tags{
    detail::tag_byte(protocol::frontend_tag::query)};

/// A client's scanner over a receive buffer of `capacity` bytes; `max_packet` caps a
/// message's length word (max_packet_size).
inline protocol::frame_scanner client_scanner(std::size_t capacity,
                                              std::uint32_t max_packet) noexcept {
    return {client_whole_tags, capacity, max_packet};
}

/// A server's scanner: PostgreSQL's messages are trusted up to the protocol's own limit.
inline protocol::frame_scanner server_scanner(std::size_t capacity) noexcept {
    return {server_whole_tags, capacity, 0x7fffffff};
}

}  // namespace sabakan::relay

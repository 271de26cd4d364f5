// The extended-query messages a pooler must look inside to keep named prepared statements
// working when a client's transactions run on different servers: Parse, Bind, Describe
// and Close, decoded without copying (views into the message body), and composed again
// with another statement name. Pure codec: no I/O, no pooling policy.
#pragma once

#include <sabakan/protocol/bytes.hpp>
#include <sabakan/protocol/message_writer.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sabakan::protocol {

/// Parse, Bind, Describe and Close: the client messages that name a prepared statement.
constexpr bool names_statement(char tag) noexcept {
    return tag == static_cast<char>(frontend_tag::parse) ||
           tag == static_cast<char>(frontend_tag::bind) ||
           tag == static_cast<char>(frontend_tag::describe) ||
           tag == static_cast<char>(frontend_tag::close);
}

/// A Parse body: statement name ("" is the unnamed statement), query text, and the
/// parameter type list as sent (Int16 count, then an Int32 OID per parameter).
struct parse_message {
    std::string_view statement;
    std::string_view query;
    bytes_view parameter_types;  // the count and the OIDs, exactly as in the message
};
/// False when the body is malformed (a missing NUL, a count that disagrees with the length).
bool decode_parse(bytes_view body, parse_message& out) noexcept;
/// A Parse of `m`'s query and types under the statement name `statement`.
void append_parse(byte_buffer& out, std::string_view statement, const parse_message& m);

/// The start of a Bind body: the portal and statement names. What follows them (formats,
/// parameter values, result formats) is left as bytes, to be forwarded as they are.
struct bind_head {
    std::string_view portal;
    std::string_view statement;
    bytes_view rest;  // from the parameter format count to the end of the body
};
bool decode_bind_head(bytes_view body, bind_head& out) noexcept;
/// A Bind with its statement name replaced; portal and everything else unchanged.
void append_bind(byte_buffer& out, std::string_view statement, const bind_head& b);

/// Describe and Close name a prepared statement or a portal.
struct statement_or_portal {
    target_kind kind = target_kind::statement;
    std::string_view name;
};
/// Decodes the body of a Describe or a Close. False when malformed or the kind is
/// neither.
bool decode_statement_or_portal(bytes_view body, statement_or_portal& out) noexcept;
/// A Describe (`tag` describe) or Close (`tag` close) of `target`.
void append_statement_or_portal(byte_buffer& out, frontend_tag tag,
                                const statement_or_portal& target);

/// The statement a simple query of exactly one `DEALLOCATE [PREPARE] name` (a trailing
/// semicolon and blanks allowed) deallocates, with an unquoted name folded to lower case as
/// PostgreSQL does; nullopt for anything else, `DEALLOCATE ALL` included.
std::optional<std::string> deallocate_target(std::string_view query);

/// Whether a CommandComplete body is that of DISCARD ALL or DEALLOCATE ALL, after which
/// the session has no prepared statements left.
bool drops_prepared_statements(bytes_view command_complete_body) noexcept;

}  // namespace sabakan::protocol

// Parses one admin-console query (`SHOW POOLS;`, `PAUSE "my-db"`, `SET key = 'v'`) into a verb
// and its operands. Pure: it checks syntax only; whether a verb or setting exists, and acting
// on it, is the dispatcher's job. No I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sabakan::admin {

/// One parsed admin command.
struct command {
    std::string verb;           // upper-cased: "SHOW", "PAUSE", "SET", ...
    std::string argument;       // as typed (quotes removed, "" collapsed); for SET: the key
    std::string value;          // SET only: the value, quotes removed and '' collapsed
    bool has_argument = false;  // always true for SET

    friend bool operator==(const command&, const command&) = default;
};

/// Parses the text of one simple Query message. Accepted, case-insensitively, with optional
/// whitespace around the parts and an optional final `;`:
///   WORD [ARG]                    WORD is [0-9A-Za-z_]+; ARG is a WORD or a "quoted" identifier
///   SET key = value | SET key TO value
///                                 key is a WORD; value is [0-9A-Za-z_.:/-]+ or a 'quoted' string
/// A verb of SET always takes the SET form; `SET` alone or `SET key` is not a command.
/// Anything else (empty, two arguments, unterminated quotes, text after `;`) gives nullopt.
std::optional<command> parse_command(std::string_view query);

/// ASCII case-insensitive equality, for matching verbs and SHOW subcommands.
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace sabakan::admin

// The `key=value key='quoted value'` strings of [databases], [users] and [peers]. This only
// splits the text into pairs; which keys exist and what their values mean is entries.cpp's job.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sabakan::config::detail {

struct conn_param {
    std::string key;
    std::string value;
};

/// Splits `text` into pairs, in order. Pairs are separated by blanks; blanks around '=' are
/// allowed; a value in single quotes may hold blanks, and '' inside it is one quote.
/// Returns an empty string on success, else a message saying what is wrong (as PgBouncer
/// does, an empty value is an error).
std::string split_connection_string(std::string_view text, std::vector<conn_param>& out);

}  // namespace sabakan::config::detail

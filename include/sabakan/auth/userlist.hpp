// auth_file (userlist.txt) parsing: one `"user" "secret"` pair per line, where the secret is a
// plain password, an md5 secret or a SCRAM secret. Deciding what a secret is belongs to md5.hpp
// and scram.hpp; this module only reads the file.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace sabakan::auth {

struct userlist {
    std::unordered_map<std::string, std::string> secrets;  // user -> secret, as written

    /// The secret stored for `user`, or nullptr when the user is not listed.
    const std::string* find(std::string_view user) const;
};

/// Parses auth_file text. Format: each line is `"user" "secret"`, anything after the secret is
/// ignored; `""` inside quotes stands for one '"'; blank lines and lines whose first non-blank
/// character is ';' are comments. A user listed twice keeps the later secret.
/// Throws std::runtime_error "<file_name>:<line>: <what is wrong and what was expected>".
userlist parse_userlist(std::string_view text, std::string_view file_name);

/// Reads and parses the file at `path`. Throws std::runtime_error naming the file when it
/// cannot be read or does not parse.
userlist load_userlist(const std::string& path);

}  // namespace sabakan::auth

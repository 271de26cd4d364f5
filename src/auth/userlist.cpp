// auth_file reader. The whole file is parsed before anything is returned, so a RELOAD with a
// broken file keeps the old list; errors name the file and line and say what was expected.
#include <sabakan/auth/userlist.hpp>
#include <sabakan/core/file.hpp>

#include <fmt/format.h>

#include <stdexcept>

namespace sabakan::auth {
namespace {

bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::size_t skip_blanks(std::string_view line, std::size_t pos) noexcept {
    while (pos < line.size() && is_blank(line[pos])) {
        ++pos;
    }
    return pos;
}

// Reads a quoted field whose opening '"' is at `pos`; "" inside stands for one '"'. On success
// `pos` is just past the closing quote. False when the line ends before the closing quote.
bool read_quoted(std::string_view line, std::size_t& pos, std::string& out) {
    std::size_t i = pos + 1;
    for (;;) {
        const std::size_t quote = line.find('"', i);
        if (quote == std::string_view::npos) {
            return false;
        }
        out.append(line.substr(i, quote - i));
        if (quote + 1 < line.size() && line[quote + 1] == '"') {
            out.push_back('"');
            i = quote + 2;
            continue;
        }
        pos = quote + 1;
        return true;
    }
}

[[noreturn]] void fail(std::string_view file_name, std::size_t line_no, std::string_view what) {
    throw std::runtime_error(fmt::format("{}:{}: {}", file_name, line_no, what));
}

}  // namespace

const std::string* userlist::find(std::string_view user) const {
    const auto it = secrets.find(std::string(user));
    return it == secrets.end() ? nullptr : &it->second;
}

userlist parse_userlist(std::string_view text, std::string_view file_name) {
    userlist result;
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const std::size_t eol = text.find('\n');
        const std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);

        std::size_t pos = skip_blanks(line, 0);
        if (pos == line.size() || line[pos] == ';') {
            continue;
        }
        if (line[pos] != '"') {
            fail(file_name, line_no, "expected a quoted user name like \"alice\"");
        }
        std::string user;
        if (!read_quoted(line, pos, user)) {
            fail(file_name, line_no,
                 "the user name has no closing '\"' (write a '\"' inside a name as '\"\"')");
        }
        if (user.empty()) {
            fail(file_name, line_no, "empty user name; expected a quoted user name like \"alice\"");
        }
        pos = skip_blanks(line, pos);
        if (pos == line.size() || line[pos] != '"') {
            fail(file_name, line_no,
                 fmt::format("expected a quoted password or secret after the user name, like "
                             "\"{}\" \"md5...\"",
                             user));
        }
        std::string secret;
        if (!read_quoted(line, pos, secret)) {
            fail(file_name, line_no,
                 "the secret has no closing '\"' (write a '\"' inside a secret as '\"\"')");
        }
        // Anything after the secret is ignored, as PgBouncer does.
        result.secrets.insert_or_assign(std::move(user), std::move(secret));
    }
    return result;
}

userlist load_userlist(const std::string& path) {
    std::string text;
    std::string why;
    if (!core::read_whole_file(path, text, why)) {
        throw std::runtime_error(fmt::format("{}: cannot read auth_file: {}", path, why));
    }
    return parse_userlist(text, path);
}

}  // namespace sabakan::auth

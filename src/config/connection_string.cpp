// Connection-string splitting. PgBouncer uses its own small parser here, not libpq's: single
// quotes only, '' for a quote inside them, no backslash escapes, and no empty values.
#include "connection_string.hpp"

#include "values.hpp"

#include <fmt/format.h>

namespace sabakan::config::detail {
namespace {

std::size_t skip_blanks(std::string_view s, std::size_t pos) noexcept {
    while (pos < s.size() && is_blank(s[pos])) {
        ++pos;
    }
    return pos;
}

}  // namespace

std::string split_connection_string(std::string_view text, std::vector<conn_param>& out) {
    std::size_t pos = skip_blanks(text, 0);
    while (pos < text.size()) {
        const std::size_t key_start = pos;
        while (pos < text.size() && text[pos] != '=' && !is_blank(text[pos])) {
            ++pos;
        }
        conn_param p{std::string(text.substr(key_start, pos - key_start)), {}};
        pos = skip_blanks(text, pos);
        if (pos >= text.size() || text[pos] != '=' || p.key.empty()) {
            return p.key.empty()
                       ? std::string("expected key=value, found '=' with no key before it")
                       : fmt::format("expected key=value, found '{}' with no '=' after it", p.key);
        }
        pos = skip_blanks(text, pos + 1);
        if (pos < text.size() && text[pos] == '\'') {
            for (++pos;; ++pos) {
                if (pos >= text.size()) {
                    return fmt::format(
                        "the value of {} has no closing quote (write a quote inside a value as '')",
                        p.key);
                }
                if (text[pos] == '\'') {
                    if (pos + 1 < text.size() && text[pos + 1] == '\'') {
                        ++pos;
                    } else {
                        ++pos;
                        break;
                    }
                }
                p.value.push_back(text[pos]);
            }
            if (pos < text.size() && !is_blank(text[pos])) {
                return fmt::format("expected a blank after the closing quote of {}'s value", p.key);
            }
        } else {
            const std::size_t value_start = pos;
            while (pos < text.size() && !is_blank(text[pos])) {
                ++pos;
            }
            p.value = text.substr(value_start, pos - value_start);
        }
        if (p.value.empty()) {
            return fmt::format("{} has an empty value; give a value or leave {} out", p.key, p.key);
        }
        out.push_back(std::move(p));
        pos = skip_blanks(text, pos);
    }
    return {};
}

}  // namespace sabakan::config::detail

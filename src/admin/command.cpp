// The admin-console command grammar, as a hand-written cursor over the query text.
// Syntax only: no lookups, no effects, no I/O.
#include <sabakan/admin/command.hpp>

#include <cstddef>

namespace sabakan::admin {
namespace {

// ASCII only, on purpose: the query's encoding is the client's, and the locale is not ours.
constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

constexpr bool is_word_char(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// A bare SET value may also spell numbers, durations and paths: 0.5, -1, 10:00, /tmp.
constexpr bool is_value_char(char c) noexcept {
    return is_word_char(c) || c == '.' || c == ':' || c == '/' || c == '-';
}

constexpr char to_upper(char c) noexcept {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

class cursor {
public:
    explicit cursor(std::string_view s) noexcept : s_(s) {}

    bool at_end() const noexcept { return pos_ == s_.size(); }
    bool next_is(char c) const noexcept { return pos_ < s_.size() && s_[pos_] == c; }
    bool next_is_word() const noexcept { return pos_ < s_.size() && is_word_char(s_[pos_]); }

    bool eat(char c) noexcept {
        if (!next_is(c)) {
            return false;
        }
        ++pos_;
        return true;
    }

    /// Skips whitespace; true if there was any.
    bool skip_space() noexcept {
        auto start = pos_;
        while (pos_ < s_.size() && is_space(s_[pos_])) {
            ++pos_;
        }
        return pos_ != start;
    }

    /// The longest run of chars accepted by `pred`; empty if there is none.
    template <typename Pred>
    std::string_view run(Pred pred) noexcept {
        auto start = pos_;
        while (pos_ < s_.size() && pred(s_[pos_])) {
            ++pos_;
        }
        return s_.substr(start, pos_ - start);
    }

    /// A string delimited by `q`, in which a doubled `q` stands for one. False if unterminated.
    bool quoted(char q, std::string& out) {
        if (!eat(q)) {
            return false;
        }
        out.clear();
        while (pos_ < s_.size()) {
            char c = s_[pos_++];
            if (c != q) {
                out.push_back(c);
            } else if (eat(q)) {
                out.push_back(q);
            } else {
                return true;
            }
        }
        return false;
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

// The common tail of every form: optional whitespace, an optional `;`, optional whitespace.
bool finish(cursor& c) noexcept {
    c.skip_space();
    c.eat(';');
    c.skip_space();
    return c.at_end();
}

// WORD or "quoted identifier"; the cursor is at its first char.
bool argument(cursor& c, std::string& out) {
    if (c.next_is('"')) {
        // A zero-length delimited identifier is an error in PostgreSQL too.
        return c.quoted('"', out) && !out.empty();
    }
    out = c.run(is_word_char);
    return !out.empty();
}

// After the SET verb: WS key WS0 (= | WS TO WS) WS0 value.
bool set_operands(cursor& c, command& cmd) {
    if (!c.skip_space()) {
        return false;
    }
    cmd.argument = c.run(is_word_char);
    if (cmd.argument.empty()) {
        return false;
    }
    cmd.has_argument = true;
    bool spaced = c.skip_space();
    if (!c.eat('=')) {
        // TO is a word, so it needs a separator on both sides (a quote also ends it).
        if (!spaced || !iequals(c.run(is_word_char), "to")) {
            return false;
        }
        if (!c.skip_space() && !c.next_is('\'')) {
            return false;
        }
    }
    c.skip_space();
    if (c.next_is('\'')) {
        return c.quoted('\'', cmd.value);
    }
    cmd.value = c.run(is_value_char);
    return !cmd.value.empty();
}

}  // namespace

std::optional<command> parse_command(std::string_view query) {
    cursor c{query};
    c.skip_space();
    auto verb = c.run(is_word_char);
    if (verb.empty()) {
        return std::nullopt;
    }
    command cmd;
    cmd.verb.reserve(verb.size());
    for (char ch : verb) {
        cmd.verb.push_back(to_upper(ch));
    }
    if (cmd.verb == "SET") {
        if (!set_operands(c, cmd) || !finish(c)) {
            return std::nullopt;
        }
        return cmd;
    }
    // The argument must be set off by whitespace: `SHOW"x"` and `SHOW-x` are junk.
    if (c.skip_space() && (c.next_is_word() || c.next_is('"'))) {
        if (!argument(c, cmd.argument)) {
            return std::nullopt;
        }
        cmd.has_argument = true;
    }
    if (!finish(c)) {
        return std::nullopt;
    }
    return cmd;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_upper(a[i]) != to_upper(b[i])) {
            return false;
        }
    }
    return true;
}

}  // namespace sabakan::admin

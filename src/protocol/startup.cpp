// Decoding of the packets a connection opens with. Views only: the caller keeps the
// packet's bytes alive as long as it uses the parameters.
#include <sabakan/protocol/message_reader.hpp>
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/startup.hpp>

#include <algorithm>
#include <sabakan/protocol/tags.hpp>

namespace sabakan::protocol {

std::string_view startup_packet::param(std::string_view name) const noexcept {
    for (const auto& [k, v] : params) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

bool startup_packet::has(std::string_view name) const noexcept {
    for (const auto& [k, v] : params) {
        if (k == name) {
            return true;
        }
    }
    return false;
}

std::optional<std::uint32_t> startup_length(bytes_view in) noexcept {
    if (in.size() < 4) {
        return std::nullopt;
    }
    message_reader r{in.first(4)};
    return static_cast<std::uint32_t>(r.i32());
}

startup_error decode_startup(bytes_view packet, startup_packet& out) {
    if (packet.size() < 8 || packet.size() > max_startup_packet) {
        return startup_error::bad_length;
    }
    message_reader r{packet};
    auto len = static_cast<std::uint32_t>(r.i32());
    if (len != packet.size()) {
        return startup_error::bad_length;
    }
    out.version = r.i32();
    out.params.clear();
    switch (out.version) {
        case ssl_request_code:
            out.kind = startup_kind::ssl_request;
            return r.expect_end() ? startup_error::none : startup_error::bad_length;
        case gssenc_request_code:
            out.kind = startup_kind::gssenc_request;
            return r.expect_end() ? startup_error::none : startup_error::bad_length;
        case cancel_request_code:
            out.kind = startup_kind::cancel_request;
            out.cancel.pid = r.i32();
            out.cancel.secret = r.i32();
            return r.expect_end() ? startup_error::none : startup_error::bad_length;
        default:
            break;
    }
    // Major version 3; any minor version is served as 3.0 (PgBouncer does the same).
    if ((out.version >> 16) != 3) {
        return startup_error::bad_version;
    }
    out.kind = startup_kind::startup;
    out.params.reserve(8);  // drivers send 2-8 parameters: one allocation, not four
    for (;;) {
        auto name = r.cstring();
        if (r.failed()) {
            return startup_error::malformed;
        }
        if (name.empty()) {
            break;  // the terminating NUL
        }
        auto value = r.cstring();
        if (r.failed()) {
            return startup_error::malformed;
        }
        out.params.emplace_back(name, value);
    }
    return r.expect_end() ? startup_error::none : startup_error::malformed;
}

namespace {

bool is_option_blank(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/// One setting, "name=value"; false when there is no '=' or no name. In the long form
/// (--name=value) a dash in the name stands for an underscore, as PostgreSQL reads it.
bool add_setting(std::string_view word, bool long_form,
                 std::vector<std::pair<std::string, std::string>>& out) {
    const auto eq = word.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        return false;
    }
    std::string name(word.substr(0, eq));
    if (long_form) {
        std::replace(name.begin(), name.end(), '-', '_');
    }
    out.emplace_back(std::move(name), word.substr(eq + 1));
    return true;
}

}  // namespace

bool decode_startup_options(std::string_view options,
                            std::vector<std::pair<std::string, std::string>>& out) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    for (std::size_t i = 0; i < options.size(); ++i) {
        char c = options[i];
        if (is_option_blank(c)) {
            if (in_word) {
                words.push_back(std::move(word));
                word.clear();
                in_word = false;
            }
            continue;
        }
        if (c == '\\' && i + 1 < options.size()) {
            c = options[++i];
        }
        word.push_back(c);
        in_word = true;
    }
    if (in_word) {
        words.push_back(std::move(word));
    }
    for (std::size_t i = 0; i < words.size(); ++i) {
        std::string_view w = words[i];
        if (w == "-c") {
            if (++i == words.size() || !add_setting(words[i], false, out)) {
                return false;
            }
        } else if (w.starts_with("--") || w.starts_with("-c")) {
            if (!add_setting(w.substr(2), w[1] == '-', out)) {
                return false;
            }
        } else {
            return false;
        }
    }
    return true;
}

bool append_protocol_negotiation(const startup_packet& sp, byte_buffer& out) {
    std::vector<std::string_view> unrecognised;
    for (const auto& [name, value] : sp.params) {
        if (name.starts_with("_pq_.")) {
            unrecognised.push_back(name);
        }
    }
    if ((sp.version & 0xffff) == 0 && unrecognised.empty()) {
        return false;
    }
    append_negotiate_protocol_version(out, 3 << 16, unrecognised);
    return true;
}

}  // namespace sabakan::protocol

#include <sabakan/admin/http_request.hpp>

namespace sabakan::admin {

std::size_t http_head_end(std::string_view received) noexcept {
    // RFC 9112 asks for CRLF but lets a server accept a bare LF; curl and Prometheus send
    // CRLF, hand-typed requests (nc) often do not.
    for (std::size_t i = 0; i < received.size(); ++i) {
        if (received[i] != '\n') {
            continue;
        }
        if (i + 1 < received.size() && received[i + 1] == '\n') {
            return i + 2;
        }
        if (i + 2 < received.size() && received[i + 1] == '\r' && received[i + 2] == '\n') {
            return i + 3;
        }
    }
    return std::string_view::npos;
}

std::optional<http_request> parse_http_request(std::string_view head) noexcept {
    std::string_view line = head.substr(0, head.find('\n'));
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    const auto first = line.find(' ');
    const auto last = line.rfind(' ');
    if (first == std::string_view::npos || first == 0 || last == first) {
        return std::nullopt;
    }
    const std::string_view version = line.substr(last + 1);
    if (version.substr(0, 7) != "HTTP/1.") {
        return std::nullopt;
    }
    http_request r;
    r.method = line.substr(0, first);
    std::string_view target = line.substr(first + 1, last - first - 1);
    if (target.empty() || target.front() != '/' || target.find(' ') != std::string_view::npos) {
        return std::nullopt;
    }
    r.path = target.substr(0, target.find('?'));
    return r;
}

}  // namespace sabakan::admin

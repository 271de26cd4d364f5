#include <sabakan/config/listen_address.hpp>

#include <charconv>

namespace sabakan::config {

std::optional<listen_address> parse_listen_address(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view host = text.substr(0, colon);
    const std::string_view port = text.substr(colon + 1);
    listen_address out;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || out.port < 1 ||
        out.port > 65535) {
        return std::nullopt;
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string_view::npos) {
        return std::nullopt;  // a bare IPv6 address: its port would be ambiguous
    }
    out.host = host.empty() || host == "*" ? "0.0.0.0" : std::string(host);
    return out;
}

}  // namespace sabakan::config

// "host:port" as the metrics_listen setting writes it: "127.0.0.1:9127", "[::1]:9127",
// "localhost:9127", or "*:9127" / ":9127" for every IPv4 address.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sabakan::config {

struct listen_address {
    std::string host;  // "0.0.0.0" for "*" and for an empty host; brackets removed
    int port = 0;
};

/// Nullopt unless the text is a host (or bracketed IPv6 address), a colon and a port in
/// 1..65535.
std::optional<listen_address> parse_listen_address(std::string_view text);

}  // namespace sabakan::config

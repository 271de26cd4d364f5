// Just enough of HTTP/1.x to answer a Prometheus scrape: where a request's head ends, and
// its method and path. Pure: the endpoint does the reading and writing.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace sabakan::admin {

struct http_request {
    std::string_view method;  // "GET", "HEAD", ...
    std::string_view path;    // the target without its query string: "/metrics"
};

/// The offset just past the blank line that ends the head, or npos while it has not come.
std::size_t http_head_end(std::string_view received) noexcept;

/// The request line of a head: "METHOD TARGET HTTP/1.x". Nullopt when it is not one.
std::optional<http_request> parse_http_request(std::string_view head) noexcept;

}  // namespace sabakan::admin

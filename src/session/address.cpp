// Socket addresses for the admin console's listings.
#include "address.hpp"

#include <sys/socket.h>

#include <cstring>

namespace sabakan::session::detail {

std::pair<std::string, int> split_endpoint(const net::stream_endpoint& ep) {
    const int family = ep.protocol().family();
    if (family == AF_UNIX) {
        return {"unix", 0};
    }
    if (family == AF_INET || family == AF_INET6) {
        net::asio::ip::tcp::endpoint tep;
        std::memcpy(tep.data(), ep.data(), ep.size());
        return {tep.address().to_string(), tep.port()};
    }
    return {"", 0};
}

std::pair<std::string, int> local_end(const net::stream_socket& s) {
    net::error_code ec;
    auto ep = s.local_endpoint(ec);
    return ec ? std::pair<std::string, int>{"", 0} : split_endpoint(ep);
}

std::pair<std::string, int> remote_end(const net::stream_socket& s) {
    net::error_code ec;
    auto ep = s.remote_endpoint(ec);
    return ec ? std::pair<std::string, int>{"", 0} : split_endpoint(ep);
}

}  // namespace sabakan::session::detail

// Socket addresses as SHOW CLIENTS/SERVERS print them: an IP and a port, or "unix".
#pragma once

#include <sabakan/net/asio.hpp>

#include <string>
#include <utility>

namespace sabakan::session::detail {

/// The address and port of `ep`; {"unix", 0} for a unix socket, {"", 0} when unknown.
std::pair<std::string, int> split_endpoint(const net::stream_endpoint& ep);

/// The local or remote end of `s`, as split_endpoint() gives it.
std::pair<std::string, int> local_end(const net::stream_socket& s);
std::pair<std::string, int> remote_end(const net::stream_socket& s);

}  // namespace sabakan::session::detail

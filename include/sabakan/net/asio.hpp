// The only way sabakan includes Boost.Asio. Boost 1.74's awaitable.hpp uses std::exchange
// without including <utility>, so <utility> must come first.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sabakan::net {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
template <typename T = void>
using awaitable = asio::awaitable<T>;
using stream_socket = asio::generic::stream_protocol::socket;
using stream_endpoint = asio::generic::stream_protocol::endpoint;

}  // namespace sabakan::net

// The only way sabakan includes Boost.Asio. Boost 1.74's awaitable.hpp uses std::exchange
// without including <utility>, so <utility> must come first.
#pragma once

#include <utility>

#include <chrono>

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sabakan::net {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

/// The executor of every sabakan coroutine, socket and timer: the io_context's own type.
/// Asio's default, the type-erased any_io_executor, dispatches every completion through
/// function pointers and property queries, a sizeable share of a forwarded message's
/// instructions.
using executor = asio::io_context::executor_type;
template <typename T = void>
using awaitable = asio::awaitable<T, executor>;
/// The completion token for co_await in an awaitable<>.
inline constexpr asio::use_awaitable_t<executor> use_awaitable{};
using stream_socket = asio::basic_stream_socket<asio::generic::stream_protocol, executor>;
using stream_endpoint = asio::generic::stream_protocol::endpoint;
using steady_timer =
    asio::basic_waitable_timer<std::chrono::steady_clock,
                               asio::wait_traits<std::chrono::steady_clock>, executor>;

}  // namespace sabakan::net

#include <sabakan/admin/http_request.hpp>
#include <sabakan/admin/metrics.hpp>
#include <sabakan/admin/metrics_endpoint.hpp>
#include <sabakan/core/log.hpp>
#include <sabakan/session/worker_group.hpp>

#include <fmt/format.h>
#include <sys/socket.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace sabakan::admin {
namespace {

namespace asio = net::asio;

// A scrape's head is a few hundred bytes; anything this long is not one.
constexpr std::size_t max_head = 8192;
// A scraper that connects and says nothing holds a descriptor: not for long.
constexpr auto read_deadline = std::chrono::seconds(10);

std::string response(std::string_view status, std::string_view content_type, std::string_view body,
                     bool with_body, std::string_view extra = {}) {
    return fmt::format(
        "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n{}",
        status, content_type, body.size(), extra, with_body ? body : std::string_view{});
}

/// A timer that closes `socket` when it expires (not when cancelled).
template <typename Socket>
std::unique_ptr<net::steady_timer> close_after(Socket& socket, std::chrono::seconds after) {
    auto timer = std::make_unique<net::steady_timer>(socket.get_executor(), after);
    timer->async_wait([&socket](const net::error_code& ec) {
        if (!ec) {
            net::error_code ignored;
            socket.close(ignored);
        }
    });
    return timer;
}

}  // namespace

metrics_endpoint::metrics_endpoint(session::pooler& p) : pooler_(p) {}

metrics_endpoint::~metrics_endpoint() = default;

void metrics_endpoint::listen(const config::listen_address& where) {
    net::error_code ec;
    auto address = asio::ip::make_address(where.host, ec);
    asio::ip::tcp::endpoint endpoint;
    if (ec) {
        asio::ip::tcp::resolver resolver(pooler_.io());
        auto found = resolver.resolve(where.host, std::to_string(where.port), ec);
        if (ec || found.empty()) {
            throw std::runtime_error(fmt::format("metrics_listen: cannot resolve \"{}\": {}",
                                                 where.host, ec ? ec.message() : "no address"));
        }
        endpoint = found.begin()->endpoint();
    } else {
        endpoint = asio::ip::tcp::endpoint(address, static_cast<unsigned short>(where.port));
    }
    acceptor_ = std::make_unique<tcp_acceptor>(pooler_.io().get_executor());
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) {
        acceptor_->set_option(asio::socket_base::reuse_address(true));
        if (pooler_.settings().so_reuseport) {
            // In a rolling restart the successor binds this port too; while both run, a
            // scrape reaches either and shows that process's figures.
            int one = 1;
            ::setsockopt(acceptor_->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        }
        acceptor_->bind(endpoint, ec);
    }
    if (!ec) {
        acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        throw std::runtime_error(fmt::format(
            "metrics_listen: cannot listen on {}:{}: {} (is another process using the port? "
            "change metrics_listen, or leave it empty to turn the endpoint off)",
            where.host, where.port, ec.message()));
    }
    log::info("serving metrics on http://{}:{}/metrics", where.host, where.port);
    asio::co_spawn(pooler_.io(), accept_loop(), asio::detached);
}

net::awaitable<void> metrics_endpoint::accept_loop() {
    for (;;) {
        net::error_code ec;
        tcp_socket socket(pooler_.io().get_executor());
        co_await acceptor_->async_accept(socket, asio::redirect_error(net::use_awaitable, ec));
        if (ec == asio::error::operation_aborted || !acceptor_->is_open()) {
            co_return;
        }
        if (ec) {
            // Out of descriptors, most likely: wait rather than spin.
            log::warning("metrics_listen: accept failed: {}", ec.message());
            net::steady_timer pause(pooler_.io().get_executor(), std::chrono::seconds(1));
            co_await pause.async_wait(asio::redirect_error(net::use_awaitable, ec));
            continue;
        }
        asio::co_spawn(pooler_.io(), serve(std::move(socket)), asio::detached);
    }
}

net::awaitable<std::string> metrics_endpoint::answer(std::string_view head) {
    const auto request = head.empty() ? std::nullopt : parse_http_request(head);
    if (!request) {
        co_return response("400 Bad Request", "text/plain", "not an HTTP/1 request\n", true);
    }
    if (request->method != "GET" && request->method != "HEAD") {
        co_return response("405 Method Not Allowed", "text/plain", "only GET and HEAD\n", true,
                           "Allow: GET, HEAD\r\n");
    }
    if (request->path != "/metrics") {
        co_return response("404 Not Found", "text/plain", "the metrics are at /metrics\n",
                           request->method == "GET");
    }
    std::optional<session::worker_group::world_stop> stopped;
    if (auto* group = pooler_.group()) {
        stopped.emplace(co_await group->stop_world(pooler_.worker_index()));
    }
    co_return response("200 OK", "text/plain; version=0.0.4; charset=utf-8",
                       prometheus_metrics(pooler_), request->method == "GET");
}

net::awaitable<std::string> metrics_endpoint::read_head(tcp_socket& socket) {
    const auto deadline = close_after(socket, read_deadline);
    // Read straight into the string: a buffer array in the coroutine frame makes GCC 12
    // (with -fsanitize) misreport the frame's allocation as a mismatched new/delete.
    std::string received;
    std::size_t head_end = std::string::npos;
    net::error_code ec;
    while (!ec && head_end == std::string::npos && received.size() < max_head) {
        const std::size_t had = received.size();
        received.resize(had + 1024);
        const std::size_t n =
            co_await socket.async_read_some(asio::buffer(received.data() + had, 1024),
                                            asio::redirect_error(net::use_awaitable, ec));
        received.resize(had + n);
        head_end = http_head_end(received);
    }
    deadline->cancel();
    // Empty when the peer hung up, the deadline closed the socket, or no head ended in
    // max_head bytes: answered (when still possible) as a bad request.
    received.resize(head_end == std::string::npos ? 0 : head_end);
    co_return received;
}

net::awaitable<void> metrics_endpoint::serve(tcp_socket socket) {
    const std::string head = co_await read_head(socket);
    const std::string reply = co_await answer(head);
    net::error_code ec;
    co_await asio::async_write(socket, asio::buffer(reply),
                               asio::redirect_error(net::use_awaitable, ec));
    socket.shutdown(asio::socket_base::shutdown_send, ec);
    socket.close(ec);
}

}  // namespace sabakan::admin

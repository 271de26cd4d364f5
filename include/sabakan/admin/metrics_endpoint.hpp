// The HTTP listener of metrics_listen: answers GET /metrics with prometheus_metrics(), one
// request per connection. It runs on the first worker and stops the others while it reads
// their figures, as a console SHOW does.
// Owned by: main, beside the first worker's pooler; lives until the process exits.
#pragma once

#include <sabakan/config/listen_address.hpp>
#include <sabakan/net/asio.hpp>
#include <sabakan/session/pooler.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace sabakan::admin {

class metrics_endpoint {
public:
    explicit metrics_endpoint(session::pooler& p);
    ~metrics_endpoint();
    metrics_endpoint(const metrics_endpoint&) = delete;
    metrics_endpoint& operator=(const metrics_endpoint&) = delete;

    /// Binds and starts answering. Throws std::runtime_error saying what to change.
    void listen(const config::listen_address& where);

private:
    using tcp_acceptor = net::asio::basic_socket_acceptor<net::asio::ip::tcp, net::executor>;
    using tcp_socket = net::asio::basic_stream_socket<net::asio::ip::tcp, net::executor>;

    net::awaitable<void> accept_loop();
    net::awaitable<void> serve(tcp_socket socket);
    /// The request head, up to its blank line; empty when none came whole in time.
    net::awaitable<std::string> read_head(tcp_socket& socket);
    /// The whole response to a request head (empty: none came).
    net::awaitable<std::string> answer(std::string_view head);

    session::pooler& pooler_;
    std::unique_ptr<tcp_acceptor> acceptor_;
};

}  // namespace sabakan::admin

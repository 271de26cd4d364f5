// The coroutine client. One coroutine does the whole run, without a nested coroutine per
// transaction, so that it needs no frame of its own per round trip (the rule the pooler's
// forwarding loops follow).
#include "loop_client.hpp"

#include "pooler_rig.hpp"
#include "wire_requests.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

namespace sabakan::loopback {

namespace asio = net::asio;
using local = asio::local::stream_protocol;

namespace {

constexpr std::size_t in_capacity = 64 * 1024;

std::runtime_error failure(const std::string& what, const net::error_code& ec) {
    return std::runtime_error("loop_client: " + what + ": " + ec.message());
}

}  // namespace

loop_client::loop_client(asio::io_context& io, std::string socket_path)
    : socket_(io),
      path_(std::move(socket_path)),
      in_(in_capacity),
      startup_(startup_request(pooler_rig::user, pooler_rig::database)),
      simple_(simple_request()),
      extended_(extended_request()) {}

net::awaitable<void> loop_client::run(std::function<request()> next) {
    net::error_code ec;
    const protocol::byte_buffer* out = nullptr;
    if (!socket_.is_open()) {
        co_await socket_.async_connect(local::endpoint(path_),
                                       asio::redirect_error(net::use_awaitable, ec));
        if (ec) {
            throw failure("cannot connect to " + path_, ec);
        }
        out = &startup_;
    }
    for (;;) {
        if (out == nullptr) {
            switch (next()) {
                case request::simple_query:
                    out = &simple_;
                    break;
                case request::extended_query:
                    out = &extended_;
                    break;
                case request::stop:
                    co_return;
            }
        }
        co_await asio::async_write(socket_, asio::buffer(*out),
                                   asio::redirect_error(net::use_awaitable, ec));
        if (ec) {
            throw failure("write failed", ec);
        }
        out = nullptr;
        std::size_t have = 0;
        for (;;) {
            auto n =
                co_await socket_.async_read_some(asio::buffer(in_.data() + have, in_.size() - have),
                                                 asio::redirect_error(net::use_awaitable, ec));
            if (ec) {
                throw failure("read failed", ec);
            }
            have += n;
            received_ += n;
            const auto scan = scan_answer(protocol::bytes_view(in_).first(have), in_.size());
            if (scan.ready) {
                break;
            }
            std::memmove(in_.data(), in_.data() + scan.consumed, have - scan.consumed);
            have -= scan.consumed;
        }
    }
}

}  // namespace sabakan::loopback

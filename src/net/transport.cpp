// The plain transport's reads and writes that do not wait.
#include <sabakan/net/transport.hpp>

#include <sys/socket.h>

#include <cerrno>

namespace sabakan::net {

std::size_t transport::write_now(protocol::bytes_view data, error_code& ec) noexcept {
    std::size_t sent = 0;
    while (sent < data.size()) {
        const auto n = ::send(socket_.native_handle(), data.data() + sent, data.size() - sent,
                              MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            ec = error_code(errno, boost::system::system_category());
        }
        break;
    }
    return sent;
}

std::ptrdiff_t transport::read_now(std::span<std::byte> into, bool& broken) noexcept {
    broken = false;
    for (;;) {
        const ssize_t n = ::recv(socket_.native_handle(), into.data(), into.size(), MSG_DONTWAIT);
        if (n >= 0) {
            return n;
        }
        if (errno == EINTR) {
            continue;
        }
        broken = errno != EAGAIN && errno != EWOULDBLOCK;
        return -1;
    }
}

int transport::peek(std::byte& byte) const noexcept {
    const ssize_t n = ::recv(const_cast<stream_socket&>(socket_).native_handle(), &byte, 1,
                             MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0) {
        return static_cast<int>(n);
    }
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2;
}

void transport::cancel() noexcept {
    error_code ec;
    socket_.cancel(ec);
}

void transport::close() noexcept {
    error_code ec;
    socket_.close(ec);
}

}  // namespace sabakan::net

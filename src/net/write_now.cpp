#include <sabakan/net/write_now.hpp>

#include <sys/socket.h>
#include <cerrno>

namespace sabakan::net {

std::size_t write_now(stream_socket& socket, protocol::bytes_view data, error_code& ec) noexcept {
    std::size_t sent = 0;
    while (sent < data.size()) {
        const auto n = ::send(socket.native_handle(), data.data() + sent, data.size() - sent,
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

}  // namespace sabakan::net

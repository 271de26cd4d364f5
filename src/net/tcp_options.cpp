// TCP socket options from the tcp_* settings (PgBouncer's names and units).
#include <sabakan/net/tcp_options.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace sabakan::net {

namespace {

void set(int fd, int level, int name, int value) noexcept {
    ::setsockopt(fd, level, name, &value, sizeof value);
}

}  // namespace

void apply_tcp_options(int fd, const config::settings& s) noexcept {
    set(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    if (s.tcp_keepalive) {
        set(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
        // 0 leaves the kernel's default for each.
        if (s.tcp_keepcnt > 0) {
            set(fd, IPPROTO_TCP, TCP_KEEPCNT, s.tcp_keepcnt);
        }
        if (s.tcp_keepidle > 0) {
            set(fd, IPPROTO_TCP, TCP_KEEPIDLE, s.tcp_keepidle);
        }
        if (s.tcp_keepintvl > 0) {
            set(fd, IPPROTO_TCP, TCP_KEEPINTVL, s.tcp_keepintvl);
        }
    }
    if (s.tcp_user_timeout > 0) {
        set(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, s.tcp_user_timeout);  // milliseconds
    }
    if (s.tcp_socket_buffer > 0) {
        set(fd, SOL_SOCKET, SO_SNDBUF, s.tcp_socket_buffer);
        set(fd, SOL_SOCKET, SO_RCVBUF, s.tcp_socket_buffer);
    }
}

}  // namespace sabakan::net

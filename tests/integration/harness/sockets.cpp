// Sockets are opened with SOCK_CLOEXEC so the children the harness spawns never
// inherit them, and written with MSG_NOSIGNAL so a closed peer is an error, not SIGPIPE.
#include "harness/sockets.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace sabakan::integration {
namespace {

sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

int connect_loopback(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    sockaddr_in a = loopback(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

int free_tcp_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw std::runtime_error(std::string("socket(): ") + std::strerror(errno));
    }
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        int err = errno;
        ::close(fd);
        throw std::runtime_error(std::string("bind(127.0.0.1:0): ") + std::strerror(err));
    }
    ::close(fd);
    return ntohs(a.sin_port);
}

bool accepts_tcp(int port) {
    int fd = connect_loopback(port);
    if (fd < 0) {
        return false;
    }
    ::close(fd);
    return true;
}

bool accepts_unix(const std::string& path) {
    sockaddr_un a{};
    if (path.size() >= sizeof a.sun_path) {
        return false;
    }
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

raw_socket::raw_socket(int port) : fd_(connect_loopback(port)) {
    if (fd_ < 0) {
        throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " +
                                 std::strerror(errno));
    }
}

raw_socket raw_socket::borrow(int fd) {
    raw_socket s;
    s.fd_ = fd;
    s.owned_ = false;
    return s;
}

raw_socket::~raw_socket() {
    if (fd_ >= 0 && owned_) {
        ::close(fd_);
    }
}

raw_socket::raw_socket(raw_socket&& other) noexcept : fd_(other.fd_), owned_(other.owned_) {
    other.fd_ = -1;
}

bool raw_socket::send_all(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::string raw_socket::read_until_closed(std::chrono::milliseconds timeout, bool& closed,
                                          std::size_t limit) {
    std::string out;
    closed = false;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < limit) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            break;
        }
        pollfd p{fd_, POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        char chunk[4096];
        ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            closed = true;
            break;
        }
        out.append(chunk, static_cast<std::size_t>(n));
    }
    return out;
}

}  // namespace sabakan::integration

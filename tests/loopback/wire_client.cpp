// The blocking client: plain read(2)/write(2) on a unix socket, so it needs no event loop
// and can run on a benchmark's own thread.
#include "wire_client.hpp"

#include "wire_requests.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace sabakan::loopback {

namespace {

constexpr std::size_t in_capacity = 64 * 1024;

std::runtime_error failure(const std::string& what) {
    return std::runtime_error("wire_client: " + what);
}

}  // namespace

wire_client::wire_client(const std::string& socket_path, std::string_view user,
                         std::string_view database)
    : in_(in_capacity), simple_(simple_request()), extended_(extended_request()) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof addr.sun_path) {
        throw failure("socket path too long: " + socket_path);
    }
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        std::string why = std::strerror(errno);
        if (fd_ >= 0) {
            ::close(fd_);
        }
        throw failure("cannot connect to " + socket_path + ": " + why);
    }
    try {
        send(startup_request(user, database));
        read_to_ready();  // AuthenticationOk, ParameterStatus..., BackendKeyData
    } catch (...) {
        ::close(fd_);
        throw;
    }
}

wire_client::~wire_client() {
    const auto bye = terminate_request();
    [[maybe_unused]] auto n = ::send(fd_, bye.data(), bye.size(), MSG_NOSIGNAL);
    ::close(fd_);
}

std::size_t wire_client::simple_query() {
    send(simple_);
    return read_to_ready();
}

std::size_t wire_client::extended_query() {
    send(extended_);
    return read_to_ready();
}

void wire_client::send(protocol::bytes_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw failure(std::string("write failed: ") + std::strerror(errno));
        }
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
}

std::size_t wire_client::read_to_ready() {
    std::size_t received = 0;
    for (;;) {
        const auto scan = scan_answer(protocol::bytes_view(in_).first(have_), in_capacity);
        if (scan.ready) {
            have_ = 0;
            return received;
        }
        std::memmove(in_.data(), in_.data() + scan.consumed, have_ - scan.consumed);
        have_ -= scan.consumed;
        ssize_t n = ::read(fd_, in_.data() + have_, in_.size() - have_);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw failure(n == 0 ? "the pooler closed the connection"
                                 : std::string("read failed: ") + std::strerror(errno));
        }
        have_ += static_cast<std::size_t>(n);
        received += static_cast<std::size_t>(n);
    }
}

}  // namespace sabakan::loopback

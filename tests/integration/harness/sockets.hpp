// Sockets for the harness: finding a free TCP port, checking that something listens, and
// a raw client socket for tests that must send bytes no libpq client would send.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace sabakan::integration {

/// A port on 127.0.0.1 that nothing listens on right now (the kernel's pick for port 0).
/// Another process may take it before the caller binds it, so callers retry on failure.
int free_tcp_port();

/// Whether a TCP connect to 127.0.0.1:`port` succeeds (the connection is closed at once).
bool accepts_tcp(int port);

/// Whether a connect to the unix socket at `path` succeeds (closed at once).
bool accepts_unix(const std::string& path);

/// A blocking TCP client socket to 127.0.0.1 with a receive deadline per read.
class raw_socket {
public:
    /// Connects; throws std::runtime_error on failure.
    explicit raw_socket(int port);
    /// Takes over an already connected descriptor (it is not closed by this object).
    static raw_socket borrow(int fd);
    ~raw_socket();
    raw_socket(raw_socket&& other) noexcept;
    raw_socket& operator=(raw_socket&&) = delete;

    /// Sends every byte; false when the peer has gone.
    bool send_all(std::string_view bytes);
    /// Reads until the peer closes, `limit` bytes have arrived, or `timeout` passes.
    /// `closed` says whether the peer closed (end of stream or reset).
    std::string read_until_closed(std::chrono::milliseconds timeout, bool& closed,
                                  std::size_t limit = 65536);

private:
    raw_socket() = default;
    int fd_ = -1;
    bool owned_ = true;
};

}  // namespace sabakan::integration

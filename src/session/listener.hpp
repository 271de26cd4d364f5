// A worker's listening sockets and their accept loops (listener.cpp says more).
#pragma once

#include <sabakan/net/asio.hpp>

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sabakan::session {

class pooler;

class listener {
public:
    explicit listener(pooler& owner);
    ~listener();
    listener(const listener&) = delete;
    listener& operator=(const listener&) = delete;

    /// Binds every listener the config names and starts accepting; throws
    /// std::runtime_error naming the address on failure. `inherited`: listening sockets a
    /// service manager passed (socket activation), used instead of the config's
    /// listen_addr and unix_socket_dir.
    void listen(const std::vector<int>& inherited);
    /// Waits on copies of `first`'s listening sockets (the workers after the first).
    void share(listener& first);
    /// Serves, without waiting, every TCP connection the kernel has completed but nobody
    /// accepted yet (closing the listener would reset them).
    void accept_backlog();
    /// Closes the TCP listeners; the unix socket too unless `keep_unix`.
    void stop(bool keep_unix);

private:
    template <typename Acceptor>
    net::awaitable<void> accept_loop(Acceptor& acceptor, bool is_unix);
    template <typename Acceptor>
    void accept_backlog(Acceptor& acceptor, bool is_unix);

    pooler& owner_;
    std::vector<std::unique_ptr<net::asio::ip::tcp::acceptor>> tcp_acceptors_;
    std::vector<std::unique_ptr<net::asio::local::stream_protocol::acceptor>> unix_acceptors_;
    /// The socket files this process made, with the inode each got: at exit a file is
    /// removed only while it is still this process's, not the successor's of a handover.
    std::vector<std::pair<std::string, ino_t>> unix_socket_paths_;
};

}  // namespace sabakan::session

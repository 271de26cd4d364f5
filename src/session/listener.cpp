// A worker's listening sockets and the loops that accept on them: each connection
// accepted becomes a client_session of this worker. Binding, the unix socket file (its
// take-over in a rolling restart and its removal at exit), socket activation, and the
// copies of the first worker's sockets that the other workers wait on.
// Owned by: one worker (pooler); runs on its io_context.
#include "listener.hpp"

#include <sabakan/core/log.hpp>
#include <sabakan/core/memory.hpp>
#include <sabakan/net/tcp_options.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/pooler.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace sabakan::session {

namespace asio = net::asio;
using net::error_code;

listener::listener(pooler& owner) : owner_(owner) {}

listener::~listener() {
    // Removed only while the file is still this process's, not the successor's of a
    // rolling restart.
    for (const auto& [path, inode] : unix_socket_paths_) {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && st.st_ino == inode) {
            ::unlink(path.c_str());
        }
    }
}

void listener::accept_backlog() {
    for (auto& a : tcp_acceptors_) {
        accept_backlog(*a, false);
    }
}

void listener::share(listener& first) {
    auto spawn = [this](auto& acc, bool is_unix) {
        asio::co_spawn(owner_.io(), accept_loop(acc, is_unix), asio::detached);
    };
    // Each worker waits on its own copy of the listening socket; the kernel gives a new
    // connection to whichever accepts first.
    for (auto& a : first.tcp_acceptors_) {
        auto acc = std::make_unique<asio::ip::tcp::acceptor>(owner_.io());
        acc->assign(a->local_endpoint().protocol(), ::dup(a->native_handle()));
        tcp_acceptors_.push_back(std::move(acc));
        spawn(*tcp_acceptors_.back(), false);
    }
    for (auto& a : first.unix_acceptors_) {
        auto acc = std::make_unique<asio::local::stream_protocol::acceptor>(owner_.io());
        acc->assign(asio::local::stream_protocol(), ::dup(a->native_handle()));
        unix_acceptors_.push_back(std::move(acc));
        spawn(*unix_acceptors_.back(), true);
    }
}

template <typename Acceptor>
net::awaitable<void> listener::accept_loop(Acceptor& acceptor, bool is_unix) {
    net::steady_timer backoff(owner_.io());
    for (;;) {
        net::stream_socket socket(owner_.io());
        error_code ec;
        co_await acceptor.async_accept(socket, asio::redirect_error(net::use_awaitable, ec));
        // A connection accepted just before a shutdown closed the listener is still served.
        if (ec == asio::error::operation_aborted || (ec && !acceptor.is_open())) {
            co_return;
        }
        if (owner_.suspended()) {
            co_await owner_.wait_while_suspended();  // accepted, but served only after RESUME
        }
        if (ec) {
            // Out of descriptors (EMFILE/ENFILE) or similar: pause instead of spinning;
            // the pending connection stays in the backlog until then.
            log::error("accept() failed: {}; pausing new connections for a moment", ec.message());
            backoff.expires_after(std::chrono::milliseconds(200));
            co_await backoff.async_wait(asio::redirect_error(net::use_awaitable, ec));
            continue;
        }
        if (!is_unix) {
            net::apply_tcp_options(socket.native_handle(), owner_.settings());
        }
        std::allocate_shared<client_session>(core::long_lived_allocator<client_session>(), owner_,
                                             std::move(socket), is_unix)
            ->start();
    }
}

template <typename Acceptor>
void listener::accept_backlog(Acceptor& acceptor, bool is_unix) {
    error_code ec;
    acceptor.non_blocking(true, ec);
    while (!ec) {
        net::stream_socket socket(owner_.io());
        acceptor.accept(socket, ec);
        if (ec) {
            return;  // would_block: the backlog is empty
        }
        if (!is_unix) {
            net::apply_tcp_options(socket.native_handle(), owner_.settings());
        }
        std::allocate_shared<client_session>(core::long_lived_allocator<client_session>(), owner_,
                                             std::move(socket), is_unix)
            ->start();
    }
}

void listener::listen(const std::vector<int>& inherited) {
    const auto& s = owner_.settings();
    auto spawn = [this](auto& acc, bool is_unix) {
        asio::co_spawn(owner_.io(), accept_loop(acc, is_unix), [](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    log::error("accept loop failed: {}", ex.what());
                }
            }
        });
    };
    if (!inherited.empty()) {
        // Socket activation: the service manager bound and owns these; the config's
        // listen_addr, listen_port and unix_socket_dir name nothing more.
        for (int fd : inherited) {
            sockaddr_storage addr{};
            socklen_t len = sizeof addr;
            if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
                throw std::runtime_error(
                    fmt::format("inherited socket {}: {}", fd, std::strerror(errno)));
            }
            if (addr.ss_family == AF_UNIX) {
                auto acc = std::make_unique<asio::local::stream_protocol::acceptor>(owner_.io());
                acc->assign(asio::local::stream_protocol(), fd);
                log::info("listening on an inherited unix socket (fd {})", fd);
                unix_acceptors_.push_back(std::move(acc));
                spawn(*unix_acceptors_.back(), true);
            } else {
                auto acc = std::make_unique<asio::ip::tcp::acceptor>(owner_.io());
                acc->assign(addr.ss_family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(),
                            fd);
                const auto ep = acc->local_endpoint();
                log::info("listening on inherited {}:{}", ep.address().to_string(), ep.port());
                tcp_acceptors_.push_back(std::move(acc));
                spawn(*tcp_acceptors_.back(), false);
            }
        }
        return;
    }
    std::vector<std::string> addrs;
    for (const auto& a : s.listen_addr) {
        if (a == "*") {
            addrs.emplace_back("0.0.0.0");
            addrs.emplace_back("::");
        } else {
            addrs.push_back(a);
        }
    }
    const bool wildcard =
        std::find(s.listen_addr.begin(), s.listen_addr.end(), "*") != s.listen_addr.end();
    for (const auto& a : addrs) {
        error_code ec;
        asio::ip::tcp::endpoint ep;
        auto addr = asio::ip::make_address(a, ec);
        if (ec) {
            asio::ip::tcp::resolver r(owner_.io());
            auto res = r.resolve(a, std::to_string(s.listen_port), ec);
            if (ec || res.empty()) {
                throw std::runtime_error(fmt::format("listen_addr: cannot resolve \"{}\": {}", a,
                                                     ec ? ec.message() : "no address"));
            }
            ep = res.begin()->endpoint();
        } else {
            ep = asio::ip::tcp::endpoint(addr, static_cast<unsigned short>(s.listen_port));
        }
        auto acc = std::make_unique<asio::ip::tcp::acceptor>(owner_.io());
        acc->open(ep.protocol(), ec);
        if (ec && wildcard && ep.address().is_v6()) {
            // "*" on a host without IPv6: serve IPv4 only, as the operator surely meant.
            log::warning("listen_addr = *: no IPv6 on this host ({}); listening on IPv4 only",
                         ec.message());
            continue;
        }
        if (ec) {
            throw std::runtime_error(
                fmt::format("cannot open a socket for {}: {}", a, ec.message()));
        }
        acc->set_option(asio::socket_base::reuse_address(true));
        if (ep.address().is_v6()) {
            acc->set_option(asio::ip::v6_only(true), ec);  // "*" binds 0.0.0.0 separately
        }
        if (s.so_reuseport) {
            int one = 1;
            ::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        }
        acc->bind(ep, ec);
        if (ec.value() == EADDRNOTAVAIL && wildcard && ep.address().is_v6()) {
            log::warning("listen_addr = *: IPv6 is disabled on this host; listening on IPv4 only");
            continue;
        }
        if (ec) {
            throw std::runtime_error(
                fmt::format("cannot listen on {}:{}: {} (is another pooler "
                            "running, or listen_addr wrong?)",
                            a, s.listen_port, ec.message()));
        }
        acc->listen(s.listen_backlog);
        log::info("listening on {}:{}", a, s.listen_port);
        tcp_acceptors_.push_back(std::move(acc));
        spawn(*tcp_acceptors_.back(), false);
    }
    if (!s.unix_socket_dir.empty()) {
        auto path = fmt::format("{}/.s.PGSQL.{}", s.unix_socket_dir, s.listen_port);
        bool take_over = false;
        {
            // A socket file that still answers belongs to a running pooler or PostgreSQL:
            // never take it over, except from a pooler in a rolling restart (so_reuseport),
            // whose TCP port is shared too. One that refuses is stale (a crash): replaced.
            asio::local::stream_protocol::socket probe(owner_.io());
            error_code probe_ec;
            probe.connect(asio::local::stream_protocol::endpoint(path), probe_ec);
            // The file's owner tells a predecessor (the same service user) from PostgreSQL.
            struct stat owner {};
            const bool ours = ::stat(path.c_str(), &owner) == 0 && owner.st_uid == ::geteuid();
            if (!probe_ec && !(s.so_reuseport && ours)) {
                throw std::runtime_error(fmt::format(
                    "another process is listening on unix socket {}: stop it, or change "
                    "unix_socket_dir or listen_port (a rolling restart needs so_reuseport in "
                    "both, run as the same user)",
                    path));
            }
            take_over = !probe_ec;
        }
        // Taken over by binding a new name and renaming it onto the old one: the socket
        // file is never missing, and the old process keeps serving whom it accepted.
        const std::string bind_path = take_over ? fmt::format("{}.{}", path, ::getpid()) : path;
        ::unlink(bind_path.c_str());  // a stale socket file from a previous run
        auto acc = std::make_unique<asio::local::stream_protocol::acceptor>(owner_.io());
        error_code ec;
        acc->open(asio::local::stream_protocol(), ec);
        if (!ec) {
            acc->bind(asio::local::stream_protocol::endpoint(bind_path), ec);
        }
        if (ec) {
            throw std::runtime_error(
                fmt::format("cannot listen on unix socket {}: {} (check "
                            "unix_socket_dir)",
                            path, ec.message()));
        }
        ::chmod(bind_path.c_str(), static_cast<mode_t>(s.unix_socket_mode));
        acc->listen(s.listen_backlog);
        if (take_over && ::rename(bind_path.c_str(), path.c_str()) != 0) {
            const int err = errno;
            ::unlink(bind_path.c_str());
            throw std::runtime_error(
                fmt::format("cannot take over unix socket {}: {}", path, std::strerror(err)));
        }
        if (take_over) {
            log::info("took over unix socket {} from the running pooler (so_reuseport)", path);
        }
        struct stat st {};
        unix_socket_paths_.emplace_back(path, ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0);
        log::info("listening on unix:{}", path);
        unix_acceptors_.push_back(std::move(acc));
        spawn(*unix_acceptors_.back(), true);
    }
}

void listener::stop(bool keep_unix) {
    error_code ec;
    for (auto& a : tcp_acceptors_) {
        a->close(ec);
    }
    if (keep_unix) {
        return;
    }
    for (auto& a : unix_acceptors_) {
        a->close(ec);
    }
}

}  // namespace sabakan::session

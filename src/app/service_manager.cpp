#include "service_manager.hpp"

#ifdef SABAKAN_WITH_SYSTEMD
#include <systemd/sd-daemon.h>
#endif
#include <sys/socket.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace sabakan::app {
namespace {

void notify([[maybe_unused]] const char* state) {
#ifdef SABAKAN_WITH_SYSTEMD
    // unset_environment = 0: a child such as a re-exec would need it too. Errors are not
    // worth reporting; systemd's start timeout tells the operator if READY never arrived.
    ::sd_notify(0, state);
#endif
}

}  // namespace

std::vector<int> inherited_listeners() {
    std::vector<int> fds;
#ifdef SABAKAN_WITH_SYSTEMD
    const int n = ::sd_listen_fds(1);
    if (n < 0) {
        throw std::runtime_error("cannot read the sockets systemd passed (LISTEN_FDS)");
    }
    for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; ++fd) {
        if (::sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
            throw std::runtime_error(
                "systemd passed a socket that is not a listening stream socket: check "
                "ListenStream= in sabakan.socket");
        }
        fds.push_back(fd);
    }
#else
    if (std::getenv("LISTEN_FDS") != nullptr) {
        throw std::runtime_error(
            "started with socket activation, but this sabakan was built without libsystemd: "
            "rebuild with libsystemd-dev installed, or start sabakan.service without the socket");
    }
#endif
    return fds;
}

void notify_ready() {
    notify("READY=1\nSTATUS=accepting connections");
}

void notify_reloading() {
    notify("RELOADING=1\nSTATUS=reloading the configuration");
}

void notify_stopping() {
    notify("STOPPING=1\nSTATUS=shutting down");
}

}  // namespace sabakan::app

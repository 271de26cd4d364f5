// What sabakan and systemd say to each other: the listening sockets of socket activation
// (sabakan.socket), and where the process is (Type=notify): ready, reloading, stopping.
// Through libsystemd when sabakan is built with it; otherwise, and when not started by
// systemd (no LISTEN_FDS, no NOTIFY_SOCKET), there are no sockets and nothing is said.
#pragma once

#include <vector>

namespace sabakan::app {

/// The listening sockets systemd passed (LISTEN_FDS), taken out of the environment so no
/// child inherits them. Throws std::runtime_error when one is not a listening stream socket.
std::vector<int> inherited_listeners();

/// Listening, privileges dropped: clients may connect. Also sent when a reload is done.
void notify_ready();
/// A SIGHUP reload has begun; notify_ready() ends it.
void notify_reloading();
/// A shutdown has begun.
void notify_stopping();

}  // namespace sabakan::app

// The TCP socket options sabakan sets on every client and server connection, from the
// tcp_* settings: TCP_NODELAY always (small protocol messages must not wait), keepalive
// and its timers, TCP_USER_TIMEOUT, and the socket buffer sizes.
#pragma once

#include <sabakan/config/config.hpp>

namespace sabakan::net {

/// Applies the settings to the TCP socket `fd`. Failures are ignored: an option the kernel
/// refuses only loses its tuning, never the connection.
void apply_tcp_options(int fd, const config::settings& s) noexcept;

}  // namespace sabakan::net

// Tells systemd (Type=notify) where the process is: ready, reloading, stopping. Through
// libsystemd's sd_notify when sabakan is built with it; otherwise, and when not started by
// systemd (no NOTIFY_SOCKET), every call does nothing.
#pragma once

namespace sabakan::app {

/// Listening, privileges dropped: clients may connect. Also sent when a reload is done.
void notify_ready();
/// A SIGHUP reload has begun; notify_ready() ends it.
void notify_reloading();
/// A shutdown has begun.
void notify_stopping();

}  // namespace sabakan::app

#include "service_notify.hpp"

#ifdef SABAKAN_WITH_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

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

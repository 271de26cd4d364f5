// Where the log goes, as the settings say: logfile, syslog*, verbose. The command line's
// part (-q, -v, -d) comes in as `base`; -v can raise the level, never lower it.
#pragma once

#include <sabakan/config/config.hpp>
#include <sabakan/core/log.hpp>

namespace sabakan::config {

log::options log_options(const settings& s, log::options base);

}  // namespace sabakan::config

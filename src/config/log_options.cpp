#include <sabakan/config/log_options.hpp>

namespace sabakan::config {

log::options log_options(const settings& s, log::options base) {
    base.file = s.logfile;
    if (s.verbose > base.verbose) {
        base.verbose = s.verbose;
    }
    base.syslog = s.syslog;
    base.syslog_ident = s.syslog_ident;
    base.syslog_facility = s.syslog_facility;
    return base;
}

}  // namespace sabakan::config

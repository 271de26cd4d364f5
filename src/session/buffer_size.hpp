// How large a connection's receive buffer is: pkt_buf, and never under 4 KiB, so that a
// startup packet and every login message fit.
#pragma once

#include <sabakan/config/config.hpp>

#include <cstddef>

namespace sabakan::session {

inline std::size_t buffer_size(const config::settings& s) {
    return s.pkt_buf < 4096 ? 4096 : static_cast<std::size_t>(s.pkt_buf);
}

}  // namespace sabakan::session

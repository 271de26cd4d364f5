// The hook that puts every client and server connection on its pooler's registry, which
// SHOW CLIENTS/SERVERS and KILL walk. It unlinks itself when the connection is destroyed,
// so no path can leave a dangling entry behind.
#pragma once

#include <boost/intrusive/list.hpp>

namespace sabakan::session {

using registry_hook =
    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

}  // namespace sabakan::session

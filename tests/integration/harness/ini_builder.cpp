#include "harness/ini_builder.hpp"

#include <sstream>

namespace sabakan::integration {

std::string ini_builder::render(int listen_port, const std::string& dir) const {
    std::ostringstream ini;
    ini << "[databases]\n"
        << databases << "\n"
        << "[pgbouncer]\n"
        << "listen_addr = 127.0.0.1\n"
        << "listen_port = " << listen_port << "\n"
        << "unix_socket_dir = " << dir << "\n"
        << "auth_type = md5\n"
        << "auth_file = " << dir << "/userlist.txt\n"
        << "admin_users = pgbouncer\n"
        << "logfile = " << dir << "/sabakan.log\n"
        << "pool_mode = " << pool_mode << "\n"
        << "default_pool_size = " << default_pool_size << "\n"
        << "max_client_conn = " << max_client_conn << "\n"
        << "query_wait_timeout = " << query_wait_timeout << "\n";
    if (workers > 0) {
        ini << "workers = " << workers << "\n";
    }
    ini << more;
    if (!users.empty()) {
        ini << "\n[users]\n" << users;
    }
    return ini.str();
}

std::string database_line(const std::string& name, int pg_port, const std::string& params) {
    return name + " = host=127.0.0.1 port=" + std::to_string(pg_port) + " " + params + "\n";
}

}  // namespace sabakan::integration

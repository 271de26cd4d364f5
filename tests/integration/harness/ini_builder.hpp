// sabakan.ini as the harness lays it out: the [databases] lines, the [pgbouncer] settings
// every integration test shares (listen port, unix socket and files in the test's temp
// dir, md5 auth, the admin user), the values a test varies, and [users] when given.
#pragma once

#include <string>

namespace sabakan::integration {

struct ini_builder {
    std::string databases;  // whole [databases] lines, each ending in a newline
    std::string pool_mode = "transaction";
    int default_pool_size = 5;
    int max_client_conn = 300;
    int query_wait_timeout = 60;  // seconds
    int workers = 0;              // 0: not written, so one per core (sabakan's default)
    std::string more;             // more [pgbouncer] lines, each ending in a newline
    std::string users;            // [users] lines; no section when empty

    /// The text, for a sabakan listening on `listen_port` with `dir` as its temp dir.
    std::string render(int listen_port, const std::string& dir) const;
};

/// A [databases] line `name` reaching the test cluster on `pg_port`; `params` follows
/// host and port (dbname, user, password, pool settings).
std::string database_line(const std::string& name, int pg_port, const std::string& params);

}  // namespace sabakan::integration

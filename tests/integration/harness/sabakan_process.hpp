// One running build/sabakan: a PgBouncer-style ini and userlist written into a temp dir,
// the process started and waited for until it accepts connections, and stopped with
// SIGTERM at the end. The ini is exactly what a PgBouncer user would write.
#pragma once

#include "harness/child_process.hpp"
#include "harness/temp_dir.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sabakan::integration {

class pg_cluster;

/// The sabakan executable these tests were built with.
const char* sabakan_binary() noexcept;

struct sabakan_options {
    std::string pool_mode = "transaction";
    int default_pool_size = 5;
    int max_client_conn = 300;
    int query_wait_timeout = 60;  // seconds
    /// Most tests check the policy of one event loop, where which backend serves a client
    /// is certain; workers_test.cpp runs several (as does the default, one per core, in the
    /// tests that write their own ini_text).
    int workers = 1;
    /// What the [databases] entry logs in to PostgreSQL with; 0 is the cluster's port.
    std::string server_password = "password";
    int server_port = 0;
    /// More `key = value` lines for the [pgbouncer] section.
    std::vector<std::pair<std::string, std::string>> extra;
    /// When set, sabakan.ini is what this returns, written as-is instead of the generated
    /// config (the fields above are then unused). It gets the listen port the harness
    /// picked (a new one on each retry) and the temp dir; the text must listen on that
    /// port and put the unix socket in that dir, where the harness waits for both.
    std::function<std::string(int listen_port, const std::string& dir)> ini_text;
    /// When not empty, written as-is to `dir/userlist.txt` instead of the default one.
    std::string userlist_text;
};

class sabakan_process {
public:
    /// Writes the config for `pg`, starts sabakan and waits (with a deadline) until it
    /// accepts TCP connections. Throws std::runtime_error with its logs otherwise.
    sabakan_process(const pg_cluster& pg, sabakan_options options);
    ~sabakan_process();
    sabakan_process(const sabakan_process&) = delete;
    sabakan_process& operator=(const sabakan_process&) = delete;

    int port() const noexcept { return port_; }
    /// The temp dir, which is also its unix_socket_dir.
    const std::string& dir() const noexcept { return dir_.path(); }
    /// A libpq conninfo for a TCP connection through sabakan.
    std::string conninfo(const std::string& user, const std::string& password,
                         const std::string& database) const;
    /// The same over sabakan's unix socket.
    std::string unix_conninfo(const std::string& user, const std::string& password,
                              const std::string& database) const;

    bool running() { return process_.running(); }
    int pid() const noexcept { return process_.pid(); }
    /// Sends `sig` to sabakan; throws when it cannot be delivered.
    void signal(int sig);
    /// Waits up to `timeout` for sabakan to exit; its exit status, or nullopt if it still runs.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    /// Writes a new sabakan.ini from `options` (same listen port and dir), as an operator
    /// edits the file before a RELOAD or SIGHUP.
    void rewrite_config(const pg_cluster& pg, const sabakan_options& options);
    /// Path of the config file, for tests that edit it by hand.
    std::string config_path() const { return dir_.file("sabakan.ini"); }
    /// SIGTERM and wait for the exit; returns the exit status (0 is a clean shutdown).
    int stop();
    /// The config, sabakan's log file and its stderr.
    std::string logs() const;

private:
    void write_config(const pg_cluster& pg, const sabakan_options& options) const;
    bool start_and_wait();

    temp_dir dir_;
    child_process process_;
    int port_ = 0;
    bool verbatim_ = false;  // options.ini_text was given
};

}  // namespace sabakan::integration

// A throwaway PostgreSQL 15 cluster: a copy of a template (made by initdb once per build
// tree, with the Mastodon role, database and test tables) in a temp dir, started on a free
// port with its unix socket in that dir, and deleted again at the end. It knows nothing
// about sabakan.
#pragma once

#include "harness/child_process.hpp"
#include "harness/temp_dir.hpp"

#include <memory>
#include <string>
#include <vector>

namespace sabakan::integration {

/// The role and database every test logs in as, and that sabakan's servers use.
inline constexpr const char* app_user = "mastodon";
inline constexpr const char* app_password = "password";
inline constexpr const char* app_database = "mastodon_production";

class pg_cluster {
public:
    pg_cluster() = default;
    ~pg_cluster();
    pg_cluster(const pg_cluster&) = delete;
    pg_cluster& operator=(const pg_cluster&) = delete;

    /// initdb, start, create the role, database and tables. Throws std::runtime_error
    /// carrying the setup output and the server log when any step fails.
    void start();
    /// Stops the server and deletes its directory; safe to call twice.
    void stop() noexcept;

    int port() const noexcept { return port_; }
    /// The directory holding the server's unix socket (also the cluster's temp dir).
    const std::string& socket_dir() const;
    /// A direct connection over the unix socket, bypassing sabakan; local auth is trust.
    std::string direct_conninfo(const std::string& user = "postgres",
                                const std::string& database = app_database) const;
    /// The output of initdb and pg_ctl followed by the server log.
    std::string logs() const;

private:
    std::vector<std::string> as_postgres(std::vector<std::string> argv) const;
    std::string tool(const std::string& name) const { return bindir_ + "/" + name; }
    [[noreturn]] void fail(const std::string& what) const;
    /// initdb, the settings and create_schema() in this cluster's directory, then the
    /// stopped cluster copied to `tmpl`. The caller holds the template's lock.
    void make_template(const std::string& tmpl);
    /// Starts the cluster in dir_/data on a free port, its socket in dir_.
    void start_server();
    void create_schema() const;
    void start_guard();

    std::string bindir_;
    std::unique_ptr<temp_dir> dir_;
    child_process guard_;
    int port_ = 0;
    bool running_ = false;
};

}  // namespace sabakan::integration

// sabakan under test. The binary's path comes from CMake (SABAKAN_BINARY), so the tests
// always run the sabakan built next to them.
#include "harness/sabakan_process.hpp"

#include "harness/ini_builder.hpp"
#include "harness/pg_cluster.hpp"
#include "harness/sockets.hpp"
#include "harness/wait.hpp"

#include <csignal>
#include <stdexcept>

#ifndef SABAKAN_BINARY
#error "SABAKAN_BINARY must name the sabakan executable"
#endif

namespace sabakan::integration {

const char* sabakan_binary() noexcept {
    return SABAKAN_BINARY;
}

sabakan_process::sabakan_process(const pg_cluster& pg, sabakan_options options)
    : dir_("sabakan-pooler") {
    // The userlist holds md5 secrets, as in a PgBouncer deployment: md5 of password+user.
    write_file(dir_.file("userlist.txt"),
               !options.userlist_text.empty()
                   ? options.userlist_text
                   : "\"mastodon\" \"md5d75bb2be2d7086c6148944261a00f605\"\n"
                     "\"pgbouncer\" \"md5a45753afaca0db833a6f7c7b2864b9d9\"\n");
    verbatim_ = static_cast<bool>(options.ini_text);
    // A port picked free may be taken before sabakan binds it; then it exits and we retry.
    for (int attempt = 0; attempt < 3; ++attempt) {
        port_ = free_tcp_port();
        write_config(pg, options);
        if (start_and_wait()) {
            return;
        }
        if (process_.running()) {
            break;  // alive but not accepting: retrying would not help
        }
    }
    process_.stop(std::chrono::seconds(2));
    throw std::runtime_error("sabakan did not start accepting connections\n" + logs());
}

sabakan_process::~sabakan_process() {
    stop();
}

void sabakan_process::write_config(const pg_cluster& pg, const sabakan_options& o) const {
    if (o.ini_text) {
        write_file(dir_.file("sabakan.ini"), o.ini_text(port_, dir_.path()));
        return;
    }
    ini_builder ini;
    ini.databases =
        database_line("mastodon_production", o.server_port != 0 ? o.server_port : pg.port(),
                      "dbname=mastodon_production user=mastodon password=" + o.server_password);
    ini.pool_mode = o.pool_mode;
    ini.default_pool_size = o.default_pool_size;
    ini.max_client_conn = o.max_client_conn;
    ini.query_wait_timeout = o.query_wait_timeout;
    ini.workers = o.workers;
    for (const auto& [key, value] : o.extra) {
        ini.more += key + " = " + value + "\n";
    }
    write_file(dir_.file("sabakan.ini"), ini.render(port_, dir_.path()));
}

bool sabakan_process::start_and_wait() {
    // The generated config sets a logfile, so stderr stays quiet; a verbatim one may set
    // none (PgBouncer's default), and then the log goes to stderr.log.
    std::vector<std::string> argv{sabakan_binary(), "-v", dir_.file("sabakan.ini")};
    if (!verbatim_) {
        argv.insert(argv.begin() + 1, "-q");
    }
    process_.spawn(argv, dir_.file("stderr.log"));
    // sabakan binds TCP first and the unix socket next; it is ready when both accept.
    // Polling stops as soon as the process has exited: its stderr then says why.
    const std::string unix_path = dir_.file(".s.PGSQL." + std::to_string(port_));
    return wait_until(
               [&] {
                   return !process_.running() || (accepts_tcp(port_) && accepts_unix(unix_path));
               },
               std::chrono::seconds(10)) &&
           process_.running();
}

std::string sabakan_process::conninfo(const std::string& user, const std::string& password,
                                      const std::string& database) const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + user +
           " password=" + password + " dbname=" + database + " connect_timeout=10";
}

std::string sabakan_process::unix_conninfo(const std::string& user, const std::string& password,
                                           const std::string& database) const {
    return "host=" + dir_.path() + " port=" + std::to_string(port_) + " user=" + user +
           " password=" + password + " dbname=" + database + " connect_timeout=10";
}

void sabakan_process::signal(int sig) {
    if (!process_.running() || ::kill(process_.pid(), sig) != 0) {
        throw std::runtime_error("cannot signal sabakan: it is not running");
    }
}

std::optional<int> sabakan_process::wait_exit(std::chrono::milliseconds timeout) {
    if (wait_until([&] { return !process_.running(); }, timeout)) {
        return process_.status();
    }
    return std::nullopt;
}

void sabakan_process::rewrite_config(const pg_cluster& pg, const sabakan_options& options) {
    write_config(pg, options);
}

int sabakan_process::stop() {
    return process_.stop(std::chrono::seconds(10));
}

std::string sabakan_process::logs() const {
    return "---- sabakan.ini ----\n" + read_file(dir_.file("sabakan.ini")) +
           "---- sabakan log ----\n" + read_file(dir_.file("sabakan.log")) +
           "---- sabakan stderr ----\n" + read_file(dir_.file("stderr.log"));
}

}  // namespace sabakan::integration

// Cluster lifecycle. initdb refuses to run as root, and CI runs as root, so then every
// PostgreSQL program runs as the `postgres` user through runuser and the temp dir is
// handed to that user first. One initdb per build tree: the first test process makes a
// template (cluster, role, database, tables) and every test copies it, as PostgreSQL's
// own suite does with INITDB_TEMPLATE; a copy starts in a fraction of initdb's time.
#include "harness/pg_cluster.hpp"

#include "harness/child_process.hpp"
#include "harness/pq.hpp"
#include "harness/sockets.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace sabakan::integration {
namespace {

std::string find_bindir() {
    const char* env = std::getenv("PG_BINDIR");
    return env != nullptr && *env != '\0' ? env : "/usr/lib/postgresql/15/bin";
}

/// Where the template lives: beside the test binaries, so a new build tree makes its own.
std::string template_dir() {
    const char* env = std::getenv("SABAKAN_PG_TEMPLATE");
    return env != nullptr && *env != '\0' ? env : SABAKAN_PG_TEMPLATE_DIR;
}

/// What a template was made from; a template made otherwise is made again. Change the
/// version when create_schema() or the settings change.
std::string template_key(const std::string& bindir) {
    return "schema 2, " + bindir + "\n";
}

/// An exclusive flock on a file, held while one test process makes the template and the
/// others wait for it.
class file_lock {
public:
    explicit file_lock(const std::string& path)
        : fd_(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644)) {
        if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) {
            throw std::runtime_error("cannot lock " + path);
        }
    }
    ~file_lock() { ::close(fd_); }  // closing releases the lock
    file_lock(const file_lock&) = delete;
    file_lock& operator=(const file_lock&) = delete;

private:
    int fd_;
};

// Settings of every cluster; each copy appends its own port and socket directory.
constexpr const char* cluster_settings =
    "\n# sabakan integration tests\n"
    "fsync = off\n"
    "listen_addresses = '127.0.0.1'\n"
    "max_connections = 300\n"
    "log_connections = on\n"
    "log_disconnections = on\n";

}  // namespace

pg_cluster::~pg_cluster() {
    stop();
}

const std::string& pg_cluster::socket_dir() const {
    return dir_->path();
}

std::vector<std::string> pg_cluster::as_postgres(std::vector<std::string> argv) const {
    if (::geteuid() != 0) {
        return argv;
    }
    std::vector<std::string> out{"runuser", "-u", "postgres", "--"};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

void pg_cluster::fail(const std::string& what) const {
    throw std::runtime_error("PostgreSQL setup failed: " + what + "\n" + logs());
}

std::string pg_cluster::logs() const {
    if (!dir_) {
        return {};
    }
    return "---- initdb / pg_ctl output ----\n" + read_file(dir_->file("setup.log")) +
           "---- PostgreSQL log ----\n" + read_file(dir_->file("postgresql.log"));
}

std::string pg_cluster::direct_conninfo(const std::string& user,
                                        const std::string& database) const {
    return "host=" + socket_dir() + " port=" + std::to_string(port_) + " user=" + user +
           " dbname=" + database + " connect_timeout=10";
}

void pg_cluster::start() {
    bindir_ = find_bindir();
    if (!std::filesystem::exists(tool("initdb"))) {
        throw std::runtime_error("no initdb in " + bindir_ +
                                 ": install postgresql-15 or set PG_BINDIR");
    }
    dir_ = std::make_unique<temp_dir>("sabakan-pg");
    if (::geteuid() == 0) {
        const passwd* pw = ::getpwnam("postgres");
        if (pw == nullptr) {
            fail("running as root needs a `postgres` user to run initdb as");
        }
        dir_->give_to(pw->pw_uid, pw->pw_gid);
    }
    start_guard();
    {
        const std::string tmpl = template_dir();
        file_lock lock(tmpl + ".lock");
        if (read_file(tmpl + "/key") != template_key(bindir_)) {
            make_template(tmpl);
        }
        if (run_command({"cp", "-a", tmpl + "/data", dir_->file("data")},
                        dir_->file("setup.log")) != 0) {
            fail("copying the template cluster " + tmpl);
        }
    }
    start_server();
}

void pg_cluster::make_template(const std::string& tmpl) {
    // Made in this test's own directory (a short unix socket path), then copied out.
    const std::string data = dir_->file("data");
    // -N: no fsync; trust on the unix socket lets the harness connect as anyone, and
    // SCRAM over TCP is what sabakan's server login must get right. 1 MB WAL segments
    // instead of 16: a smaller cluster to copy per test.
    if (run_command(as_postgres({tool("initdb"), "-D", data, "-N", "-U", "postgres",
                                 "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                                 "--locale=C", "--wal-segsize=1"}),
                    dir_->file("setup.log")) != 0) {
        fail("initdb");
    }
    append_file(data + "/postgresql.conf", cluster_settings);
    const std::string settings = read_file(data + "/postgresql.conf");
    start_server();
    create_schema();
    // A clean shutdown, so that every copy starts without crash recovery.
    if (run_command(
            as_postgres({tool("pg_ctl"), "-D", data, "-m", "fast", "-w", "-t", "60", "stop"}),
            dir_->file("setup.log")) != 0) {
        fail("pg_ctl stop of the template");
    }
    running_ = false;
    write_file(data + "/postgresql.conf", settings);  // without this copy's port
    std::error_code ec;
    std::filesystem::remove_all(tmpl, ec);
    std::filesystem::create_directories(tmpl);
    if (run_command({"cp", "-a", data, tmpl + "/data"}, dir_->file("setup.log")) != 0) {
        fail("saving the template cluster to " + tmpl);
    }
    std::filesystem::remove_all(data);
    write_file(tmpl + "/key", template_key(bindir_));  // last: the template is whole
}

void pg_cluster::start_server() {
    const std::string data = dir_->file("data");
    append_file(data + "/postgresql.conf", "unix_socket_directories = '" + dir_->path() + "'\n");
    // The free port may be taken by someone else before the server binds it: try again
    // with another one (a later `port` line overrides an earlier one).
    for (int attempt = 0; attempt < 3 && !running_; ++attempt) {
        port_ = free_tcp_port();
        append_file(data + "/postgresql.conf", "port = " + std::to_string(port_) + "\n");
        // runuser gives the child a soft open-files limit of 1024; lift it to the hard one.
        int rc = run_command(
            as_postgres({"sh", "-c", "ulimit -n \"$(ulimit -Hn)\" 2>/dev/null; exec \"$0\" \"$@\"",
                         tool("pg_ctl"), "-D", data, "-l", dir_->file("postgresql.log"), "-w", "-t",
                         "60", "start"}),
            dir_->file("setup.log"));
        running_ = rc == 0;
    }
    if (!running_) {
        fail("pg_ctl start");
    }
}

void pg_cluster::start_guard() {
    // A test binary killed by a ctest timeout or ^C never reaches stop(). This watcher
    // then stops the orphaned server and deletes its files once the test process is gone.
    auto pg_ctl =
        as_postgres({tool("pg_ctl"), "-D", dir_->file("data"), "-m", "immediate", "stop"});
    std::string stop_cmd;
    for (const auto& a : pg_ctl) {
        stop_cmd += "'" + a + "' ";
    }
    guard_.spawn(
        {"sh", "-c",
         "while kill -0 " + std::to_string(::getpid()) + " 2>/dev/null; do sleep 1; done; " +
             stop_cmd + "; rm -rf '" + dir_->path() + "'"},
        "/dev/null");
}

void pg_cluster::create_schema() const {
    try {
        auto admin = pq::connect_ok(direct_conninfo("postgres", "postgres"));
        pq::run(admin.get(),
                std::string("CREATE ROLE ") + app_user + " LOGIN PASSWORD '" + app_password + "'");
        // FILE_COPY: with fsync off, copying template1's files is several times faster
        // than the default WAL_LOG strategy, and every test process creates this database.
        pq::run(admin.get(), std::string("CREATE DATABASE ") + app_database + " OWNER " + app_user +
                                 " STRATEGY = FILE_COPY");
        auto app = pq::connect_ok(direct_conninfo(app_user));
        pq::run(app.get(),
                "CREATE TABLE counters (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0);"
                "INSERT INTO counters SELECT g, 0 FROM generate_series(1, 16) g;"
                "CREATE TABLE items (id bigserial PRIMARY KEY, tag text NOT NULL, v int);"
                "CREATE TABLE copy_rows (id int PRIMARY KEY, payload text NOT NULL);");
    } catch (const std::exception& e) {
        fail(e.what());
    }
}

void pg_cluster::stop() noexcept {
    guard_.stop(std::chrono::seconds(5));
    if (running_) {
        // Immediate: the directory is deleted next, so a shutdown checkpoint is wasted.
        run_command(as_postgres({tool("pg_ctl"), "-D", dir_->file("data"), "-m", "immediate", "-w",
                                 "stop"}),
                    dir_->file("setup.log"));
        running_ = false;
    }
    dir_.reset();
}

}  // namespace sabakan::integration

// The binary as an operator meets it: PgBouncer's command line, a config with mistakes
// refused with file, line and key, and a port or socket already in use refused by name.
#include "harness/child_process.hpp"
#include "harness/fixture.hpp"
#include "harness/sockets.hpp"
#include "harness/temp_dir.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include <string>
#include <vector>

namespace sabakan::integration {
namespace {

using ::testing::HasSubstr;

class CommandLineTest : public sabakan_test {
protected:
    /// Runs sabakan with `args` to completion; returns its exit status, output in out_.
    int run(std::vector<std::string> args) {
        args.insert(args.begin(), sabakan_binary());
        const std::string log = dir_.file("output.log");
        write_file(log, "");
        int status = run_command(args, log);
        out_ = read_file(log);
        return status;
    }

    temp_dir dir_{"sabakan-cli"};
    std::string out_;
};

// -V prints the version and -h the usage, both exiting 0; no config file is an error.
TEST_F(CommandLineTest, VersionHelpAndMissingConfig) {
    EXPECT_EQ(run({"-V"}), 0);
    EXPECT_THAT(out_, HasSubstr("sabakan 0."));
    EXPECT_EQ(run({"-h"}), 0);
    EXPECT_THAT(out_, HasSubstr("Usage: sabakan"));
    EXPECT_EQ(run({}), 1);
    EXPECT_THAT(out_, HasSubstr("no config file given"));
    EXPECT_EQ(run({"--bogus", "x.ini"}), 1);
    EXPECT_THAT(out_, HasSubstr("unknown option --bogus"));
}

// Every mistake in the file is reported with its file, line and key, and nothing starts.
TEST_F(CommandLineTest, BadConfigNamesFileLineAndKey) {
    const std::string ini = dir_.file("bad.ini");
    write_file(ini,
               "[databases]\n"
               "app = host=127.0.0.1 port=5432x\n"
               "[pgbouncer]\n"
               "listen_port = " +
                   std::to_string(free_tcp_port()) +
                   "\n"
                   "max_client_con = 10\n"
                   "pool_mode = transactions\n");
    EXPECT_EQ(run({ini}), 1);
    EXPECT_THAT(out_, HasSubstr(ini + ":2: app: port must be"));
    EXPECT_THAT(out_, HasSubstr(ini + ":5: max_client_con: unknown setting; did you mean "
                                      "'max_client_conn'?"));
    EXPECT_THAT(out_, HasSubstr(ini + ":6: pool_mode:"));
}

// --check (-t) reads the config and the auth_file, says whether they are valid and exits,
// listening on nothing: what a config repository's CI or ExecReload's pre-check runs.
TEST_F(CommandLineTest, CheckValidatesAndExits) {
    const std::string users = dir_.file("userlist.txt");
    write_file(users, "\"mastodon\" \"md5d75bb2be2d7086c6148944261a00f605\"\n");
    const int port = free_tcp_port();
    const std::string good = dir_.file("good.ini");
    write_file(good,
               "[databases]\napp = host=127.0.0.1\n[pgbouncer]\nlisten_addr = 127.0.0.1\n"
               "unix_socket_dir =\nauth_type = md5\nauth_file = " +
                   users + "\nlisten_port = " + std::to_string(port) + "\n");
    EXPECT_EQ(run({"--check", good}), 0);
    EXPECT_THAT(out_, HasSubstr(good + " is valid"));
    EXPECT_FALSE(accepts_tcp(port));
    EXPECT_EQ(run({"-t", good}), 0);

    const std::string bad = dir_.file("bad.ini");
    write_file(bad,
               "[pgbouncer]\nlisten_port = " + std::to_string(port) + "\nmetrics_listen = 9127\n");
    EXPECT_EQ(run({"-t", bad}), 1);
    EXPECT_THAT(out_, HasSubstr(bad + ":3: metrics_listen: expected host:port"));

    write_file(users, "\"mastodon\" md5-missing-quotes\n");
    EXPECT_EQ(run({"-t", good}), 1);
    EXPECT_THAT(out_, HasSubstr(users));
}

// A config asking for what sabakan cannot do yet (TLS towards clients or servers, a host
// list, auth_user) neither starts nor passes --check: each line is named with "not supported
// yet", and nothing listens. PgBouncer's default server_tls_sslmode (prefer) starts, and the
// log says that server connections are plaintext.
TEST_F(CommandLineTest, UnsupportedSettingsRefused) {
    const int port = free_tcp_port();
    const std::string head =
        "[pgbouncer]\nlisten_addr = 127.0.0.1\nunix_socket_dir =\n"
        "auth_type = trust\nlisten_port = " +
        std::to_string(port) + "\n";
    const std::string ini = dir_.file("tls.ini");
    write_file(ini, head +
                        "client_tls_sslmode = require\nserver_tls_sslmode = verify-full\n"
                        "auth_user = pgbouncer_auth\n[databases]\n"
                        "app = host=10.0.0.1,10.0.0.2\n");
    for (const char* check : {"--check", ""}) {
        std::vector<std::string> args = {ini};
        if (*check != 0) {
            args.insert(args.begin(), check);
        }
        EXPECT_EQ(run(args), 1) << check;
        EXPECT_THAT(out_, HasSubstr(ini + ":6: client_tls_sslmode: client_tls_sslmode = require "
                                          "is not supported yet"));
        EXPECT_THAT(out_, HasSubstr(ini + ":7: server_tls_sslmode: server_tls_sslmode = "
                                          "verify-full is not supported yet"));
        EXPECT_THAT(out_, HasSubstr(ini + ":8: auth_user: auth_user"));
        EXPECT_THAT(out_, HasSubstr(ini + ":10: app: host lists"));
        EXPECT_FALSE(accepts_tcp(port));
    }

    const std::string prefer = dir_.file("prefer.ini");
    write_file(prefer, head + "logfile = " + dir_.file("prefer.log") +
                           "\n[databases]\napp = host=127.0.0.1\n");
    child_process pooler;
    pooler.spawn({sabakan_binary(), "-q", prefer}, dir_.file("prefer.out"));
    ASSERT_TRUE(wait_until([&] { return accepts_tcp(port); }, std::chrono::seconds(10)))
        << read_file(dir_.file("prefer.out"));
    EXPECT_THAT(read_file(dir_.file("prefer.log")),
                HasSubstr("server_tls_sslmode = prefer: TLS to servers is not supported yet, so "
                          "server connections are made in plaintext"));
    // Running as root without -u or user = is allowed (containers) but warned about.
    if (::geteuid() == 0) {
        EXPECT_THAT(read_file(dir_.file("prefer.log")), HasSubstr("WARNING running as root"));
    }
    EXPECT_EQ(pooler.stop(std::chrono::seconds(10)), 0);
}

// --check opens what the start opens: a log file or pidfile in a directory that does not
// exist fails it, naming the setting and the path.
TEST_F(CommandLineTest, CheckRefusesUnwritableLogAndPidfile) {
    const std::string base =
        "[databases]\napp = host=127.0.0.1\n[pgbouncer]\nauth_type = "
        "trust\nunix_socket_dir =\nlisten_port = " +
        std::to_string(free_tcp_port()) + "\n";
    const std::string ini = dir_.file("files.ini");
    write_file(ini, base + "logfile = " + dir_.file("no/such/dir/sabakan.log") + "\n");
    EXPECT_EQ(run({"--check", ini}), 1);
    EXPECT_THAT(
        out_, HasSubstr("logfile " + dir_.file("no/such/dir/sabakan.log") + " cannot be written"));
    write_file(ini, base + "pidfile = " + dir_.file("no/such/dir/sabakan.pid") + "\n");
    EXPECT_EQ(run({"-t", ini}), 1);
    EXPECT_THAT(
        out_, HasSubstr("pidfile " + dir_.file("no/such/dir/sabakan.pid") + " cannot be written"));
    write_file(ini, base + "logfile = " + dir_.file("sabakan.log") +
                        "\npidfile = " + dir_.file("sabakan.pid") + "\n");
    EXPECT_EQ(run({"-t", ini}), 0) << out_;
}

// A second sabakan on a port the first one holds says so and exits; the first keeps serving.
TEST_F(CommandLineTest, PortInUseRefused) {
    start_sabakan();
    const std::string ini = dir_.file("second.ini");
    write_file(ini,
               "[databases]\nmastodon_production = host=127.0.0.1\n[pgbouncer]\n"
               "listen_addr = 127.0.0.1\nunix_socket_dir =\nauth_type = trust\n"
               "listen_port = " +
                   std::to_string(sabakan().port()) + "\n");
    EXPECT_EQ(run({"-q", ini}), 1);
    EXPECT_THAT(out_, HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(sabakan().port())));
    EXPECT_EQ(pq::value(connect_pooled().get(), "SELECT 1"), "1");
}

// A live unix socket of another sabakan is never deleted and taken over.
TEST_F(CommandLineTest, LiveUnixSocketNotTakenOver) {
    start_sabakan();
    const std::string ini = dir_.file("second.ini");
    // Same socket directory and port, TCP off, so only the unix socket can clash.
    write_file(ini,
               "[databases]\nmastodon_production = host=127.0.0.1\n[pgbouncer]\n"
               "listen_addr =\nauth_type = trust\nunix_socket_dir = " +
                   sabakan().dir() + "\nlisten_port = " + std::to_string(sabakan().port()) + "\n");
    EXPECT_EQ(run({"-q", ini}), 1);
    EXPECT_THAT(out_, HasSubstr("another process is listening on unix socket"));
    auto c = pq::connect(sabakan().unix_conninfo("mastodon", "password", "mastodon_production"));
    ASSERT_EQ(PQstatus(c.get()), CONNECTION_OK) << pq::error(c.get());
    EXPECT_EQ(pq::value(c.get(), "SELECT 1"), "1");
}

// -d with a pidfile it cannot write fails in the foreground (exit 1), so a service manager
// sees the failure; with a good one it forks, and the pidfile names the running daemon.
TEST_F(CommandLineTest, DaemonAndPidfile) {
    const std::string ini = dir_.file("daemon.ini");
    const std::string base =
        "[databases]\nmastodon_production = host=127.0.0.1\n[pgbouncer]\n"
        "listen_addr = 127.0.0.1\nunix_socket_dir =\nauth_type = trust\n"
        "logfile = " +
        dir_.file("daemon.log") + "\nlisten_port = " + std::to_string(free_tcp_port()) + "\n";
    write_file(ini, base + "pidfile = " + dir_.file("missing/dir/sabakan.pid") + "\n");
    EXPECT_EQ(run({"-d", ini}), 1);
    EXPECT_THAT(out_, HasSubstr("cannot write pidfile"));

    // A port that is taken: the reason reaches stderr, not only the log file.
    const int taken = free_tcp_port();
    const int holder = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(taken));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(holder, 1), 0);
    std::string busy = base;
    busy.replace(
        busy.rfind("listen_port = "), std::string::npos,
        "listen_port = " + std::to_string(taken) + "\npidfile = " + dir_.file("busy.pid") + "\n");
    write_file(ini, busy);
    EXPECT_EQ(run({"-d", ini}), 1);
    ::close(holder);
    EXPECT_THAT(out_, HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(taken)));

    const std::string pidfile = dir_.file("sabakan.pid");
    write_file(ini, base + "pidfile = " + pidfile + "\n");
    EXPECT_EQ(run({"-d", ini}), 0);
    int pid = 0;
    ASSERT_TRUE(wait_until([&] { return std::sscanf(read_file(pidfile).c_str(), "%d", &pid) == 1; },
                           std::chrono::seconds(10)));
    ASSERT_GT(pid, 1);
    EXPECT_EQ(::kill(pid, 0), 0) << "the daemon named in the pidfile is not running";
    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    // On a clean exit the daemon removes its pidfile.
    EXPECT_TRUE(wait_until([&] { return read_file(pidfile).empty() && ::kill(pid, 0) != 0; },
                           std::chrono::seconds(10)));
}

/// A port below 1024 that nothing listens on, or 0 when this process may not bind one.
int free_privileged_port() {
    for (int port = 1023; port > 900; --port) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        if (bound) {
            return port;
        }
    }
    return 0;
}

/// The real uid in /proc/PID/status, or -1.
long uid_of(int pid) {
    const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
    long uid = -1;
    const auto at = status.find("\nUid:");
    if (at != std::string::npos) {
        std::sscanf(status.c_str() + at + 5, "%ld", &uid);
    }
    return uid;
}

// -u USER binds first and then becomes USER: as root, sabakan listens on a port only root
// may bind and runs as nobody. Anyone else cannot switch users, and is told so.
TEST_F(CommandLineTest, UserSwitchesAfterBinding) {
    const passwd* nobody = ::getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    const int port = ::geteuid() == 0 ? free_privileged_port() : free_tcp_port();
    ASSERT_GT(port, 0);
    const std::string ini = dir_.file("user.ini");
    write_file(ini,
               "[databases]\nx = host=127.0.0.1\n[pgbouncer]\nlisten_addr = 127.0.0.1\n"
               "unix_socket_dir =\nauth_type = trust\nlisten_port = " +
                   std::to_string(port) + "\n");
    if (::geteuid() != 0) {
        EXPECT_EQ(run({"-u", "nobody", ini}), 1);
        EXPECT_THAT(out_, HasSubstr("could not switch to user \"nobody\""));
        return;
    }
    child_process pooler;
    pooler.spawn({sabakan_binary(), "-u", "nobody", ini}, dir_.file("user.out"));
    ASSERT_TRUE(wait_until([&] { return accepts_tcp(port); }, std::chrono::seconds(10)))
        << read_file(dir_.file("user.out"));
    // It listens a moment before it switches: wait for the switch, then it still serves.
    EXPECT_TRUE(wait_until([&] { return uid_of(pooler.pid()) == nobody->pw_uid; },
                           std::chrono::seconds(10)))
        << "uid " << uid_of(pooler.pid());
    EXPECT_TRUE(accepts_tcp(port));
    EXPECT_EQ(pooler.stop(std::chrono::seconds(10)), 0) << read_file(dir_.file("user.out"));
}

}  // namespace
}  // namespace sabakan::integration

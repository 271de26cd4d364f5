// sabakan's entry point: PgBouncer's command line, config loading, signals, and the
// event loop.
#include <sabakan/admin/console.hpp>
#include <sabakan/admin/metrics_endpoint.hpp>
#include <sabakan/auth/userlist.hpp>
#include <sabakan/config/config.hpp>
#include <sabakan/config/listen_address.hpp>
#include <sabakan/config/log_options.hpp>
#include <sabakan/core/log.hpp>
#include <sabakan/core/version.hpp>
#include <sabakan/net/asio.hpp>
#include <sabakan/session/pooler.hpp>
#include <sabakan/session/worker_group.hpp>

#include "service_manager.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace sabakan;

struct options {
    bool daemon = false;
    bool check = false;
    bool quiet = false;
    int verbose = 0;
    std::string user;
    std::string config_file;
};

void usage(std::FILE* out) {
    std::fprintf(out,
                 "sabakan: a transaction-mode connection pooler for PostgreSQL\n"
                 "\n"
                 "Usage: sabakan [OPTION]... CONFIG_FILE\n"
                 "\n"
                 "Options:\n"
                 "  -d, --daemon     run in the background (needs pidfile in the config)\n"
                 "  -q, --quiet      do not log to stderr\n"
                 "  -v, --verbose    log more (repeat for even more)\n"
                 "  -u, --user=USER  switch to USER after binding the listeners\n"
                 "  -t, --check      check the config (and auth_file) and exit: 0 when valid\n"
                 "  -V, --version    print the version and exit\n"
                 "  -h, --help       print this help and exit\n"
                 "\n"
                 "CONFIG_FILE is in PgBouncer's ini format; an existing pgbouncer.ini works.\n");
}

// Returns -1 to go on, else the exit code.
int parse_args(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            usage(stdout);
            return 0;
        }
        if (a == "-V" || a == "--version") {
            std::printf("sabakan %s\n", SABAKAN_VERSION);
            return 0;
        }
        if (a == "-d" || a == "--daemon") {
            o.daemon = true;
        } else if (a == "-t" || a == "--check") {
            o.check = true;
        } else if (a == "-q" || a == "--quiet") {
            o.quiet = true;
        } else if (a.size() > 1 && a[0] == '-' && a[1] == 'v' &&
                   a.find_first_not_of('v', 1) == std::string::npos) {
            o.verbose += static_cast<int>(a.size()) - 1;
        } else if (a == "--verbose") {
            ++o.verbose;
        } else if (a == "-u" || a == "--user") {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "sabakan: %s needs a user name\n", a.c_str());
                return 1;
            }
            o.user = argv[++i];
        } else if (a.rfind("--user=", 0) == 0) {
            o.user = a.substr(7);
        } else if (!a.empty() && a[0] == '-') {
            std::fprintf(stderr, "sabakan: unknown option %s (try sabakan --help)\n", a.c_str());
            return 1;
        } else if (o.config_file.empty()) {
            o.config_file = a;
        } else {
            std::fprintf(stderr,
                         "sabakan: only one config file may be given (try sabakan --help)\n");
            return 1;
        }
    }
    if (o.config_file.empty()) {
        std::fprintf(stderr, "sabakan: no config file given\n\n");
        usage(stderr);
        return 1;
    }
    return -1;
}

/// Raises the soft open-files limit to the hard one, and warns when the config's clients
/// and servers cannot all fit (each is one descriptor), as "Too many open files" later is
/// much harder to read.
void raise_fd_limit(const config::config& cfg) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    const auto& s = cfg.bouncer;
    long long needed = s.max_client_conn + 32;  // + listeners, log, a cancel or two
    for (const auto& db : cfg.databases) {
        needed += (db.pool_size >= 0 ? db.pool_size : s.default_pool_size) +
                  (db.reserve_pool_size >= 0 ? db.reserve_pool_size : s.reserve_pool_size);
    }
    if (rl.rlim_cur != RLIM_INFINITY && static_cast<long long>(rl.rlim_cur) < needed) {
        log::warning(
            "max_client_conn and the pools need about {} file descriptors, but the limit is "
            "{}: raise it (ulimit -n, or LimitNOFILE= in the systemd unit) or lower "
            "max_client_conn",
            needed, static_cast<long long>(rl.rlim_cur));
    }
}

/// Why the start could not write `path` (the log file or the pidfile), or "" when it can:
/// an existing file must be writable, a new one needs a writable directory.
std::string writable_problem(const std::string& path, std::string_view setting) {
    if (path.empty()) {
        return {};
    }
    if (::access(path.c_str(), F_OK) == 0) {
        if (::access(path.c_str(), W_OK) == 0) {
            return {};
        }
    } else {
        const std::filesystem::path parent = std::filesystem::path(path).parent_path();
        const std::string dir = parent.empty() ? "." : parent.string();
        if (::access(dir.c_str(), W_OK | X_OK) == 0) {
            return {};
        }
    }
    return fmt::format("{} {} cannot be written: {}; check the path and its directory's owner",
                       setting, path, std::strerror(errno));
}

bool drop_privileges(const std::string& user) {
    passwd* pw = ::getpwnam(user.c_str());
    if (pw == nullptr) {
        log::emit(log::level::fatal, "user \"{}\" does not exist (check -u or user=)", user);
        return false;
    }
    if (::getuid() == pw->pw_uid) {
        return true;
    }
    if (::initgroups(pw->pw_name, pw->pw_gid) != 0 || ::setgid(pw->pw_gid) != 0 ||
        ::setuid(pw->pw_uid) != 0) {
        log::emit(log::level::fatal, "could not switch to user \"{}\": {}", user,
                  std::strerror(errno));
        return false;
    }
    return true;
}

bool daemonize() {
    pid_t pid = ::fork();
    if (pid < 0) {
        return false;
    }
    if (pid > 0) {
        std::_Exit(0);
    }
    ::setsid();
    int fd = ::open("/dev/null", O_RDWR);
    if (fd >= 0) {
        ::dup2(fd, 0);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        if (fd > 2) {
            ::close(fd);
        }
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    options opts;
    if (int rc = parse_args(argc, argv, opts); rc >= 0) {
        return rc;
    }

    std::shared_ptr<const config::config> cfg;
    std::shared_ptr<const auth::userlist> users;
    try {
        cfg = std::make_shared<config::config>(config::load(opts.config_file));
        users = session::pooler::load_users(*cfg);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sabakan: cannot load config:\n%s\n", e.what());
        return 1;
    }
    const auto& s = cfg->bouncer;
    if (opts.daemon && s.pidfile.empty()) {
        std::fprintf(stderr, "sabakan: -d needs pidfile set in %s\n", opts.config_file.c_str());
        return 1;
    }
    if (opts.check) {
        // "valid" means "will start": the files the start writes can be written.
        std::string problem = writable_problem(s.logfile, "logfile");
        if (problem.empty()) {
            problem = writable_problem(s.pidfile, "pidfile");
        }
        if (!problem.empty()) {
            std::fprintf(stderr, "sabakan: %s: %s\n", opts.config_file.c_str(), problem.c_str());
            return 1;
        }
        std::printf("sabakan: %s is valid\n", opts.config_file.c_str());
        return 0;
    }

    log::options base;
    base.to_stderr = !opts.quiet && !opts.daemon;
    base.verbose = opts.verbose;
    const log::options lo = config::log_options(s, base);
    std::string err;
    if (!log::configure(lo, &err)) {
        std::fprintf(stderr, "sabakan: %s (check logfile in %s)\n", err.c_str(),
                     opts.config_file.c_str());
        return 1;
    }

    raise_fd_limit(*cfg);
    if (s.server_tls_sslmode != "disable") {
        log::warning(
            "server_tls_sslmode = {}: TLS to servers is not supported yet, so server "
            "connections are made in plaintext; set server_tls_sslmode = disable to say so",
            s.server_tls_sslmode);
    }
    std::signal(SIGPIPE, SIG_IGN);

    // Signals that arrive while starting up wait until their handler is installed below,
    // instead of killing a half-started process.
    sigset_t handled;
    sigset_t saved;
    sigemptyset(&handled);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) {
        sigaddset(&handled, sig);
    }
    ::pthread_sigmask(SIG_BLOCK, &handled, &saved);

    const int workers = s.workers > 0
                            ? s.workers
                            : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    session::worker_group group(workers);
    std::vector<std::unique_ptr<session::pooler>> poolers;
    std::vector<std::unique_ptr<admin::console_impl>> consoles;
    for (int i = 0; i < workers; ++i) {
        poolers.push_back(std::make_unique<session::pooler>(group.io(i), cfg, users));
        auto& p = *poolers.back();
        p.set_config_source(opts.config_file, lo);
        consoles.push_back(std::make_unique<admin::console_impl>(p));
        p.set_console(consoles.back().get());
        p.join(group, i);
    }
    session::pooler& pooler = *poolers.front();
    admin::metrics_endpoint metrics(pooler);
    try {
        // Metrics first: once the client ports accept, a scrape finds the endpoint too.
        if (!s.metrics_listen.empty()) {
            // The config loader has checked the text already.
            metrics.listen(*config::parse_listen_address(s.metrics_listen));
        }
        pooler.listen(app::inherited_listeners());
        for (int i = 1; i < workers; ++i) {
            poolers[static_cast<std::size_t>(i)]->share_listeners(pooler);
        }
    } catch (const std::exception& e) {
        log::emit(log::level::fatal, "{}", e.what());
        if (opts.quiet || opts.daemon) {
            std::fprintf(stderr, "sabakan: %s\n", e.what());
        }
        return 1;
    }
    // The pidfile is opened before dropping privileges (it often lives in /run) and before
    // forking, so that a bad path fails the start the service manager sees.
    std::ofstream pidfile;
    if (!s.pidfile.empty()) {
        pidfile.open(s.pidfile, std::ios::trunc);
        if (!pidfile) {
            log::emit(log::level::fatal,
                      "cannot write pidfile {}: check the directory exists and is writable",
                      s.pidfile);
            if (opts.quiet || opts.daemon) {
                std::fprintf(stderr, "sabakan: cannot write pidfile %s\n", s.pidfile.c_str());
            }
            return 1;
        }
    }
    std::string run_as = !opts.user.empty() ? opts.user : s.user;
    if (!run_as.empty() && !drop_privileges(run_as)) {
        if (opts.quiet || opts.daemon) {
            std::fprintf(stderr, "sabakan: could not switch to user %s (see the log)\n",
                         run_as.c_str());
        }
        return 1;
    }
    if (::geteuid() == 0) {
        // PgBouncer refuses to run as root; a warning keeps containers that do working.
        log::warning(
            "running as root: set user = in the config or start with -u to run as an "
            "unprivileged user");
    }
    if (opts.daemon && !daemonize()) {
        log::emit(log::level::fatal, "could not daemonize: {}", std::strerror(errno));
        return 1;
    }
    if (pidfile.is_open()) {
        pidfile << ::getpid() << std::endl;
        pidfile.close();
    }

    // Signals arrive on the first worker; what they do applies to every worker, with the
    // others stopped meanwhile.
    auto everywhere = [&](auto action) {
        net::asio::co_spawn(
            group.io(0),
            [&group, &poolers, action]() -> net::awaitable<void> {
                auto stopped = co_await group.stop_world(0);
                action(poolers);
            },
            net::asio::detached);
    };
    using all_poolers = std::vector<std::unique_ptr<session::pooler>>;
    net::asio::signal_set signals(group.io(0), SIGINT, SIGTERM, SIGHUP);
    signals.add(SIGQUIT);
    signals.add(SIGUSR1);
    signals.add(SIGUSR2);
    // Set at once, while the shutdown itself may wait for the world to stop: a second
    // SIGINT/SIGTERM right after the first still means "now".
    bool shutdown_signalled = false;
    std::function<void(const net::error_code&, int)> on_signal;
    on_signal = [&](const net::error_code& ec, int sig) {
        if (ec) {
            return;
        }
        switch (sig) {
            case SIGHUP:
                log::info("got SIGHUP, reloading the configuration");
                app::notify_reloading();
                everywhere([](all_poolers& ps) {
                    ps.front()->reload_from_file();
                    app::notify_ready();
                });
                break;
            case SIGUSR1:
                if (!pooler.suspended() && !pooler.is_paused("")) {
                    log::info("got SIGUSR1, pausing all databases");
                    everywhere([](all_poolers& ps) {
                        for (auto& p : ps) {
                            p->pause("");
                        }
                    });
                }
                break;
            case SIGUSR2:
                if (pooler.shutting_down() == session::shutdown_mode::none) {
                    log::info("got SIGUSR2, resuming");
                    everywhere([](all_poolers& ps) {
                        for (auto& p : ps) {
                            p->resume("");
                        }
                    });
                }
                break;
            case SIGINT:
            case SIGTERM: {
                // A second one, or one during SUSPEND, means: now.
                auto mode = sig == SIGINT ? session::shutdown_mode::wait_for_servers
                                          : session::shutdown_mode::wait_for_clients;
                app::notify_stopping();
                if (shutdown_signalled || pooler.suspended()) {
                    log::info("got signal {} again, exiting now", sig);
                    mode = session::shutdown_mode::none;
                } else if (sig == SIGINT) {
                    shutdown_signalled = true;
                    log::info("got SIGINT, shutting down once servers are released");
                } else {
                    shutdown_signalled = true;
                    log::info("got SIGTERM, shutting down once clients have left");
                }
                everywhere([mode](all_poolers& ps) {
                    for (auto& p : ps) {
                        p->shutdown(mode);
                    }
                });
                if (mode == session::shutdown_mode::none) {
                    return;
                }
                break;
            }
            default:  // SIGQUIT
                log::info("got signal {}, exiting now", sig);
                app::notify_stopping();
                everywhere([](all_poolers& ps) {
                    for (auto& p : ps) {
                        p->shutdown(session::shutdown_mode::none);
                    }
                });
                return;
        }
        signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);

    log::info("sabakan {} started (pid {}, {} worker{})", SABAKAN_VERSION, ::getpid(), workers,
              workers == 1 ? "" : "s");
    app::notify_ready();
    group.run();
    if (!s.pidfile.empty()) {
        ::unlink(s.pidfile.c_str());
    }
    return 0;
}

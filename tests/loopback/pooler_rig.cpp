// Setting up and tearing down the loopback rig: temp dir, generated config, threads.
#include "pooler_rig.hpp"

#include <sabakan/config/config.hpp>
#include <sabakan/core/log.hpp>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sabakan::loopback {

namespace {

// The names inside the rig's own directory; any free numbers would do.
constexpr int server_port = 5432;
constexpr int pooler_port = 6432;

std::string make_temp_dir() {
    // Short, under /tmp: a unix socket path must fit in 108 bytes.
    std::string pattern = "/tmp/sabakan-loop-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("pooler_rig: cannot create a directory under /tmp");
    }
    return pattern;
}

// Logging and the statistics period are turned down so that no periodic work of theirs lands
// inside a measurement.
std::string config_text(const std::string& dir, const rig_options& o) {
    std::ostringstream ini;
    ini << "[databases]\n"
        << pooler_rig::database << " = host=" << dir << " port=" << server_port
        << " dbname=" << pooler_rig::database << "\n"
        << "\n"
        << "[pgbouncer]\n"
        << "listen_port = " << pooler_port << "\n"
        << "unix_socket_dir = " << dir << "\n"
        << "auth_type = trust\n"
        << "pool_mode = " << o.pool_mode << "\n"
        << "default_pool_size = " << o.pool_size << "\n"
        << "log_connections = 0\n"
        << "log_disconnections = 0\n"
        << "log_stats = 0\n"
        << "stats_period = 3600\n"
        << o.extra_settings;
    return ini.str();
}

}  // namespace

pooler_rig::pooler_rig(rig_options options) : where_(options.where), dir_(make_temp_dir()) {
    try {
        log::options lo;
        lo.file = dir_ + "/sabakan.log";
        lo.to_stderr = false;
        log::configure(lo);

        auto& server_io = where_ == layout::own_threads ? server_io_ : pooler_io_;
        server_ = std::make_unique<fake_server>(server_io, dir_, server_port);
        server_->start();

        auto cfg = std::make_shared<const config::config>(
            config::parse(config_text(dir_, options), dir_ + "/sabakan.ini"));
        pooler_ =
            std::make_unique<session::pooler>(pooler_io_, cfg, session::pooler::load_users(*cfg));
        pooler_->listen();
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        throw;
    }
    if (where_ == layout::single_thread) {
        if (options.on_pooler_thread) {
            options.on_pooler_thread();
        }
        return;
    }
    pooler_thread_ = std::thread([this, hook = std::move(options.on_pooler_thread)] {
        if (hook) {
            hook();
        }
        pooler_io_.run();
    });
    if (where_ == layout::own_threads) {
        server_thread_ = std::thread([this] { server_io_.run(); });
    }
}

pooler_rig::~pooler_rig() {
    // As SIGQUIT does: stop the loop at once; the pooler's destructor breaks the links.
    if (where_ == layout::single_thread) {
        pooler_->shutdown(session::shutdown_mode::none);
    } else {
        net::asio::post(pooler_io_, [this] { pooler_->shutdown(session::shutdown_mode::none); });
        pooler_thread_.join();
    }
    server_io_.stop();
    if (server_thread_.joinable()) {
        server_thread_.join();
    }
    pooler_.reset();
    server_.reset();
    log::configure(log::options{});  // back to stderr before the log file goes away
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

void pooler_rig::run_on_loop(net::awaitable<void> task) {
    if (where_ != layout::single_thread) {
        throw std::logic_error("pooler_rig::run_on_loop needs layout::single_thread");
    }
    // Shared with the completion handler, which would outlive this frame if the loop were
    // stopped by something else first.
    struct outcome {
        bool done = false;
        std::exception_ptr error;
    };
    auto result = std::make_shared<outcome>();
    net::asio::co_spawn(pooler_io_, std::move(task), [this, result](std::exception_ptr e) {
        result->done = true;
        result->error = e;
        pooler_io_.stop();
    });
    pooler_io_.restart();
    pooler_io_.run();
    if (!result->done) {
        throw std::runtime_error("pooler_rig: the loop stopped before the task ended");
    }
    if (result->error) {
        std::rethrow_exception(result->error);
    }
}

std::string pooler_rig::pooler_socket() const {
    return dir_ + "/.s.PGSQL." + std::to_string(pooler_port);
}

std::string pooler_rig::server_socket() const {
    return dir_ + "/.s.PGSQL." + std::to_string(server_port);
}

std::string pooler_rig::log_text() const {
    std::ifstream in(dir_ + "/sabakan.log");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace sabakan::loopback

// Dispatch of console commands: who may run what, the control commands (RELOAD, PAUSE,
// KILL, SHUTDOWN, ...) and SET. The listings themselves are in show.cpp.
#include <sabakan/admin/command.hpp>
#include <sabakan/admin/console.hpp>
#include <sabakan/core/log.hpp>
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/result_set.hpp>
#include <sabakan/session/client_session.hpp>

#include "show.hpp"

#include <fmt/format.h>

#include <charconv>
#include <chrono>

namespace sabakan::admin {

namespace {

// PgBouncer answers every console error with 08P01, except a failed RELOAD (F0000);
// scripts that check SQLSTATEs see the same here.
constexpr std::string_view syntax_error = "08P01";
constexpr std::string_view object_not_found = "08P01";
constexpr std::string_view insufficient_privilege = "08P01";
constexpr std::string_view config_file_error = "F0000";

void error(protocol::byte_buffer& out, std::string_view sqlstate, std::string_view message) {
    protocol::append_error(out, "ERROR", sqlstate, message);
}

/// The variables drivers SET right after connecting; the console accepts and ignores them.
bool fake_settable(std::string_view key) {
    for (std::string_view k :
         {"client_encoding", "default_transaction_isolation", "standard_conforming_strings",
          "datestyle", "timezone", "extra_float_digits", "application_name"}) {
        if (iequals(k, key)) {
            return true;
        }
    }
    return false;
}

}  // namespace

net::awaitable<session::worker_group::world_stop> console_impl::stop_world() {
    if (auto* g = pooler_.group()) {
        co_return co_await g->stop_world(pooler_.worker_index());
    }
    co_return session::worker_group::world_stop(nullptr);
}

template <typename Done, typename Abandon>
net::awaitable<bool> console_impl::wait_until(session::client_session& client, Done done,
                                              Abandon abandon,
                                              session::worker_group::world_stop& stopped) {
    net::steady_timer timer(co_await net::asio::this_coro::executor);
    while (!done()) {
        // The admin may hang up, or another one may undo what this waits for (RESUME
        // during PAUSE): then stop waiting instead of holding the session forever.
        if (client.hung_up() || abandon()) {
            co_return false;
        }
        timer.expires_after(std::chrono::milliseconds(50));
        net::error_code ec;
        stopped.end();  // the other workers run while this one waits
        co_await timer.async_wait(net::asio::redirect_error(net::use_awaitable, ec));
        stopped = co_await stop_world();
    }
    co_return true;
}

net::awaitable<bool> console_impl::execute(session::client_session& client, std::string query,
                                           protocol::byte_buffer& out) {
    // Every command reads or changes all workers: the others wait until it is done (or
    // until it waits, in PAUSE, WAIT_CLOSE and SUSPEND).
    auto stopped = co_await stop_world();
    auto cmd = parse_command(query);
    if (!cmd) {
        error(out, syntax_error, fmt::format("invalid command '{}', use SHOW HELP;", query));
        co_return true;
    }
    const std::string& verb = cmd->verb;
    const std::string& arg = cmd->argument;
    auto invalid = [&] {
        error(out, syntax_error, fmt::format("invalid command '{}', use SHOW HELP;", query));
    };

    if (verb == "SHOW" || verb == "SELECT") {
        if (!cmd->has_argument) {
            invalid();
            co_return true;
        }
        // FDS exposes connection internals: admin_users only, as PgBouncer has it.
        if (iequals(arg, "fds") && !client.is_admin_user()) {
            error(out, insufficient_privilege, "admin access needed");
            co_return true;
        }
        if (!detail::show(pooler_, arg, out)) {
            invalid();
        }
        co_return true;
    }
    if (verb == "SET" && fake_settable(arg)) {
        protocol::append_notice(out, "SET ignored");
        protocol::append_command_complete(out, "SET");
        co_return true;
    }
    if (!client.is_admin_user()) {
        error(out, insufficient_privilege, "admin access needed");
        co_return true;
    }

    auto known_database = [&](const std::string& db) {
        if (db.empty() || pooler_.cfg().find_database(db) != nullptr) {
            return true;
        }
        for (const auto& name : pooler_.database_names()) {
            if (name == db) {
                return true;
            }
        }
        error(out, object_not_found, fmt::format("no such database: {}", db));
        return false;
    };
    auto need_database = [&] {
        if (!cmd->has_argument) {
            error(out, syntax_error, "a database is required");
            return false;
        }
        return known_database(arg);
    };

    if (verb == "SET") {
        auto cfg = std::make_shared<config::config>(pooler_.cfg());
        std::string problem = config::set_setting(cfg->bouncer, arg, cmd->value);
        if (!problem.empty()) {
            error(out, syntax_error, fmt::format("SET failed: {}", problem));
            co_return true;
        }
        log::info("SET {} = {} (admin console, user {})", arg, cmd->value, client.user());
        auto users = pooler_.users_ptr();
        std::shared_ptr<const config::config> fresh = std::move(cfg);
        each([&](session::pooler& w) { w.reload(fresh, users); });
        protocol::append_command_complete(out, fmt::format("SET {}={}", arg, cmd->value));
        co_return true;
    }
    if (verb == "RELOAD" && !cmd->has_argument) {
        if (!pooler_.reload_from_file()) {
            error(out, config_file_error, "RELOAD failed, see logs for additional details");
            co_return true;
        }
        protocol::append_command_complete(out, "RELOAD");
        co_return true;
    }
    if (verb == "PAUSE") {
        if (!known_database(arg)) {
            co_return true;
        }
        if (pooler_.shutting_down() != session::shutdown_mode::none) {
            error(out, syntax_error, "pooler is shutting down");
            co_return true;
        }
        log::info("PAUSE {} (admin console)", arg.empty() ? "(all)" : arg);
        each([&](session::pooler& w) { w.pause(arg); });
        // PAUSE answers once every server of the database is released and closed.
        const bool drained = co_await wait_until(
            client, [&] { return all([&](session::pooler& w) { return w.drained(arg); }); },
            [&] { return !pooler_.is_paused(arg); }, stopped);
        if (!drained) {
            error(out, syntax_error, "PAUSE cancelled: RESUME was run before it completed");
            co_return true;
        }
        protocol::append_command_complete(out, "PAUSE");
        co_return true;
    }
    if (verb == "RESUME") {
        if (!known_database(arg)) {
            co_return true;
        }
        if (pooler_.shutting_down() != session::shutdown_mode::none) {
            error(out, syntax_error, "pooler is shutting down: RESUME cannot undo SHUTDOWN");
            co_return true;
        }
        if (arg.empty() && !pooler_.is_paused("") && !pooler_.suspended()) {
            error(out, syntax_error,
                  "pooler is not paused/suspended (a database paused or killed by name "
                  "needs RESUME <db>)");
            co_return true;
        }
        if (!arg.empty() && pooler_.is_paused("")) {
            error(out, syntax_error, "all databases are paused: use RESUME without a name");
            co_return true;
        }
        if (!arg.empty() && !pooler_.is_paused(arg)) {
            error(out, syntax_error, fmt::format("database {} is not paused", arg));
            co_return true;
        }
        log::info("RESUME {} (admin console)", arg.empty() ? "(all)" : arg);
        each([&](session::pooler& w) { w.resume(arg); });
        protocol::append_command_complete(out, "RESUME");
        co_return true;
    }
    if (verb == "DISABLE" || verb == "ENABLE") {
        if (!need_database()) {
            co_return true;
        }
        each([&](session::pooler& w) { w.set_disabled(arg, verb == "DISABLE"); });
        log::info("{} {} (admin console)", verb, arg);
        protocol::append_command_complete(out, verb);
        co_return true;
    }
    if (verb == "RECONNECT") {
        if (!known_database(arg)) {
            co_return true;
        }
        each([&](session::pooler& w) { w.reconnect(arg); });
        protocol::append_command_complete(out, "RECONNECT");
        co_return true;
    }
    if (verb == "WAIT_CLOSE") {
        if (!known_database(arg)) {
            co_return true;
        }
        if (!co_await wait_until(
                client,
                [&] { return all([&](session::pooler& w) { return w.none_close_needed(arg); }); },
                [] { return false; }, stopped)) {
            co_return false;  // the admin left
        }
        protocol::append_command_complete(out, "WAIT_CLOSE");
        co_return true;
    }
    if (verb == "KILL") {
        if (!known_database(arg)) {
            co_return true;
        }
        log::info("KILL {} (admin console)", arg.empty() ? "(all)" : arg);
        each([&](session::pooler& w) { w.kill(arg); });
        protocol::append_command_complete(out, "KILL");
        co_return true;
    }
    if (verb == "KILL_CLIENT") {
        std::uint64_t id = 0;
        auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), id);
        if (!cmd->has_argument || ec != std::errc{} || end != arg.data() + arg.size()) {
            error(out, syntax_error,
                  "KILL_CLIENT needs a client id (the id column of SHOW CLIENTS)");
            co_return true;
        }
        if (all([&](session::pooler& w) { return !w.kill_client(id); })) {
            error(out, object_not_found, "client not found");
            co_return true;
        }
        protocol::append_command_complete(out, "KILL_CLIENT");
        co_return true;
    }
    if (verb == "SUSPEND" && !cmd->has_argument) {
        log::info("SUSPEND (admin console)");
        each([](session::pooler& w) { w.suspend(); });
        // Answer once every buffer is flushed, or after suspend_timeout at the latest.
        const auto deadline = std::chrono::steady_clock::now() + pooler_.settings().suspend_timeout;
        co_await wait_until(
            client,
            [&] {
                return all([](session::pooler& w) { return w.buffers_flushed(); }) ||
                       std::chrono::steady_clock::now() >= deadline;
            },
            [] { return false; }, stopped);
        protocol::append_command_complete(out, "SUSPEND");
        co_return true;
    }
    if (verb == "SHUTDOWN") {
        if (!cmd->has_argument) {
            log::info("SHUTDOWN (admin console): exiting now");
            each([](session::pooler& w) { w.shutdown(session::shutdown_mode::none); });
            co_return false;
        }
        if (iequals(arg, "wait_for_servers") || iequals(arg, "wait_for_clients")) {
            const bool servers = iequals(arg, "wait_for_servers");
            log::info("SHUTDOWN {} (admin console)",
                      servers ? "WAIT_FOR_SERVERS" : "WAIT_FOR_CLIENTS");
            each([&](session::pooler& w) {
                w.shutdown(servers ? session::shutdown_mode::wait_for_servers
                                   : session::shutdown_mode::wait_for_clients);
            });
            protocol::append_command_complete(out, "SHUTDOWN");
            co_return true;
        }
    }
    invalid();
    co_return true;
}

}  // namespace sabakan::admin

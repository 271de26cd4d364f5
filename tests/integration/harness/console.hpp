// Helpers the tests share for the admin console and for looking at PostgreSQL's side:
// queries left in flight, one cell of a SHOW, command tags and errors, backends by pid.
#pragma once

#include "harness/pq.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace sabakan::integration {

/// A query sent with PQsendQuery and not waited for: the way to hold a command that blocks
/// (PAUSE, WAIT_CLOSE, a query queued behind a full or paused pool) while the test goes on.
class pending_query {
public:
    /// Sends `sql` on `c`; throws when it cannot be sent.
    pending_query(PGconn* c, const std::string& sql);
    /// Whether its first result has arrived (or the connection broke, which also ends it).
    bool ready();
    /// Waits up to `timeout` for ready().
    bool wait(std::chrono::milliseconds timeout);
    /// The first result, the rest of the query's results read and dropped; call once ready.
    pq::result take();

private:
    PGconn* c_;
};

/// Column `column` of the first row of `SHOW what` whose `key_column` is `key`.
std::optional<std::string> show_cell(PGconn* admin, const std::string& what,
                                     const std::string& key_column, const std::string& key,
                                     const std::string& column);
/// The value SHOW CONFIG gives for `key` ("<missing>" when there is none).
std::string config_value(PGconn* admin, const std::string& key);
/// The command tag of a console command that must succeed, or "error: " and its message.
std::string tag_of(PGconn* admin, const std::string& sql);
/// Runs a console command that must fail; its error message ("" if it succeeded).
std::string error_of(PGconn* admin, const std::string& sql);

/// Whether PostgreSQL still has a backend with this pid.
bool backend_alive(PGconn* direct, const std::string& pid);
/// The Mastodon user's client backends connected to PostgreSQL database `datname`.
long long backends_in(PGconn* direct, const std::string& datname);
/// The local TCP port of a client's connection: the `port` SHOW CLIENTS shows for it.
int local_port(PGconn* c);

}  // namespace sabakan::integration

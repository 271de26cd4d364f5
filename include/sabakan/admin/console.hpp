// The admin console behind the pseudo-database "pgbouncer": PgBouncer's SHOW, control and
// SET commands, answered from the poolers' live state. The session layer reads the queries
// and sends the answers; this layer decides what they are. Each worker has one; a command
// reads and changes every worker, with the others stopped meanwhile.
// Owned by: the worker io_context of the pooler it serves.
#pragma once

#include <sabakan/session/pooler.hpp>
#include <sabakan/session/worker_group.hpp>

#include <string>

namespace sabakan::admin {

class console_impl final : public session::console {
public:
    explicit console_impl(session::pooler& p) : pooler_(p) {}

    net::awaitable<bool> execute(session::client_session& client, std::string query,
                                 protocol::byte_buffer& out) override;

private:
    /// Waits, checking a few times a second, until `done()` holds (PAUSE, WAIT_CLOSE):
    /// true then; false when the admin hung up or `abandon()` says to give up.
    template <typename Done, typename Abandon>
    net::awaitable<bool> wait_until(session::client_session& client, Done done, Abandon abandon,
                                    session::worker_group::world_stop& stopped);
    /// The other workers stopped (nothing to stop with one worker).
    net::awaitable<session::worker_group::world_stop> stop_world();
    /// Calls f(pooler&) for every worker.
    template <typename F>
    void each(F&& f) {
        for (auto* w : pooler_.all_workers()) {
            f(*w);
        }
    }
    /// Whether pred(pooler&) holds for every worker.
    template <typename P>
    bool all(P&& pred) {
        for (auto* w : pooler_.all_workers()) {
            if (!pred(*w)) {
                return false;
            }
        }
        return true;
    }

    session::pooler& pooler_;
};

}  // namespace sabakan::admin

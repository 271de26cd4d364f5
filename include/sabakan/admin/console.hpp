// The admin console behind the pseudo-database "pgbouncer": PgBouncer's SHOW, control and
// SET commands, answered from the pooler's live state. The session layer reads the queries
// and sends the answers; this layer decides what they are.
// Owned by: the worker io_context of the pooler it serves.
#pragma once

#include <sabakan/session/pooler.hpp>

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
    net::awaitable<bool> wait_until(session::client_session& client, Done done, Abandon abandon);

    session::pooler& pooler_;
};

}  // namespace sabakan::admin

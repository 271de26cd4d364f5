// The answer to a parameter sync: the SETs a server runs, before a client's first message,
// to take on the session parameters that client expects (parameter_sync_query()). Fed the
// answer's messages one by one, it follows what the server reports and, at the end, says
// which values the server's link now holds. No I/O: the server's pump reads and feeds it.
#pragma once

#include <sabakan/protocol/bytes.hpp>
#include <sabakan/relay/link.hpp>
#include <sabakan/relay/session_params.hpp>

#include <cstdint>
#include <string>

namespace sabakan::relay {

class parameter_sync {
public:
    /// What on_message() saw.
    enum class step : std::uint8_t {
        more,  // the answer goes on
        done,  // ReadyForQuery, idle: the sync is over (error() says whether it failed)
        busy,  // ReadyForQuery in a transaction: the server is unusable
    };

    /// A sync of the parameters in `synced` (bits by tracked index) begins.
    void start(std::uint32_t synced) noexcept;
    /// One whole message of the answer. ParameterStatus updates `server`'s values (and
    /// the linked client's, as link::note_parameter does).
    step on_message(char tag, protocol::bytes_view body, link& server);
    /// After `done` without an error: the values the SETs gave that PostgreSQL did not
    /// report back (it reports only a changed form) become the server's too, taken from
    /// `client`, or else from the pool's `defaults`.
    void apply(link& server, const parameter_overrides& client, const parameter_list& defaults,
               const tracked_parameters& tracked) const;

    /// The failed sync's message and SQLSTATE ("" when it succeeded). The SETs run as one
    /// implicit transaction, so after an error none took effect.
    const std::string& error() const noexcept { return error_; }
    const std::string& sqlstate() const noexcept { return sqlstate_; }

private:
    std::uint32_t syncing_ = 0;   // the parameters the running sync sets
    std::uint32_t reported_ = 0;  // those of them the server has reported since
    std::string error_;
    std::string sqlstate_;
};

}  // namespace sabakan::relay

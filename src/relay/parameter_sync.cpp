// How a parameter sync's answer is read (parameter_sync.hpp).
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/tags.hpp>
#include <sabakan/relay/parameter_sync.hpp>

namespace sabakan::relay {

using protocol::backend_tag;

void parameter_sync::start(std::uint32_t synced) noexcept {
    syncing_ = synced;
    reported_ = 0;
    error_.clear();
    sqlstate_.clear();
}

parameter_sync::step parameter_sync::on_message(char tag, protocol::bytes_view body, link& server) {
    switch (static_cast<backend_tag>(tag)) {
        case backend_tag::parameter_status:
            if (const int i = server.note_parameter(body); i >= 0) {
                reported_ |= 1u << i;
            }
            return step::more;
        case backend_tag::error_response: {
            protocol::error_fields f;
            protocol::decode_error(body, f);
            error_ = f.message;
            sqlstate_ = f.sqlstate;
            return step::more;
        }
        case backend_tag::ready_for_query:
            return !body.empty() && static_cast<protocol::transaction_status>(body[0]) ==
                                        protocol::transaction_status::idle
                       ? step::done
                       : step::busy;
        default:
            return step::more;  // CommandComplete for each SET
    }
}

void parameter_sync::apply(link& server, const parameter_overrides& client,
                           const parameter_list& defaults,
                           const tracked_parameters& tracked) const {
    const std::uint32_t unreported = syncing_ & ~reported_;
    for (int i = 0; i < 32; ++i) {
        if (((unreported >> i) & 1u) == 0) {
            continue;
        }
        if (const std::string* v = client.find(i)) {
            server.parameters().set(i, *v);
        } else if (const std::string* d = find_parameter(defaults, tracked.name(i))) {
            server.parameters().set(i, *d);
        } else {
            server.parameters().erase(i);  // RESET to a default nobody knows
        }
    }
}

}  // namespace sabakan::relay

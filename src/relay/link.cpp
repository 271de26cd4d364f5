// What becomes of each message the server sends to the client it is lent to.
#include <sabakan/protocol/extended.hpp>
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/tags.hpp>
#include <sabakan/relay/link.hpp>

#include <algorithm>

namespace sabakan::relay {

using protocol::backend_tag;
using protocol::scan_status;

void link::attach(client_view client, bool tracks_statements) {
    client_ = client;
    state_ = link_state{};
    times_.query_started_us = 0;
    times_.xact_started_us = 0;
    replies_.reset();
    drop_complete_in_.clear();
    tracks_statements_ = tracks_statements && client.statements != nullptr;
}

server_stop link::scan(recv_buffer& buf, protocol::frame_scanner& sc, config::pool_mode mode,
                       stats::counters& st) {
    for (;;) {
        const auto r = sc.next(buf.unparsed());
        if (r.status == scan_status::need_more) {
            return server_stop::need_more;
        }
        if (r.status == scan_status::bad_length) {
            return server_stop::bad_length;
        }
        buf.advance(r.consumed());
        const auto verdict = on_server_message(r, buf, mode);
        if (verdict == server_verdict::pass) {
            continue;
        }
        count_ready_for_query(st, stats::now_us());
        if (verdict == server_verdict::refuse_transaction) {
            return server_stop::refuse_transaction;
        }
        if (verdict == server_verdict::free) {
            return server_stop::free;
        }
    }
}

server_verdict link::on_server_message(const protocol::scan_result& r, recv_buffer& buf,
                                       config::pool_mode mode) {
    if (r.status != scan_status::message) {
        return server_verdict::pass;  // more of a long message: forwarded as it comes
    }
    const auto tag = static_cast<backend_tag>(r.tag);
    if (tracks_statements_) {
        switch (tag) {
            case backend_tag::parse_complete:
            case backend_tag::bind_complete:
            case backend_tag::close_complete:
                if (r.whole && r.length == 4) {
                    on_statement_reply(r.consumed(), buf);
                }
                break;
            case backend_tag::error_response:
                // protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY: after an error the server
                // skips every message up to the next Sync.
                replies_.on_error(state_.ready_seen,
                                  [this](const pending_reply& p) { forget_unanswered(p); });
                break;
            case backend_tag::command_complete:
                if (r.whole && !drop_complete_in_.empty() &&
                    drop_complete_in_.front() == state_.ready_seen) {
                    drop_complete_in_.erase(drop_complete_in_.begin());
                    buf.drop_parsed_tail(r.consumed());
                } else if (r.whole && protocol::drops_prepared_statements(r.body())) {
                    cache_.clear();
                    if (client_.statements != nullptr) {
                        client_.statements->clear();
                    }
                }
                break;
            case backend_tag::ready_for_query:
                replies_.on_ready(state_.ready_seen,
                                  [this](const pending_reply& p) { forget_unanswered(p); });
                // A stand-in that failed (an aborted transaction) left its mark.
                std::erase_if(drop_complete_in_,
                              [this](std::uint64_t e) { return e <= state_.ready_seen; });
                break;
            default:
                break;
        }
    }
    switch (tag) {
        case backend_tag::parameter_status:
            if (r.whole) {
                note_parameter(r.body());  // the client's own SET: it expects this value now
            }
            return server_verdict::pass;
        case backend_tag::copy_in_response:
        case backend_tag::error_response:
            state_.on_server_message(r.tag);
            return server_verdict::pass;
        case backend_tag::ready_for_query:
            if (!r.whole || r.length != 5) {
                return server_verdict::pass;
            }
            state_.on_ready_for_query(static_cast<char>(r.body()[0]));
            if (mode == config::pool_mode::statement &&
                state_.status != protocol::transaction_status::idle) {
                return server_verdict::refuse_transaction;
            }
            if (mode != config::pool_mode::session && state_.clean()) {
                return server_verdict::free;
            }
            return server_verdict::ready;
        default:
            return server_verdict::pass;
    }
}

void link::count_ready_for_query(stats::counters& st, std::int64_t now) noexcept {
    ++st.query_count;
    times_.last_ready_us = now;
    if (times_.query_started_us != 0) {
        st.query_time += static_cast<std::uint64_t>(now - times_.query_started_us);
    }
    // A pipeline's next query starts as soon as the previous one is answered.
    times_.query_started_us = state_.rfq_pending > 0 ? now : 0;
    if (state_.status == protocol::transaction_status::idle && times_.xact_started_us != 0) {
        ++st.xact_count;
        st.xact_time += static_cast<std::uint64_t>(now - times_.xact_started_us);
        times_.xact_started_us = 0;
    }
    if (times_.query_started_us != 0 && times_.xact_started_us == 0) {
        times_.xact_started_us = now;  // the next pipelined query opens the next transaction
    }
}

int link::note_parameter(protocol::bytes_view body) {
    std::string_view name;
    std::string_view value;
    if (!protocol::decode_parameter_status(body, name, value)) {
        return -1;
    }
    const int i = tracked_->index_of(name);
    if (i >= 0) {
        parameters_.set(i, value);
        if (client_.parameters != nullptr) {
            client_.parameters->set(i, value);
        }
    }
    return i;
}

void link::on_statement_reply(std::size_t length, recv_buffer& buf) {
    const auto action = replies_.on_reply(state_.ready_seen, [this](const pending_reply& p) {
        if ((p.cause == reply_cause::client_parse || p.cause == reply_cause::cached_parse) &&
            client_.statements != nullptr) {
            client_.statements->confirm(p.client_name, p.client_parse);
        }
    });
    switch (action) {
        case reply_action::forward:
            break;
        case reply_action::drop:
            buf.drop_parsed_tail(length);
            break;
        case reply_action::as_parse_complete:
            buf.retag_parsed_tail(length, static_cast<char>(backend_tag::parse_complete));
            break;
    }
}

void link::forget_name(const pending_reply& p) {
    if (client_.statements != nullptr) {
        client_.statements->forget(p.client_name, p.client_parse);
    }
}

void link::forget_unanswered(const pending_reply& p) {
    switch (p.cause) {
        case reply_cause::client_parse:
            cache_.erase(p.id);
            forget_name(p);
            break;
        case reply_cause::cached_parse:
            forget_name(p);
            break;
        case reply_cause::added_parse:
            cache_.erase(p.id);
            break;
        case reply_cause::eviction:
            // The Close never ran: the statement is still there, and must not be prepared
            // again under its name.
            cache_.insert(p.id, cache_.size() + 1);
            break;
    }
}

}  // namespace sabakan::relay

// Named prepared statements on a transaction-mode link: the client's Parse, Bind, Describe
// and Close are sent under server-side names, a statement is prepared on a server the
// first time that server needs it, and the replies the client did not ask for are taken
// out again on the server side (reply_tracker). Unnamed statements and portals, and every
// other message, pass untouched.
#include <sabakan/core/log.hpp>
#include <sabakan/protocol/extended.hpp>
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/sqlstate.hpp>
#include <sabakan/session/client_session.hpp>
#include <sabakan/session/pooler.hpp>
#include <sabakan/session/server_connection.hpp>

namespace sabakan::session {

using protocol::frontend_tag;

namespace {

/// No server statement has this name (server-side names are hex after the prefix), so a
/// Close of it changes nothing and is answered with CloseComplete: a reply in the right
/// place of the server's stream when sabakan needs one without any effect.
constexpr std::string_view no_statement = "_sbk_none";

/// What a client's `DEALLOCATE name` of a protocol-level statement becomes: the server has
/// no statement by the client's name (its copy is shared and stays), yet the client must
/// get DEALLOCATE's CommandComplete, in its place; the server side drops PREPARE's.
constexpr std::string_view deallocate_stand_in =
    "PREPARE _sbk_dealloc AS SELECT;DEALLOCATE _sbk_dealloc";

/// Whether a simple query's text starts, after blanks, with a D: only then may it be a
/// DEALLOCATE, so every other query costs one look.
bool may_be_deallocate(std::string_view text) noexcept {
    for (char c : text) {
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            return c == 'D' || c == 'd';
        }
    }
    return false;
}

/// Bytes beyond which spill_ is given back after use.
constexpr std::size_t spill_keep = 64 * 1024;

}  // namespace

bool client_session::take_statement_message(const protocol::scan_result& r) {
    if (r.status == protocol::scan_status::message && r.whole && !spilling_) {
        const auto outcome = rewrite_statement_message(r.bytes);
        buf_.advance(r.consumed());
        if (outcome != statement_outcome::as_is) {
            buf_.discard_parsed();  // take_pending() emptied to_send(); out_ has the rest
        }
        return outcome != statement_outcome::refused;
    }
    // Longer than the receive buffer: gathered whole in spill_ first. Earlier messages go
    // ahead (out_) while the rest arrives.
    if (!spilling_) {
        take_pending();
        spilling_ = true;
        spill_.clear();
    }
    spill_.insert(spill_.end(), r.bytes.begin(), r.bytes.end());
    buf_.advance(r.consumed());
    buf_.discard_parsed();
    if (!scanner_.at_boundary()) {
        return true;
    }
    spilling_ = false;
    const auto outcome = rewrite_statement_message(spill_);
    if (outcome == statement_outcome::as_is) {
        out_.insert(out_.end(), spill_.begin(), spill_.end());
    }
    spill_.clear();
    if (spill_.capacity() > spill_keep) {
        spill_.shrink_to_fit();
    }
    return outcome != statement_outcome::refused;
}

void client_session::take_pending() {
    const auto pending = buf_.to_send();
    out_.insert(out_.end(), pending.begin(), pending.end());
    buf_.mark_sent();
}

client_session::statement_outcome client_session::rewrite_statement_message(
    protocol::bytes_view msg) {
    using enum statement_outcome;
    server_connection& server = *server_;
    auto& replies = server.replies();
    auto& stats = pool_->stats();
    const auto body = msg.subspan(protocol::frame_scanner::header_size);
    switch (static_cast<frontend_tag>(static_cast<char>(msg[0]))) {
        case frontend_tag::parse: {
            protocol::parse_message p;
            const bool decoded = protocol::decode_parse(body, p);
            if (decoded && relay::names_reserved(p.query)) {
                refuse_reserved_name(server);
                return refused;
            }
            if (!decoded || p.statement.empty()) {
                replies.note_request();
                return as_is;  // unnamed (or malformed: PostgreSQL says what is wrong)
            }
            ++stats.client_parse_count;
            if (statements_.taken(p.statement)) {
                // PgBouncer's answer too: the name's old meaning may still be in use on
                // another server, so the client is told and disconnected.
                log::warning("C-{}: prepared statement \"{}\" was already prepared", id_,
                             p.statement);
                server.close_for_client(
                    protocol::sqlstate::duplicate_prepared_statement,
                    fmt::format("prepared statement \"{}\" already exists", p.statement),
                    "the application prepared a statement name twice without closing it; "
                    "through a transaction pooler it must Close (or DEALLOCATE) it first");
                return refused;
            }
            if (const auto cap = owner_.settings().max_client_prepared_statements;
                statements_.size() >= static_cast<std::size_t>(cap) &&
                statements_.find(p.statement) == nullptr) {
                log::warning("C-{}: more than {} prepared statements; closing", id_, cap);
                server.close_for_client(
                    protocol::sqlstate::program_limit_exceeded,
                    fmt::format("too many prepared statements on this connection "
                                "(max_client_prepared_statements = {})",
                                cap),
                    "have the application close (or DEALLOCATE) statements it no longer uses, "
                    "or raise max_client_prepared_statements in the pooler's config");
                return refused;
            }
            relay::statement_ref s = owner_.statements().intern(p.query, p.parameter_types);
            take_pending();
            relay::pending_reply reply;
            reply.id = s->id;
            reply.client_name = p.statement;
            reply.client_parse = statements_.add(p.statement, s);
            if (server.statements().touch(s->id)) {
                // The server has it already: a Close of nothing stands in for the Parse,
                // and its CloseComplete becomes the client's ParseComplete.
                protocol::append_statement_or_portal(out_, frontend_tag::close,
                                                     {'S', no_statement});
                reply.action = relay::reply_action::as_parse_complete;
                reply.cause = relay::reply_cause::cached_parse;
            } else {
                make_room(*s);
                protocol::append_parse(out_, s->server_name, p);
                ++stats.server_parse_count;
                reply.action = relay::reply_action::forward;
                reply.cause = relay::reply_cause::client_parse;
            }
            reply.epoch = server.link().next_epoch();
            reply.index = replies.note_request();
            replies.expect(std::move(reply));
            return rewritten;
        }
        case frontend_tag::bind: {
            protocol::bind_head b;
            if (!protocol::decode_bind_head(body, b) || b.statement.empty()) {
                replies.note_request();
                return as_is;
            }
            const relay::prepared_statement* s = statements_.find(b.statement);
            if (s == nullptr) {
                // Sent under the client's own name, which no server statement has: the
                // client gets PostgreSQL's own "does not exist" error.
                replies.note_request();
                return as_is;
            }
            ++stats.bind_count;
            take_pending();
            prepare_on_server(*s);
            protocol::append_bind(out_, s->server_name, b);
            replies.note_request();
            return rewritten;
        }
        case frontend_tag::describe: {
            protocol::statement_or_portal d;
            if (!protocol::decode_statement_or_portal(body, d) || d.kind != 'S' || d.name.empty()) {
                return as_is;
            }
            const relay::prepared_statement* s = statements_.find(d.name);
            if (s == nullptr) {
                return as_is;
            }
            take_pending();
            prepare_on_server(*s);
            protocol::append_statement_or_portal(out_, frontend_tag::describe,
                                                 {'S', s->server_name});
            return rewritten;
        }
        case frontend_tag::close: {
            replies.note_request();
            protocol::statement_or_portal c;
            if (!protocol::decode_statement_or_portal(body, c) || c.kind != 'S' || c.name.empty()) {
                return as_is;
            }
            // The server's copy stays (other clients may use it; the cache bounds it).
            statements_.erase(c.name);
            if (!c.name.starts_with(relay::server_statement_prefix)) {
                return as_is;  // no server statement has the client's name: a no-op there
            }
            take_pending();
            protocol::append_statement_or_portal(out_, frontend_tag::close, {'S', no_statement});
            return rewritten;
        }
        case frontend_tag::query: {
            auto text = protocol::as_text(body);
            if (relay::names_reserved(text)) {
                refuse_reserved_name(server);
                return refused;
            }
            if (!may_be_deallocate(text)) {
                return as_is;
            }
            if (!text.empty() && text.back() == '\0') {
                text.remove_suffix(1);
            }
            const auto name = protocol::deallocate_target(text);
            if (!name || statements_.find(*name) == nullptr) {
                return as_is;  // a statement of SQL PREPARE, or PostgreSQL's own error
            }
            statements_.erase(*name);
            take_pending();
            protocol::append_query(out_, deallocate_stand_in);
            // Its replies come before its own ReadyForQuery, counted already.
            server.drop_command_complete(server.link().next_epoch() - 1);
            return rewritten;
        }
        default:
            return as_is;
    }
}

void client_session::refuse_reserved_name(server_connection& server) {
    log::warning("C-{}: SQL naming the reserved prefix {} refused", id_,
                 relay::server_statement_prefix);
    server.close_for_client(
        protocol::sqlstate::reserved_name,
        fmt::format("names starting with \"{}\" are reserved for the pooler's shared prepared "
                    "statements",
                    relay::server_statement_prefix),
        fmt::format("rename the statement or object so that it does not start with \"{}\"",
                    relay::server_statement_prefix));
}

void client_session::prepare_on_server(const relay::prepared_statement& s) {
    server_connection& server = *server_;
    if (server.statements().touch(s.id)) {
        return;
    }
    make_room(s);
    protocol::parse_message p;
    p.query = s.query;
    p.parameter_types = protocol::as_bytes(s.parameter_types);
    protocol::append_parse(out_, s.server_name, p);
    ++pool_->stats().server_parse_count;
    relay::pending_reply reply;
    reply.epoch = server.link().next_epoch();
    reply.index = server.replies().note_request();
    reply.action = relay::reply_action::drop;
    reply.cause = relay::reply_cause::added_parse;
    reply.id = s.id;
    server.replies().expect(std::move(reply));
}

void client_session::make_room(const relay::prepared_statement& s) {
    server_connection& server = *server_;
    const auto capacity = static_cast<std::size_t>(owner_.settings().max_prepared_statements);
    const auto evicted = server.statements().insert(s.id, capacity);
    if (!evicted) {
        return;
    }
    protocol::append_statement_or_portal(out_, frontend_tag::close,
                                         {'S', relay::server_statement_name(*evicted)});
    relay::pending_reply reply;
    reply.epoch = server.link().next_epoch();
    reply.index = server.replies().note_request();
    reply.action = relay::reply_action::drop;
    reply.cause = relay::reply_cause::eviction;
    reply.id = *evicted;
    server.replies().expect(std::move(reply));
}

}  // namespace sabakan::session

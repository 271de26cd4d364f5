// Named prepared statements on a transaction-mode link: the client's Parse, Bind, Describe
// and Close are sent under server-side names, a statement is prepared on a server the
// first time that server needs it, and the replies the client did not ask for are taken
// out again on the server side (reply_tracker). Unnamed statements and portals, and every
// other message, pass untouched.
#include <sabakan/core/log.hpp>
#include <sabakan/protocol/extended.hpp>
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/sqlstate.hpp>
#include <sabakan/relay/statement_rewriter.hpp>

#include <fmt/format.h>

namespace sabakan::relay {

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

bool statement_rewriter::wants(const protocol::scan_result& r) const noexcept {
    return r.status == protocol::scan_status::message &&
           (protocol::names_statement(r.tag) ||
            (r.tag == static_cast<char>(frontend_tag::query) && r.whole));
}

bool statement_rewriter::take(const protocol::scan_result& r, recv_buffer& buf, bool at_boundary,
                              link& l, const rewrite_context& ctx) {
    if (r.status == protocol::scan_status::message && r.whole && !spilling_) {
        const outcome result = rewrite(r.bytes, buf, l, ctx);
        buf.advance(r.consumed());
        if (result != outcome::as_is) {
            buf.discard_parsed();  // take_pending() emptied to_send(); out_ has the rest
        }
        return result != outcome::refused;
    }
    // Longer than the receive buffer: gathered whole in spill_ first. Earlier messages go
    // ahead (out_) while the rest arrives.
    if (!spilling_) {
        take_pending(buf);
        spilling_ = true;
        spill_.clear();
    }
    spill_.insert(spill_.end(), r.bytes.begin(), r.bytes.end());
    buf.advance(r.consumed());
    buf.discard_parsed();
    if (!at_boundary) {
        return true;
    }
    spilling_ = false;
    const outcome result = rewrite(spill_, buf, l, ctx);
    if (result == outcome::as_is) {
        out_.insert(out_.end(), spill_.begin(), spill_.end());
    }
    spill_.clear();
    if (spill_.capacity() > spill_keep) {
        spill_.shrink_to_fit();
    }
    return result != outcome::refused;
}

void statement_rewriter::take_pending(recv_buffer& buf) {
    const auto pending = buf.to_send();
    out_.insert(out_.end(), pending.begin(), pending.end());
    buf.mark_sent();
}

void statement_rewriter::drop_all() noexcept {
    out_.clear();
    spilling_ = false;
}

statement_rewriter::outcome statement_rewriter::rewrite(protocol::bytes_view msg, recv_buffer& buf,
                                                        link& l, const rewrite_context& ctx) {
    using enum outcome;
    auto& replies = l.replies();
    auto& stats = ctx.stats;
    const auto body = msg.subspan(protocol::frame_scanner::header_size);
    switch (static_cast<frontend_tag>(static_cast<char>(msg[0]))) {
        case frontend_tag::parse: {
            protocol::parse_message p;
            const bool decoded = protocol::decode_parse(body, p);
            if (decoded && names_reserved(p.query)) {
                refuse_reserved_name(ctx);
                return refused;
            }
            if (!decoded || p.statement.empty()) {
                replies.note_request();
                return as_is;  // unnamed (or malformed: PostgreSQL says what is wrong)
            }
            ++stats.client_parse_count;
            if (names_.taken(p.statement)) {
                // PgBouncer's answer too: the name's old meaning may still be in use on
                // another server, so the client is told and disconnected.
                log::warning("C-{}: prepared statement \"{}\" was already prepared", ctx.client_id,
                             p.statement);
                refusal_ = {protocol::sqlstate::duplicate_prepared_statement,
                            fmt::format("prepared statement \"{}\" already exists", p.statement),
                            "the application prepared a statement name twice without closing it; "
                            "through a transaction pooler it must Close (or DEALLOCATE) it first"};
                return refused;
            }
            if (const auto cap = ctx.client_names;
                names_.size() >= cap && names_.find(p.statement) == nullptr) {
                log::warning("C-{}: more than {} prepared statements; closing", ctx.client_id, cap);
                refusal_ = {
                    protocol::sqlstate::program_limit_exceeded,
                    fmt::format("too many prepared statements on this connection "
                                "(max_client_prepared_statements = {})",
                                cap),
                    "have the application close (or DEALLOCATE) statements it no longer uses, "
                    "or raise max_client_prepared_statements in the pooler's config"};
                return refused;
            }
            statement_ref s = ctx.registry.intern(p.query, p.parameter_types);
            take_pending(buf);
            pending_reply reply;
            reply.id = s->id;
            reply.client_name = p.statement;
            reply.client_parse = names_.add(p.statement, s);
            if (l.cache().touch(s->id)) {
                // The server has it already: a Close of nothing stands in for the Parse,
                // and its CloseComplete becomes the client's ParseComplete.
                protocol::append_statement_or_portal(
                    out_, frontend_tag::close, {protocol::target_kind::statement, no_statement});
                reply.action = reply_action::as_parse_complete;
                reply.cause = reply_cause::cached_parse;
            } else {
                make_room(*s, l, ctx);
                protocol::append_parse(out_, s->server_name, p);
                ++stats.server_parse_count;
                reply.action = reply_action::forward;
                reply.cause = reply_cause::client_parse;
            }
            reply.epoch = l.next_epoch();
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
            const prepared_statement* s = names_.find(b.statement);
            if (s == nullptr) {
                // Sent under the client's own name, which no server statement has: the
                // client gets PostgreSQL's own "does not exist" error.
                replies.note_request();
                return as_is;
            }
            ++stats.bind_count;
            take_pending(buf);
            prepare_on_server(*s, l, ctx);
            protocol::append_bind(out_, s->server_name, b);
            replies.note_request();
            return rewritten;
        }
        case frontend_tag::describe: {
            protocol::statement_or_portal d;
            if (!protocol::decode_statement_or_portal(body, d) ||
                d.kind != protocol::target_kind::statement || d.name.empty()) {
                return as_is;
            }
            const prepared_statement* s = names_.find(d.name);
            if (s == nullptr) {
                return as_is;
            }
            take_pending(buf);
            prepare_on_server(*s, l, ctx);
            protocol::append_statement_or_portal(
                out_, frontend_tag::describe, {protocol::target_kind::statement, s->server_name});
            return rewritten;
        }
        case frontend_tag::close: {
            replies.note_request();
            protocol::statement_or_portal c;
            if (!protocol::decode_statement_or_portal(body, c) ||
                c.kind != protocol::target_kind::statement || c.name.empty()) {
                return as_is;
            }
            // The server's copy stays (other clients may use it; the cache bounds it).
            names_.erase(c.name);
            if (!c.name.starts_with(server_statement_prefix)) {
                return as_is;  // no server statement has the client's name: a no-op there
            }
            take_pending(buf);
            protocol::append_statement_or_portal(out_, frontend_tag::close,
                                                 {protocol::target_kind::statement, no_statement});
            return rewritten;
        }
        case frontend_tag::query: {
            auto text = protocol::as_text(body);
            if (names_reserved(text)) {
                refuse_reserved_name(ctx);
                return refused;
            }
            if (!may_be_deallocate(text)) {
                return as_is;
            }
            if (!text.empty() && text.back() == '\0') {
                text.remove_suffix(1);
            }
            const auto name = protocol::deallocate_target(text);
            if (!name || names_.find(*name) == nullptr) {
                return as_is;  // a statement of SQL PREPARE, or PostgreSQL's own error
            }
            names_.erase(*name);
            take_pending(buf);
            protocol::append_query(out_, deallocate_stand_in);
            // Its replies come before its own ReadyForQuery, counted already.
            l.drop_command_complete(l.next_epoch() - 1);
            return rewritten;
        }
        default:
            return as_is;
    }
}

void statement_rewriter::refuse_reserved_name(const rewrite_context& ctx) {
    log::warning("C-{}: SQL naming the reserved prefix {} refused", ctx.client_id,
                 server_statement_prefix);
    refusal_ = {
        protocol::sqlstate::reserved_name,
        fmt::format("names starting with \"{}\" are reserved for the pooler's shared prepared "
                    "statements",
                    server_statement_prefix),
        fmt::format("rename the statement or object so that it does not start with \"{}\"",
                    server_statement_prefix)};
}

void statement_rewriter::prepare_on_server(const prepared_statement& s, link& l,
                                           const rewrite_context& ctx) {
    if (l.cache().touch(s.id)) {
        return;
    }
    make_room(s, l, ctx);
    protocol::parse_message p;
    p.query = s.query;
    p.parameter_types = protocol::as_bytes(s.parameter_types);
    protocol::append_parse(out_, s.server_name, p);
    ++ctx.stats.server_parse_count;
    pending_reply reply;
    reply.epoch = l.next_epoch();
    reply.index = l.replies().note_request();
    reply.action = reply_action::drop;
    reply.cause = reply_cause::added_parse;
    reply.id = s.id;
    l.replies().expect(std::move(reply));
}

void statement_rewriter::make_room(const prepared_statement& s, link& l,
                                   const rewrite_context& ctx) {
    const auto evicted = l.cache().insert(s.id, ctx.server_cache);
    if (!evicted) {
        return;
    }
    protocol::append_statement_or_portal(
        out_, frontend_tag::close,
        {protocol::target_kind::statement, server_statement_name(*evicted)});
    pending_reply reply;
    reply.epoch = l.next_epoch();
    reply.index = l.replies().note_request();
    reply.action = reply_action::drop;
    reply.cause = reply_cause::eviction;
    reply.id = *evicted;
    l.replies().expect(std::move(reply));
}

}  // namespace sabakan::relay

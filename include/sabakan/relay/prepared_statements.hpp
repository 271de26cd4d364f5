// Named prepared statements in transaction mode. A client's statement names are its own;
// on the servers each distinct statement (query text and parameter types) has one name,
// derived from a digest of its text, so that every client preparing the same query shares
// it and a server that moves between workers keeps meaning the same thing by it. Here are
// the bookkeeping pieces only: no I/O, no protocol rewriting (client_statements.cpp).
// Owned by: one worker io_context; never touched from another thread.
#pragma once

#include <sabakan/protocol/bytes.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sabakan::relay {

/// What names a statement on every server: 128 bits of the SHA-256 of a per-process secret,
/// its query text and parameter types. Distinct statements never share one in practice,
/// even when a client tries to make them, and no client can tell a statement's name from
/// its text.
struct statement_id {
    std::array<std::uint8_t, 16> bytes{};
    bool operator==(const statement_id&) const noexcept = default;
};
struct statement_id_hash {
    std::size_t operator()(const statement_id& id) const noexcept;
};

/// Every server-side name starts with this; a client's own names are never sent to a
/// server where one could be taken for it.
constexpr std::string_view server_statement_prefix = "_sbk_";

/// Whether SQL text holds an identifier that starts with the reserved prefix (in any case,
/// as an unquoted identifier folds to lower case): a client's PREPARE, EXECUTE or DEALLOCATE
/// of such a name could replace a statement other clients share, so it is refused. A
/// guard against the plain attempt, not a boundary: a name spelt with U& escapes, built by
/// dynamic SQL or in a Query longer than pkt_buf is not seen (max_prepared_statements = 0
/// shares nothing).
bool names_reserved(std::string_view sql) noexcept;

/// The server-side name of `id`: the prefix and 32 hex digits.
std::string server_statement_name(const statement_id& id);

struct prepared_statement {
    statement_id id;
    std::string server_name;
    std::string query;
    std::string parameter_types;  // the Int16 count and Int32 OIDs as the Parse had them
};
using statement_ref = std::shared_ptr<const prepared_statement>;

statement_id make_statement_id(std::string_view query, protocol::bytes_view parameter_types);

/// One worker's statements: each distinct text is held once however many clients
/// prepared it, and freed when the last of them lets go.
class statement_registry {
public:
    statement_ref intern(std::string_view query, protocol::bytes_view parameter_types);
    /// Statements some client still holds.
    std::size_t live() const noexcept;

private:
    void purge();
    std::unordered_map<statement_id, std::weak_ptr<const prepared_statement>, statement_id_hash>
        map_;
    std::size_t purge_at_ = 1024;
};

/// A client's names for its statements. A name is pending from its Parse until the server
/// has answered it: a pipeline may prepare a name again after a Parse that an error will
/// make the server skip, which PostgreSQL accepts.
class client_statements {
public:
    /// The statement the client calls `name`, or nullptr.
    const prepared_statement* find(std::string_view name) const noexcept;
    /// Whether `name` is taken by a statement whose Parse has been answered.
    bool taken(std::string_view name) const noexcept;
    /// Gives `name` (free or pending) to `s`; returns the number naming this Parse of it.
    std::uint64_t add(std::string_view name, statement_ref s);
    /// The Parse `parse` of `name` was answered: the name is taken.
    void confirm(std::string_view name, std::uint64_t parse) noexcept;
    /// The Parse `parse` of `name` failed or was skipped: the name is free again, unless a
    /// later Parse took it meanwhile.
    void forget(std::string_view name, std::uint64_t parse);
    void erase(std::string_view name);
    void clear() noexcept { map_.clear(); }
    std::size_t size() const noexcept { return map_.size(); }

private:
    struct entry {
        statement_ref statement;
        std::uint64_t parse = 0;
        bool confirmed = false;
    };
    struct name_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, entry, name_hash, std::equal_to<>> map_;
    std::uint64_t parses_ = 0;
};

/// The statements prepared on one server connection, least recently used first to go
/// (max_prepared_statements).
class server_statements {
public:
    /// True (and now the most recent) when `id` is prepared here.
    bool touch(const statement_id& id) noexcept;
    /// Records `id` as prepared here. When that makes more than `capacity`, the least
    /// recently used one is forgotten and returned: the caller closes it on the server.
    std::optional<statement_id> insert(const statement_id& id, std::size_t capacity);
    void erase(const statement_id& id) noexcept;
    void clear() noexcept;
    std::size_t size() const noexcept { return index_.size(); }
    /// Most recent first; insert()ing them in reverse order rebuilds the same cache.
    std::vector<statement_id> ids() const;

private:
    std::list<statement_id> lru_;  // front: most recently used
    std::unordered_map<statement_id, std::list<statement_id>::iterator, statement_id_hash> index_;
};

/// What becomes of a ParseComplete, BindComplete or CloseComplete the server sends.
enum class reply_action : std::uint8_t {
    forward,            // the client's own request: it gets the reply
    drop,               // a Parse or Close sabakan added: the client never asked
    as_parse_complete,  // a Close standing in for a Parse of a statement the server has
};

/// Why an entry is there, for when its request fails or is skipped after an error.
enum class reply_cause : std::uint8_t {
    client_parse,  // the client's Parse, sent under the server-side name
    cached_parse,  // the client's Parse of a statement the server has already
    added_parse,   // a Parse sabakan added before a Bind or Describe
    eviction,      // a Close of the least recently used statement
};

struct pending_reply {
    std::uint64_t epoch = 0;  // ReadyForQuery messages the server sends before this reply
    std::uint32_t index = 0;  // its place among Parse/Bind/Close replies in that epoch (1-based)
    reply_action action = reply_action::forward;
    reply_cause cause = reply_cause::client_parse;
    statement_id id;
    std::string client_name;         // for client_parse and cached_parse
    std::uint64_t client_parse = 0;  // client_statements::add()'s number for that Parse
};

/// The replies of one link that are not simply forwarded, in the order the server will
/// send them. The server answers Parse, Bind and Close in order, each with one message,
/// until an error makes it skip everything up to the next Sync; so a reply is known by
/// its epoch (which ReadyForQuery comes before it) and its index in that epoch.
class reply_tracker {
public:
    /// The client side sends a Parse, Bind or Close to the server.
    std::uint32_t note_request() noexcept { return ++sent_in_epoch_; }
    /// The client side sends a message the server answers with ReadyForQuery.
    void note_sync_point() noexcept { sent_in_epoch_ = 0; }
    void expect(pending_reply r) { pending_.push_back(std::move(r)); }

    /// A ParseComplete, BindComplete or CloseComplete arrives in epoch `epoch`: what to do
    /// with it. `answered` gets the entry it answers, if any.
    template <class OnAnswered>
    reply_action on_reply(std::uint64_t epoch, OnAnswered&& answered) {
        ++seen_in_epoch_;
        if (head_ == pending_.size()) {
            return reply_action::forward;
        }
        pending_reply& p = pending_[head_];
        if (p.epoch != epoch || p.index != seen_in_epoch_) {
            return reply_action::forward;
        }
        const reply_action a = p.action;
        answered(p);
        pop();
        return a;
    }
    /// An ErrorResponse in epoch `epoch`: the server skips the rest of it; `skipped` gets
    /// each entry that will never be answered.
    template <class OnSkipped>
    void on_error(std::uint64_t epoch, OnSkipped&& skipped) {
        while (head_ < pending_.size() && pending_[head_].epoch <= epoch) {
            skipped(pending_[head_]);
            pop();
        }
    }
    /// A ReadyForQuery ends epoch `epoch`.
    template <class OnSkipped>
    void on_ready(std::uint64_t epoch, OnSkipped&& skipped) {
        on_error(epoch, skipped);
        seen_in_epoch_ = 0;
    }
    bool idle() const noexcept { return head_ == pending_.size(); }
    void reset() noexcept {
        pending_.clear();
        head_ = 0;
        sent_in_epoch_ = 0;
        seen_in_epoch_ = 0;
    }

private:
    void pop() noexcept {
        if (++head_ == pending_.size()) {
            pending_.clear();  // keeps its capacity: the next transaction reuses it
            head_ = 0;
        }
    }
    std::vector<pending_reply> pending_;
    std::size_t head_ = 0;
    std::uint32_t sent_in_epoch_ = 0;
    std::uint32_t seen_in_epoch_ = 0;
};

}  // namespace sabakan::relay

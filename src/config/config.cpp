// Loading glue: routes each ini line to its section's reader, collects every problem, and
// throws one config_error listing them all, so a bad RELOAD can keep the old config intact.
// Also the small public helpers (to_string, lookups, diagnostic formatting).
#include <sabakan/config/config.hpp>

#include "entries.hpp"
#include "ini_reader.hpp"
#include "settings_table.hpp"
#include "values.hpp"

#include <fmt/format.h>

#include <utility>

namespace sabakan::config {
namespace {

enum class section { none, bouncer, databases, users, peers, unknown };

constexpr std::string_view section_names[] = {"pgbouncer", "databases", "users", "peers"};

section section_of(std::string_view name) noexcept {
    // PgBouncer compares section names exactly: [PgBouncer] is not [pgbouncer].
    if (name == "pgbouncer") {
        return section::bouncer;
    }
    if (name == "databases") {
        return section::databases;
    }
    if (name == "users") {
        return section::users;
    }
    if (name == "peers") {
        return section::peers;
    }
    return section::unknown;
}

std::string unknown_section_message(std::string_view name) {
    const std::string hint = detail::did_you_mean(name, section_names, "[", "]");
    return hint.empty()
               ? "unknown section; sabakan reads [pgbouncer], [databases], [users] and [peers]"
               : "unknown section; " + hint;
}

// A name defined twice keeps the later definition, as PgBouncer's reload does, but the
// first definition's place in file order.
template <class Entry, class Same>
void upsert(std::vector<Entry>& entries, Entry entry, Same same) {
    for (Entry& e : entries) {
        if (same(e, entry)) {
            e = std::move(entry);
            return;
        }
    }
    entries.push_back(std::move(entry));
}

config build(const std::vector<detail::ini_item>& items, const std::string& file) {
    using kind = detail::ini_item::kind;
    config cfg;
    cfg.file = file;
    std::vector<diagnostic> diags;
    // An unreadable top-level file already has its diagnostic; "no [pgbouncer]" would be noise.
    bool file_read = true;
    section current = section::none;
    bool saw_bouncer = false;
    bool conffile_set = false;
    const auto same_name = [](const auto& a, const auto& b) { return a.name == b.name; };

    for (const detail::ini_item& item : items) {
        if (item.what == kind::problem) {
            diags.push_back({item.file, item.line, item.name, item.value});
            file_read = file_read && !(item.file == file && item.line == 0);
            continue;
        }
        if (item.what == kind::section) {
            current = section_of(item.name);
            saw_bouncer = saw_bouncer || current == section::bouncer;
            if (current == section::unknown) {
                diags.push_back({item.file, item.line, fmt::format("[{}]", item.name),
                                 unknown_section_message(item.name)});
            }
            continue;
        }
        switch (current) {
            case section::none:
                diags.push_back({item.file, item.line, item.name,
                                 detail::is_setting(item.name)
                                     ? "setting before any section header; put it under [pgbouncer]"
                                     : "line before any section header; start the file with "
                                       "[pgbouncer] or [databases]"});
                break;
            case section::unknown:
                break;  // the section header was reported once; its lines add nothing
            case section::bouncer:
                if (std::string error = detail::apply_setting(cfg.bouncer, item.name, item.value);
                    !error.empty()) {
                    diags.push_back({item.file, item.line, item.name, std::move(error)});
                }
                conffile_set = conffile_set || item.name == "conffile";
                break;
            case section::databases: {
                database_entry e;
                if (detail::read_database(item, e, diags)) {
                    upsert(cfg.databases, std::move(e), same_name);
                }
                break;
            }
            case section::users: {
                user_entry e;
                if (detail::read_user(item, e, diags)) {
                    upsert(cfg.users, std::move(e), same_name);
                }
                break;
            }
            case section::peers: {
                peer_entry e;
                if (detail::read_peer(item, e, diags)) {
                    upsert(cfg.peers, std::move(e), [](const peer_entry& a, const peer_entry& b) {
                        return a.peer_id == b.peer_id;
                    });
                }
                break;
            }
        }
    }
    // PgBouncer refuses a file without its main section ("main section missing").
    if (!saw_bouncer && file_read) {
        diags.push_back({file, 0, "[pgbouncer]",
                         "the file has no [pgbouncer] section; add one, even if it is empty"});
    }
    if (!conffile_set) {
        cfg.bouncer.conffile = file;
    }
    if (!diags.empty()) {
        throw config_error(std::move(diags));
    }
    return cfg;
}

std::string join(const std::vector<diagnostic>& diags) {
    std::string out;
    for (const diagnostic& d : diags) {
        if (!out.empty()) {
            out += '\n';
        }
        out += format(d);
    }
    return out;
}

}  // namespace

std::string_view to_string(pool_mode m) noexcept {
    return detail::pool_mode_names[static_cast<std::size_t>(m)];
}

std::string_view to_string(auth_type t) noexcept {
    return detail::auth_type_names[static_cast<std::size_t>(t)];
}

const database_entry* config::find_database(std::string_view name) const noexcept {
    const database_entry* fallback = nullptr;
    for (const database_entry& db : databases) {
        if (db.name == name) {
            return &db;
        }
        if (db.name == "*") {
            fallback = &db;
        }
    }
    return fallback;
}

const user_entry* config::find_user(std::string_view name) const noexcept {
    for (const user_entry& u : users) {
        if (u.name == name) {
            return &u;
        }
    }
    return nullptr;
}

std::string format(const diagnostic& d) {
    std::string out = d.file;
    if (d.line > 0) {
        out += fmt::format(":{}", d.line);
    }
    out += ": ";
    if (!d.key.empty()) {
        out += d.key;
        out += ": ";
    }
    out += d.message;
    return out;
}

config_error::config_error(std::vector<diagnostic> diags)
    : std::runtime_error(join(diags)), diags_(std::move(diags)) {}

config load(const std::string& path) {
    std::vector<detail::ini_item> items;
    detail::read_ini_file(path, items);
    return build(items, path);
}

config parse(std::string_view text, const std::string& file_name) {
    std::vector<detail::ini_item> items;
    detail::read_ini_text(text, file_name, items);
    return build(items, file_name);
}

}  // namespace sabakan::config

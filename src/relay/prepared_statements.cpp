// Statement identities, the per-worker registry, and the client and server caches.
#include <sabakan/auth/random.hpp>
#include <sabakan/core/assert.hpp>
#include <sabakan/relay/prepared_statements.hpp>

#include <openssl/evp.h>

#include <cctype>
#include <cstring>

namespace sabakan::relay {

namespace {

/// SHA-256 fetched from the provider once (see md5.cpp: a lookup per digest is costly).
const EVP_MD* sha256_algorithm() noexcept {
    static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md;
}

/// Drawn once per process: server-side names cannot be computed from a query's text by
/// anyone who does not hold it. SHA-256 over the key and the text, cut to 128 bits, leaves
/// nothing to extend: the name shows only half of the digest's state.
const std::array<std::byte, 32>& statement_key() {
    static const std::array<std::byte, 32> key = [] {
        std::array<std::byte, 32> k{};
        auth::random_bytes(k);
        return k;
    }();
    return key;
}

}  // namespace

bool names_reserved(std::string_view sql) noexcept {
    const std::string_view prefix = server_statement_prefix;
    // Only where an identifier starts: audit_sbk_log is nobody's statement name.
    const auto starts_identifier = [&](std::size_t at) {
        if (at == 0) {
            return true;
        }
        const auto c = static_cast<unsigned char>(sql[at - 1]);
        return !(std::isalnum(c) != 0 || c == '_' || c == '$' || c >= 0x80);
    };
    for (std::size_t at = sql.find('_');
         at != std::string_view::npos && sql.size() - at >= prefix.size();
         at = sql.find('_', at + 1)) {
        if (!starts_identifier(at)) {
            continue;
        }
        bool same = true;
        for (std::size_t i = 0; i < prefix.size() && same; ++i) {
            const char c = sql[at + i];
            same = (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) == prefix[i];
        }
        if (same) {
            return true;
        }
    }
    return false;
}

std::size_t statement_id_hash::operator()(const statement_id& id) const noexcept {
    std::size_t h = 0;
    std::memcpy(&h, id.bytes.data(), sizeof h);  // already uniformly distributed
    return h;
}

statement_id make_statement_id(std::string_view query, protocol::bytes_view parameter_types) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    SABAKAN_CHECK(ctx != nullptr);
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    // The query ends at its NUL in a Parse, so the boundary between the two is unambiguous.
    const unsigned char nul = 0;
    const auto& key = statement_key();
    const bool ok = EVP_DigestInit_ex(ctx, sha256_algorithm(), nullptr) == 1 &&
                    EVP_DigestUpdate(ctx, key.data(), key.size()) == 1 &&
                    EVP_DigestUpdate(ctx, query.data(), query.size()) == 1 &&
                    EVP_DigestUpdate(ctx, &nul, 1) == 1 &&
                    EVP_DigestUpdate(ctx, parameter_types.data(), parameter_types.size()) == 1 &&
                    EVP_DigestFinal_ex(ctx, digest.data(), &len) == 1;
    EVP_MD_CTX_free(ctx);
    SABAKAN_CHECK(ok && len >= 16);
    statement_id id;
    std::memcpy(id.bytes.data(), digest.data(), id.bytes.size());
    return id;
}

std::string server_statement_name(const statement_id& id) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string name(server_statement_prefix);
    name.reserve(name.size() + 32);
    for (auto b : id.bytes) {
        name.push_back(digits[b >> 4]);
        name.push_back(digits[b & 0x0f]);
    }
    return name;
}

statement_ref statement_registry::intern(std::string_view query,
                                         protocol::bytes_view parameter_types) {
    const statement_id id = make_statement_id(query, parameter_types);
    auto& slot = map_[id];
    if (auto live = slot.lock()) {
        return live;
    }
    auto s = std::make_shared<prepared_statement>();
    s->id = id;
    s->server_name = server_statement_name(id);
    s->query = query;
    s->parameter_types = protocol::as_text(parameter_types);
    slot = s;
    if (map_.size() >= purge_at_) {
        purge();
    }
    return s;
}

std::size_t statement_registry::live() const noexcept {
    std::size_t n = 0;
    for (const auto& [id, w] : map_) {
        n += w.expired() ? 0 : 1;
    }
    return n;
}

void statement_registry::purge() {
    std::erase_if(map_, [](const auto& kv) { return kv.second.expired(); });
    purge_at_ = map_.size() * 2 < 1024 ? 1024 : map_.size() * 2;
}

const prepared_statement* client_statements::find(std::string_view name) const noexcept {
    auto it = map_.find(name);
    return it == map_.end() ? nullptr : it->second.statement.get();
}

bool client_statements::taken(std::string_view name) const noexcept {
    auto it = map_.find(name);
    return it != map_.end() && it->second.confirmed;
}

std::uint64_t client_statements::add(std::string_view name, statement_ref s) {
    auto it = map_.find(name);
    if (it == map_.end()) {
        it = map_.emplace(std::string(name), entry{}).first;
    }
    it->second = entry{std::move(s), ++parses_, false};
    return parses_;
}

void client_statements::confirm(std::string_view name, std::uint64_t parse) noexcept {
    auto it = map_.find(name);
    if (it != map_.end() && it->second.parse == parse) {
        it->second.confirmed = true;
    }
}

void client_statements::forget(std::string_view name, std::uint64_t parse) {
    auto it = map_.find(name);
    if (it != map_.end() && it->second.parse == parse) {
        map_.erase(it);
    }
}

void client_statements::erase(std::string_view name) {
    if (auto it = map_.find(name); it != map_.end()) {
        map_.erase(it);
    }
}

bool server_statements::touch(const statement_id& id) noexcept {
    auto it = index_.find(id);
    if (it == index_.end()) {
        return false;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    return true;
}

std::optional<statement_id> server_statements::insert(const statement_id& id,
                                                      std::size_t capacity) {
    if (touch(id)) {
        return std::nullopt;
    }
    lru_.push_front(id);
    index_.emplace(id, lru_.begin());
    if (index_.size() <= capacity || lru_.size() <= 1) {
        return std::nullopt;
    }
    statement_id oldest = lru_.back();
    index_.erase(oldest);
    lru_.pop_back();
    return oldest;
}

void server_statements::erase(const statement_id& id) noexcept {
    if (auto it = index_.find(id); it != index_.end()) {
        lru_.erase(it->second);
        index_.erase(it);
    }
}

void server_statements::clear() noexcept {
    index_.clear();
    lru_.clear();
}

std::vector<statement_id> server_statements::ids() const {
    return {lru_.begin(), lru_.end()};
}

}  // namespace sabakan::relay

// SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it (protocol.html, sasl-authentication):
// a client state machine for logging in to PostgreSQL and a server one for checking clients
// against auth_file secrets. No channel binding (no SCRAM-SHA-256-PLUS); no I/O here.
#pragma once

#include <sabakan/auth/random.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sabakan::auth {

/// The SASL mechanism name sent in AuthenticationSASL / SASLInitialResponse.
inline constexpr std::string_view scram_mechanism = "SCRAM-SHA-256";

/// Size of SHA-256 output, and so of StoredKey, ServerKey, ClientKey and proofs.
inline constexpr std::size_t scram_key_size = 32;

/// What pg_authid and auth_file store for a SCRAM user:
/// "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>", base64 fields.
struct scram_secret {
    int iterations = 0;
    std::vector<std::byte> salt;
    std::vector<std::byte> stored_key;  // scram_key_size bytes
    std::vector<std::byte> server_key;  // scram_key_size bytes
};

/// Parses a stored SCRAM secret. Returns nullopt for anything else (plain text, md5, a
/// malformed secret), so callers can use it to tell the kinds apart. Never throws on bad input.
std::optional<scram_secret> parse_scram_secret(std::string_view text);

/// The text form parse_scram_secret reads; formats what make_scram_secret returns.
std::string format_scram_secret(const scram_secret& secret);

/// Derives the secret PostgreSQL would store for `password`. Precondition: iterations >= 1.
/// Non-ASCII passwords are used as bytes without SASLprep (see scram_client).
scram_secret make_scram_secret(std::string_view password, std::span<const std::byte> salt,
                               int iterations);

/// Seeds the key that stand-in salts and secrets are derived from. Called with the
/// auth_file's contents at start and RELOAD: the same file gives every user the same salt
/// after a restart too, and nobody without the file can compute it. Until called, the key
/// is random.
void seed_stand_ins(std::string_view seed);

/// A salt that depends only on `user` and the stand-in key: the same user gets the same salt
/// on every login, as with a stored secret, so a client cannot tell stored secrets from
/// plain passwords or unknown users by the salt it is sent.
std::array<std::byte, 16> stable_salt(std::string_view user);

/// What a user without a SCRAM-usable secret (unknown, or an md5 entry) is checked against:
/// the stable salt, `iterations`, and keys no password derives. Three HMACs and no PBKDF2, as
/// cheap as a stored secret, so made-up users neither stand out by time nor cost the
/// event loop PBKDF2 work.
scram_secret stand_in_secret(std::string_view user, int iterations);

/// The SCRAM secrets of auth_file users with plain-text passwords, derived once per user,
/// password, salt and iteration count instead of at every login attempt.
/// Owned by: one worker; not thread-safe.
class scram_secret_cache {
public:
    /// The secret for `user`'s plain `password`, derived now only if not cached.
    const scram_secret& get(std::string_view user, std::string_view password, int iterations);
    std::size_t size() const noexcept { return map_.size(); }

private:
    static constexpr std::size_t max_entries = 10000;
    struct entry {
        std::string password;
        scram_secret secret;
    };
    struct name_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, entry, name_hash, std::equal_to<>> map_;
};

/// The pooler's side when it logs in to PostgreSQL with a password it knows.
/// Call order: client_first_message, handle_server_first, verify_server_final.
///
/// Password preparation: PostgreSQL runs SASLprep on the password but falls back to the raw bytes
/// when it is not valid UTF-8 or is prohibited. We always use the raw bytes. For ASCII that is
/// exactly what PostgreSQL does; for non-ASCII it matches when the password is already in
/// SASLprep normal form (NFKC, no mapped characters), which covers almost all real passwords.
class scram_client {
public:
    /// `nonce` must be printable ASCII without ','. `user` goes in client-first's "n=";
    /// PostgreSQL ignores it and uses the startup packet's user, so the default is empty.
    explicit scram_client(std::string password, std::string nonce = random_nonce(),
                          std::string user = {});

    /// The SASLInitialResponse payload: "n,,n=<user>,r=<nonce>".
    std::string client_first_message() const;

    /// Reads AuthenticationSASLContinue's server-first-message. On success sets `client_final`
    /// to the SASLResponse payload and returns true; otherwise sets `error` and returns false
    /// (the login must be abandoned). May be called once.
    [[nodiscard]] bool handle_server_first(std::string_view server_first, std::string& client_final,
                                           std::string& error);

    /// Checks AuthenticationSASLFinal's server-final-message. True only when the server proved
    /// it knows the secret; false with `error` for a wrong signature, an "e=" error, garbage,
    /// or a call before handle_server_first succeeded.
    [[nodiscard]] bool verify_server_final(std::string_view server_final, std::string& error) const;

private:
    std::string client_first_bare() const;

    std::string password_;
    std::string nonce_;
    std::string user_;
    std::vector<std::byte> expected_server_signature_;  // empty until server-first is handled
    bool server_first_seen_ = false;
};

/// The pooler's side when a client logs in with SCRAM against a stored secret.
/// Call order: handle_client_first, handle_client_final; any failure is final.
class scram_server {
public:
    /// `nonce` (printable ASCII without ',') is appended to the client's nonce.
    explicit scram_server(scram_secret secret, std::string nonce = random_nonce());

    /// Reads SASLInitialResponse's client-first-message; on success sets `server_first` for
    /// AuthenticationSASLContinue. Refuses channel binding ("p="), an authorization identity
    /// ("a=") and mandatory extensions ("m="). The "n=" user is ignored, as PostgreSQL does.
    [[nodiscard]] bool handle_client_first(std::string_view client_first, std::string& server_first,
                                           std::string& error);

    /// Reads SASLResponse's client-final-message and checks the proof. On success sets
    /// `server_final` for AuthenticationSASLFinal. On failure `error` says whether the message
    /// was malformed or the password did not match.
    [[nodiscard]] bool handle_client_final(std::string_view client_final, std::string& server_final,
                                           std::string& error);

    /// True once handle_client_final has accepted the proof.
    bool authenticated() const noexcept { return state_ == state::done; }

    /// The ClientKey recovered from a verified proof (empty before that). It lets the pooler
    /// log in to PostgreSQL as this client when the server holds the same secret.
    const std::vector<std::byte>& client_key() const noexcept { return client_key_; }

private:
    enum class state { expect_first, expect_final, done, failed };

    bool fail(std::string& error, std::string_view why);

    scram_secret secret_;
    std::string server_nonce_;
    state state_ = state::expect_first;
    std::string gs2_header_;
    std::string client_first_bare_;
    std::string server_first_;
    std::string combined_nonce_;
    std::vector<std::byte> client_key_;
};

}  // namespace sabakan::auth

// SCRAM-SHA-256 key derivation and message handling (RFC 5802 §3, §5, §7; RFC 7677).
// Every message from the peer is treated as hostile: parsing works on string_views, never
// throws on bad input, and any surprise ends the exchange with an error string.
#include <sabakan/auth/base64.hpp>
#include <sabakan/auth/random.hpp>
#include <sabakan/auth/scram.hpp>
#include <sabakan/core/assert.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <cstring>
#include <mutex>

namespace sabakan::auth {
namespace {

using key = std::array<std::byte, scram_key_size>;

constexpr std::string_view secret_prefix = "SCRAM-SHA-256$";

std::span<const std::byte> bytes_of(std::string_view s) noexcept {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// OpenSSL wants non-null pointers even for empty input.
const unsigned char* ptr_of(std::span<const std::byte> b) noexcept {
    static constexpr unsigned char empty = 0;
    return b.empty() ? &empty : reinterpret_cast<const unsigned char*>(b.data());
}

key hmac_sha256(std::span<const std::byte> k, std::span<const std::byte> data) {
    key out{};
    unsigned int len = 0;
    const unsigned char* r = HMAC(EVP_sha256(), ptr_of(k), static_cast<int>(k.size()), ptr_of(data),
                                  data.size(), reinterpret_cast<unsigned char*>(out.data()), &len);
    SABAKAN_CHECK(r != nullptr && len == scram_key_size);
    return out;
}

key sha256(std::span<const std::byte> data) {
    key out{};
    unsigned int len = 0;
    const int ok =
        EVP_Digest(ptr_of(data), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                   EVP_sha256(), nullptr);
    SABAKAN_CHECK(ok == 1 && len == scram_key_size);
    return out;
}

// Hi(password, salt, i) of RFC 5802 §2.2 is PBKDF2 with HMAC-SHA-256.
// The password is used as raw bytes; see the SASLprep note on scram_client.
key salted_password(std::string_view password, std::span<const std::byte> salt, int iterations) {
    key out{};
    const int ok = PKCS5_PBKDF2_HMAC(
        reinterpret_cast<const char*>(ptr_of(bytes_of(password))),
        static_cast<int>(password.size()), ptr_of(salt), static_cast<int>(salt.size()), iterations,
        EVP_sha256(), static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data()));
    SABAKAN_CHECK(ok == 1);
    return out;
}

std::vector<std::byte> to_vector(const key& k) {
    return {k.begin(), k.end()};
}

// Strictly positive decimal int, the whole string, no sign.
bool parse_iterations(std::string_view s, int& out) noexcept {
    if (s.empty()) {
        return false;
    }
    int value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || end != s.data() + s.size() || value < 1) {
        return false;
    }
    out = value;
    return true;
}

// RFC 5802 §7 "printable": %x21-2B / %x2D-7E, i.e. visible ASCII except ','.
bool is_printable_nonce(std::string_view s) noexcept {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (c < 0x21 || c > 0x7e || c == ',') {
            return false;
        }
    }
    return true;
}

// RFC 5802 §5.1: in a saslname ',' and '=' are written =2C and =3D.
std::string escape_saslname(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (char c : name) {
        if (c == ',') {
            out += "=2C";
        } else if (c == '=') {
            out += "=3D";
        } else {
            out += c;
        }
    }
    return out;
}

// Walks "a=value,b=value,..." one attribute at a time. Offsets are kept so the caller can cut
// client-final-message-without-proof out of the original text.
class attr_reader {
public:
    explicit attr_reader(std::string_view msg) noexcept : msg_(msg) {}

    /// Reads the next attribute. False on a missing "x=", a non-letter name, or after the end.
    bool next(char& attr, std::string_view& value) noexcept {
        if (ended_) {
            return false;
        }
        const std::string_view rest = msg_.substr(pos_);
        if (rest.size() < 2 || rest[1] != '=' ||
            !((rest[0] >= 'a' && rest[0] <= 'z') || (rest[0] >= 'A' && rest[0] <= 'Z'))) {
            return false;
        }
        attr_start_ = pos_;
        attr = rest[0];
        const std::size_t comma = rest.find(',', 2);
        if (comma == std::string_view::npos) {
            value = rest.substr(2);
            pos_ = msg_.size();
            ended_ = true;
        } else {
            value = rest.substr(2, comma - 2);
            pos_ += comma + 1;
        }
        return true;
    }

    /// Reads the next attribute and requires its name to be `want`.
    bool expect(char want, std::string_view& value) noexcept {
        char attr = 0;
        return next(attr, value) && attr == want;
    }

    /// True once the last attribute ran to the end of the message (no trailing ',').
    bool at_end() const noexcept { return ended_; }

    /// Offset where the attribute returned by the last next() began.
    std::size_t attr_start() const noexcept { return attr_start_; }

private:
    std::string_view msg_;
    std::size_t pos_ = 0;
    std::size_t attr_start_ = 0;
    bool ended_ = false;
};

// Optional extensions may follow the mandatory attributes (RFC 5802 §7); they are skipped, but
// they must still be well formed.
bool skip_extensions(attr_reader& r) noexcept {
    char attr = 0;
    std::string_view value;
    while (!r.at_end()) {
        if (!r.next(attr, value)) {
            return false;
        }
    }
    return true;
}

}  // namespace

// ---- secrets ---------------------------------------------------------------------------------

std::optional<scram_secret> parse_scram_secret(std::string_view text) {
    if (!text.starts_with(secret_prefix)) {
        return std::nullopt;
    }
    text.remove_prefix(secret_prefix.size());
    // <iterations>:<salt>$<StoredKey>:<ServerKey>
    const std::size_t colon1 = text.find(':');
    const std::size_t dollar = text.find('$');
    if (colon1 == std::string_view::npos || dollar == std::string_view::npos || dollar < colon1) {
        return std::nullopt;
    }
    const std::size_t colon2 = text.find(':', dollar);
    if (colon2 == std::string_view::npos) {
        return std::nullopt;
    }
    scram_secret s;
    if (!parse_iterations(text.substr(0, colon1), s.iterations)) {
        return std::nullopt;
    }
    auto salt = base64_decode(text.substr(colon1 + 1, dollar - colon1 - 1));
    auto stored = base64_decode(text.substr(dollar + 1, colon2 - dollar - 1));
    auto server = base64_decode(text.substr(colon2 + 1));
    if (!salt || salt->empty() || !stored || stored->size() != scram_key_size || !server ||
        server->size() != scram_key_size) {
        return std::nullopt;
    }
    s.salt = std::move(*salt);
    s.stored_key = std::move(*stored);
    s.server_key = std::move(*server);
    return s;
}

std::string format_scram_secret(const scram_secret& secret) {
    std::string out(secret_prefix);
    out += std::to_string(secret.iterations);
    out += ':';
    out += base64_encode(secret.salt);
    out += '$';
    out += base64_encode(secret.stored_key);
    out += ':';
    out += base64_encode(secret.server_key);
    return out;
}

namespace {

constexpr int stand_in_seed_iterations = 200'000;  // about 0.1 s, once per (re)load

// The key stand-in salts and secrets come from: random until seed_stand_ins() is called.
std::mutex stand_in_mutex;
key stand_in_key = [] {
    key k{};
    random_bytes(k);
    return k;
}();

key stand_in_key_now() {
    std::lock_guard lock(stand_in_mutex);
    return stand_in_key;
}

/// HMAC of `label` and `user` under the stand-in key: what a stand-in's salt and keys are.
key stand_in_mac(std::string_view label, std::string_view user) {
    std::string data(label);
    data.push_back('\0');
    data.append(user);
    return hmac_sha256(stand_in_key_now(), bytes_of(data));
}

}  // namespace

void seed_stand_ins(std::string_view seed) {
    // A stand-in salt is an oracle on the seed (the auth_file): anyone may ask for one. So
    // the key is slow to compute from it, once per load, and a guess at a weak password in
    // the file costs a guesser this much work each, not one SHA-256.
    static constexpr std::byte label[] = {std::byte{'s'}, std::byte{'a'}, std::byte{'b'},
                                          std::byte{'a'}, std::byte{'k'}, std::byte{'a'},
                                          std::byte{'n'}};
    const key k = salted_password(seed, label, stand_in_seed_iterations);
    std::lock_guard lock(stand_in_mutex);
    stand_in_key = k;
}

std::array<std::byte, 16> stable_salt(std::string_view user) {
    const key mac = stand_in_mac("salt", user);
    std::array<std::byte, 16> salt{};
    std::memcpy(salt.data(), mac.data(), salt.size());
    return salt;
}

scram_secret stand_in_secret(std::string_view user, int iterations) {
    const auto salt = stable_salt(user);
    scram_secret s;
    s.iterations = iterations;
    s.salt.assign(salt.begin(), salt.end());
    s.stored_key = to_vector(stand_in_mac("stored", user));
    s.server_key = to_vector(stand_in_mac("server", user));
    return s;
}

const scram_secret& scram_secret_cache::get(std::string_view user, std::string_view password,
                                            int iterations) {
    const auto salt = stable_salt(user);
    auto it = map_.find(user);
    if (it != map_.end() && it->second.password == password &&
        it->second.secret.iterations == iterations &&
        std::equal(salt.begin(), salt.end(), it->second.secret.salt.begin(),
                   it->second.secret.salt.end())) {
        return it->second.secret;
    }
    if (it == map_.end()) {
        if (map_.size() >= max_entries) {
            map_.clear();  // a bound, not an LRU: auth_files hold far fewer plain passwords
        }
        it = map_.emplace(std::string(user), entry{}).first;
    }
    it->second.password = password;
    it->second.secret = make_scram_secret(password, salt, iterations);
    return it->second.secret;
}

scram_secret make_scram_secret(std::string_view password, std::span<const std::byte> salt,
                               int iterations) {
    SABAKAN_CHECK(iterations >= 1 && password.size() <= INT_MAX && salt.size() <= INT_MAX);
    key salted = salted_password(password, salt, iterations);
    key client_key = hmac_sha256(salted, bytes_of("Client Key"));
    scram_secret s;
    s.iterations = iterations;
    s.salt.assign(salt.begin(), salt.end());
    s.stored_key = to_vector(sha256(client_key));
    s.server_key = to_vector(hmac_sha256(salted, bytes_of("Server Key")));
    OPENSSL_cleanse(salted.data(), salted.size());
    OPENSSL_cleanse(client_key.data(), client_key.size());
    return s;
}

// ---- client ----------------------------------------------------------------------------------

scram_client::scram_client(std::string password, std::string nonce, std::string user)
    : password_(std::move(password)), nonce_(std::move(nonce)), user_(std::move(user)) {
    SABAKAN_ASSERT(is_printable_nonce(nonce_));
}

std::string scram_client::client_first_bare() const {
    return "n=" + escape_saslname(user_) + ",r=" + nonce_;
}

std::string scram_client::client_first_message() const {
    // gs2 header "n,,": no channel binding, no authorization identity.
    return "n,," + client_first_bare();
}

bool scram_client::handle_server_first(std::string_view server_first, std::string& client_final,
                                       std::string& error) {
    if (server_first_seen_) {
        error = "SCRAM server-first-message received twice";
        return false;
    }
    server_first_seen_ = true;

    attr_reader r{server_first};
    char attr = 0;
    std::string_view nonce;
    if (!r.next(attr, nonce)) {
        error = "malformed SCRAM server-first-message: expected \"r=<nonce>\"";
        return false;
    }
    if (attr == 'm') {
        error = "SCRAM server-first-message has a mandatory extension, which is not supported";
        return false;
    }
    // The server's nonce must extend ours (RFC 5802 §5.1 "r="); one that does not is a replay
    // or a confused server.
    if (attr != 'r' || !is_printable_nonce(nonce) || nonce.size() <= nonce_.size() ||
        !nonce.starts_with(nonce_)) {
        error = "invalid SCRAM server-first-message: the nonce does not extend the client nonce";
        return false;
    }
    std::string_view salt_b64;
    std::string_view iter_text;
    if (!r.expect('s', salt_b64)) {
        error = "malformed SCRAM server-first-message: expected \"s=<salt>\"";
        return false;
    }
    auto salt = base64_decode(salt_b64);
    if (!salt || salt->empty()) {
        error = "invalid SCRAM server-first-message: the salt is not valid base64";
        return false;
    }
    int iterations = 0;
    if (!r.expect('i', iter_text) || !parse_iterations(iter_text, iterations)) {
        error = "invalid SCRAM server-first-message: expected \"i=<positive iteration count>\"";
        return false;
    }
    if (!skip_extensions(r)) {
        error = "malformed SCRAM server-first-message: garbage after the iteration count";
        return false;
    }
    if (password_.size() > INT_MAX || salt->size() > INT_MAX) {
        error = "SCRAM password or salt too long";
        return false;
    }

    // RFC 5802 §3: AuthMessage = client-first-bare "," server-first "," client-final-without-proof
    // "biws" is base64("n,,"), the gs2 header we sent.
    std::string final_without_proof = "c=biws,r=";
    final_without_proof += nonce;
    std::string auth_message = client_first_bare();
    auth_message += ',';
    auth_message += server_first;
    auth_message += ',';
    auth_message += final_without_proof;

    key salted = salted_password(password_, *salt, iterations);
    key client_key = hmac_sha256(salted, bytes_of("Client Key"));
    const key stored_key = sha256(client_key);
    const key client_signature = hmac_sha256(stored_key, bytes_of(auth_message));
    key proof{};
    for (std::size_t i = 0; i < proof.size(); ++i) {
        proof[i] = client_key[i] ^ client_signature[i];
    }
    const key server_key = hmac_sha256(salted, bytes_of("Server Key"));
    expected_server_signature_ = to_vector(hmac_sha256(server_key, bytes_of(auth_message)));
    OPENSSL_cleanse(salted.data(), salted.size());
    OPENSSL_cleanse(client_key.data(), client_key.size());

    client_final = std::move(final_without_proof);
    client_final += ",p=";
    client_final += base64_encode(proof);
    return true;
}

bool scram_client::verify_server_final(std::string_view server_final, std::string& error) const {
    if (expected_server_signature_.empty()) {
        error = "SCRAM server-final-message before a valid server-first-message";
        return false;
    }
    attr_reader r{server_final};
    char attr = 0;
    std::string_view value;
    if (!r.next(attr, value)) {
        error = "malformed SCRAM server-final-message: expected \"v=<signature>\"";
        return false;
    }
    if (attr == 'e') {
        error = "SCRAM authentication failed on the server: " + std::string(value);
        return false;
    }
    auto signature = attr == 'v' ? base64_decode(value) : std::nullopt;
    if (!signature || signature->size() != scram_key_size || !skip_extensions(r)) {
        error = "malformed SCRAM server-final-message: expected \"v=<base64 signature>\"";
        return false;
    }
    if (CRYPTO_memcmp(signature->data(), expected_server_signature_.data(), scram_key_size) != 0) {
        error = "SCRAM server signature does not match: the server does not know the password";
        return false;
    }
    return true;
}

// ---- server ----------------------------------------------------------------------------------

scram_server::scram_server(scram_secret secret, std::string nonce)
    : secret_(std::move(secret)), server_nonce_(std::move(nonce)) {
    SABAKAN_ASSERT(is_printable_nonce(server_nonce_));
    SABAKAN_ASSERT(secret_.stored_key.size() == scram_key_size);
    SABAKAN_ASSERT(secret_.server_key.size() == scram_key_size);
}

bool scram_server::fail(std::string& error, std::string_view why) {
    state_ = state::failed;
    error = why;
    return false;
}

bool scram_server::handle_client_first(std::string_view client_first, std::string& server_first,
                                       std::string& error) {
    if (state_ != state::expect_first) {
        return fail(error, "unexpected SCRAM client-first-message");
    }
    // gs2-header: cbind-flag "," [authzid] ","
    if (client_first.size() < 3) {
        return fail(error, "malformed SCRAM client-first-message: too short");
    }
    const char flag = client_first[0];
    if (flag == 'p') {
        // Only SCRAM-SHA-256 is offered, never -PLUS, so a client demanding binding is wrong.
        return fail(error, "SCRAM channel binding is not supported; use SCRAM-SHA-256");
    }
    // 'y': the client could bind but believes we cannot; true, since -PLUS is not offered.
    if ((flag != 'n' && flag != 'y') || client_first[1] != ',') {
        return fail(error, "malformed SCRAM client-first-message: expected \"n,,\" at the start");
    }
    if (client_first[2] == 'a') {
        return fail(error, "SCRAM authorization identity (a=) is not supported");
    }
    if (client_first[2] != ',') {
        return fail(error, "malformed SCRAM client-first-message: expected \"n,,\" at the start");
    }
    gs2_header_ = client_first.substr(0, 3);
    const std::string_view bare = client_first.substr(3);

    attr_reader r{bare};
    char attr = 0;
    std::string_view user;
    if (!r.next(attr, user)) {
        return fail(error, "malformed SCRAM client-first-message: expected \"n=<user>\"");
    }
    if (attr == 'm') {
        return fail(error, "SCRAM mandatory extensions (m=) are not supported");
    }
    // sasl-authentication.html: the user name here is ignored; the startup packet's one counts.
    std::string_view client_nonce;
    if (attr != 'n' || r.at_end() || !r.expect('r', client_nonce) ||
        !is_printable_nonce(client_nonce) || !skip_extensions(r)) {
        return fail(error, "malformed SCRAM client-first-message: expected \"n=<user>,r=<nonce>\"");
    }

    client_first_bare_ = bare;
    combined_nonce_ = client_nonce;
    combined_nonce_ += server_nonce_;
    server_first_ = "r=" + combined_nonce_ + ",s=" + base64_encode(secret_.salt) +
                    ",i=" + std::to_string(secret_.iterations);
    server_first = server_first_;
    state_ = state::expect_final;
    return true;
}

bool scram_server::handle_client_final(std::string_view client_final, std::string& server_final,
                                       std::string& error) {
    if (state_ != state::expect_final) {
        return fail(error, "unexpected SCRAM client-final-message");
    }
    attr_reader r{client_final};
    std::string_view binding;
    std::string_view nonce;
    if (!r.expect('c', binding) || r.at_end()) {
        return fail(error, "malformed SCRAM client-final-message: expected \"c=<binding>\"");
    }
    // Without channel binding, c= carries just the gs2 header the client sent first.
    auto header = base64_decode(binding);
    if (!header || header->size() != gs2_header_.size() ||
        std::memcmp(header->data(), gs2_header_.data(), gs2_header_.size()) != 0) {
        return fail(error, "SCRAM channel binding data does not match the client-first-message");
    }
    if (!r.expect('r', nonce) || r.at_end()) {
        return fail(error, "malformed SCRAM client-final-message: expected \"r=<nonce>\"");
    }
    if (nonce != combined_nonce_) {
        return fail(error, "SCRAM nonce in client-final-message does not match");
    }
    // Extensions may sit between r= and p=; the proof is always last.
    char attr = 0;
    std::string_view proof_b64;
    do {
        if (!r.next(attr, proof_b64)) {
            return fail(error, "malformed SCRAM client-final-message: expected \"p=<proof>\"");
        }
    } while (attr != 'p');
    if (!r.at_end()) {
        return fail(error, "malformed SCRAM client-final-message: garbage after the proof");
    }
    auto proof = base64_decode(proof_b64);
    if (!proof || proof->size() != scram_key_size) {
        return fail(error, "malformed SCRAM client-final-message: the proof is not 32 bytes");
    }
    // attr_start() points at "p="; the ',' before it is not part of the signed text.
    const std::string_view without_proof = client_final.substr(0, r.attr_start() - 1);

    std::string auth_message = client_first_bare_;
    auth_message += ',';
    auth_message += server_first_;
    auth_message += ',';
    auth_message += without_proof;

    // RFC 5802 §3: ClientKey = proof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) must equal
    // StoredKey.
    const key client_signature = hmac_sha256(secret_.stored_key, bytes_of(auth_message));
    key client_key{};
    for (std::size_t i = 0; i < client_key.size(); ++i) {
        client_key[i] = (*proof)[i] ^ client_signature[i];
    }
    const key stored = sha256(client_key);
    if (CRYPTO_memcmp(stored.data(), secret_.stored_key.data(), scram_key_size) != 0) {
        OPENSSL_cleanse(client_key.data(), client_key.size());
        return fail(error, "SCRAM proof does not match: wrong password");
    }
    client_key_ = to_vector(client_key);
    OPENSSL_cleanse(client_key.data(), client_key.size());
    server_final = "v=" + base64_encode(hmac_sha256(secret_.server_key, bytes_of(auth_message)));
    state_ = state::done;
    return true;
}

}  // namespace sabakan::auth

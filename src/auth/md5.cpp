// MD5 password secrets and salted responses (protocol-flow.html, AuthenticationMD5Password).
// MD5 is weak, but it is what auth_file and PostgreSQL's md5 method require.
#include <sabakan/auth/md5.hpp>
#include <sabakan/auth/scram.hpp>
#include <sabakan/core/assert.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>

namespace sabakan::auth {
namespace {

constexpr std::string_view md5_prefix = "md5";
constexpr std::size_t md5_hex_len = 32;

bool is_lower_hex(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/// MD5 fetched from the provider once: EVP_md5() would make OpenSSL 3 look the algorithm
/// up again on every digest, which was most of a login's CPU time.
const EVP_MD* md5_algorithm() noexcept {
    static const EVP_MD* const md = EVP_MD_fetch(nullptr, "MD5", nullptr);
    return md;
}

}  // namespace

std::string md5_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    const int ok =
        EVP_Digest(data.data(), data.size(), digest.data(), &len, md5_algorithm(), nullptr);
    // Only fails if the provider has no MD5 (a FIPS-only OpenSSL); md5 auth cannot work then.
    SABAKAN_CHECK(ok == 1 && len == 16);
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(md5_hex_len);
    for (unsigned int i = 0; i < len; ++i) {
        out.push_back(digits[digest[i] >> 4]);
        out.push_back(digits[digest[i] & 0x0f]);
    }
    return out;
}

std::string md5_password_secret(std::string_view password, std::string_view user) {
    std::string input;
    input.reserve(password.size() + user.size());
    input.append(password).append(user);
    return std::string(md5_prefix) + md5_hex(input);
}

bool is_md5_secret(std::string_view s) {
    if (s.size() != md5_prefix.size() + md5_hex_len || !s.starts_with(md5_prefix)) {
        return false;
    }
    for (char c : s.substr(md5_prefix.size())) {
        if (!is_lower_hex(c)) {
            return false;
        }
    }
    return true;
}

std::string md5_salted_response(std::string_view secret_or_password, std::string_view user,
                                std::span<const std::byte, 4> salt) {
    std::string inner = is_md5_secret(secret_or_password)
                            ? std::string(secret_or_password.substr(md5_prefix.size()))
                            : md5_password_secret(secret_or_password, user).substr(3);
    inner.append(reinterpret_cast<const char*>(salt.data()), salt.size());
    return std::string(md5_prefix) + md5_hex(inner);
}

bool verify_md5_response(std::string_view stored_secret_or_password, std::string_view user,
                         std::span<const std::byte, 4> salt, std::string_view client_response) {
    if (stored_secret_or_password.empty() || parse_scram_secret(stored_secret_or_password)) {
        return false;
    }
    const std::string expected = md5_salted_response(stored_secret_or_password, user, salt);
    // Length is public (always 35 for a well-formed answer); only the content is compared
    // in constant time.
    return client_response.size() == expected.size() &&
           CRYPTO_memcmp(client_response.data(), expected.data(), expected.size()) == 0;
}

}  // namespace sabakan::auth

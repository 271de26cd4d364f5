// Base64 through OpenSSL's EVP block coders. EVP_DecodeBlock is lenient (it skips blanks and
// counts padding as data), so the input is checked here first and the padding length removed.
#include <sabakan/auth/base64.hpp>

#include <openssl/evp.h>

#include <climits>

namespace sabakan::auth {
namespace {

bool is_base64_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

}  // namespace

std::string base64_encode(std::span<const std::byte> data) {
    if (data.empty()) {
        return {};
    }
    // Callers encode keys, salts and nonces; nothing near INT_MAX.
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');  // +1: EVP writes a NUL
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(data.data()),
                                  static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::optional<std::vector<std::byte>> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0 || text.size() > INT_MAX / 2) {
        return std::nullopt;
    }
    if (text.empty()) {
        return std::vector<std::byte>{};
    }
    std::size_t padding = 0;
    if (text.back() == '=') {
        padding = text[text.size() - 2] == '=' ? 2 : 1;
    }
    for (std::size_t i = 0; i < text.size() - padding; ++i) {
        if (!is_base64_char(text[i])) {
            return std::nullopt;
        }
    }
    std::vector<std::byte> out(text.size() / 4 * 3);
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0 || static_cast<std::size_t>(n) != out.size()) {
        return std::nullopt;
    }
    out.resize(out.size() - padding);
    // Refuse non-canonical text (unused bits under the padding set), so that one byte string
    // has exactly one accepted encoding.
    if (padding != 0 && base64_encode(out) != text) {
        return std::nullopt;
    }
    return out;
}

}  // namespace sabakan::auth

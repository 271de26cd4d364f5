// Random bytes from OpenSSL's DRBG. A failure here means the system cannot produce secrets at
// all, so the process stops instead of handing out predictable salts or cancel keys.
#include <sabakan/auth/base64.hpp>
#include <sabakan/auth/random.hpp>

#include <openssl/err.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdio>
#include <cstdlib>

namespace sabakan::auth {

void random_bytes(std::span<std::byte> out) {
    while (!out.empty()) {
        // RAND_bytes takes an int length.
        const std::size_t chunk = std::min<std::size_t>(out.size(), INT_MAX);
        if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(chunk)) !=
            1) {
            std::array<char, 256> reason{};
            ERR_error_string_n(ERR_get_error(), reason.data(), reason.size());
            std::fprintf(stderr, "sabakan: FATAL cannot get random bytes from OpenSSL: %s\n",
                         reason.data());
            std::abort();
        }
        out = out.subspan(chunk);
    }
}

std::string random_nonce() {
    // 18 bytes encode to 24 base64 characters with no '=' padding.
    std::array<std::byte, 18> raw{};
    random_bytes(raw);
    return base64_encode(raw);
}

}  // namespace sabakan::auth

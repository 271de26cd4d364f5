// Random bytes from OpenSSL's DRBG, drawn in blocks. A failure here means the system cannot produce
// secrets at all, so the process stops instead of handing out predictable salts or cancel keys.
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

namespace {

void fill_from_openssl(std::span<std::byte> out) {
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

/// Each RAND_bytes call costs thousands of instructions whatever its length (OpenSSL 3
/// sets up its cipher per call), and a login asks for a few bytes twice (the md5 salt,
/// the cancel key). So bytes are drawn 1 KB at a time and handed out in order, each byte
/// used once. Filled on first use, which is after any fork for -d.
class random_pool {
public:
    void take(std::span<std::byte> out) {
        if (out.size() > pool_.size() / 4) {
            fill_from_openssl(out);  // large requests go straight through
            return;
        }
        if (pool_.size() - used_ < out.size()) {
            fill_from_openssl(pool_);
            used_ = 0;
        }
        std::copy_n(pool_.begin() + static_cast<std::ptrdiff_t>(used_), out.size(), out.begin());
        // Wiped once handed out, so no copy of a secret stays behind.
        std::fill_n(pool_.begin() + static_cast<std::ptrdiff_t>(used_), out.size(), std::byte{0});
        used_ += out.size();
    }

private:
    std::array<std::byte, 1024> pool_{};
    std::size_t used_ = pool_.size();  // empty until the first request
};

}  // namespace

void random_bytes(std::span<std::byte> out) {
    thread_local random_pool pool;
    pool.take(out);
}

std::string random_nonce() {
    // 18 bytes encode to 24 base64 characters with no '=' padding.
    std::array<std::byte, 18> raw{};
    random_bytes(raw);
    return base64_encode(raw);
}

}  // namespace sabakan::auth

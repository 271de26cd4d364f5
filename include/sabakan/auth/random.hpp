// Cryptographically strong randomness from OpenSSL, for salts, nonces and cancel keys.
// There is no fallback: if the generator fails the process aborts rather than use weak bytes.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace sabakan::auth {

/// Fills `out` with bytes from RAND_bytes (drawn 1 KB at a time, each used once). Aborts
/// with a message on stderr if OpenSSL cannot supply them.
void random_bytes(std::span<std::byte> out);

/// 18 random bytes in base64 (24 characters, no ',' and no padding): a SCRAM nonce of the
/// same size PostgreSQL uses.
std::string random_nonce();

}  // namespace sabakan::auth

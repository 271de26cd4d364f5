// Standard base64 (RFC 4648 §4, with padding) as SCRAM messages and secrets use it.
// Decoding is strict: text that is not canonical base64 is refused, never guessed at.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sabakan::auth {

/// Encodes `data` with '=' padding; the result has 4 * ceil(n / 3) characters.
std::string base64_encode(std::span<const std::byte> data);

/// Decodes padded base64. Returns nullopt when the length is not a multiple of 4, a character
/// is outside the alphabet, '=' appears anywhere but the last one or two places, or the bits
/// under the padding are not zero. Never throws on bad input.
std::optional<std::vector<std::byte>> base64_decode(std::string_view text);

}  // namespace sabakan::auth

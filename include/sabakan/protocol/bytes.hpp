// Byte views over wire data, and the conversions between them and text.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace sabakan::protocol {

using bytes_view = std::span<const std::byte>;

inline std::string_view as_text(bytes_view b) noexcept {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

inline bytes_view as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace sabakan::protocol

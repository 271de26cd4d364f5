// sabakan's version, from the project() line of CMakeLists.txt.
#pragma once

#include <string_view>

#ifndef SABAKAN_VERSION
#define SABAKAN_VERSION "0.0.0"
#endif

namespace sabakan {

inline constexpr std::string_view version = SABAKAN_VERSION;

}  // namespace sabakan

// Reading a whole small file (a config, an auth_file) into memory, with the reason when
// that fails, for messages that name the file.
#pragma once

#include <string>

namespace sabakan::core {

/// Appends the content of `path` to `text`. On failure returns false and sets `why` to the
/// system's reason (e.g. "No such file or directory").
bool read_whole_file(const std::string& path, std::string& text, std::string& why);

}  // namespace sabakan::core

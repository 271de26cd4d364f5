// Turns one `name = key=value ...` line of [databases], [users] or [peers] into its entry,
// checking every key and value and reporting each problem under the entry's name.
#pragma once

#include "ini_reader.hpp"

#include <sabakan/config/config.hpp>

#include <vector>

namespace sabakan::config::detail {

/// Each reads `item` into `out` (which starts as a default entry) and returns true, or adds
/// one diagnostic per problem to `diags` and returns false.
bool read_database(const ini_item& item, database_entry& out, std::vector<diagnostic>& diags);
bool read_user(const ini_item& item, user_entry& out, std::vector<diagnostic>& diags);
bool read_peer(const ini_item& item, peer_entry& out, std::vector<diagnostic>& diags);

}  // namespace sabakan::config::detail

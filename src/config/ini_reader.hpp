// Splits PgBouncer's ini format into section headers and `key = value` lines, following
// %include. It knows nothing about what the sections or keys mean; config.cpp does that.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sabakan::config::detail {

/// One meaningful line, with where it was written. Problems are items too, so that they
/// reach the user in file order among the problems found later in the lines' values.
struct ini_item {
    enum class kind { section, key_value, problem };
    kind what = kind::key_value;
    std::string name;   // section name; key with any "double quotes" removed; problem's key
    std::string value;  // blanks around it removed; ';' and '#' inside are kept, as in PgBouncer;
                        // for a problem, the message
    std::string file;
    int line = 0;  // 0: the problem is with the whole file
};

/// Reads the file at `path` and every file it includes, in order. Problems with the text or
/// the files (unreadable, include loops, too deep, lines that are neither header, key nor
/// comment) become problem items; reading continues with the next line.
void read_ini_file(const std::string& path, std::vector<ini_item>& items);

/// As read_ini_file(), for text already in memory that claims to come from `file_name`.
void read_ini_text(std::string_view text, const std::string& file_name,
                   std::vector<ini_item>& items);

}  // namespace sabakan::config::detail

// Fail closed: values of settings sabakan cannot honour yet are refused with file:line and
// what to do, by the loader and by SET, while their "off" values load; the README's table of
// refused settings is the code's list, row for row.
#include "test_helpers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace sabakan::config {
namespace {

using test::errors_of;
using test::only_error;

// The refusal names the place, the setting and what to set instead.
TEST(Unsupported, RefusedWithPlaceAndRemedy) {
    EXPECT_EQ(only_error("[pgbouncer]\nlisten_port = 6432\nserver_tls_sslmode = verify-full\n"),
              "test.ini:3: server_tls_sslmode: server_tls_sslmode = verify-full is not supported "
              "yet: sabakan does not speak TLS to servers and this mode must not fall back to "
              "plaintext; use disable, allow or prefer (which connect in plaintext) only if the "
              "network to PostgreSQL is trusted");
    EXPECT_EQ(only_error("[pgbouncer]\nclient_tls_sslmode = require\n"),
              "test.ini:2: client_tls_sslmode: client_tls_sslmode = require is not supported yet: "
              "sabakan does not speak TLS to clients, so they would connect in plaintext; set "
              "client_tls_sslmode = disable (keep a TLS proxy in front if clients must use TLS)");
    EXPECT_EQ(only_error("[pgbouncer]\n[databases]\napp = host=10.0.0.1,10.0.0.2 port=5432\n"),
              "test.ini:3: app: host lists (several hosts, with load_balance_hosts) are not "
              "supported yet; give one host, or put a TCP load balancer in front of the servers");
    // Every refused line is reported, not only the first.
    EXPECT_EQ(errors_of("[pgbouncer]\nauth_type = hba\nauth_user = a\n[databases]\n"
                        "x = connect_query='SELECT 1'\n")
                  .size(),
              3U);
}

// The values that mean "off", and the modes that may connect in plaintext, load.
TEST(Unsupported, OffValuesLoad) {
    const settings s =
        parse(
            "[pgbouncer]\nclient_tls_sslmode = disable\nserver_tls_sslmode = "
            "prefer\nauth_user =\npeer_id = 0\nserver_round_robin = 0\n"
            "disable_pqexec = 0\nunix_socket_group =\n[peers]\n"
            "[databases]\nx = host=h auth_query='SELECT 1' load_balance_hosts=disable\n",
            "t.ini")
            .bouncer;
    EXPECT_EQ(s.server_tls_sslmode, "prefer");
    EXPECT_TRUE(errors_of("[pgbouncer]\nserver_tls_sslmode = allow\n").empty());
    EXPECT_TRUE(errors_of("[pgbouncer]\nserver_tls_sslmode = disable\n").empty());
}

// SET refuses as the file does, and leaves the running value as it was.
TEST(Unsupported, SetRefusesAndKeepsValue) {
    settings s;
    const std::string error = set_setting(s, "auth_type", "hba");
    EXPECT_NE(error.find("auth_type = hba is not supported yet"), std::string::npos) << error;
    EXPECT_EQ(s.auth, auth_type::md5);
    EXPECT_NE(set_setting(s, "server_round_robin", "1").find("not supported yet"),
              std::string::npos);
    EXPECT_FALSE(s.server_round_robin);
    EXPECT_EQ(set_setting(s, "server_round_robin", "0"), "");
}

struct table_row {
    std::string section;
    std::string setting;
    std::vector<std::string> values;  // the refused values, as written in backticks
};

std::vector<std::string> in_backticks(const std::string& cell) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while ((at = cell.find('`', at)) != std::string::npos) {
        const std::size_t end = cell.find('`', at + 1);
        if (end == std::string::npos) {
            break;
        }
        out.push_back(cell.substr(at + 1, end - at - 1));
        at = end + 1;
    }
    return out;
}

// The rows of the README's "Settings refused until they work" table.
std::vector<table_row> readme_rows() {
    std::ifstream in(std::string(SABAKAN_TEST_DATA_DIR) + "/../../../../README.md");
    std::vector<table_row> rows;
    std::string line;
    bool in_section = false;
    while (std::getline(in, line)) {
        if (line.starts_with("## ")) {
            in_section = line == "## Settings refused until they work";
            continue;
        }
        if (!in_section || !line.starts_with("| `[")) {
            continue;
        }
        std::vector<std::string> cells;
        std::stringstream ss(line.substr(1));
        std::string cell;
        while (std::getline(ss, cell, '|')) {
            cells.push_back(cell);
        }
        EXPECT_GE(cells.size(), 3U) << line;
        if (cells.size() < 3) {
            continue;
        }
        const auto section = in_backticks(cells[0]);
        const auto setting = in_backticks(cells[1]);
        rows.push_back({section.empty() ? "" : section.front(),
                        setting.empty() ? "" : setting.front(), in_backticks(cells[2])});
    }
    return rows;
}

// The README's table lists exactly the [pgbouncer] keys the code can refuse, and every value
// it names is refused, in its own section, with "not supported yet".
TEST(Unsupported, ReadmeTableMatchesCode) {
    const std::vector<table_row> rows = readme_rows();
    ASSERT_FALSE(rows.empty()) << "the README has no table of refused settings";
    std::set<std::string> documented;
    for (const table_row& r : rows) {
        ASSERT_FALSE(r.values.empty()) << r.section << " " << r.setting;
        for (const std::string& v : r.values) {
            std::string text;
            if (r.section == "[pgbouncer]") {
                documented.insert(r.setting);
                text = "[pgbouncer]\n" + r.setting + " = " + v + "\n";
            } else if (r.section == "[databases]") {
                text = "[pgbouncer]\n[databases]\nx = " + v + "\n";
            } else {
                ASSERT_EQ(r.section, "[peers]");
                text = "[pgbouncer]\n[peers]\n" + v + "\n";
            }
            const std::string error = only_error(text);
            EXPECT_NE(error.find("not supported yet"), std::string::npos)
                << r.section << " " << r.setting << " = " << v << ": " << error;
        }
    }
    const auto in_code = refusable_settings();
    EXPECT_EQ(documented, std::set<std::string>(in_code.begin(), in_code.end()));
}

}  // namespace
}  // namespace sabakan::config

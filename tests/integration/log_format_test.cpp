// Log lines as PgBouncer writes them, so the greps and log parsers operators have keep
// working: "2026-12-06 06:13:18.913 UTC [pid] LOG C-1: db/user@addr:port message" for a
// client, the same with S- and the server's address for a server connection.
#include "harness/fixture.hpp"
#include "harness/temp_dir.hpp"
#include "harness/wait.hpp"

#include <gmock/gmock.h>

#include <chrono>
#include <sstream>
#include <string>

namespace sabakan::integration {
namespace {

using namespace std::chrono_literals;

class LogFormatTest : public sabakan_test {};

TEST_F(LogFormatTest, ConnectionLinesAsPgBouncers) {
    start_sabakan();
    {
        auto c = connect_pooled();
        EXPECT_EQ(pq::value(c.get(), "SELECT 1"), "1");
    }
    pq::run(connect_admin().get(), "RECONNECT");
    const std::string log_file = sabakan().dir() + "/sabakan.log";
    // gtest's POSIX regex, not std::regex: GCC 12 warns inside <regex> under the sanitizers.
    const std::string stamp =
        "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} UTC \\[[0-9]+\\] LOG ";
    const std::string pool = std::string(app_database) + "/" + app_user;
    const std::string server =
        "S-[0-9]+: " + pool + "@127\\.0\\.0\\.1:" + std::to_string(cluster().port());
    const std::string client = "C-[0-9]+: " + pool + "@127\\.0\\.0\\.1:[0-9]+";
    auto has_line = [&](const std::string& pattern) {
        std::istringstream lines(read_file(log_file));
        std::string line;
        while (std::getline(lines, line)) {
            if (::testing::Matches(::testing::MatchesRegex(pattern))(line)) {
                return true;
            }
        }
        return false;
    };
    for (const std::string& line :
         {client + " login attempt: db=" + app_database + " user=" + app_user + " tls=no",
          server + " new connection to server \\(from 127\\.0\\.0\\.1:[0-9]+\\)",
          client + " closing because: client close request",
          server + " closing because: RECONNECT"}) {
        EXPECT_TRUE(wait_until([&] { return has_line(stamp + line); }, 10s))
            << "no line matches " << line << "\n"
            << read_file(log_file);
    }
}

}  // namespace
}  // namespace sabakan::integration

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

// Client-sent text cannot forge a log line or reach a terminal raw: a user name holding a
// newline, a fake log line and ESC sequences is logged with the newline continued by a tab
// and every other control byte written as \xNN.
TEST_F(LogFormatTest, ClientTextCannotForgeLines) {
    start_sabakan();
    const std::string forged = "2026-12-07 00:00:00.000 UTC [1] LOG FORGED";
    const std::string user = "evil\n" + forged + "\x1b[31m\r\xc2\x9b";
    auto c = pq::connect("host=127.0.0.1 port=" + std::to_string(sabakan().port()) +
                         " dbname=" + app_database + " password=x user='" + user + "'");
    EXPECT_NE(PQstatus(c.get()), CONNECTION_OK);
    const std::string log_file = sabakan().dir() + "/sabakan.log";
    ASSERT_TRUE(
        wait_until([&] { return read_file(log_file).find("FORGED") != std::string::npos; }, 10s))
        << read_file(log_file);
    const std::string log = read_file(log_file);
    EXPECT_EQ(log.find('\x1b'), std::string::npos) << "a raw ESC reached the log";
    EXPECT_EQ(log.find('\r'), std::string::npos) << "a raw CR reached the log";
    EXPECT_THAT(log, ::testing::HasSubstr("evil\n\t" + forged + "\\x1b[31m\\x0d\\xc2\\x9b"));
    EXPECT_EQ(log.find("\xc2\x9b"), std::string::npos) << "a raw C1 CSI reached the log";
    std::istringstream lines(log);
    std::string line;
    while (std::getline(lines, line)) {
        EXPECT_FALSE(line.starts_with(forged)) << "a client forged the log line: " << line;
    }
}

}  // namespace
}  // namespace sabakan::integration

// The ini layer: comments, blank lines, CRLF, section headers and their case, lines that are
// not key = value, and %include (relative to the working directory, nested, loops, depth).
#include "test_helpers.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>

namespace sabakan::config {
namespace {

using test::errors_of;
using test::only_error;
using test::scoped_cwd;

const std::string data_dir = SABAKAN_TEST_DATA_DIR;

// Comments start with ; or # after optional blanks; blank lines and CRLF endings are fine.
TEST(Ini, CommentsBlanksCrlf) {
    const config cfg = parse(
        "; comment\r\n"
        "   # indented comment with = sign\r\n"
        "\r\n"
        "\t\r\n"
        "[pgbouncer] ; comment after a header\r\n"
        "listen_port = 7000\r\n"
        "[databases]\r\n"
        ";app = host=commented\r\n"
        "app = host=x\r\n",
        "crlf.ini");
    EXPECT_EQ(cfg.bouncer.listen_port, 7000);
    ASSERT_EQ(cfg.databases.size(), 1U);
    EXPECT_EQ(cfg.databases[0].host, "x");
}

// A section may appear several times; blanks inside the brackets are ignored.
TEST(Ini, RepeatedSections) {
    const config cfg = parse(
        "[pgbouncer]\nlisten_port = 7000\n[databases]\na = host=x\n[ pgbouncer ]\n"
        "max_client_conn = 9\n[databases]\nb = host=y\n",
        "t.ini");
    EXPECT_EQ(cfg.bouncer.listen_port, 7000);
    EXPECT_EQ(cfg.bouncer.max_client_conn, 9);
    EXPECT_EQ(cfg.databases.size(), 2U);
}

// An unknown section is one diagnostic; its lines are skipped, not each reported.
TEST(Ini, UnknownSection) {
    EXPECT_EQ(only_error("[pgbouncer]\n[pooler]\nfoo = 1\nbar = 2\n"),
              "test.ini:2: [pooler]: unknown section; sabakan reads [pgbouncer], [databases], "
              "[users] and [peers]");
    EXPECT_EQ(only_error("[pgbouncer]\n[database]\n"),
              "test.ini:2: [database]: unknown section; did you mean [databases]?");
}

// Section names are case-sensitive as in PgBouncer; the error shows the right spelling.
TEST(Ini, SectionCase) {
    const auto d = errors_of("[PgBouncer]\nlisten_port = 1\n");
    ASSERT_EQ(d.size(), 2U);  // the unknown section, and then no [pgbouncer] at all
    EXPECT_EQ(format(d[0]),
              "test.ini:1: [PgBouncer]: unknown section; names are case-sensitive, write "
              "[pgbouncer]");
    EXPECT_EQ(d[1].key, "[pgbouncer]");
}

// Header syntax: a missing ']' or text after it is reported on its line.
TEST(Ini, BadHeaders) {
    EXPECT_EQ(only_error("[pgbouncer\n[pgbouncer]\n"),
              "test.ini:1: [pgbouncer: section header has no closing ']'; write it like "
              "[pgbouncer]");
    EXPECT_EQ(only_error("[pgbouncer] listen_port = 1\n"),
              "test.ini:1: [pgbouncer]: unexpected text after the section header; put each "
              "setting on its own line");
}

// A setting before any header is an error that says where it belongs.
TEST(Ini, KeyBeforeSection) {
    const auto d = errors_of("listen_port = 7000\n[pgbouncer]\n");
    ASSERT_EQ(d.size(), 1U);
    EXPECT_EQ(format(d[0]),
              "test.ini:1: listen_port: setting before any section header; put it under "
              "[pgbouncer]");
}

// Lines that are not key = value are reported with their line number.
TEST(Ini, NotKeyValue) {
    EXPECT_EQ(only_error("[pgbouncer]\nlisten_port 6432\n"),
              "test.ini:2: listen_port 6432: expected '=' and a value after the key");
    EXPECT_EQ(only_error("[pgbouncer]\n!!!\n"),
              "test.ini:2: expected 'key = value', a [section] header, %include or a comment "
              "starting with ; or #");
    EXPECT_EQ(only_error("[pgbouncer]\n= 5\n"), "test.ini:2: the name before '=' is empty");
    EXPECT_EQ(only_error("[pgbouncer]\n%include\n"),
              "test.ini:2: %include: expected a file name after %include, like %include "
              "/etc/pgbouncer/db.ini");
}

// Nested relative includes resolve from the working directory; sections carry across files.
TEST(Ini, IncludeNested) {
    const scoped_cwd cwd(data_dir);
    const config cfg = load("include_top.ini");
    EXPECT_EQ(cfg.bouncer.mode, pool_mode::transaction);
    EXPECT_EQ(cfg.bouncer.default_pool_size, 30);
    EXPECT_EQ(cfg.bouncer.max_client_conn, 500);
    ASSERT_EQ(cfg.databases.size(), 2U);
    EXPECT_EQ(cfg.databases[0].name, "mastodon_production");
    EXPECT_EQ(cfg.databases[0].file, "include/databases.ini");
    EXPECT_EQ(cfg.databases[0].line, 2);
    EXPECT_EQ(cfg.databases[1].name, "mastodon_replica");
    EXPECT_EQ(cfg.databases[1].file, "include/nested/level1.ini");
    EXPECT_EQ(cfg.databases[1].line, 2);
}

// A relative %include is read from the working directory, not the including file's folder.
TEST(Ini, IncludeRelativeToWorkingDirectory) {
    const scoped_cwd cwd(data_dir);
    EXPECT_EQ(load("include/cwd_relative.ini").databases.size(), 1U);

    const scoped_cwd elsewhere(data_dir + "/include");
    const auto d = errors_of("[pgbouncer]\n%include include/databases.ini\n", "main.ini");
    ASSERT_EQ(d.size(), 1U);
    EXPECT_EQ(d[0].file, "main.ini");
    EXPECT_EQ(d[0].line, 2);
    EXPECT_EQ(d[0].key, "%include");
    EXPECT_NE(d[0].message.find("cannot read include/databases.ini: No such file or directory"),
              std::string::npos)
        << d[0].message;
    EXPECT_NE(d[0].message.find("working directory"), std::string::npos);
}

// An absolute %include works from any working directory.
TEST(Ini, IncludeAbsolute) {
    const config cfg =
        parse("[pgbouncer]\n%include " + data_dir + "/include/databases.ini\n", "abs.ini");
    ASSERT_EQ(cfg.databases.size(), 1U);
    EXPECT_EQ(cfg.databases[0].file, data_dir + "/include/databases.ini");
}

// Problems inside an included file name that file and its own line numbers.
TEST(Ini, IncludedFileErrors) {
    const scoped_cwd cwd(data_dir);
    try {
        (void)load("include_bad.ini");
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        const auto& d = e.diagnostics();
        ASSERT_EQ(d.size(), 2U);
        EXPECT_EQ(d[0].file, "include/bad_values.ini");
        EXPECT_EQ(d[0].line, 3);
        EXPECT_EQ(d[0].key, "listen_port");
        EXPECT_EQ(d[1].file, "include/bad_values.ini");
        EXPECT_EQ(d[1].line, 4);
        EXPECT_EQ(d[1].key, "pool_mode");
    }
}

// A missing include is reported at the %include line; the rest of the file still loads.
TEST(Ini, IncludeMissing) {
    const scoped_cwd cwd(data_dir);
    const auto d = [] {
        try {
            (void)load("include_missing.ini");
        } catch (const config_error& e) {
            return e.diagnostics();
        }
        return std::vector<diagnostic>{};
    }();
    ASSERT_EQ(d.size(), 1U);
    EXPECT_EQ(d[0].file, "include_missing.ini");
    EXPECT_EQ(d[0].line, 3);
    EXPECT_EQ(d[0].key, "%include");
}

// A loop through two files, or a file including itself, is caught and shows the chain.
TEST(Ini, IncludeLoop) {
    const scoped_cwd cwd(data_dir);
    try {
        (void)load("loop_a.ini");
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        ASSERT_EQ(e.diagnostics().size(), 1U);
        EXPECT_EQ(format(e.diagnostics()[0]),
                  "loop_b.ini:2: %include: include loop (loop_a.ini -> loop_b.ini -> "
                  "loop_a.ini); remove one of these %include lines");
    }
    try {
        (void)load("self_include.ini");
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        ASSERT_EQ(e.diagnostics().size(), 1U);
        EXPECT_EQ(e.diagnostics()[0].line, 2);
        EXPECT_NE(e.diagnostics()[0].message.find("include loop"), std::string::npos);
    }
}

// Includes may nest 10 deep, as in PgBouncer; the 11th level is refused.
TEST(Ini, IncludeDepth) {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      ("sabakan-include-depth-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto chain = [&](int levels) {
        for (int i = 0; i <= levels; ++i) {
            std::ofstream f(dir / ("f" + std::to_string(i) + ".ini"));
            if (i == 0) {
                f << "[pgbouncer]\n";
            }
            if (i < levels) {
                f << "%include " << (dir / ("f" + std::to_string(i + 1) + ".ini")).string() << "\n";
            } else {
                f << "listen_port = 7777\n";
            }
        }
        return (dir / "f0.ini").string();
    };
    EXPECT_EQ(load(chain(10)).bouncer.listen_port, 7777);
    try {
        (void)load(chain(11));
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        ASSERT_EQ(e.diagnostics().size(), 1U);
        EXPECT_EQ(e.diagnostics()[0].file, (dir / "f10.ini").string());
        EXPECT_NE(e.diagnostics()[0].message.find("nested more than 10 deep"), std::string::npos);
    }
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sabakan::config

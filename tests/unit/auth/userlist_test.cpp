// auth_file parsing: the Mastodon guide's file, quoting rules, comments, and errors that name
// the file and line.
#include <sabakan/auth/md5.hpp>
#include <sabakan/auth/userlist.hpp>

#include <gtest/gtest.h>

#include <stdexcept>

namespace sabakan::auth {
namespace {

std::string error_of(std::string_view text) {
    try {
        (void)parse_userlist(text, "/etc/pgbouncer/userlist.txt");
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "no error";
}

// The Mastodon guide's userlist.txt, verbatim from a file, loads and holds md5 secrets.
TEST(Userlist, MastodonFile) {
    const userlist u = load_userlist(SABAKAN_TEST_DATA_DIR "/mastodon_userlist.txt");
    EXPECT_EQ(u.secrets.size(), 2U);
    const std::string* mastodon = u.find("mastodon");
    ASSERT_NE(mastodon, nullptr);
    EXPECT_EQ(*mastodon, "md5d75bb2be2d7086c6148944261a00f605");
    EXPECT_EQ(*mastodon, md5_password_secret("password", "mastodon"));
    const std::string* admin = u.find("pgbouncer");
    ASSERT_NE(admin, nullptr);
    EXPECT_EQ(*admin, "md5a45753afaca0db833a6f7c7b2864b9d9");
    EXPECT_TRUE(is_md5_secret(*admin));
    EXPECT_EQ(u.find("postgres"), nullptr);
    EXPECT_EQ(u.find("Mastodon"), nullptr);
}

// "" inside quotes is one quote, in names and secrets; other characters are literal.
TEST(Userlist, Escapes) {
    const userlist u = parse_userlist(
        "\"al\"\"ice\" \"pa\"\"ss\"\"\"\n\"semi;colon\" \"x y;z\"\n\"\"\"\" \"q\"\n", "f");
    ASSERT_NE(u.find("al\"ice"), nullptr);
    EXPECT_EQ(*u.find("al\"ice"), "pa\"ss\"");
    ASSERT_NE(u.find("semi;colon"), nullptr);
    EXPECT_EQ(*u.find("semi;colon"), "x y;z");
    ASSERT_NE(u.find("\""), nullptr);
    EXPECT_EQ(*u.find("\""), "q");
}

// Comments, blank lines, indentation, CRLF, trailing fields, an empty secret, no final newline.
TEST(Userlist, CommentsBlanksAndTrailingFields) {
    const userlist u = parse_userlist(
        "; comment\r\n"
        "\n"
        "   \t\n"
        "   ; indented comment \"x\" \"y\"\n"
        "\t\"bob\"\t\"secret\"   extra \"fields\" ignored\r\n"
        "\"dave\" \"\"\n"
        "\"erin\" \"last\"",
        "f");
    EXPECT_EQ(u.secrets.size(), 3U);
    EXPECT_EQ(*u.find("bob"), "secret");
    EXPECT_EQ(*u.find("dave"), "");
    EXPECT_EQ(*u.find("erin"), "last");
    EXPECT_EQ(parse_userlist("", "f").secrets.size(), 0U);
}

// A user listed twice keeps the later secret.
TEST(Userlist, LaterEntryWins) {
    const userlist u = parse_userlist("\"a\" \"one\"\n\"a\" \"two\"\n", "f");
    EXPECT_EQ(*u.find("a"), "two");
}

// A user with no quoted secret after it is an error; `"carol""plain"` is one name, `carol"plain`.
TEST(Userlist, ErrorMissingSecret) {
    EXPECT_EQ(error_of("\"carol\"\"plain\"\n"),
              "/etc/pgbouncer/userlist.txt:1: expected a quoted password or secret after the user "
              "name, like \"carol\"plain\" \"md5...\"");
    EXPECT_EQ(error_of("\"alice\"\n"),
              "/etc/pgbouncer/userlist.txt:1: expected a quoted password or secret after the user "
              "name, like \"alice\" \"md5...\"");
    EXPECT_EQ(error_of("\"alice\" md5abc\n"),
              "/etc/pgbouncer/userlist.txt:1: expected a quoted password or secret after the user "
              "name, like \"alice\" \"md5...\"");
}

// Errors name the file and the 1-based line and say what was expected.
TEST(Userlist, Errors) {
    EXPECT_EQ(error_of("; ok\n\"a\" \"b\"\nalice \"x\"\n"),
              "/etc/pgbouncer/userlist.txt:3: expected a quoted user name like \"alice\"");
    EXPECT_EQ(error_of("'alice' 'x'"),
              "/etc/pgbouncer/userlist.txt:1: expected a quoted user name like \"alice\"");
    EXPECT_EQ(error_of("\"alice \"x\"\n"),
              "/etc/pgbouncer/userlist.txt:1: expected a quoted password or secret after the user "
              "name, like \"alice \" \"md5...\"");
    EXPECT_EQ(error_of("\n\"alice\" \"x\n\"\n"),
              "/etc/pgbouncer/userlist.txt:2: the secret has no closing '\"' (write a '\"' inside "
              "a secret as '\"\"')");
    EXPECT_EQ(error_of("\"alice\n"),
              "/etc/pgbouncer/userlist.txt:1: the user name has no closing '\"' (write a '\"' "
              "inside a name as '\"\"')");
    EXPECT_EQ(error_of("\"\" \"x\"\n"),
              "/etc/pgbouncer/userlist.txt:1: empty user name; expected a quoted user name like "
              "\"alice\"");
}

// A missing file is reported with its path and the system's reason.
TEST(Userlist, MissingFile) {
    try {
        (void)load_userlist(SABAKAN_TEST_DATA_DIR "/no_such_userlist.txt");
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("no_such_userlist.txt: cannot read auth_file: "), std::string::npos)
            << what;
        EXPECT_NE(what.find("No such file"), std::string::npos) << what;
    }
}

// A directory is not a readable auth_file.
TEST(Userlist, DirectoryIsAnError) {
    EXPECT_THROW((void)load_userlist(SABAKAN_TEST_DATA_DIR), std::runtime_error);
}

}  // namespace
}  // namespace sabakan::auth

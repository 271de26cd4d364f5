// MD5 secrets and salted responses match PostgreSQL's md5 method, byte for byte.
#include <sabakan/auth/md5.hpp>

#include <gtest/gtest.h>

#include <array>

namespace sabakan::auth {
namespace {

constexpr std::array<std::byte, 4> salt1234{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};

// md5_hex agrees with the well-known digest of the empty string.
TEST(Md5, HexOfEmpty) {
    EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
}

// The Mastodon guide's secret: md5 of "passwordmastodon".
TEST(Md5, PasswordSecretMastodon) {
    EXPECT_EQ(md5_hex("passwordmastodon"), "d75bb2be2d7086c6148944261a00f605");
    EXPECT_EQ(md5_password_secret("password", "mastodon"), "md5d75bb2be2d7086c6148944261a00f605");
}

// Only "md5" + 32 lower-case hex digits is a secret; everything else is plain text.
TEST(Md5, IsMd5Secret) {
    EXPECT_TRUE(is_md5_secret("md5d75bb2be2d7086c6148944261a00f605"));
    EXPECT_FALSE(is_md5_secret("md5D75BB2BE2D7086C6148944261A00F605"));
    EXPECT_FALSE(is_md5_secret("md5d75bb2be2d7086c6148944261a00f60"));
    EXPECT_FALSE(is_md5_secret("md5d75bb2be2d7086c6148944261a00f6055"));
    EXPECT_FALSE(is_md5_secret("xyzd75bb2be2d7086c6148944261a00f605"));
    EXPECT_FALSE(is_md5_secret("md5d75bb2be2d7086c6148944261a00f60g"));
    EXPECT_FALSE(is_md5_secret(""));
    EXPECT_FALSE(is_md5_secret("password"));
}

// The salted response is the same whether computed from the password or from the stored secret
// (value cross-checked with Python hashlib).
TEST(Md5, SaltedResponseFromPasswordOrSecret) {
    const std::string expected = "md5a351c7fbc4e9d6c4f802bfe16b3a77dd";
    EXPECT_EQ(md5_salted_response("password", "mastodon", salt1234), expected);
    EXPECT_EQ(md5_salted_response("md5d75bb2be2d7086c6148944261a00f605", "mastodon", salt1234),
              expected);
}

// verify accepts the right answer against either stored form and rejects near misses.
TEST(Md5, VerifyResponse) {
    const std::string good = "md5a351c7fbc4e9d6c4f802bfe16b3a77dd";
    EXPECT_TRUE(
        verify_md5_response("md5d75bb2be2d7086c6148944261a00f605", "mastodon", salt1234, good));
    EXPECT_TRUE(verify_md5_response("password", "mastodon", salt1234, good));
    EXPECT_FALSE(verify_md5_response("password", "mastodon2", salt1234, good));
    EXPECT_FALSE(verify_md5_response("passwore", "mastodon", salt1234, good));
    EXPECT_FALSE(verify_md5_response("password", "mastodon", salt1234,
                                     "md5a351c7fbc4e9d6c4f802bfe16b3a77de"));
    EXPECT_FALSE(verify_md5_response("password", "mastodon", salt1234, good.substr(0, 34)));
    EXPECT_FALSE(verify_md5_response("password", "mastodon", salt1234, good + "x"));
    EXPECT_FALSE(verify_md5_response("password", "mastodon", salt1234, ""));
    constexpr std::array<std::byte, 4> other_salt{std::byte{1}, std::byte{2}, std::byte{3},
                                                  std::byte{5}};
    EXPECT_FALSE(verify_md5_response("password", "mastodon", other_salt, good));
}

// An empty stored password never authenticates, even with the matching md5 answer.
TEST(Md5, EmptyStoredPasswordRejected) {
    const std::string answer = md5_salted_response("", "alice", salt1234);
    EXPECT_FALSE(verify_md5_response("", "alice", salt1234, answer));
}

// A SCRAM secret cannot answer an md5 challenge, even if a client hashes the secret text.
TEST(Md5, ScramSecretRejected) {
    const std::string scram =
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
        ":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
    const std::string answer = md5_salted_response(scram, "user", salt1234);
    EXPECT_FALSE(verify_md5_response(scram, "user", salt1234, answer));
}

}  // namespace
}  // namespace sabakan::auth

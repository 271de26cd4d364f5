// SCRAM-SHA-256 reproduces RFC 7677's exchange on both sides, round-trips between our client and
// server, refuses wrong passwords and forged signatures, and survives hostile input.
#include <sabakan/auth/base64.hpp>
#include <sabakan/auth/random.hpp>
#include <sabakan/auth/scram.hpp>

#include <gtest/gtest.h>

#include <algorithm>

#include <array>

namespace sabakan::auth {
namespace {

// RFC 7677 §3.
constexpr std::string_view rfc_client_nonce = "rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view rfc_server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view rfc_salt_b64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr std::string_view rfc_client_first = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view rfc_server_first =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view rfc_client_final =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view rfc_server_final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
// StoredKey/ServerKey for "pencil" with the RFC salt, cross-checked with Python hashlib.
constexpr std::string_view rfc_secret =
    "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
    ":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";

std::vector<std::byte> rfc_salt() {
    return base64_decode(rfc_salt_b64).value();
}

scram_secret fast_secret(std::string_view password) {
    const std::array<std::byte, 16> salt{std::byte{7}, std::byte{1}, std::byte{2}};
    return make_scram_secret(password, salt, 16);
}

// Our client, given the RFC's nonce and user, sends the RFC's messages and accepts its signature.
TEST(ScramClient, Rfc7677Vector) {
    scram_client c{"pencil", std::string(rfc_client_nonce), "user"};
    EXPECT_EQ(c.client_first_message(), rfc_client_first);
    std::string final_msg;
    std::string error;
    ASSERT_TRUE(c.handle_server_first(rfc_server_first, final_msg, error)) << error;
    EXPECT_EQ(final_msg, rfc_client_final);
    EXPECT_TRUE(c.verify_server_final(rfc_server_final, error)) << error;
}

// PostgreSQL's form: the user in client-first is empty, the gs2 header "n,,".
TEST(ScramClient, PostgresClientFirst) {
    scram_client c{"secret", "abc"};
    EXPECT_EQ(c.client_first_message(), "n,,n=,r=abc");
    scram_client escaped{"secret", "abc", "a,b=c"};
    EXPECT_EQ(escaped.client_first_message(), "n,,n=a=2Cb=3Dc,r=abc");
    EXPECT_EQ(random_nonce().size(), scram_client{"x"}.client_first_message().size() - 8);
}

// A forged or altered server signature is refused, as is an "e=" error.
TEST(ScramClient, TamperedServerSignature) {
    scram_client c{"pencil", std::string(rfc_client_nonce), "user"};
    std::string final_msg;
    std::string error;
    ASSERT_TRUE(c.handle_server_first(rfc_server_first, final_msg, error));
    EXPECT_FALSE(c.verify_server_final("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", error));
    EXPECT_NE(error.find("does not match"), std::string::npos) << error;
    EXPECT_FALSE(c.verify_server_final("v=AAAA", error));
    EXPECT_FALSE(c.verify_server_final("e=invalid-proof", error));
    EXPECT_NE(error.find("invalid-proof"), std::string::npos) << error;
    EXPECT_FALSE(c.verify_server_final("", error));
    EXPECT_FALSE(c.verify_server_final(std::string(rfc_server_final) + ",", error));
    EXPECT_TRUE(c.verify_server_final(rfc_server_final, error));
}

// A wrong password gives a different proof and rejects the real server's signature.
TEST(ScramClient, WrongPasswordDetectedByServerSignature) {
    scram_client c{"pencil2", std::string(rfc_client_nonce), "user"};
    std::string final_msg;
    std::string error;
    ASSERT_TRUE(c.handle_server_first(rfc_server_first, final_msg, error));
    EXPECT_NE(final_msg, rfc_client_final);
    EXPECT_FALSE(c.verify_server_final(rfc_server_final, error));
}

// server-final before server-first, and a second server-first, are errors.
TEST(ScramClient, OutOfOrder) {
    scram_client c{"pencil", std::string(rfc_client_nonce), "user"};
    std::string error;
    EXPECT_FALSE(c.verify_server_final(rfc_server_final, error));
    std::string final_msg;
    ASSERT_TRUE(c.handle_server_first(rfc_server_first, final_msg, error));
    EXPECT_FALSE(c.handle_server_first(rfc_server_first, final_msg, error));
}

// Each malformed server-first-message is refused with an error and no exception.
TEST(ScramClient, BadServerFirst) {
    const std::string_view bad[] = {
        "",
        ",",
        "r=",
        "r=rOprNGfwEbeRWgbNEkqO",                                     // no server part
        "r=XXprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1",   // not our nonce
        "r=rOprNGfwEbeRWgbNEkqOab c,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1",  // space in nonce
        "m=ext,r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1",
        "r=rOprNGfwEbeRWgbNEkqOabc",
        "r=rOprNGfwEbeRWgbNEkqOabc,",
        "r=rOprNGfwEbeRWgbNEkqOabc,s=",
        "r=rOprNGfwEbeRWgbNEkqOabc,s=!!!!,i=1",
        "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==",
        "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=",
        "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
        "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1",
        "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=+1",
        "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999999999999",
        "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=12x",
        "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1,",
        "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1,garbage",
        "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqOabc,i=1",
        "r=rOprNGfwEbeRWgbNEkqOabc,i=1,s=W22ZaJ0SNY7soEsUEjb6gQ==",
    };
    for (std::string_view msg : bad) {
        scram_client c{"pencil", std::string(rfc_client_nonce)};
        std::string final_msg;
        std::string error;
        EXPECT_FALSE(c.handle_server_first(msg, final_msg, error)) << msg;
        EXPECT_FALSE(error.empty()) << msg;
        EXPECT_FALSE(c.verify_server_final(rfc_server_final, error)) << msg;
    }
}

// RFC 5802 allows extensions after i=; they are skipped.
TEST(ScramClient, ServerFirstExtensionsIgnored) {
    scram_client c{"pencil", std::string(rfc_client_nonce)};
    std::string final_msg;
    std::string error;
    EXPECT_TRUE(c.handle_server_first(
        "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=2,x=future", final_msg, error))
        << error;
}

// Stored secrets parse, print back identically, and match make_scram_secret.
TEST(ScramSecret, ParseFormatMake) {
    const auto parsed = parse_scram_secret(rfc_secret);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->iterations, 4096);
    EXPECT_EQ(parsed->salt, rfc_salt());
    EXPECT_EQ(parsed->stored_key.size(), scram_key_size);
    EXPECT_EQ(format_scram_secret(*parsed), rfc_secret);
    const scram_secret made = make_scram_secret("pencil", rfc_salt(), 4096);
    EXPECT_EQ(format_scram_secret(made), rfc_secret);
}

// Anything that is not a well-formed secret is not one.
TEST(ScramSecret, ParseRejects) {
    const std::string_view bad[] = {
        "",
        "pencil",
        "md5d75bb2be2d7086c6148944261a00f605",
        "SCRAM-SHA-256$",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=",
        "SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
        ":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$x:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
        ":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
        ":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAA:"
        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
        ":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=x",
        "SCRAM-SHA-1$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
        ":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
        "SCRAM-SHA-256$4096$W22ZaJ0SNY7soEsUEjb6gQ==:WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
        ":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
    };
    for (std::string_view s : bad) {
        EXPECT_FALSE(parse_scram_secret(s).has_value()) << s;
    }
}

// Our server, given the RFC's nonce and salt, answers the RFC's client exactly.
TEST(ScramServer, Rfc7677Vector) {
    scram_server s{*parse_scram_secret(rfc_secret), std::string(rfc_server_nonce)};
    std::string out;
    std::string error;
    ASSERT_TRUE(s.handle_client_first(rfc_client_first, out, error)) << error;
    EXPECT_EQ(out, rfc_server_first);
    EXPECT_FALSE(s.authenticated());
    ASSERT_TRUE(s.handle_client_final(rfc_client_final, out, error)) << error;
    EXPECT_EQ(out, rfc_server_final);
    EXPECT_TRUE(s.authenticated());
    // The recovered ClientKey is HMAC(SaltedPassword, "Client Key") (Python hashlib).
    EXPECT_EQ(base64_encode(s.client_key()), "pg/JI9Z+hkSpLRa5btpe9GVrDHJcSEN0viVTVXaZbos=");
}

// Full round trip between our client and our server, with PostgreSQL's empty user.
TEST(ScramServer, RoundTripWithClient) {
    scram_client c{"correct horse battery staple"};
    scram_server s{fast_secret("correct horse battery staple")};
    std::string server_first;
    std::string client_final;
    std::string server_final;
    std::string error;
    ASSERT_TRUE(s.handle_client_first(c.client_first_message(), server_first, error)) << error;
    ASSERT_TRUE(c.handle_server_first(server_first, client_final, error)) << error;
    ASSERT_TRUE(s.handle_client_final(client_final, server_final, error)) << error;
    EXPECT_TRUE(c.verify_server_final(server_final, error)) << error;
    EXPECT_TRUE(s.authenticated());
}

// A client with the wrong password is refused, and the exchange cannot be retried.
TEST(ScramServer, WrongPassword) {
    scram_client c{"wrong"};
    scram_server s{fast_secret("right")};
    std::string server_first;
    std::string client_final;
    std::string server_final;
    std::string error;
    ASSERT_TRUE(s.handle_client_first(c.client_first_message(), server_first, error));
    ASSERT_TRUE(c.handle_server_first(server_first, client_final, error));
    EXPECT_FALSE(s.handle_client_final(client_final, server_final, error));
    EXPECT_NE(error.find("wrong password"), std::string::npos) << error;
    EXPECT_FALSE(s.authenticated());
    EXPECT_TRUE(s.client_key().empty());
    EXPECT_FALSE(s.handle_client_final(client_final, server_final, error));
}

// Each bad client-first-message fails with an error: binding, authzid, extensions, syntax.
TEST(ScramServer, BadClientFirst) {
    const std::string_view bad[] = {
        "",
        "n",
        "n,",
        "n,,",
        "n,,n=",
        "n,,n=,",
        "n,,n=,r=",
        "n,,r=abc",
        "n,,n=,r=abc,",
        "n,,n=,r=a c",
        "n,,n=,r=abc,x",
        "p=tls-server-end-point,,n=,r=abc",
        "n,a=admin,n=,r=abc",
        "n,,m=ext,n=,r=abc",
        "x,,n=,r=abc",
        "nn,n=,r=abc",
        "n,x,n=,r=abc",
    };
    for (std::string_view msg : bad) {
        scram_server s{fast_secret("pw"), "srv"};
        std::string out;
        std::string error;
        EXPECT_FALSE(s.handle_client_first(msg, out, error)) << msg;
        EXPECT_FALSE(error.empty()) << msg;
        EXPECT_FALSE(s.handle_client_final("c=biws,r=abcsrv,p=AAAA", out, error)) << msg;
    }
}

// 'y' (client could bind, thinks we cannot) and extensions after r= are accepted.
TEST(ScramServer, AcceptedClientFirstVariants) {
    for (std::string_view msg : {"y,,n=,r=abc", "n,,n=someone,r=abc", "n,,n=,r=abc,x=ext"}) {
        scram_server s{fast_secret("pw"), "srv"};
        std::string out;
        std::string error;
        EXPECT_TRUE(s.handle_client_first(msg, out, error)) << msg << ": " << error;
    }
}

// Each bad client-final-message fails; the correct one for the RFC exchange is the control.
TEST(ScramServer, BadClientFinal) {
    const std::string nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const std::string proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const std::string bad[] = {
        "",
        "c=biws",
        "c=biws,",
        "c=biws,r=" + nonce,
        "c=biws,r=" + nonce + ",",
        "c=eSws,r=" + nonce + "," + proof,  // "y,," but client-first said "n,,"
        "c=!!!!,r=" + nonce + "," + proof,
        "c=biws,r=" + nonce + "x," + proof,        // nonce changed
        "c=biws,r=rOprNGfwEbeRWgbNEkqO," + proof,  // server part dropped
        "r=" + nonce + ",c=biws," + proof,
        "c=biws,r=" + nonce + ",p=AAAA",
        "c=biws,r=" + nonce + ",p=",
        "c=biws,r=" + nonce + "," + proof + ",x=1",
        "c=biws,r=" + nonce + "," + proof + ",",
        "c=biws,r=" + nonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVR=",
        "c=biws,r=" + nonce + ",x=ext," + proof,  // extension changes the signed text
    };
    for (const std::string& msg : bad) {
        scram_server s{*parse_scram_secret(rfc_secret), std::string(rfc_server_nonce)};
        std::string out;
        std::string error;
        ASSERT_TRUE(s.handle_client_first(rfc_client_first, out, error));
        EXPECT_FALSE(s.handle_client_final(msg, out, error)) << msg;
        EXPECT_FALSE(error.empty()) << msg;
        EXPECT_FALSE(s.authenticated()) << msg;
    }
}

// client-final before client-first, and a second client-first, are refused.
TEST(ScramServer, OutOfOrder) {
    scram_server s{*parse_scram_secret(rfc_secret), std::string(rfc_server_nonce)};
    std::string out;
    std::string error;
    EXPECT_FALSE(s.handle_client_final(rfc_client_final, out, error));
    scram_server t{*parse_scram_secret(rfc_secret), std::string(rfc_server_nonce)};
    ASSERT_TRUE(t.handle_client_first(rfc_client_first, out, error));
    EXPECT_FALSE(t.handle_client_first(rfc_client_first, out, error));
    EXPECT_FALSE(t.handle_client_final(rfc_client_final, out, error));
}

// Every truncation and every single-byte change of the RFC messages is handled without a crash;
// only the untouched message succeeds (or one that still carries the same meaning).
TEST(ScramGarbage, TruncationsAndByteFlips) {
    auto server_first_ok = [](std::string_view msg) {
        scram_client c{"pencil", std::string(rfc_client_nonce), "user"};
        std::string out;
        std::string error;
        const bool ok = c.handle_server_first(msg, out, error);
        EXPECT_TRUE(ok || !error.empty());
        return ok;
    };
    auto client_first_ok = [](std::string_view msg) {
        scram_server s{*parse_scram_secret(rfc_secret), std::string(rfc_server_nonce)};
        std::string out;
        std::string error;
        const bool ok = s.handle_client_first(msg, out, error);
        EXPECT_TRUE(ok || !error.empty());
        return ok;
    };
    auto client_final_ok = [](std::string_view msg) {
        scram_server s{*parse_scram_secret(rfc_secret), std::string(rfc_server_nonce)};
        std::string out;
        std::string error;
        EXPECT_TRUE(s.handle_client_first(rfc_client_first, out, error));
        const bool ok = s.handle_client_final(msg, out, error);
        EXPECT_TRUE(ok || !error.empty());
        return ok;
    };
    // Keep PBKDF2 cheap while flipping bytes of server-first.
    const std::string cheap_server_first =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=2";
    for (std::size_t n = 0; n < rfc_client_final.size(); ++n) {
        EXPECT_FALSE(client_final_ok(rfc_client_final.substr(0, n))) << n;
    }
    for (std::size_t n = 0; n < rfc_client_first.size(); ++n) {
        const bool ok = client_first_ok(rfc_client_first.substr(0, n));
        // "n,,n=user,r=<prefix of nonce>" is still a well-formed client-first.
        EXPECT_EQ(ok, n > std::string_view("n,,n=user,r=").size()) << n;
    }
    for (std::size_t n = 0; n < cheap_server_first.size(); ++n) {
        server_first_ok(std::string_view(cheap_server_first).substr(0, n));
    }
    const std::array<char, 6> replacements{'\0', ',', '=', ' ', '\xff', 'A'};
    for (char r : replacements) {
        for (std::size_t i = 0; i < rfc_client_final.size(); ++i) {
            std::string m(rfc_client_final);
            if (m[i] == r) {
                continue;
            }
            m[i] = r;
            EXPECT_FALSE(client_final_ok(m)) << i << " " << static_cast<int>(r);
        }
        for (std::size_t i = 0; i < rfc_client_first.size(); ++i) {
            std::string m(rfc_client_first);
            m[i] = r;
            client_first_ok(m);
        }
        for (std::size_t i = 0; i < cheap_server_first.size(); ++i) {
            std::string m(cheap_server_first);
            m[i] = r;
            server_first_ok(m);
        }
    }
}

// Random bytes thrown at every entry point never crash or throw.
TEST(ScramGarbage, RandomBytes) {
    std::array<std::byte, 64> noise{};
    for (int round = 0; round < 2000; ++round) {
        random_bytes(noise);
        const std::size_t len = static_cast<std::size_t>(noise[0]) % noise.size();
        const std::string_view msg(reinterpret_cast<const char*>(noise.data()) + 1,
                                   len - (len > 0));
        std::string out;
        std::string error;
        scram_client c{"pw", "nonce"};
        EXPECT_FALSE(c.handle_server_first(msg, out, error));
        EXPECT_FALSE(c.verify_server_final(msg, error));
        scram_server s{fast_secret("pw"), "srv"};
        EXPECT_FALSE(s.handle_client_first(msg, out, error));
        scram_server t{fast_secret("pw"), "srv"};
        ASSERT_TRUE(t.handle_client_first("n,,n=,r=abc", out, error));
        EXPECT_FALSE(t.handle_client_final(msg, out, error));
        EXPECT_FALSE(parse_scram_secret(msg).has_value());
    }
}

// The mock salt is the same for a user on every login and differs between users.
TEST(StableSalt, SamePerUserDifferentAcrossUsers) {
    EXPECT_EQ(stable_salt("mastodon"), stable_salt("mastodon"));
    EXPECT_NE(stable_salt("mastodon"), stable_salt("nobody"));
    EXPECT_NE(stable_salt(""), stable_salt("nobody"));
}

// Stand-in salts follow from the seed (the auth_file): the same seed gives the same salt, as
// after a restart, and another seed another; stand-in keys differ per user and match no
// password, so the proof always fails.
TEST(Scram, StandInsFollowTheSeed) {
    seed_stand_ins("\"mastodon\" \"md5abc\"");
    const auto first = stable_salt("nobody");
    const scram_secret a = stand_in_secret("nobody", 4096);
    seed_stand_ins("something else");
    EXPECT_NE(stable_salt("nobody"), first);
    seed_stand_ins("\"mastodon\" \"md5abc\"");
    EXPECT_EQ(stable_salt("nobody"), first);
    const scram_secret b = stand_in_secret("nobody", 4096);
    EXPECT_EQ(a.stored_key, b.stored_key);
    EXPECT_EQ(a.server_key, b.server_key);
    EXPECT_EQ(b.iterations, 4096);
    EXPECT_TRUE(std::equal(first.begin(), first.end(), b.salt.begin(), b.salt.end()));
    EXPECT_NE(stand_in_secret("other", 4096).stored_key, b.stored_key);
    // The keys are not those of any password: not even the empty one.
    EXPECT_NE(make_scram_secret("", first, 4096).stored_key, b.stored_key);
}

// Plain-text passwords are derived once: the same secret comes back until the password,
// the iteration count or the salt (a new seed) changes.
TEST(Scram, SecretCacheDerivesOnce) {
    seed_stand_ins("seed one");
    scram_secret_cache cache;
    const scram_secret* first = &cache.get("alice", "secret", 4096);
    EXPECT_EQ(&cache.get("alice", "secret", 4096), first);
    const auto salt = stable_salt("alice");
    EXPECT_EQ(first->stored_key, make_scram_secret("secret", salt, 4096).stored_key);
    EXPECT_EQ(cache.get("alice", "changed", 4096).stored_key,
              make_scram_secret("changed", salt, 4096).stored_key);
    EXPECT_EQ(cache.get("alice", "changed", 10).iterations, 10);
    seed_stand_ins("seed two");
    EXPECT_EQ(cache.get("alice", "changed", 10).stored_key,
              make_scram_secret("changed", stable_salt("alice"), 10).stored_key);
    EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace sabakan::auth

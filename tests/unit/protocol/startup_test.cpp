// Startup packets on raw bytes: StartupMessage, SSLRequest, GSSENCRequest, CancelRequest,
// and every malformed shape the decoder must refuse.
#include <sabakan/protocol/messages.hpp>
#include <sabakan/protocol/startup.hpp>

#include <gtest/gtest.h>

namespace sabakan::protocol {
namespace {

byte_buffer startup(std::vector<std::pair<std::string, std::string>> params) {
    byte_buffer out;
    append_startup(out, params);
    return out;
}

// A normal StartupMessage yields its parameters in order.
TEST(Startup, DecodesParameters) {
    auto pkt = startup(
        {{"user", "mastodon"}, {"database", "mastodon_production"}, {"application_name", "psql"}});
    startup_packet sp;
    ASSERT_EQ(decode_startup(pkt, sp), startup_error::none);
    EXPECT_EQ(sp.kind, startup_kind::startup);
    EXPECT_EQ(sp.version, protocol_version_3);
    ASSERT_EQ(sp.params.size(), 3u);
    EXPECT_EQ(sp.param("user"), "mastodon");
    EXPECT_EQ(sp.param("database"), "mastodon_production");
    EXPECT_TRUE(sp.has("application_name"));
    EXPECT_FALSE(sp.has("options"));
    EXPECT_EQ(startup_length(pkt), pkt.size());
}

// SSLRequest and GSSENCRequest are recognised by their codes.
TEST(Startup, SslAndGssRequests) {
    for (auto [code, kind] : {std::pair{ssl_request_code, startup_kind::ssl_request},
                              std::pair{gssenc_request_code, startup_kind::gssenc_request}}) {
        byte_buffer out;
        message_writer w{out};
        w.begin_untagged();
        w.i32(code);
        w.end();
        startup_packet sp;
        ASSERT_EQ(decode_startup(out, sp), startup_error::none);
        EXPECT_EQ(sp.kind, kind);
    }
}

// A CancelRequest carries the key to look up.
TEST(Startup, CancelRequest) {
    byte_buffer out;
    append_cancel_request(out, cancel_key{1234, -99});
    startup_packet sp;
    ASSERT_EQ(decode_startup(out, sp), startup_error::none);
    EXPECT_EQ(sp.kind, startup_kind::cancel_request);
    EXPECT_EQ(sp.cancel, (cancel_key{1234, -99}));
}

// Protocol 2.0 and 4.0 are refused as unsupported versions.
TEST(Startup, UnsupportedVersion) {
    for (std::int32_t v : {0x00020000, 0x00040000}) {
        byte_buffer out;
        message_writer w{out};
        w.begin_untagged();
        w.i32(v);
        w.u8(0);
        w.end();
        startup_packet sp;
        EXPECT_EQ(decode_startup(out, sp), startup_error::bad_version);
    }
}

// A minor version above 0 is served as 3.0.
TEST(Startup, MinorVersionAccepted) {
    byte_buffer out;
    message_writer w{out};
    w.begin_untagged();
    w.i32(protocol_version_3 + 2);
    w.cstring("user");
    w.cstring("x");
    w.u8(0);
    w.end();
    startup_packet sp;
    EXPECT_EQ(decode_startup(out, sp), startup_error::none);
    // ... and answered with NegotiateProtocolVersion: 3.0, no options unrecognised.
    byte_buffer answer;
    ASSERT_TRUE(append_protocol_negotiation(sp, answer));
    const std::string expected("v\0\0\0\x0c\0\x03\0\0\0\0\0\0", 13);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(answer.data()), answer.size()), expected);
}

// A 3.0 startup needs no negotiation; `_pq_.` options do, and are named as unrecognised.
TEST(Startup, ProtocolOptionsNegotiated) {
    startup_packet sp;
    const auto plain = startup({{"user", "u"}});
    ASSERT_EQ(decode_startup(plain, sp), startup_error::none);
    byte_buffer answer;
    EXPECT_FALSE(append_protocol_negotiation(sp, answer));
    EXPECT_TRUE(answer.empty());
    const auto with_option = startup({{"user", "u"}, {"_pq_.x", "1"}});
    ASSERT_EQ(decode_startup(with_option, sp), startup_error::none);
    ASSERT_TRUE(append_protocol_negotiation(sp, answer));
    const std::string expected("v\0\0\0\x13\0\x03\0\0\0\0\0\x01_pq_.x\0", 20);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(answer.data()), answer.size()), expected);
}

// Missing terminator, a name without value, a wrong length word, too short or too long.
TEST(Startup, MalformedPackets) {
    startup_packet sp;
    auto good = startup({{"user", "a"}});
    auto no_final_nul = good;
    no_final_nul.pop_back();
    no_final_nul[3] = static_cast<std::byte>(no_final_nul.size());
    EXPECT_EQ(decode_startup(no_final_nul, sp), startup_error::malformed);

    byte_buffer dangling;
    message_writer w{dangling};
    w.begin_untagged();
    w.i32(protocol_version_3);
    w.cstring("user");
    w.end();
    EXPECT_EQ(decode_startup(dangling, sp), startup_error::malformed);

    auto wrong_len = good;
    wrong_len[3] = static_cast<std::byte>(std::to_integer<int>(wrong_len[3]) + 1);
    EXPECT_EQ(decode_startup(wrong_len, sp), startup_error::bad_length);

    byte_buffer tiny{std::byte{0}, std::byte{0}, std::byte{0}, std::byte{4}};
    EXPECT_EQ(decode_startup(tiny, sp), startup_error::bad_length);

    byte_buffer huge(max_startup_packet + 1);
    EXPECT_EQ(decode_startup(huge, sp), startup_error::bad_length);
}

// The options value as PostgreSQL splits it: -c in both spellings, the long form with
// dashes for underscores, backslash-escaped blanks; other switches are refused.
TEST(StartupOptions, SettingsAsPostgresReadsThem) {
    using settings = std::vector<std::pair<std::string, std::string>>;
    settings out;
    ASSERT_TRUE(decode_startup_options(
        "-c search_path=app\\,\\ public  -cstatement_timeout=5s --lock-timeout=1s", out));
    EXPECT_EQ(out, (settings{{"search_path", "app, public"},
                             {"statement_timeout", "5s"},
                             {"lock_timeout", "1s"}}));
    out.clear();
    EXPECT_TRUE(decode_startup_options("   ", out));
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(decode_startup_options("-c", out));
    EXPECT_FALSE(decode_startup_options("-c novalue", out));
    EXPECT_FALSE(decode_startup_options("-c =x", out));
    EXPECT_FALSE(decode_startup_options("-B 100", out));
}

}  // namespace
}  // namespace sabakan::protocol

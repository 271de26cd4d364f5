// Composed messages decode back to what was put in, byte for byte where the format is fixed.
#include <sabakan/protocol/message_reader.hpp>
#include <sabakan/protocol/messages.hpp>

#include <gtest/gtest.h>

namespace sabakan::protocol {
namespace {

// ErrorResponse round trip: severity, SQLSTATE, message.
TEST(Messages, ErrorResponseRoundTrip) {
    byte_buffer out;
    append_error(out, "FATAL", "28P01", "password authentication failed for user \"x\"", "hint");
    ASSERT_EQ(static_cast<char>(out[0]), 'E');
    error_fields f;
    ASSERT_TRUE(decode_error(bytes_view(out).subspan(5), f));
    EXPECT_EQ(f.severity, "FATAL");
    EXPECT_EQ(f.sqlstate, "28P01");
    EXPECT_EQ(f.message, "password authentication failed for user \"x\"");
}

// ReadyForQuery is exactly 'Z', length 5, status.
TEST(Messages, ReadyForQueryBytes) {
    byte_buffer out;
    append_ready_for_query(out, transaction_status::in_transaction);
    byte_buffer expected{std::byte{'Z'}, std::byte{0}, std::byte{0},
                         std::byte{0},   std::byte{5}, std::byte{'T'}};
    EXPECT_EQ(out, expected);
}

// ParameterStatus and BackendKeyData decode back.
TEST(Messages, ParameterStatusAndKeyData) {
    byte_buffer out;
    append_parameter_status(out, "TimeZone", "UTC");
    std::string_view n;
    std::string_view v;
    ASSERT_TRUE(decode_parameter_status(bytes_view(out).subspan(5), n, v));
    EXPECT_EQ(n, "TimeZone");
    EXPECT_EQ(v, "UTC");

    out.clear();
    append_backend_key_data(out, cancel_key{42, 7});
    cancel_key k;
    ASSERT_TRUE(decode_backend_key_data(bytes_view(out).subspan(5), k));
    EXPECT_EQ(k, (cancel_key{42, 7}));
}

// Authentication requests carry their code and extra bytes (md5 salt).
TEST(Messages, AuthRequest) {
    byte_buffer out;
    byte_buffer salt{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
    append_auth_request(out, auth_request::md5_password, salt);
    auth_request code{};
    bytes_view rest;
    ASSERT_TRUE(decode_auth_request(bytes_view(out).subspan(5), code, rest));
    EXPECT_EQ(code, auth_request::md5_password);
    EXPECT_EQ(byte_buffer(rest.begin(), rest.end()), salt);
}

// Truncated bodies are refused, not read past their end.
TEST(Messages, TruncatedBodiesFail) {
    byte_buffer err{std::byte{'S'}, std::byte{'F'}};  // no NUL, no terminator
    error_fields f;
    EXPECT_FALSE(decode_error(err, f));
    std::string_view n;
    std::string_view v;
    byte_buffer ps{std::byte{'a'}, std::byte{0}};
    EXPECT_FALSE(decode_parameter_status(ps, n, v));
    cancel_key k;
    EXPECT_FALSE(decode_backend_key_data(bytes_view(ps), k));
}

// The reader's sticky failure flag: one check after many reads.
TEST(Messages, ReaderStickyFailure) {
    byte_buffer b{std::byte{0}, std::byte{1}};
    message_reader r{b};
    EXPECT_EQ(r.i16(), 1);
    EXPECT_EQ(r.i32(), 0);
    EXPECT_TRUE(r.failed());
    EXPECT_EQ(r.cstring(), "");
    EXPECT_FALSE(r.expect_end());
}

}  // namespace
}  // namespace sabakan::protocol

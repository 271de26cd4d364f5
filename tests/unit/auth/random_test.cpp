// Random bytes and nonces have the right shape, and base64 round-trips and rejects garbage.
#include <sabakan/auth/base64.hpp>
#include <sabakan/auth/random.hpp>

#include <gtest/gtest.h>

#include <array>
#include <set>

namespace sabakan::auth {
namespace {

// Nonces are 24 base64 characters without ',' or padding, and do not repeat.
TEST(Random, NonceShape) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        const std::string n = random_nonce();
        EXPECT_EQ(n.size(), 24U);
        EXPECT_EQ(n.find(','), std::string::npos);
        EXPECT_EQ(n.find('='), std::string::npos);
        EXPECT_TRUE(base64_decode(n).has_value());
        seen.insert(n);
    }
    EXPECT_EQ(seen.size(), 100U);
}

// random_bytes fills the whole span (two 32-byte draws are not both all zero or equal).
TEST(Random, BytesFilled) {
    std::array<std::byte, 32> a{};
    std::array<std::byte, 32> b{};
    random_bytes(a);
    random_bytes(b);
    EXPECT_NE(a, b);
    random_bytes(std::span<std::byte>{});  // empty is fine
}

// RFC 4648 §10 test vectors, both directions.
TEST(Base64, Rfc4648Vectors) {
    const std::pair<std::string_view, std::string_view> vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        const auto bytes = std::as_bytes(std::span{plain.data(), plain.size()});
        EXPECT_EQ(base64_encode(bytes), encoded);
        const auto decoded = base64_decode(encoded);
        ASSERT_TRUE(decoded.has_value()) << encoded;
        EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(decoded->data()), decoded->size()),
                  plain);
    }
}

// Wrong length, foreign characters, blanks and misplaced padding are refused.
TEST(Base64, RejectsGarbage) {
    for (std::string_view bad : {"Zg=", "Zg", "Z", "Zm9v\n", " Zm9v", "Zm9v ", "Zm 9", "Zm9*",
                                 "=Zm9", "Z=g=", "Zg==Zg==", "====", "Zh==", "Zm9=", "Zm9vYh=="}) {
        EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
    }
}

}  // namespace
}  // namespace sabakan::auth

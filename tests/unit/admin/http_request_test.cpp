// The metrics endpoint's view of a request: where the head ends and what it asks for.
#include <sabakan/admin/http_request.hpp>

#include <gtest/gtest.h>

namespace sabakan::admin {
namespace {

constexpr auto npos = std::string_view::npos;

TEST(HttpRequest, HeadEndsAtTheBlankLine) {
    const std::string_view curl =
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9127\r\nAccept: */*\r\n\r\n";
    EXPECT_EQ(http_head_end(curl), curl.size());
    EXPECT_EQ(http_head_end("GET / HTTP/1.0\n\nrest"), 16U);
    EXPECT_EQ(http_head_end("GET /metrics HTTP/1.1\r\nHost: x\r\n"), npos);
    EXPECT_EQ(http_head_end(""), npos);
}

TEST(HttpRequest, ReadsMethodAndPath) {
    auto r = parse_http_request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->method, "GET");
    EXPECT_EQ(r->path, "/metrics");

    r = parse_http_request("HEAD /metrics?name[]=x HTTP/1.0\n\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->method, "HEAD");
    EXPECT_EQ(r->path, "/metrics");
}

TEST(HttpRequest, RefusesWhatIsNotARequestLine) {
    EXPECT_FALSE(parse_http_request("GET /metrics\r\n\r\n"));
    EXPECT_FALSE(parse_http_request("GET metrics HTTP/1.1\r\n\r\n"));
    EXPECT_FALSE(parse_http_request(" /metrics HTTP/1.1\r\n\r\n"));
    EXPECT_FALSE(parse_http_request("GET /a b HTTP/1.1\r\n\r\n"));
    EXPECT_FALSE(parse_http_request("GET /metrics SPDY/3\r\n\r\n"));
    EXPECT_FALSE(parse_http_request("\x16\x03\x01 TLS hello"));
}

}  // namespace
}  // namespace sabakan::admin

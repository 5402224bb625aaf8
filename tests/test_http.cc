// HTTP for the opening handshake (src/http.cc): llhttp with limits, and the header helpers.
#include <gtest/gtest.h>

#include "fuzz/replay.h"
#include "http.h"
#include "support.h"

using namespace wsc_test;

TEST(Http, AcceptKeyOfRfc6455) {
  // RFC 6455 §1.3's example.
  EXPECT_EQ(wsc::websocket_accept("dGhlIHNhbXBsZSBub25jZQ==").view(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Http, KeyMustBeBase64Of16Bytes) {
  EXPECT_TRUE(wsc::websocket_key_valid("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_TRUE(wsc::websocket_key_valid("AAAAAAAAAAAAAAAAAAAAAA=="));
  EXPECT_FALSE(wsc::websocket_key_valid(""));
  EXPECT_FALSE(wsc::websocket_key_valid("dGhlIHNhbXBsZSBub25jZQ="));    // 23 chars
  EXPECT_FALSE(wsc::websocket_key_valid("dGhlIHNhbXBsZSBub25jZQ=x"));   // bad padding
  EXPECT_FALSE(wsc::websocket_key_valid("dGhlIHNhbXBsZSBub25jZ!=="));   // bad character
  EXPECT_FALSE(wsc::websocket_key_valid("dGhlIHNhbXBsZSBub25jZR=="));   // non-zero unused bits
  EXPECT_FALSE(wsc::websocket_key_valid("dGhlIHNhbXBsZSBub25jZQ==="));  // 25 chars
  Bytes sixteen(16, 0xab);
  EXPECT_TRUE(wsc::websocket_key_valid(wsc::base64_encode(sixteen.data(), 16)));
  Bytes fifteen(15, 0xab);
  EXPECT_FALSE(wsc::websocket_key_valid(wsc::base64_encode(fifteen.data(), 15)));
}

TEST(Http, TokensAndLists) {
  EXPECT_TRUE(wsc::iequals("Upgrade", "uPGRADE"));
  EXPECT_FALSE(wsc::iequals("Upgrade", "Upgrad"));
  EXPECT_TRUE(wsc::is_token("chat.v2"));
  EXPECT_FALSE(wsc::is_token(""));
  EXPECT_FALSE(wsc::is_token("a b"));
  EXPECT_FALSE(wsc::is_token("a,b"));
  EXPECT_FALSE(wsc::is_token("caf\xc3\xa9"));
  EXPECT_EQ(wsc::split_list(" a, b ,,c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(wsc::list_has_token("keep-alive, Upgrade", "upgrade"));
  EXPECT_FALSE(wsc::list_has_token("keep-alive, Upgrades", "upgrade"));
  EXPECT_TRUE(wsc::header_value_valid("text/plain; q=1"));
  EXPECT_FALSE(wsc::header_value_valid("a\r\nInjected: 1"));
  EXPECT_FALSE(wsc::header_name_valid("Bad Name"));
}

namespace {

const char kRequest[] =
    "GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

}  // namespace

TEST(Http, RequestWholeAndByteByByteStopsAtTheHeadersEnd) {
  std::string data = std::string(kRequest) + "\x81\x80";  // a frame follows the request
  for (Split how : {Split::kWhole, Split::kBytewise, Split::kRandom}) {
    wsc::HttpParser p(wsc::HttpParser::kRequest, 100, 16384, 0);
    size_t total = 0;
    wsc::HttpParser::Result r = wsc::HttpParser::kNeedMore;
    for (size_t n : split_sizes(data.size(), how, 3)) {
      size_t used = 0;
      r = p.feed(data.data() + total, n, &used);
      total += used;
      if (r != wsc::HttpParser::kNeedMore) break;
    }
    ASSERT_EQ(r, wsc::HttpParser::kDone);
    EXPECT_EQ(total, sizeof kRequest - 1) << "the bytes after the head are left for the WebSocket";
    EXPECT_EQ(p.msg.method, "GET");
    EXPECT_EQ(p.msg.target, "/chat?room=1");
    EXPECT_EQ(p.msg.minor, 1u);
    ASSERT_NE(p.msg.find("sec-websocket-key"), nullptr);
    EXPECT_EQ(*p.msg.find("SEC-WEBSOCKET-KEY"), "dGhlIHNhbXBsZSBub25jZQ==");
    EXPECT_EQ(p.msg.headers.size(), 5u);
  }
}

TEST(Http, LimitsOnHeaderCountAndSize) {
  wsc::HttpParser few(wsc::HttpParser::kRequest, 4, 16384, 0);
  size_t used;
  EXPECT_EQ(few.feed(kRequest, sizeof kRequest - 1, &used), wsc::HttpParser::kTooLarge);
  wsc::HttpParser small(wsc::HttpParser::kRequest, 100, 64, 0);
  EXPECT_EQ(small.feed(kRequest, sizeof kRequest - 1, &used), wsc::HttpParser::kTooLarge);
  wsc::HttpParser bad(wsc::HttpParser::kRequest, 100, 16384, 0);
  EXPECT_EQ(bad.feed("GET / HTTP/1.1\r\nBad Header\r\n\r\n", 30, &used), wsc::HttpParser::kBad);
  EXPECT_NE(bad.error(), nullptr);
}

TEST(Http, ResponsesWithAndWithoutUpgrade) {
  std::string up = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi";
  wsc::HttpParser p(wsc::HttpParser::kResponse, 100, 16384, 1024);
  size_t used;
  ASSERT_EQ(p.feed(up.data(), up.size(), &used), wsc::HttpParser::kDone);
  EXPECT_EQ(p.msg.status, 101);
  EXPECT_EQ(up.substr(used), "\x81\x02hi");

  std::string no = "HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\nX-Why: test\r\n\r\nnope!";
  wsc::HttpParser q(wsc::HttpParser::kResponse, 100, 16384, 1024);
  ASSERT_EQ(q.feed(no.data(), no.size(), &used), wsc::HttpParser::kDone);
  EXPECT_EQ(q.msg.status, 403);
  EXPECT_EQ(q.msg.body, "nope!");

  std::string until_eof = "HTTP/1.1 500 Oops\r\n\r\nbody until close";
  wsc::HttpParser r(wsc::HttpParser::kResponse, 100, 16384, 4);
  EXPECT_EQ(r.feed(until_eof.data(), until_eof.size(), &used), wsc::HttpParser::kNeedMore);
  EXPECT_EQ(r.finish(), wsc::HttpParser::kDone);
  EXPECT_EQ(r.msg.body, "body") << "the body is kept up to its bound";
}

TEST(Http, TrailersAreNotMergedIntoTheHead) {
  // RFC 7230 §4.1.2: a chunked body's trailer fields are not header fields; a trailer Location
  // must not steer a redirect (found by tests/fuzz, response target).
  const std::string r =
      "HTTP/1.1 302 Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnope\r\n0\r\nLocation: ws://elsewhere/\r\n\r\n";
  wsc::HttpParser p(wsc::HttpParser::kResponse, 100, 16384, 1024);
  size_t used;
  EXPECT_EQ(p.feed(r.data(), r.size(), &used), wsc::HttpParser::kDone);
  EXPECT_EQ(used, r.size());
  EXPECT_EQ(p.msg.find("Location"), nullptr);
  EXPECT_EQ(p.msg.headers.size(), 1u);
  EXPECT_EQ(p.msg.body, "nope");
}

// tests/fuzz: the `extensions` target (the header-value parsers) over its seed corpus and the
// inputs of the crashes it found, checked as libFuzzer checks them.
TEST(Http, FuzzCorpusAndRegressionsReplay) { EXPECT_GT(wsc_fuzz::replay("extensions", wsc_fuzz::extensions), 0u); }

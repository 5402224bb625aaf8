// SHA-1 against the FIPS 180 examples, and against OpenSSL at every length around the padding
// boundaries; base64 against RFC 4648 §10.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdio>
#include <string>
#include <vector>

#include "http.h"
#include "sha1.h"

namespace {

std::string hex(const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

std::string sha1_hex(const std::string &m) {
  uint8_t d[wsc::kSha1Size];
  wsc::sha1(reinterpret_cast<const uint8_t *>(m.data()), m.size(), d);
  return hex(d, sizeof d);
}

}  // namespace

TEST(Sha1, FipsExamples) {
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(sha1_hex(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha1, MatchesOpenSslAtEveryLengthUpTo200) {
  std::string m;
  for (size_t n = 0; n <= 200; ++n) {
    uint8_t ours[wsc::kSha1Size], theirs[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    wsc::sha1(reinterpret_cast<const uint8_t *>(m.data()), m.size(), ours);
    ASSERT_EQ(EVP_Digest(m.data(), m.size(), theirs, &len, EVP_sha1(), nullptr), 1);
    ASSERT_EQ(len, wsc::kSha1Size);
    EXPECT_EQ(hex(ours, 20), hex(theirs, 20)) << "length " << n;
    m += static_cast<char>('!' + n % 90);
  }
}

TEST(Sha1, CpuExtensionsAndPortableCodeAgreeAtEveryLengthUpTo300) {
  // On a CPU with the SHA extensions sha1() runs them (under valgrind, which hides them, it runs
  // the portable code): both must give OpenSSL's digest, over several blocks too.
  std::printf("sha1: %s\n", wsc::sha1_uses_cpu_extensions() ? "CPU SHA extensions" : "portable code");
  std::string m;
  uint32_t x = 12345;
  for (size_t n = 0; n <= 300; ++n) {
    uint8_t fast[wsc::kSha1Size], portable[wsc::kSha1Size], theirs[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    wsc::sha1(reinterpret_cast<const uint8_t *>(m.data()), m.size(), fast);
    wsc::sha1_portable(reinterpret_cast<const uint8_t *>(m.data()), m.size(), portable);
    ASSERT_EQ(EVP_Digest(m.data(), m.size(), theirs, &len, EVP_sha1(), nullptr), 1);
    EXPECT_EQ(hex(fast, 20), hex(theirs, 20)) << "length " << n;
    EXPECT_EQ(hex(portable, 20), hex(theirs, 20)) << "length " << n;
    x = x * 1103515245u + 12345u;
    m += static_cast<char>(x >> 24);
  }
}

TEST(Base64, Rfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto &c : cases)
    EXPECT_EQ(wsc::base64_encode(reinterpret_cast<const uint8_t *>(c.first.data()), c.first.size()), c.second);
  const uint8_t high[] = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(wsc::base64_encode(high, 3), "+/+/");
}

TEST(Sha1, Rfc6455AcceptExample) {
  // RFC 6455 §1.3's worked example.
  EXPECT_EQ(wsc::websocket_accept("dGhlIHNhbXBsZSBub25jZQ==").view(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

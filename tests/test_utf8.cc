// UTF-8 validation (src/utf8.cc) against a plain reference decoder, whole and in pieces.
#include <gtest/gtest.h>

#include <random>

#include "support.h"
#include "utf8.h"

using namespace wsc_test;

namespace {

// Reference: decode code point by code point (RFC 3629 §3-4).
bool reference_valid(const Bytes &s) {
  size_t i = 0;
  while (i < s.size()) {
    uint8_t b = s[i];
    size_t n;
    uint32_t cp, min;
    if (b < 0x80) { ++i; continue; }
    if ((b & 0xE0) == 0xC0) { n = 1; cp = b & 0x1F; min = 0x80; }
    else if ((b & 0xF0) == 0xE0) { n = 2; cp = b & 0x0F; min = 0x800; }
    else if ((b & 0xF8) == 0xF0) { n = 3; cp = b & 0x07; min = 0x10000; }
    else return false;
    if (i + n >= s.size()) return false;  // truncated
    for (size_t k = 1; k <= n; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

bool incremental(const Bytes &s, const std::vector<size_t> &cuts) {
  wsc::Utf8Validator v;
  size_t off = 0;
  for (size_t n : cuts) {
    if (!v.feed(s.data() + off, n)) return false;
    off += n;
  }
  return v.complete();
}

}  // namespace

TEST(Utf8, KnownSequences) {
  struct {
    const char *s;
    bool valid;
  } cases[] = {
      {"", true},
      {"plain ascii", true},
      {"\xc2\x80", true},
      {"\xdf\xbf", true},
      {"\xe0\xa0\x80", true},
      {"\xed\x9f\xbf", true},
      {"\xee\x80\x80", true},
      {"\xef\xbf\xbf", true},
      {"\xf0\x90\x80\x80", true},
      {"\xf4\x8f\xbf\xbf", true},
      {"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", true},  // "kosme"
      {"\x80", false},
      {"\xbf", false},
      {"\xc0\x80", false},
      {"\xc1\xbf", false},
      {"\xc2", false},
      {"\xe0\x80\x80", false},
      {"\xe0\x9f\xbf", false},
      {"\xed\xa0\x80", false},
      {"\xed\xbf\xbf", false},
      {"\xf0\x80\x80\x80", false},
      {"\xf0\x8f\xbf\xbf", false},
      {"\xf4\x90\x80\x80", false},
      {"\xf5\x80\x80\x80", false},
      {"\xff", false},
      {"\xfe", false},
      {"\xe2\x9c", false},
      {"ok\xe2\x9c\x93ok", true},
      {"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80" "edited", false},
  };
  for (const auto &c : cases) {
    Bytes b = bytes(c.s);
    EXPECT_EQ(wsc::utf8_valid(b.data(), b.size()), c.valid) << hex(b);
    EXPECT_EQ(wsc_utf8_valid(b.data(), b.size()), c.valid ? 1 : 0) << hex(b);
    EXPECT_EQ(reference_valid(b), c.valid) << "reference disagrees on " << hex(b);
  }
}

TEST(Utf8, EveryCodePointAndEverySurrogate) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    Bytes b;
    if (cp < 0x80) b = {uint8_t(cp)};
    else if (cp < 0x800) b = {uint8_t(0xC0 | cp >> 6), uint8_t(0x80 | (cp & 0x3F))};
    else if (cp < 0x10000) b = {uint8_t(0xE0 | cp >> 12), uint8_t(0x80 | ((cp >> 6) & 0x3F)), uint8_t(0x80 | (cp & 0x3F))};
    else b = {uint8_t(0xF0 | cp >> 18), uint8_t(0x80 | ((cp >> 12) & 0x3F)), uint8_t(0x80 | ((cp >> 6) & 0x3F)), uint8_t(0x80 | (cp & 0x3F))};
    bool expected = !(cp >= 0xD800 && cp <= 0xDFFF);
    ASSERT_EQ(wsc::utf8_valid(b.data(), b.size()), expected) << std::hex << cp;
  }
}

TEST(Utf8, RandomInputMatchesTheReferenceWholeAndInPieces) {
  std::mt19937 rng(6455);
  const uint8_t interesting[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2,
                                 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff};
  for (int iter = 0; iter < 200000; ++iter) {
    size_t n = rng() % 24;
    Bytes s;
    size_t ascii_run = rng() % 4 == 0 ? rng() % 100 : 0;  // exercise the ASCII fast path too
    s.insert(s.end(), ascii_run, 'a');
    for (size_t i = 0; i < n; ++i) s.push_back(interesting[rng() % sizeof interesting]);
    if (rng() % 2) s.insert(s.end(), rng() % 70, 'z');
    bool expected = reference_valid(s);
    ASSERT_EQ(wsc::utf8_valid(s.data(), s.size()), expected) << hex(s);
    auto cuts = split_sizes(s.size(), Split::kRandom, static_cast<uint32_t>(iter));
    ASSERT_EQ(incremental(s, cuts), expected) << hex(s);
  }
}

TEST(Utf8, FeedFailsAtTheFirstBadPieceAndStaysFailed) {
  wsc::Utf8Validator v;
  Bytes good = bytes("caf\xc3");
  EXPECT_TRUE(v.feed(good.data(), good.size()));
  EXPECT_FALSE(v.complete());
  Bytes bad = bytes("\x41");
  EXPECT_FALSE(v.feed(bad.data(), bad.size()));
  EXPECT_TRUE(v.failed());
  Bytes fine = bytes("a");
  EXPECT_FALSE(v.feed(fine.data(), fine.size()));
  v.reset();
  EXPECT_TRUE(v.feed(fine.data(), fine.size()));
  EXPECT_TRUE(v.complete());
}

TEST(Utf8, SkipAsciiFindsTheFirstHighByte) {
  for (size_t len = 0; len < 200; ++len) {
    for (size_t hi = 0; hi <= len; hi += 7) {
      Bytes s(len, 'q');
      if (hi < len) s[hi] = 0x80;
      EXPECT_EQ(wsc::utf8_skip_ascii(s.data(), 0, s.size()), hi < len ? hi : len);
    }
  }
}

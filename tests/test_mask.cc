// Masking (src/mask.cc) against the RFC 6455 §5.3 definition, for every length, offset and
// alignment, in place and copying, whole and in pieces.
#include <gtest/gtest.h>

#include <random>

#include "mask.h"
#include "support.h"

using namespace wsc_test;

namespace {

Bytes reference(const Bytes &in, const uint8_t key[4], uint64_t offset) {
  Bytes out(in.size());
  for (size_t i = 0; i < in.size(); ++i) out[i] = in[i] ^ key[(offset + i) % 4];  // RFC 6455 §5.3
  return out;
}

}  // namespace

TEST(Mask, MatchesTheDefinition) {
  std::mt19937 rng(1);
  const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  for (size_t len = 0; len < 300; ++len) {
    for (uint64_t offset = 0; offset < 8; ++offset) {
      for (size_t align = 0; align < 3; ++align) {
        Bytes src(len + align);
        for (auto &b : src) b = static_cast<uint8_t>(rng());
        Bytes in(src.begin() + align, src.end());
        Bytes expected = reference(in, key, offset);
        Bytes dst(len + align + 1);
        wsc::mask_bytes(dst.data() + align, src.data() + align, len, key, offset);
        ASSERT_EQ(Bytes(dst.begin() + align, dst.begin() + align + len), expected) << len << " " << offset;
        ASSERT_EQ(dst[align + len], 0) << "wrote past the end";
        wsc::mask_bytes(src.data() + align, src.data() + align, len, key, offset);  // in place
        ASSERT_EQ(Bytes(src.begin() + align, src.end()), expected);
      }
    }
  }
}

TEST(Mask, PiecesWithRunningOffsetEqualTheWhole) {
  const uint8_t key[4] = {1, 2, 3, 4};
  Bytes data(5000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  Bytes expected = reference(data, key, 0);
  for (uint32_t seed = 0; seed < 50; ++seed) {
    Bytes work = data;
    size_t off = 0;
    for (size_t n : split_sizes(work.size(), Split::kRandom, seed)) {
      wsc::mask_bytes(work.data() + off, work.data() + off, n, key, off);
      off += n;
    }
    ASSERT_EQ(work, expected);
  }
}

TEST(Mask, RfcExampleAndPublicFunction) {
  // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
  const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  Bytes hello = bytes("Hello"), out(5);
  wsc_mask(out.data(), hello.data(), 5, key, 0);
  EXPECT_EQ(hex(out), "7f9f4d5158");
  wsc_mask(out.data(), out.data(), 5, key, 0);
  EXPECT_EQ(out, hello);
  wsc_mask(nullptr, nullptr, 0, key, 0);  // nothing to do, no crash
}

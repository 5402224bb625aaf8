// Masking (src/mask.cc) against the RFC 6455 §5.3 definition, for every length, offset and
// alignment, in place and copying, whole and in pieces.
#include <gtest/gtest.h>

#include <cstdio>
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

// mask_bytes of len random bytes at src + align, copying and in place, against the definition.
void check_run(std::mt19937 &rng, const uint8_t key[4], size_t len, uint64_t offset, size_t align) {
  Bytes src(len + align);
  for (auto &b : src) b = static_cast<uint8_t>(rng());
  Bytes in(src.begin() + align, src.end());
  Bytes expected = reference(in, key, offset);
  Bytes dst(len + align + 1);
  wsc::mask_bytes(dst.data() + align, src.data() + align, len, key, offset);
  ASSERT_EQ(Bytes(dst.begin() + align, dst.begin() + align + len), expected) << len << " " << offset;
  ASSERT_EQ(dst[align + len], 0) << "wrote past the end";
  wsc::mask_bytes(src.data() + align, src.data() + align, len, key, offset);  // in place
  ASSERT_EQ(Bytes(src.begin() + align, src.end()), expected) << len << " " << offset;
}

}  // namespace

TEST(Mask, MatchesTheDefinition) {
  std::mt19937 rng(1);
  const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  for (size_t len = 0; len < 300; ++len) {
    for (uint64_t offset = 0; offset < 8; ++offset) {
      for (size_t align = 0; align < 3; ++align) ASSERT_NO_FATAL_FAILURE(check_run(rng, key, len, offset, align));
    }
  }
}

TEST(Mask, LongRunsMatchTheDefinitionOnEveryPath) {
  // Runs of 256 bytes or more take the AVX2 loop where the CPU has it: its 128- and 32-byte
  // steps, then the SSE2 and 8-byte tails, at every offset and alignment.
  std::printf("AVX2 masking: %s\n", wsc::mask_uses_avx2() ? "yes" : "no (SSE2 only)");
  std::mt19937 rng(2);
  const uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};
  for (size_t len : {255u, 256u, 257u, 300u, 383u, 384u, 415u, 1000u, 4096u, 4099u, 65536u + 17u}) {
    for (uint64_t offset = 0; offset < 4; ++offset) {
      for (size_t align = 0; align < 4; ++align) ASSERT_NO_FATAL_FAILURE(check_run(rng, key, len, offset, align));
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

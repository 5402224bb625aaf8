// SHA-1 (sha1.h): the x86 SHA extensions where the CPU has them, else portable code.
#include "sha1.h"

#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define WSC_SHA1_X86 1
#endif

namespace wsc {
namespace {

inline uint32_t rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

inline uint32_t load_be32(const uint8_t *p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// 64-byte blocks into the state h (FIPS 180-4 §6.1.2).
void compress_portable(uint32_t h[5], const uint8_t *block, size_t blocks) {
  for (; blocks > 0; --blocks, block += 64) {
    uint32_t w[80];
    for (int t = 0; t < 16; ++t) w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 80; ++t) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; ++t) {
      uint32_t f, k;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      uint32_t tmp = rotl(a, 5) + f + e + k + w[t];
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
}

#ifdef WSC_SHA1_X86
// The SHA extensions run four rounds per SHA1RNDS4. A vector holds four words with the first in
// its highest lane: a, b, c, d of the state, or W[4g..4g+3] of the message schedule (group g of
// the 20). E after four rounds is a of four rounds before, rotated by 30 (SHA1NEXTE adds it to
// the next group's first word).
#define WSC_SHA_TARGET __attribute__((target("sha,sse4.1")))

struct ShaState {
  __m128i abcd, prev, e;
  __m128i w[4];  // the last four groups of W, group g in w[g % 4]
};

// Groups first..first+4, the 20 rounds that use function and constant F (FIPS 180-4 §4.1.1).
template <int F>
WSC_SHA_TARGET inline __attribute__((always_inline)) void twenty_rounds(ShaState &s, const uint8_t *block,
                                                                           __m128i e_start) {
  const __m128i bswap = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int g = 5 * F; g < 5 * F + 5; ++g) {
    __m128i &m = s.w[g & 3];  // holds group g - 4 until replaced by group g
    if (g < 4)
      m = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(block + 16 * g)), bswap);
    else  // W[t] = rotl1(W[t-3] ^ W[t-8] ^ W[t-14] ^ W[t-16]), four at a time
      m = _mm_sha1msg2_epu32(_mm_xor_si128(_mm_sha1msg1_epu32(m, s.w[(g + 1) & 3]), s.w[(g + 2) & 3]),
                             s.w[(g + 3) & 3]);
    s.e = g == 0 ? _mm_add_epi32(e_start, m) : _mm_sha1nexte_epu32(s.prev, m);
    s.prev = s.abcd;
    s.abcd = _mm_sha1rnds4_epu32(s.abcd, s.e, F);
  }
}

WSC_SHA_TARGET void compress_x86(uint32_t h[5], const uint8_t *block, size_t blocks) {
  ShaState s;
  s.abcd = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(h)), 0x1b);  // a in the top lane
  __m128i e = _mm_set_epi32(static_cast<int>(h[4]), 0, 0, 0);
  for (; blocks > 0; --blocks, block += 64) {
    const __m128i abcd_in = s.abcd;
    twenty_rounds<0>(s, block, e);
    twenty_rounds<1>(s, block, e);
    twenty_rounds<2>(s, block, e);
    twenty_rounds<3>(s, block, e);
    e = _mm_sha1nexte_epu32(s.prev, e);  // e + the final E
    s.abcd = _mm_add_epi32(s.abcd, abcd_in);
  }
  _mm_storeu_si128(reinterpret_cast<__m128i *>(h), _mm_shuffle_epi32(s.abcd, 0x1b));
  h[4] = static_cast<uint32_t>(_mm_extract_epi32(e, 3));
}

bool cpu_has_sha() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3)) return false;
  return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

using CompressFn = void (*)(uint32_t[5], const uint8_t *, size_t);

CompressFn pick_compress() {
#ifdef WSC_SHA1_X86
  if (cpu_has_sha()) return compress_x86;
#endif
  return compress_portable;
}

void sha1_with(CompressFn compress, const uint8_t *data, size_t n, uint8_t out[kSha1Size]) {
  uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  size_t full = n / 64;
  compress(h, data, full);
  // Padding (§5.1.1): 0x80, zeros, then the length in bits as a 64-bit big-endian number.
  uint8_t tail[128] = {0};
  size_t rest = n - full * 64;
  std::memcpy(tail, data + full * 64, rest);
  tail[rest] = 0x80;
  size_t tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
  uint64_t bits = static_cast<uint64_t>(n) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_len - 1 - i] = static_cast<uint8_t>(bits >> (8 * i));
  compress(h, tail, tail_len / 64);
  for (int i = 0; i < 5; ++i) {
    out[4 * i] = static_cast<uint8_t>(h[i] >> 24);
    out[4 * i + 1] = static_cast<uint8_t>(h[i] >> 16);
    out[4 * i + 2] = static_cast<uint8_t>(h[i] >> 8);
    out[4 * i + 3] = static_cast<uint8_t>(h[i]);
  }
}

const CompressFn g_compress = pick_compress();

}  // namespace

void sha1(const uint8_t *data, size_t n, uint8_t out[kSha1Size]) { sha1_with(g_compress, data, n, out); }

void sha1_portable(const uint8_t *data, size_t n, uint8_t out[kSha1Size]) {
  sha1_with(compress_portable, data, n, out);
}

bool sha1_uses_cpu_extensions() { return g_compress != compress_portable; }

}  // namespace wsc

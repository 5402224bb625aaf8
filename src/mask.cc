#include "mask.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "wsc/frame.h"

namespace wsc {

namespace {
constexpr bool kLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
}  // namespace

void mask_bytes(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4], uint64_t offset) {
  // Rotate the key so that it starts at src[0]; every block below is a multiple of 4 bytes long,
  // so the rotated key stays in phase.
  uint32_t k32;
  std::memcpy(&k32, key, 4);
  if (const unsigned r = static_cast<unsigned>(offset & 3) * 8) {  // key[offset & 3] first, in memory order
    k32 = kLittleEndian ? (k32 >> r) | (k32 << (32 - r)) : (k32 << r) | (k32 >> (32 - r));
  }
  uint8_t rk[4];
  std::memcpy(rk, &k32, 4);
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i k = _mm_set1_epi32(static_cast<int>(k32));
  for (; i + 64 <= n; i += 64) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i + 16));
    __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i + 32));
    __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i + 48));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i), _mm_xor_si128(a, k));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i + 16), _mm_xor_si128(b, k));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i + 32), _mm_xor_si128(c, k));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i + 48), _mm_xor_si128(d, k));
  }
  for (; i + 16 <= n; i += 16) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i), _mm_xor_si128(a, k));
  }
#endif
  const uint64_t k64 = (static_cast<uint64_t>(k32) << 32) | k32;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, src + i, 8);
    w ^= k64;
    std::memcpy(dst + i, &w, 8);
  }
  for (; i < n; ++i) dst[i] = src[i] ^ rk[i & 3];
}

}  // namespace wsc

void wsc_mask(void *dst, const void *src, size_t len, const uint8_t key[4], uint64_t offset) {
  if (len == 0 || dst == nullptr || src == nullptr || key == nullptr) return;
  wsc::mask_bytes(static_cast<uint8_t *>(dst), static_cast<const uint8_t *>(src), len, key, offset);
}

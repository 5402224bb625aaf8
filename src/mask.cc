#include "mask.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define WSC_MASK_AVX2 1
#endif

#include "wsc/frame.h"

namespace wsc {

namespace {
constexpr bool kLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

#ifdef WSC_MASK_AVX2
// 32 bytes at a time where the CPU has AVX2 (and the OS saves its registers), chosen at load
// time: a 1 KiB run in cache is unmasked in half the time of the SSE2 loop (longer runs are
// bound by memory, and gain less).
bool cpu_has_avx2() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX)) return false;
  unsigned xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & 0x6) != 0x6) return false;  // the OS saves the XMM and YMM state
  return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX2);
}
const bool g_avx2 = cpu_has_avx2();

// Masks the first n - n % 32 bytes with k32 (in phase at src[0]); returns how many.
__attribute__((target("avx2"))) size_t mask_avx2(uint8_t *dst, const uint8_t *src, size_t n, uint32_t k32) {
  const __m256i k = _mm256_set1_epi32(static_cast<int>(k32));
  size_t i = 0;
  for (; i + 128 <= n; i += 128) {
    __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + i));
    __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + i + 32));
    __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + i + 64));
    __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + i + 96));
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(dst + i), _mm256_xor_si256(a, k));
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(dst + i + 32), _mm256_xor_si256(b, k));
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(dst + i + 64), _mm256_xor_si256(c, k));
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(dst + i + 96), _mm256_xor_si256(d, k));
  }
  for (; i + 32 <= n; i += 32) {
    __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(dst + i), _mm256_xor_si256(a, k));
  }
  return i;
}
#endif
}  // namespace

bool mask_uses_avx2() {
#ifdef WSC_MASK_AVX2
  return g_avx2;
#else
  return false;
#endif
}

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
#ifdef WSC_MASK_AVX2
  if (n >= 256 && g_avx2) i = mask_avx2(dst, src, n, k32);  // shorter runs stay on SSE2
#endif
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

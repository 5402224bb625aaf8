// RFC 6455 §5.3 masking, 32 bytes at a time with AVX2 where the CPU has it, 16 with SSE2, 8
// elsewhere.
#ifndef WSC_SRC_MASK_H
#define WSC_SRC_MASK_H

#include <cstddef>
#include <cstdint>

namespace wsc {

// dst[i] = src[i] ^ key[(offset + i) % 4]; dst may equal src.
void mask_bytes(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4], uint64_t offset);

// True when runs of 256 bytes or more take the AVX2 loop (chosen once, from the CPU).
bool mask_uses_avx2();

}  // namespace wsc

#endif

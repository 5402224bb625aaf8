// RFC 6455 §5.3 masking, 16 bytes at a time with SSE2 (8 at a time elsewhere).
#ifndef WSC_SRC_MASK_H
#define WSC_SRC_MASK_H

#include <cstddef>
#include <cstdint>

namespace wsc {

// dst[i] = src[i] ^ key[(offset + i) % 4]; dst may equal src.
void mask_bytes(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4], uint64_t offset);

}  // namespace wsc

#endif

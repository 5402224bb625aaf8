// RFC 6455 §5.2 base framing: the header layout shared by the encoder and the sender.
#ifndef WSC_SRC_FRAMING_H
#define WSC_SRC_FRAMING_H

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "mask.h"
#include "wsc/frame.h"

namespace wsc {

inline bool opcode_is_control(unsigned op) { return (op & 0x8) != 0; }
inline bool opcode_is_known(unsigned op) { return op <= WSC_OP_BINARY || (op >= WSC_OP_CLOSE && op <= WSC_OP_PONG); }

// Header bytes for a payload of len bytes: 2, plus 2 or 8 for the extended length, plus 4 for
// the masking key.
inline size_t header_size(uint64_t len, bool masked) {
  return 2 + (len < 126 ? 0 : len <= 0xFFFF ? 2 : 8) + (masked ? 4 : 0);
}

// Writes the header into out (room for WSC_FRAME_MAX_HEADER bytes); returns its size. flags are
// WSC_FRAME_FIN/RSV1/RSV2/RSV3; key is NULL for an unmasked frame.
inline size_t write_header(uint8_t *out, unsigned flags, unsigned opcode, uint64_t len, const uint8_t *key) {
  uint8_t b0 = static_cast<uint8_t>(opcode & 0x0F);
  if (flags & WSC_FRAME_FIN) b0 |= 0x80;
  if (flags & WSC_FRAME_RSV1) b0 |= 0x40;
  if (flags & WSC_FRAME_RSV2) b0 |= 0x20;
  if (flags & WSC_FRAME_RSV3) b0 |= 0x10;
  out[0] = b0;
  const uint8_t mask_bit = key ? 0x80 : 0x00;
  size_t n;
  if (len < 126) {  // RFC 6455 §5.2: the minimal number of bytes is used for the length
    out[1] = static_cast<uint8_t>(mask_bit | len);
    n = 2;
  } else if (len <= 0xFFFF) {
    out[1] = mask_bit | 126;
    out[2] = static_cast<uint8_t>(len >> 8);
    out[3] = static_cast<uint8_t>(len);
    n = 4;
  } else {
    out[1] = mask_bit | 127;
    for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(len >> (56 - 8 * i));
    n = 10;
  }
  if (key) {
    std::memcpy(out + n, key, 4);
    n += 4;
  }
  return n;
}

// Writes a whole frame into out (room for WSC_FRAME_MAX_HEADER + len bytes): the header, then the
// payload, masked with key if there is one (RFC 6455 §5.3). Returns the frame's size.
inline size_t build_frame(uint8_t *out, unsigned flags, unsigned opcode, const uint8_t *payload, size_t len,
                           const uint8_t *key) {
  const size_t h = write_header(out, flags, opcode, len, key);
  if (key)
    mask_bytes(out + h, payload, len, key, 0);
  else if (len > 0)
    std::memcpy(out + h, payload, len);
  return h + len;
}

}  // namespace wsc

#endif

// wsc_frame_encode: one frame into a caller's buffer (wsc/frame.h).
#include <cstring>
#include <limits>

#include "framing.h"
#include "mask.h"
#include "random.h"
#include "wsc/error.h"
#include "wsc/frame.h"

int wsc_frame_encode(size_t *out_len, void *buf, size_t buf_len, const wsc_frame_t *frame) {
  if (out_len) *out_len = 0;
  if (out_len == nullptr || frame == nullptr) return WSC_EINVAL;
  const unsigned op = frame->opcode;
  const unsigned known = WSC_FRAME_FIN | WSC_FRAME_RSV1 | WSC_FRAME_RSV2 | WSC_FRAME_RSV3 | WSC_FRAME_MASK;
  if (!wsc::opcode_is_known(op) || (frame->flags & ~known) != 0) return WSC_EINVAL;
  if (frame->payload == nullptr && frame->payload_len > 0) return WSC_EINVAL;
  if (wsc::opcode_is_control(op)) {
    // RFC 6455 §5.5: control frames are not fragmented and carry at most 125 bytes.
    if ((frame->flags & WSC_FRAME_FIN) == 0) return WSC_EINVAL;
    if (frame->payload_len > WSC_CONTROL_MAX_PAYLOAD) return WSC_EMSGSIZE;
  }
  const bool masked = (frame->flags & WSC_FRAME_MASK) != 0;
  const size_t len = frame->payload_len;
  const size_t hl = wsc::header_size(len, masked);
  if (len > std::numeric_limits<size_t>::max() - hl) return WSC_EMSGSIZE;
  *out_len = hl + len;
  if (buf == nullptr) return 0;
  if (buf_len < hl + len) return WSC_ENOBUFS;
  uint8_t key[4];
  if (masked) {
    if (frame->mask_key) {
      std::memcpy(key, frame->mask_key, 4);
    } else {
      int rc = wsc::random_mask_key(key);
      if (rc != 0) return rc;
    }
  }
  auto *out = static_cast<uint8_t *>(buf);
  wsc::write_header(out, frame->flags, op, len, masked ? key : nullptr);
  if (len == 0) return 0;
  if (masked)
    wsc::mask_bytes(out + hl, frame->payload, len, key, 0);
  else
    std::memmove(out + hl, frame->payload, len);
  return 0;
}

/* wsc: WebSocket frames (RFC 6455 §5): opcodes, flags, encoding one frame, masking, UTF-8. */
#ifndef WSC_FRAME_H
#define WSC_FRAME_H

#include "common.h"

WSC_BEGIN_DECLS

typedef enum wsc_opcode {
  WSC_OP_CONTINUATION = 0x0,
  WSC_OP_TEXT = 0x1,
  WSC_OP_BINARY = 0x2,
  WSC_OP_CLOSE = 0x8,
  WSC_OP_PING = 0x9,
  WSC_OP_PONG = 0xA
} wsc_opcode_t;

/* Frame flags: the header bits of a frame (wsc_frame_t.flags) and of a parser event. */
#define WSC_FRAME_FIN 0x01u
#define WSC_FRAME_RSV1 0x02u /* "compressed" under permessage-deflate */
#define WSC_FRAME_RSV2 0x04u
#define WSC_FRAME_RSV3 0x08u
#define WSC_FRAME_MASK 0x10u
/* Parser events only: the fragment is not the first of its message. */
#define WSC_FRAME_CONTINUATION 0x20u

/* The largest header: 2 bytes, a 64-bit extended length and a 4-byte masking key. */
#define WSC_FRAME_MAX_HEADER 14
/* Control frames carry at most 125 bytes (RFC 6455 §5.5); a close reason at most 123. */
#define WSC_CONTROL_MAX_PAYLOAD 125
#define WSC_CLOSE_MAX_REASON 123

/* One frame to encode. */
typedef struct wsc_frame_s {
  uint32_t opcode;          /* a wsc_opcode_t; reserved opcodes are refused */
  uint32_t flags;           /* WSC_FRAME_FIN | RSV1 | RSV2 | RSV3 | MASK */
  const uint8_t *mask_key;  /* with WSC_FRAME_MASK: 4 bytes, or NULL for a fresh random key */
  const uint8_t *payload;   /* may be NULL when payload_len is 0 */
  size_t payload_len;
} wsc_frame_t;

/* Encodes frame into buf. Sets *out_len to the encoded size (header + payload). With buf NULL
 * it only computes the size. Returns 0; WSC_ENOBUFS when buf_len is smaller than *out_len (which
 * is then set); WSC_EINVAL for a reserved opcode, an unknown flag, a control frame without
 * FIN or a missing payload; WSC_EMSGSIZE for a control frame over 125 bytes; WSC_ERANDOM when no random key could be drawn. A random key comes from OpenSSL's CSPRNG. */
WSC_EXTERN int wsc_frame_encode(size_t *out_len, void *buf, size_t buf_len, const wsc_frame_t *frame);

/* XORs len bytes of src with the 4-byte masking key into dst (dst may equal src). offset is the
 * position of src[0] within the frame's payload, so that a payload can be masked in pieces
 * (RFC 6455 §5.3). Masking and unmasking are the same operation. */
WSC_EXTERN void wsc_mask(void *dst, const void *src, size_t len, const uint8_t key[4], uint64_t offset);

/* 1 if the len bytes at data are well-formed UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), else 0. */
WSC_EXTERN int wsc_utf8_valid(const void *data, size_t len);

WSC_END_DECLS

#endif /* WSC_FRAME_H */

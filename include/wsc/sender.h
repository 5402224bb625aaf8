/* wsc: the frame sender, sans-I/O (RFC 6455 §5).
 *
 * Turns messages, fragments, pings, pongs and the close frame into frames and hands them to a
 * write callback as a list of buffers (the header and the payload, masked for a client). A
 * sender is not thread-safe: use each from one thread at a time. */
#ifndef WSC_SENDER_H
#define WSC_SENDER_H

#include "common.h"

WSC_BEGIN_DECLS

typedef struct wsc_sender_s wsc_sender_t;

/* Option flags (wsc_sender_options_t.flags). */
#define WSC_SENDER_FRAGMENT 0x1u /* split messages above fragment_threshold (WebSocket-Node's
                                    fragmentOutgoingMessages) */

#define WSC_DEFAULT_FRAGMENT_THRESHOLD (16u * 1024u) /* WebSocket-Node's fragmentationThreshold */

typedef struct wsc_sender_options_s {
  uint32_t size;               /* sizeof(wsc_sender_options_t) */
  uint32_t role;               /* wsc_role_t of the sending endpoint: a client masks its frames */
  uint32_t flags;              /* WSC_SENDER_* */
  uint32_t reserved_;
  uint64_t fragment_threshold; /* payload bytes per frame with WSC_SENDER_FRAGMENT (> 0) */
} wsc_sender_options_t;

#define WSC_SENDER_OPTIONS_INIT \
  { sizeof(wsc_sender_options_t), WSC_ROLE_SERVER, 0, 0, WSC_DEFAULT_FRAGMENT_THRESHOLD }

/* Fills *opts with the defaults above; size is the caller's sizeof(wsc_sender_options_t). */
WSC_EXTERN int wsc_sender_options_init(wsc_sender_options_t *opts, size_t size);

/* Receives the bytes of one frame as nbufs buffers to be written in order. The buffers are
 * borrowed: valid only during the call. Any call on this sender is allowed inside it. */
typedef void (*wsc_sender_write_cb)(wsc_sender_t *sender, const wsc_buf_t *bufs, uint32_t nbufs,
                                    void *user_data);

/* Returns 0, WSC_EINVAL or WSC_ENOMEM. opts may be NULL (role server, no fragmentation). */
WSC_EXTERN int wsc_sender_new(wsc_sender_t **out, const wsc_sender_options_t *opts, wsc_sender_write_cb cb,
                              void *user_data);

/* Send flags (wsc_sender_send). */
#define WSC_SEND_MORE 0x1u       /* not the last fragment: more follow (ws' fin: false) */
#define WSC_SEND_COMPRESSED 0x2u /* set RSV1 on the message's first frame (the payload is
                                    already compressed by an extension) */

/* Sends a text or binary message, or one piece of a streamed message: with WSC_SEND_MORE the
 * message stays open and the next sends continue it (their opcode is then ignored) until one
 * without WSC_SEND_MORE ends it. Control frames may be sent in between, also from inside the
 * write callback; a data send from inside it returns WSC_EBUSY, as it would split the message
 * being written. Returns 0; WSC_EINVAL (opcode not text/binary, data NULL with len > 0, unknown
 * flag); WSC_ECLOSED after close; WSC_EBUSY; WSC_ERANDOM; WSC_ENOMEM. After an error nothing was
 * written, unless part of a fragmented message was: then the sender is closed (WSC_ECLOSED). */
WSC_EXTERN int wsc_sender_send(wsc_sender_t *sender, uint32_t opcode, const void *data, size_t len,
                               uint32_t flags);

/* Ping and pong: at most 125 bytes (WSC_EMSGSIZE). */
WSC_EXTERN int wsc_sender_ping(wsc_sender_t *sender, const void *data, size_t len);
WSC_EXTERN int wsc_sender_pong(wsc_sender_t *sender, const void *data, size_t len);

/* Sends the close frame. code 0 sends an empty body (the peer sees 1005) and then reason must
 * be empty; otherwise code must be valid on the wire (WSC_ECLOSECODE) and reason UTF-8
 * (WSC_EUTF8) of at most 123 bytes (WSC_EMSGSIZE). Nothing can be sent after it (WSC_ECLOSED). */
WSC_EXTERN int wsc_sender_close(wsc_sender_t *sender, uint32_t code, const void *reason, size_t reason_len);

/* 1 while a message sent with WSC_SEND_MORE awaits its last fragment. */
WSC_EXTERN int wsc_sender_in_message(const wsc_sender_t *sender);

/* Frees the sender. NULL does nothing. Inside its write callback, it takes effect on return. */
WSC_EXTERN void wsc_sender_free(wsc_sender_t *sender);

WSC_END_DECLS

#endif /* WSC_SENDER_H */

/* wsc: the frame parser, a sans-I/O receiver (RFC 6455 §5, §7).
 *
 * Feed it bytes in chunks of any size; it calls back with messages, fragments, pings, pongs, the
 * close frame, and at most one protocol error, which carries the close code to answer with.
 *
 *   wsc_parser_options_t opts = WSC_PARSER_OPTIONS_INIT;
 *   opts.role = WSC_ROLE_SERVER;
 *   wsc_parser_t *p;
 *   if (wsc_parser_new(&p, &opts, on_event, ctx) == 0) {
 *     size_t used;
 *     int rc = wsc_parser_feed(p, &used, buf, n);    (rc < 0: protocol error, connection dead)
 *     wsc_parser_free(p);
 *   }
 *
 * A parser is not thread-safe: use each from one thread at a time. */
#ifndef WSC_PARSER_H
#define WSC_PARSER_H

#include "common.h"

WSC_BEGIN_DECLS

typedef struct wsc_parser_s wsc_parser_t;

/* Option flags (wsc_parser_options_t.flags). */
#define WSC_PARSER_NO_ASSEMBLE 0x1u /* report each data frame as a fragment (ws' assembleFragments off) */
#define WSC_PARSER_SKIP_UTF8 0x2u   /* do not validate text (ws' skipUTF8Validation) */
#define WSC_PARSER_ALLOW_RSV1 0x4u  /* an extension (permessage-deflate) negotiated RSV1 */

#define WSC_DEFAULT_MAX_MESSAGE_SIZE (100u * 1024u * 1024u) /* 100 MiB, as ws' maxPayload */
#define WSC_DEFAULT_MAX_FRAGMENTS (1u << 17) /* 131072: above Autobahn 9.3.1's 65536 */

typedef struct wsc_parser_options_s {
  uint32_t size;             /* sizeof(wsc_parser_options_t) */
  uint32_t role;             /* wsc_role_t: the role of the endpoint that receives */
  uint32_t flags;            /* WSC_PARSER_* */
  uint32_t max_fragments;    /* frames per message; 0: no limit */
  uint64_t max_message_size; /* bytes per message (after decompression); 0: no limit */
  uint64_t max_frame_size;   /* payload bytes per data frame; 0: no limit but the message's */
} wsc_parser_options_t;

#define WSC_PARSER_OPTIONS_INIT \
  { sizeof(wsc_parser_options_t), WSC_ROLE_SERVER, 0, WSC_DEFAULT_MAX_FRAGMENTS, WSC_DEFAULT_MAX_MESSAGE_SIZE, 0 }

/* Fills *opts with the defaults above (for FFI callers that cannot use the macro). size is the
 * caller's sizeof(wsc_parser_options_t). Returns 0 or WSC_EINVAL. */
WSC_EXTERN int wsc_parser_options_init(wsc_parser_options_t *opts, size_t size);

typedef enum wsc_parser_event_type {
  WSC_PARSER_MESSAGE = 1,  /* a whole text or binary message */
  WSC_PARSER_FRAGMENT = 2, /* one data frame, with WSC_PARSER_NO_ASSEMBLE */
  WSC_PARSER_PING = 3,
  WSC_PARSER_PONG = 4,
  WSC_PARSER_CLOSE = 5,    /* the peer's close frame; nothing is parsed after it */
  WSC_PARSER_ERROR = 6     /* a protocol violation; the parser is dead after it */
} wsc_parser_event_type_t;

typedef struct wsc_parser_event_s {
  uint32_t type;        /* wsc_parser_event_type_t */
  uint32_t opcode;      /* MESSAGE, FRAGMENT: WSC_OP_TEXT or WSC_OP_BINARY (also for the
                           continuation frames of a message); others: the frame's opcode */
  uint32_t flags;       /* WSC_FRAME_FIN, WSC_FRAME_RSV1 (of the message's first frame),
                           WSC_FRAME_CONTINUATION (a fragment that is not the first) */
  int32_t error;        /* ERROR: a WSC_ERR_* code */
  uint32_t close_code;  /* CLOSE: the peer's code (1005 when the frame had none);
                           ERROR: the code to close the connection with */
  uint32_t reserved_;
  const uint8_t *data;  /* payload (CLOSE: the reason), borrowed: valid only during the call */
  size_t len;
  const char *message;  /* ERROR: what was wrong, e.g. "invalid opcode 3"; else NULL. Borrowed. */
} wsc_parser_event_t;

/* Called on the thread that feeds the parser, once per event. Inside it any call on this parser
 * is allowed except wsc_parser_feed (WSC_EBUSY); wsc_parser_free takes effect when the feed
 * returns. */
typedef void (*wsc_parser_cb)(wsc_parser_t *parser, const wsc_parser_event_t *event, void *user_data);

/* Creates a parser. opts may be NULL for the defaults (role server). Returns 0, WSC_EINVAL (no
 * out pointer or callback, an unknown flag or role, opts->size too small) or WSC_ENOMEM. */
WSC_EXTERN int wsc_parser_new(wsc_parser_t **out, const wsc_parser_options_t *opts, wsc_parser_cb cb,
                              void *user_data);

/* Parses len bytes. Payloads may be unmasked in place, so data must be writable; its contents are
 * unspecified afterwards. Stops early after an event if the callback paused the parser.
 * *consumed (may be NULL) gets the number of bytes used; the caller feeds the rest later.
 * Bytes after a close frame are consumed and ignored. Returns 0, or the WSC_ERR_* code of the
 * protocol error (also after it, on every later call), or WSC_EBUSY from inside a callback. */
WSC_EXTERN int wsc_parser_feed(wsc_parser_t *parser, size_t *consumed, void *data, size_t len);

/* Stops event delivery after the current event; wsc_parser_feed then returns early. */
WSC_EXTERN void wsc_parser_pause(wsc_parser_t *parser);
WSC_EXTERN void wsc_parser_resume(wsc_parser_t *parser);
WSC_EXTERN int wsc_parser_is_paused(const wsc_parser_t *parser);

/* Enables or disables RSV1 on the first frame of data messages, once an extension such as
 * permessage-deflate has been negotiated; messages report it in WSC_FRAME_RSV1. */
WSC_EXTERN void wsc_parser_set_rsv1(wsc_parser_t *parser, int allowed);

/* Bytes the parser holds for an unfinished frame or message (memory in use, not capacity). */
WSC_EXTERN size_t wsc_parser_buffered(const wsc_parser_t *parser);

/* Frees the parser. NULL does nothing. */
WSC_EXTERN void wsc_parser_free(wsc_parser_t *parser);

WSC_END_DECLS

#endif /* WSC_PARSER_H */

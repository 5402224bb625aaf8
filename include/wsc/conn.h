/* wsc: a WebSocket connection, the same on the server and the client side.
 *
 * Events reach one callback per connection. WSC_EV_CLOSE is the final event: the connection is
 * freed after the callback returns, and the pointer must not be used after. An error is always
 * reported (WSC_EV_ERROR) before the close event. Every send gets exactly one completion: 0 once
 * its bytes (over TLS, the records that carry them) were handed to the kernel, or an error code
 * when the connection ended first. */
#ifndef WSC_CONN_H
#define WSC_CONN_H

#include "common.h"
#include "loop.h"
#include "parser.h"
#include "sender.h"
#include "deflate.h"

WSC_BEGIN_DECLS

typedef struct wsc_conn_s wsc_conn_t;

/* One HTTP header, borrowed. Not NUL-terminated: use the lengths. */
typedef struct wsc_header_s {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} wsc_header_t;

/* An IP or Unix socket address. */
typedef struct wsc_addr_s {
  char address[108]; /* text form: "127.0.0.1", "::1", or a Unix socket path */
  uint32_t family;   /* 4, 6, or 0 for a Unix socket */
  uint32_t port;
} wsc_addr_t;

typedef enum wsc_ready_state {
  WSC_CONNECTING = 0,
  WSC_OPEN = 1,
  WSC_CLOSING = 2,
  WSC_CLOSED = 3
} wsc_ready_state_t;

/* Connection flags (wsc_conn_options_t.flags). */
#define WSC_CONN_NO_ASSEMBLE 0x1u  /* deliver each data frame as WSC_EV_FRAGMENT */
#define WSC_CONN_SKIP_UTF8 0x2u    /* do not validate received text */
#define WSC_CONN_NO_AUTO_PONG 0x4u /* do not answer pings (the user may, with wsc_conn_pong) */
#define WSC_CONN_NAGLE 0x8u        /* leave Nagle's algorithm on (TCP_NODELAY is on by default) */
#define WSC_CONN_FRAGMENT 0x10u    /* split outgoing messages above fragment_threshold */
#define WSC_CONN_KEEPALIVE_NO_DROP 0x20u /* an unanswered keepalive reports WSC_EV_TIMEOUT only */

#define WSC_DEFAULT_CLOSE_TIMEOUT_MS 30000u

typedef struct wsc_conn_options_s {
  uint32_t size;               /* sizeof(wsc_conn_options_t) */
  uint32_t flags;              /* WSC_CONN_* */
  uint64_t max_message_size;   /* 0: no limit; default 100 MiB */
  uint64_t max_frame_size;     /* 0: no limit */
  uint32_t max_fragments;      /* 0: no limit */
  uint32_t close_timeout_ms;   /* after close(): wait this long for the peer, then terminate */
  uint64_t fragment_threshold; /* with WSC_CONN_FRAGMENT */
  /* Send-side flow control (see wsc_conn_send). */
  uint64_t high_water_mark;    /* buffered bytes from which sends report WSC_SEND_BACKPRESSURE */
  uint64_t low_water_mark;     /* WSC_EV_DRAIN once the buffer falls to it after backpressure */
  uint64_t max_buffered;       /* a send while more is buffered fails: WSC_EQUEUEFULL; 0: no cap */
  uint32_t overflow_policy;    /* WSC_OVERFLOW_CLOSE (close with 1008) or WSC_OVERFLOW_DROP */
  uint32_t reserved_;
  /* Liveness (WebSocket-Node's keepalive options; the session library's setTimeout). */
  uint32_t keepalive_interval_ms; /* ping after this long without data from the peer; 0: off */
  uint32_t keepalive_grace_ms;    /* then drop the connection if nothing arrives within it
                                     (WSC_CONN_KEEPALIVE_NO_DROP: report WSC_EV_TIMEOUT); 0: 10 s */
  uint32_t idle_timeout_ms;       /* WSC_EV_TIMEOUT after this long without data; 0: off */
  uint32_t tcp_keepalive_ms;      /* native TCP keepalive with this initial delay; 0: off */
  /* permessage-deflate (wsc/deflate.h), copied at creation. A server uses it only when set; a
   * client offers it unless WSC_DEFLATE_DISABLE (NULL: the defaults), as ws 8 does. */
  const struct wsc_deflate_options_s *deflate;
} wsc_conn_options_t;

#define WSC_OVERFLOW_CLOSE 0u /* a slow consumer's connection is closed with 1008 */
#define WSC_OVERFLOW_DROP 1u  /* the message is dropped; the connection stays */

#define WSC_DEFAULT_HIGH_WATER_MARK (64u * 1024u)
#define WSC_DEFAULT_LOW_WATER_MARK (16u * 1024u)
#define WSC_DEFAULT_MAX_BUFFERED (64u * 1024u * 1024u)

#define WSC_CONN_OPTIONS_INIT                                                                 \
  { sizeof(wsc_conn_options_t), 0, WSC_DEFAULT_MAX_MESSAGE_SIZE, 0, WSC_DEFAULT_MAX_FRAGMENTS, \
    WSC_DEFAULT_CLOSE_TIMEOUT_MS, WSC_DEFAULT_FRAGMENT_THRESHOLD, WSC_DEFAULT_HIGH_WATER_MARK, \
    WSC_DEFAULT_LOW_WATER_MARK, WSC_DEFAULT_MAX_BUFFERED, WSC_OVERFLOW_CLOSE, 0, 0, 0, 0, 0, NULL }

WSC_EXTERN int wsc_conn_options_init(wsc_conn_options_t *opts, size_t size);

typedef enum wsc_conn_event_type {
  WSC_EV_OPEN = 1,      /* the opening handshake completed */
  WSC_EV_MESSAGE = 2,   /* opcode, data, len (borrowed) */
  WSC_EV_FRAGMENT = 3,  /* with WSC_CONN_NO_ASSEMBLE: one data frame; flags FIN/CONTINUATION */
  WSC_EV_PING = 4,
  WSC_EV_PONG = 5,
  WSC_EV_CLOSE = 6,     /* final: code, data/len (the reason), was_clean */
  WSC_EV_ERROR = 7,     /* error (WSC_E*), message; a close event follows */
  WSC_EV_UPGRADE = 8,   /* client: the server's 101 response; code (101), headers */
  WSC_EV_UNEXPECTED_RESPONSE = 9, /* client: a non-101 answer; code, headers, data/len (body) */
  WSC_EV_DRAIN = 10,    /* the send buffer fell to the low-water mark after backpressure */
  WSC_EV_TIMEOUT = 11,  /* code 0: idle_timeout_ms passed without data; code 1: a keepalive
                           ping went unanswered (with WSC_CONN_KEEPALIVE_NO_DROP) */
  WSC_EV_REDIRECT = 12, /* client: code (3xx), data/len: the URL it goes to next, headers: the
                           3xx answer's; see wsc_conn_set_request_header */
  WSC_EV_RECONNECTING = 13 /* client: the connection dropped (code, was_clean, data/len: reason,
                              error: why, or 0); attempt number `attempt` starts in delay_ms */
} wsc_conn_event_type_t;

typedef struct wsc_conn_event_s {
  uint32_t type;      /* wsc_conn_event_type_t */
  uint32_t opcode;    /* MESSAGE, FRAGMENT: WSC_OP_TEXT or WSC_OP_BINARY */
  uint32_t flags;     /* MESSAGE, FRAGMENT: WSC_FRAME_FIN, _RSV1, _CONTINUATION */
  int32_t error;      /* ERROR */
  uint32_t code;      /* CLOSE: close code (1005: none given, 1006: abnormal); HTTP status */
  uint32_t was_clean; /* CLOSE: 1 if the closing handshake completed */
  const uint8_t *data; /* borrowed: valid only during the call */
  size_t len;
  const char *message; /* ERROR: what went wrong (borrowed) */
  const wsc_header_t *headers; /* UPGRADE, UNEXPECTED_RESPONSE, REDIRECT (borrowed) */
  size_t nheaders;
  uint32_t attempt;  /* RECONNECTING */
  uint32_t delay_ms; /* RECONNECTING */
} wsc_conn_event_t;

typedef void (*wsc_conn_cb)(wsc_conn_t *conn, const wsc_conn_event_t *event, void *user_data);
/* status: 0 when written, else why not (WSC_ECLOSED, WSC_ECONNRESET, ...). */
typedef void (*wsc_send_cb)(wsc_conn_t *conn, int status, void *user_data);

/* Sets the callback of a connection (a server's connections start without one). */
WSC_EXTERN void wsc_conn_set_callback(wsc_conn_t *conn, wsc_conn_cb cb, void *user_data);

/* Sends a text or binary message, or a piece of one with WSC_SEND_MORE (wsc/sender.h). The data
 * is copied. cb (may be NULL) gets the completion. Returns 0 (queued), WSC_SEND_BACKPRESSURE
 * (queued, but the buffer has reached the high-water mark: wait for WSC_EV_DRAIN), or an error,
 * and then cb is not called: WSC_ESTATE (not open), WSC_EINVAL, WSC_ENOMEM, WSC_EQUEUEFULL (more
 * than max_buffered was waiting: the message was dropped and, under WSC_OVERFLOW_CLOSE, the
 * connection is closing with 1008). The same holds for ping and pong. */
#define WSC_SEND_BACKPRESSURE 1
/* Send flag: never compress this message (secrets next to attacker-chosen data, data that is
 * compressed already). */
#define WSC_SEND_NO_COMPRESS 0x4u
/* Send flag: borrow the data instead of copying it. The bytes must stay valid and unchanged
 * until cb is called (cb is then required). wsc still copies where it must (a client masks its
 * frames, a compressed message is new bytes) or where a copy is cheaper (payloads under 16 KiB);
 * a large server frame goes from the caller's memory to the kernel. */
#define WSC_SEND_BORROW 0x8u
WSC_EXTERN int wsc_conn_send(wsc_conn_t *conn, uint32_t opcode, const void *data, size_t len, uint32_t flags,
                             wsc_send_cb cb, void *user_data);
WSC_EXTERN int wsc_conn_ping(wsc_conn_t *conn, const void *data, size_t len, wsc_send_cb cb, void *user_data);
WSC_EXTERN int wsc_conn_pong(wsc_conn_t *conn, const void *data, size_t len, wsc_send_cb cb, void *user_data);

/* Thread-safe: sends on the loop thread to the connection with this id, if it is still open;
 * cb runs on the loop thread (WSC_ENOTFOUND when the connection is gone). Data is copied. */
WSC_EXTERN int wsc_conn_send_threadsafe(wsc_loop_t *loop, uint64_t conn_id, uint32_t opcode, const void *data,
                                        size_t len, wsc_send_cb cb, void *user_data);

/* Starts the closing handshake (code 0: none; else a code valid on the wire and a UTF-8 reason
 * of at most 123 bytes). The connection is terminated if the peer does not complete it within
 * the close timeout. Returns 0, WSC_ECLOSECODE, WSC_EMSGSIZE, WSC_EUTF8, or WSC_ESTATE if
 * already closing. While connecting it fails the connection (as terminate). */
WSC_EXTERN int wsc_conn_close(wsc_conn_t *conn, uint32_t code, const void *reason, size_t reason_len);

/* Closes the connection at once; the close event reports 1006. */
WSC_EXTERN void wsc_conn_terminate(wsc_conn_t *conn);

/* Bytes queued but not yet handed to the kernel, framing included (ws' bufferedAmount). */
WSC_EXTERN uint64_t wsc_conn_buffered_amount(const wsc_conn_t *conn);

/* Inside a WSC_EV_MESSAGE or WSC_EV_FRAGMENT callback: makes the event's bytes the caller's,
 * to keep after the callback returns. A message wsc assembled in a buffer of its own (one that
 * arrived over several reads, in fragments, or compressed) is handed over without a copy; any
 * other is copied. *out gets a pointer to the event's len bytes (NULL when len is 0), released
 * with wsc_free(). Returns 0, WSC_ESTATE outside such a callback (or for another connection's
 * event), or WSC_ENOMEM. After it, read the bytes through *out: event->data may be gone. */
WSC_EXTERN int wsc_conn_take_message(void **out, wsc_conn_t *conn);
/* Releases memory wsc gave to the caller (wsc_conn_take_message). wsc_free(NULL) does nothing. */
WSC_EXTERN void wsc_free(void *p);

/* Stops reading: no event is delivered until wsc_conn_resume (the current one finishes), and
 * TCP pushes back on the peer. Resume delivers what was already read, then reads again. */
WSC_EXTERN void wsc_conn_pause(wsc_conn_t *conn);
WSC_EXTERN void wsc_conn_resume(wsc_conn_t *conn);
WSC_EXTERN int wsc_conn_is_paused(const wsc_conn_t *conn);

/* Microseconds between the last ping sent and the pong that answered it; -1 before any. */
WSC_EXTERN int64_t wsc_conn_rtt_us(const wsc_conn_t *conn);

/* Bytes this connection holds now: its structure, buffers and compression state. */
WSC_EXTERN size_t wsc_conn_memory_usage(const wsc_conn_t *conn);

/* ---- connections over a transport the caller owns ----
 * For a socket wsc cannot take over (a TLS stream terminated elsewhere, a test pipe): the
 * caller feeds what it receives with wsc_conn_feed / wsc_conn_feed_eof, and wsc writes through
 * the transport's callbacks. Create one with wsc_server_adopt_transport or
 * wsc_connect_transport. */
typedef struct wsc_transport_s {
  uint32_t size; /* sizeof(wsc_transport_t) */
  uint32_t reserved_;
  /* Takes nbufs buffers to send, in order; they are borrowed: copy what you keep. Return 0, or
   * a negative WSC_E* code to fail the connection. */
  int (*write)(wsc_conn_t *conn, const wsc_buf_t *bufs, uint32_t nbufs, void *transport_data);
  /* Optional: everything is sent; send the end of the stream (a TCP FIN). */
  void (*shutdown)(wsc_conn_t *conn, void *transport_data);
  /* wsc is done with the transport (once, before the final CLOSE event): release it. */
  void (*close)(wsc_conn_t *conn, void *transport_data);
  void *transport_data;
} wsc_transport_t;

/* Bytes received from the transport (copied; any chunk size). Returns 0, WSC_EINVAL (not a
 * transport connection), or WSC_ESTATE once the connection is closing for good. */
WSC_EXTERN int wsc_conn_feed(wsc_conn_t *conn, const void *data, size_t len);
/* The transport's peer ended its stream. */
WSC_EXTERN int wsc_conn_feed_eof(wsc_conn_t *conn);

WSC_EXTERN uint32_t wsc_conn_ready_state(const wsc_conn_t *conn);
WSC_EXTERN uint64_t wsc_conn_id(const wsc_conn_t *conn);
WSC_EXTERN int wsc_conn_is_server(const wsc_conn_t *conn);
/* NUL-terminated strings owned by the connection ("" when none). */
WSC_EXTERN const char *wsc_conn_protocol(const wsc_conn_t *conn);
WSC_EXTERN const char *wsc_conn_extensions(const wsc_conn_t *conn);
WSC_EXTERN const char *wsc_conn_url(const wsc_conn_t *conn);
WSC_EXTERN int wsc_conn_remote_address(const wsc_conn_t *conn, wsc_addr_t *out);
WSC_EXTERN int wsc_conn_local_address(const wsc_conn_t *conn, wsc_addr_t *out);

typedef struct wsc_conn_stats_s {
  uint32_t size; /* sizeof(wsc_conn_stats_t) */
  uint32_t reserved_;
  uint64_t bytes_in;
  uint64_t bytes_out;
  uint64_t messages_in;
  uint64_t messages_out;
} wsc_conn_stats_t;
WSC_EXTERN int wsc_conn_stats(const wsc_conn_t *conn, wsc_conn_stats_t *out);

/* The user_data given with the callback. */
WSC_EXTERN void wsc_conn_set_user_data(wsc_conn_t *conn, void *user_data);
WSC_EXTERN void *wsc_conn_user_data(const wsc_conn_t *conn);
WSC_EXTERN int wsc_conn_set_nodelay(wsc_conn_t *conn, int enable);
WSC_EXTERN wsc_loop_t *wsc_conn_loop(const wsc_conn_t *conn);

WSC_END_DECLS

#endif /* WSC_CONN_H */

/* wsc: the WebSocket client. */
#ifndef WSC_CLIENT_H
#define WSC_CLIENT_H

#include "common.h"
#include "conn.h"
#include "loop.h"
#include "tls.h"

WSC_BEGIN_DECLS

/* Client flags (wsc_client_options_t.flags). */
#define WSC_CLIENT_FOLLOW_REDIRECTS 0x1u /* follow 3xx answers (ws' followRedirects) */
#define WSC_CLIENT_RECONNECT_ALWAYS 0x2u /* reconnect after a normal close (1000) from the server too */

typedef struct wsc_client_options_s {
  uint32_t size;                   /* sizeof(wsc_client_options_t) */
  uint32_t flags;                  /* WSC_CLIENT_* */
  const char *origin;              /* Origin header, or NULL */
  const char *const *protocols;    /* requested subprotocols (tokens), or NULL */
  size_t nprotocols;
  const wsc_header_t *headers;     /* extra request headers (CR and LF refused) */
  size_t nheaders;
  uint32_t connect_timeout_ms;     /* 0: none */
  uint32_t handshake_timeout_ms;   /* 0: 30 s */
  const wsc_conn_options_t *conn;  /* NULL: defaults */
  uint32_t max_redirects;          /* with WSC_CLIENT_FOLLOW_REDIRECTS; 0: 10 */
  uint32_t reconnect_min_ms;       /* reconnection: the first delay; 0: never reconnect */
  uint32_t reconnect_max_ms;       /* the delay doubles per attempt up to this (0: 30 s), ±50% jitter */
  uint32_t reconnect_max_attempts; /* attempts in a row before giving up; 0: no limit */
  uint64_t offline_queue_bytes;    /* messages sent while (re)connecting wait, up to this many bytes,
                                      and go out once open; 0: such sends fail (WSC_ESTATE) */
  const wsc_tls_options_t *tls;    /* wss://: trust, client certificate, SNI...; NULL: defaults
                                      (system CA store, verification on) */
} wsc_client_options_t;

#define WSC_CLIENT_OPTIONS_INIT \
  { sizeof(wsc_client_options_t), 0, NULL, NULL, 0, NULL, 0, 0, 0, NULL, 0, 0, 0, 0, 0, NULL }

WSC_EXTERN int wsc_client_options_init(wsc_client_options_t *opts, size_t size);

/* Connects to url: ws://host[:port][/path][?query], wss://... (TLS, port 443 by default; see
 * wsc/tls.h) or ws+unix:///path/to.sock[:/request/path].
 * The connection starts CONNECTING; events follow on the loop: UPGRADE and OPEN, or ERROR (and
 * UNEXPECTED_RESPONSE for a non-101 answer) then CLOSE. Returns 0 (*out is the connection) or
 * WSC_EURL, WSC_EINVAL, WSC_ENOMEM; a failure after that arrives as events.
 *
 * Redirects (WSC_CLIENT_FOLLOW_REDIRECTS): a 301, 302, 303, 307 or 308 with a Location is
 * followed on the same connection object, at most max_redirects times, never to a URL already
 * visited (a loop) and never from wss:// to ws://; Authorization and Cookie are dropped when the
 * host changes. Each hop is reported as WSC_EV_REDIRECT first, where the next request's headers
 * can be edited with wsc_conn_set_request_header. Failures: WSC_EREDIRECT.
 *
 * Reconnection (reconnect_min_ms > 0): when a connection fails or drops, and the user did not
 * close it, it is retried after a growing, jittered delay, reported each time as
 * WSC_EV_RECONNECTING (the connection object stays the same; OPEN follows on success). A normal
 * close (1000) from the server ends it unless WSC_CLIENT_RECONNECT_ALWAYS. The final CLOSE comes
 * when the user closes, or the attempts run out. Sends still queued when a connection drops fail
 * with their error; sends made while reconnecting wait (offline_queue_bytes) or fail. */
WSC_EXTERN int wsc_connect(wsc_conn_t **out, wsc_loop_t *loop, const char *url, const wsc_client_options_t *opts,
                           wsc_conn_cb cb, void *user_data);

/* The same over a transport the caller owns (wsc/conn.h): url gives the request's Host and
 * path; nothing is resolved or connected (a redirect fails with WSC_EREDIRECT; there is no
 * reconnection), and a wss:// URL adds no TLS (the transport carries its own, if any). The request goes through the transport on the loop's next pass. */
WSC_EXTERN int wsc_connect_transport(wsc_conn_t **out, wsc_loop_t *loop, const char *url,
                                     const wsc_client_options_t *opts, const wsc_transport_t *transport,
                                     wsc_conn_cb cb, void *user_data);

/* While CONNECTING (typically inside WSC_EV_REDIRECT): sets a header of the next request, or
 * removes it with value NULL. Returns 0, WSC_EINVAL (bad name or value) or WSC_ESTATE. */
WSC_EXTERN int wsc_conn_set_request_header(wsc_conn_t *conn, const char *name, const char *value);

WSC_END_DECLS

#endif /* WSC_CLIENT_H */

/* wsc: the WebSocket client. */
#ifndef WSC_CLIENT_H
#define WSC_CLIENT_H

#include "common.h"
#include "conn.h"
#include "loop.h"

WSC_BEGIN_DECLS

typedef struct wsc_client_options_s {
  uint32_t size;                   /* sizeof(wsc_client_options_t) */
  uint32_t flags;                  /* none yet */
  const char *origin;              /* Origin header, or NULL */
  const char *const *protocols;    /* requested subprotocols (tokens), or NULL */
  size_t nprotocols;
  const wsc_header_t *headers;     /* extra request headers (CR and LF refused) */
  size_t nheaders;
  uint32_t connect_timeout_ms;     /* 0: none */
  uint32_t handshake_timeout_ms;   /* 0: 30 s */
  const wsc_conn_options_t *conn;  /* NULL: defaults */
} wsc_client_options_t;

#define WSC_CLIENT_OPTIONS_INIT { sizeof(wsc_client_options_t), 0, NULL, NULL, 0, NULL, 0, 0, 0, NULL }

WSC_EXTERN int wsc_client_options_init(wsc_client_options_t *opts, size_t size);

/* Connects to url: ws://host[:port][/path][?query] or ws+unix:///path/to.sock[:/request/path].
 * The connection starts CONNECTING; events follow on the loop: UPGRADE and OPEN, or ERROR (and
 * UNEXPECTED_RESPONSE for a non-101 answer) then CLOSE. Returns 0 (*out is the connection) or
 * WSC_EURL, WSC_EINVAL, WSC_ENOMEM; a failure after that arrives as events. */
WSC_EXTERN int wsc_connect(wsc_conn_t **out, wsc_loop_t *loop, const char *url, const wsc_client_options_t *opts,
                           wsc_conn_cb cb, void *user_data);

WSC_END_DECLS

#endif /* WSC_CLIENT_H */

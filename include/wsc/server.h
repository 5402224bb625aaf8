/* wsc: the WebSocket server.
 *
 * A server listens on TCP (IPv4, IPv6) or a Unix socket, validates upgrade requests, lets the
 * user decide on each (WSC_SERVER_REQUEST), now or later, and hands over accepted connections
 * (WSC_SERVER_CONNECTION). WSC_SERVER_CLOSE is the final event: the server is freed after the
 * callback returns. */
#ifndef WSC_SERVER_H
#define WSC_SERVER_H

#include "common.h"
#include "conn.h"
#include "loop.h"
#include "tls.h"

WSC_BEGIN_DECLS

typedef struct wsc_server_s wsc_server_t;
typedef struct wsc_request_s wsc_request_t;

/* Server flags (wsc_server_options_t.flags). */
#define WSC_SERVER_IPV6_ONLY 0x1u       /* an IPv6 host accepts no IPv4 connections */
#define WSC_SERVER_TRUST_PROXY 0x2u     /* take the remote address from X-Forwarded-For */
#define WSC_SERVER_HANDLE_REQUESTS 0x4u /* deliver WSC_SERVER_REQUEST; without it, accept every
                                           valid request */
#define WSC_SERVER_HANDLE_HTTP 0x8u     /* deliver WSC_SERVER_HTTP_REQUEST for plain HTTP
                                           requests; without it, answer them 426 */
#define WSC_SERVER_NO_LISTEN 0x10u      /* no socket of its own: connections come from
                                           wsc_server_adopt* only (ws' noServer) */

typedef struct wsc_server_options_s {
  uint32_t size;                  /* sizeof(wsc_server_options_t) */
  uint32_t flags;                 /* WSC_SERVER_* */
  const char *host;               /* address to bind; NULL: "::" (IPv4 too), else "0.0.0.0" */
  const char *unix_path;          /* listen on this Unix socket instead of TCP */
  const char *path;               /* accept only this request path (NULL: any) */
  uint32_t port;                  /* 0: an ephemeral port (see wsc_server_address) */
  int32_t backlog;                /* 0: 511 */
  uint32_t max_headers;           /* request headers; 0: 100 */
  uint32_t max_header_bytes;      /* request line and headers; 0: 16 KiB */
  uint32_t handshake_timeout_ms;  /* a request must arrive whole within it; 0: 10 s */
  uint32_t reserved_;
  const wsc_conn_options_t *conn; /* options of accepted connections; NULL: defaults */
  const wsc_tls_options_t *tls;   /* serve wss://: certificate and key (required), SNI
                                     certificates, client certificates; NULL: cleartext */
  /* Browsers' cross-site requests (RFC 6455 §10.2): with origin_count > 0, a request whose
   * Origin is not in origins is answered 403 before any callback; a NULL entry admits requests
   * without an Origin header (clients that are not browsers). Copied at creation. Compared as
   * wsc_request_origin_allowed() does. */
  const char *const *origins;
  size_t origin_count;
} wsc_server_options_t;

#define WSC_SERVER_OPTIONS_INIT \
  { sizeof(wsc_server_options_t), 0, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0 }

WSC_EXTERN int wsc_server_options_init(wsc_server_options_t *opts, size_t size);

typedef enum wsc_server_event_type {
  WSC_SERVER_LISTENING = 1,
  WSC_SERVER_REQUEST = 2,      /* an upgrade request to accept or reject (WSC_SERVER_HANDLE_REQUESTS);
                                  one the callback neither accepts, rejects nor defers is accepted
                                  as wsc_request_accept(req, NULL) would */
  WSC_SERVER_CONNECTION = 3,   /* conn: a new open connection; set its callback now */
  WSC_SERVER_CLIENT_ERROR = 4, /* a request failed before the upgrade; code: the status sent */
  WSC_SERVER_ERROR = 5,        /* error, message: the listening socket failed */
  WSC_SERVER_CLOSE = 6,        /* final */
  WSC_SERVER_HTTP_REQUEST = 7, /* a plain HTTP request (WSC_SERVER_HANDLE_HTTP): answer it with
                                  wsc_request_reject(), else it gets 426 */
  WSC_SERVER_REQUEST_CANCELLED = 8 /* a deferred request's client went away (or the server shut
                                      down) before the decision; the request is freed after */
} wsc_server_event_type_t;

typedef struct wsc_server_event_s {
  uint32_t type;
  int32_t error;          /* ERROR, CLIENT_ERROR */
  uint32_t code;          /* CLIENT_ERROR: the HTTP status answered */
  uint32_t reserved_;
  const char *message;    /* ERROR, CLIENT_ERROR */
  wsc_request_t *request; /* REQUEST, HTTP_REQUEST, CLIENT_ERROR (when parsed); valid during the call */
  wsc_conn_t *conn;       /* CONNECTION */
} wsc_server_event_t;

typedef void (*wsc_server_cb)(wsc_server_t *server, const wsc_server_event_t *event, void *user_data);

/* Creates a server and starts listening. The LISTENING event follows from the loop. Returns 0,
 * WSC_EINVAL, WSC_EADDRINUSE, WSC_EIO (the message of libuv's error via the ERROR event is not
 * sent: the call fails instead). */
WSC_EXTERN int wsc_server_new(wsc_server_t **out, wsc_loop_t *loop, const wsc_server_options_t *opts,
                              wsc_server_cb cb, void *user_data);

/* An upgrade request that was already read and parsed elsewhere (ws' handleUpgrade(request,
 * socket, head)): its method, target and headers, and the bytes read past it. */
typedef struct wsc_adopt_request_s {
  uint32_t size; /* sizeof(wsc_adopt_request_t) */
  uint32_t http_minor; /* HTTP/1.x minor version (1) */
  const char *method;
  const char *target;
  const wsc_header_t *headers;
  size_t nheaders;
  const void *head; /* may be NULL */
  size_t head_len;
} wsc_adopt_request_t;

#define WSC_ADOPT_REQUEST_INIT { sizeof(wsc_adopt_request_t), 1, "GET", "/", NULL, 0, NULL, 0 }

/* Takes over an accepted TCP or Unix socket (the server owns fd from now on, also on failure).
 * With request NULL the server reads the upgrade request from the socket (over TLS, if the
 * server has it); else it handles `request` as if it had read it (TLS, if any, was someone
 * else's: the connection carries none). Returns 0, WSC_EINVAL or WSC_EIO. */
WSC_EXTERN int wsc_server_adopt(wsc_server_t *server, int fd, const wsc_adopt_request_t *request);

/* The same for a transport the caller owns (wsc/conn.h); *out is the connection to feed. */
WSC_EXTERN int wsc_server_adopt_transport(wsc_server_t *server, wsc_conn_t **out, const wsc_transport_t *transport,
                                          const wsc_adopt_request_t *request);

/* The bound address (the port the system chose for port 0). */
WSC_EXTERN int wsc_server_address(const wsc_server_t *server, wsc_addr_t *out);

/* Open connections: a count, and a walk (cb returns nonzero to stop). */
WSC_EXTERN size_t wsc_server_connection_count(const wsc_server_t *server);
typedef int (*wsc_server_conn_walk_cb)(wsc_conn_t *conn, void *user_data);
WSC_EXTERN void wsc_server_walk(wsc_server_t *server, wsc_server_conn_walk_cb cb, void *user_data);

/* Sends one message to every open connection (filter, when given, picks them: nonzero to send).
 * The frame is built once and shared by the connections' queues, not copied for each. Skipped:
 * connections not open, in the middle of a streamed message, or over their queue cap (their
 * overflow policy applies). *sent (may be NULL) gets the number of connections it was queued
 * to. Returns 0, WSC_EINVAL or WSC_ENOMEM. */
WSC_EXTERN int wsc_server_broadcast(wsc_server_t *server, uint32_t opcode, const void *data, size_t len,
                                    wsc_server_conn_walk_cb filter, void *user_data, size_t *sent);

/* Starts the closing handshake of every open connection (code 0: 1001), and keeps listening. */
WSC_EXTERN void wsc_server_close_all(wsc_server_t *server, uint32_t code);

/* Shutdown flags. */
#define WSC_SHUTDOWN_KEEP_CONNECTIONS 0x1u /* leave open connections alone (as ws 8's close()) */

/* Graceful shutdown: stops accepting and drops requests still in their handshake; closes the
 * open connections with code (0: 1001) unless WSC_SHUTDOWN_KEEP_CONNECTIONS; after timeout_ms
 * (0: no limit but each connection's close timeout) terminates what is still open; delivers
 * WSC_SERVER_CLOSE once everything is gone. Sends still queued complete, or fail with an error. */
WSC_EXTERN void wsc_server_shutdown(wsc_server_t *server, uint32_t code, uint32_t timeout_ms, uint32_t flags);

/* wsc_server_shutdown(server, code, 0, 0). */
WSC_EXTERN void wsc_server_close(wsc_server_t *server, uint32_t code);

WSC_EXTERN void *wsc_server_user_data(const wsc_server_t *server);

/* ---- the upgrade request: valid during the event that carries it ---- */

/* NUL-terminated strings owned by the request. */
WSC_EXTERN const char *wsc_request_method(const wsc_request_t *req);
WSC_EXTERN const char *wsc_request_target(const wsc_request_t *req); /* as sent: path?query */
WSC_EXTERN const char *wsc_request_path(const wsc_request_t *req);
WSC_EXTERN const char *wsc_request_query(const wsc_request_t *req);  /* without '?'; "" when none */
WSC_EXTERN size_t wsc_request_header_count(const wsc_request_t *req);
WSC_EXTERN int wsc_request_header(const wsc_request_t *req, size_t index, wsc_header_t *out);
/* The value of the first header with this name (case-insensitive), or NULL. */
WSC_EXTERN const char *wsc_request_header_value(const wsc_request_t *req, const char *name);
WSC_EXTERN const char *wsc_request_origin(const wsc_request_t *req); /* NULL when absent */
/* 1 if the request's Origin is one of the count origins ("https://example.com",
 * "http://localhost:8080"; scheme and host compared case-insensitively, a default port ignored),
 * or the request has no Origin and one entry is NULL; else 0. For a server that serves browsers:
 * any page can open a WebSocket to it, and cookies go along (cross-site WebSocket hijacking). */
WSC_EXTERN int wsc_request_origin_allowed(const wsc_request_t *req, const char *const *origins, size_t count);
WSC_EXTERN size_t wsc_request_protocol_count(const wsc_request_t *req);
WSC_EXTERN const char *wsc_request_protocol(const wsc_request_t *req, size_t index);
WSC_EXTERN const char *wsc_request_extensions(const wsc_request_t *req); /* raw header, or NULL */
WSC_EXTERN size_t wsc_request_cookie_count(const wsc_request_t *req);
WSC_EXTERN int wsc_request_cookie(const wsc_request_t *req, size_t index, const char **name, const char **value);
WSC_EXTERN int wsc_request_remote_address(const wsc_request_t *req, wsc_addr_t *out);
WSC_EXTERN int wsc_request_is_secure(const wsc_request_t *req); /* 1: it came over TLS */
/* The TLS connection the request came over (its client certificate's subject, SNI, ALPN...):
 * 0, or WSC_EINVAL for a cleartext request. Strings valid during the event. */
WSC_EXTERN int wsc_request_tls_info(const wsc_request_t *req, wsc_tls_info_t *out);

/* Adds a header to the response (accept or reject). CR, LF and invalid names are refused. */
WSC_EXTERN int wsc_request_add_header(wsc_request_t *req, const char *name, const char *value);
/* Adds a Set-Cookie header; attributes (may be NULL) such as "Path=/; HttpOnly". */
WSC_EXTERN int wsc_request_add_cookie(wsc_request_t *req, const char *name, const char *value,
                                      const char *attributes);
/* Accepts with this subprotocol (NULL: the first one offered; "": none). The protocol must be one
 * the client offered. Returns 0, WSC_EINVAL or WSC_ESTATE (already decided). */
WSC_EXTERN int wsc_request_accept(wsc_request_t *req, const char *protocol);
/* Rejects with an HTTP status (300-599: 3xx redirects with a Location header added; for
 * HTTP_REQUEST any 100-599), a reason phrase (NULL: the standard one) and a body. */
WSC_EXTERN int wsc_request_reject(wsc_request_t *req, uint32_t status, const char *reason, const void *body,
                                  size_t body_len);

/* Inside WSC_SERVER_REQUEST: keeps the request after the callback returns, to be decided later
 * with wsc_request_accept or wsc_request_reject (ws' asynchronous verifyClient). The request
 * stays valid until then, or until WSC_SERVER_REQUEST_CANCELLED reports that its client left.
 * A decision frees it. Returns 0 or WSC_ESTATE. */
WSC_EXTERN int wsc_request_defer(wsc_request_t *req);

WSC_END_DECLS

#endif /* WSC_SERVER_H */

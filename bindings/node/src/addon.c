/* wsc's Node addon: libwsc on Node's own libuv loop, through its C API only.
 *
 * One wsc loop per Node environment (main thread or worker) wraps the environment's uv loop: no
 * thread of ours, no hop between threads. Each connection and server is a small wrapper that
 * holds its JS object strongly while the native handle lives (so events always have a target),
 * and an async context, so that events entered through napi_make_callback run promises and
 * process.nextTick as any Node socket's do. The JS side (lib/) holds the wrapper through an
 * External; a call on a wrapper whose handle has ended throws instead of touching freed memory.
 *
 * Events reach one JS dispatch function per kind (connection, server), set once by lib/, called
 * with the JS object as `this` and the event's type and fields as arguments. An exception thrown
 * by a listener goes to 'uncaughtException' (napi_fatal_exception) and leaves the connection
 * usable. A cleanup hook ends every handle when the environment shuts down (process exit, a
 * worker's end) and frees the loop before the environment's loop closes. */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wsc/wsc.h"

typedef struct conn_w conn_w;
typedef struct server_w server_w;
typedef struct transport_w transport_w;
typedef struct req_w req_w;

typedef struct addon {
  napi_env env;
  wsc_loop_t *loop;
  napi_ref conn_dispatch;
  napi_ref server_dispatch;
  napi_async_context transport_ctx;
  conn_w *conns;
  server_w *servers;
  int tearing_down;
  int refs; /* the instance data and the cleanup hook: freed when both let go */
  napi_async_cleanup_hook_handle cleanup;
  uv_idle_t sentinel;
} addon;

struct conn_w {
  addon *a;
  wsc_conn_t *conn; /* NULL once the final CLOSE event was delivered */
  napi_ref obj;     /* the JS object: strong from bind() until closed with no send pending */
  napi_async_context actx;
  uint32_t pending; /* sends with a completion still to come */
  int closed;
  int external_gone;
  conn_w *prev, *next;
};

struct req_w {
  wsc_request_t *req; /* valid during the REQUEST event, or once deferred until decided */
  server_w *server;
  int deferred;
  int in_list;       /* on the server's list of deferred requests */
  int external_gone; /* JS let go of its handle */
  req_w *next;
};

struct server_w {
  addon *a;
  wsc_server_t *srv; /* NULL after the final CLOSE event */
  napi_ref obj;
  napi_async_context actx;
  req_w *deferred;
  napi_ref accepting;      /* the context given to reqAccept of a deferred request, during it */
  napi_ref accepted_next;  /* the context of a request accepted inside its REQUEST event: the
                              CONNECTION event that follows the event takes it */
  int external_gone;
  server_w *prev, *next;
};

struct transport_w {
  addon *a;
  wsc_conn_t *conn; /* NULL once wsc let go of the transport */
  napi_ref obj;     /* { write(buf), shutdown(), close() } */
  int external_gone;
};

/* ---- small helpers ---------------------------------------------------------------------- */

#define CHECK(call)                           \
  do {                                        \
    if ((call) != napi_ok) return NULL;       \
  } while (0)

static napi_value throw_code(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value num_i32(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

static napi_value num_u32(napi_env env, uint32_t v) {
  napi_value r;
  napi_create_uint32(env, v, &r);
  return r;
}

static napi_value num_f64(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

static napi_value str(napi_env env, const char *s) {
  napi_value r;
  napi_create_string_utf8(env, s ? s : "", NAPI_AUTO_LENGTH, &r);
  return r;
}

static napi_value latin1(napi_env env, const char *s, size_t n) {
  napi_value r;
  napi_create_string_latin1(env, s ? s : "", n, &r);
  return r;
}

static napi_value boolean(napi_env env, int b) {
  napi_value r;
  napi_get_boolean(env, b != 0, &r);
  return r;
}

static napi_value undef(napi_env env) {
  napi_value r;
  napi_get_undefined(env, &r);
  return r;
}

static napi_value buffer_copy(napi_env env, const void *data, size_t len) {
  napi_value r;
  void *unused;
  if (napi_create_buffer_copy(env, len, len ? data : "", &unused, &r) != napi_ok) return undef(env);
  return r;
}

/* Messages from this size on reach JS in the memory wsc assembled them in (an external Buffer
 * freed when JS drops it), and sends from this size on are written from the caller's Buffer;
 * below it a copy costs less than tracking the memory. */
#define ZERO_COPY_BYTES (64 * 1024)

static void free_taken(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  wsc_free(data);
}

/* The bytes of a message event as a Buffer: a large one without a copy where wsc can hand its
 * memory over. */
static napi_value message_buffer(napi_env env, wsc_conn_t *c, const wsc_conn_event_t *ev) {
  void *mem = NULL;
  napi_value r;
  if (ev->len < ZERO_COPY_BYTES || wsc_conn_take_message(&mem, c) != 0) return buffer_copy(env, ev->data, ev->len);
  if (napi_create_external_buffer(env, ev->len, mem, free_taken, NULL, &r) == napi_ok) return r;
  r = buffer_copy(env, mem, ev->len); /* external buffers not allowed here */
  wsc_free(mem);
  return r;
}

/* Header i of a flat [name, value, name, value...] array (latin1, as Node reads header bytes). */
static void set_header(napi_env env, napi_value arr, size_t i, const wsc_header_t *h) {
  napi_set_element(env, arr, (uint32_t)(2 * i), latin1(env, h->name, h->name_len));
  napi_set_element(env, arr, (uint32_t)(2 * i + 1), latin1(env, h->value, h->value_len));
}

static napi_value headers_array(napi_env env, const wsc_header_t *h, size_t n) {
  napi_value arr;
  napi_create_array_with_length(env, n * 2, &arr);
  for (size_t i = 0; i < n; ++i) set_header(env, arr, i, &h[i]);
  return arr;
}

static napi_value addr_object(napi_env env, const wsc_addr_t *a) {
  napi_value o;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "address", str(env, a->address));
  napi_set_named_property(env, o, "family", str(env, a->family == 6 ? "IPv6" : a->family == 4 ? "IPv4" : "unix"));
  napi_set_named_property(env, o, "port", num_u32(env, a->port));
  return o;
}

/* Reads property `name` of an options object; 0 if absent (undefined or null). */
static int prop(napi_env env, napi_value obj, const char *name, napi_value *out) {
  napi_valuetype t;
  if (napi_get_named_property(env, obj, name, out) != napi_ok) return 0;
  if (napi_typeof(env, *out, &t) != napi_ok) return 0;
  return t != napi_undefined && t != napi_null;
}

static uint32_t opt_u32(napi_env env, napi_value obj, const char *name, uint32_t dflt) {
  napi_value v;
  double d;
  if (!prop(env, obj, name, &v) || napi_get_value_double(env, v, &d) != napi_ok || d < 0) return dflt;
  return d > 4294967295.0 ? 4294967295u : (uint32_t)d;
}

static uint64_t opt_u64(napi_env env, napi_value obj, const char *name, uint64_t dflt) {
  napi_value v;
  double d;
  if (!prop(env, obj, name, &v) || napi_get_value_double(env, v, &d) != napi_ok || d < 0) return dflt;
  return d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
}

static int opt_bool(napi_env env, napi_value obj, const char *name, int dflt) {
  napi_value v;
  bool b;
  if (!prop(env, obj, name, &v) || napi_get_value_bool(env, v, &b) != napi_ok) return dflt;
  return b;
}

/* The strings an options object lends to one C call: freed together after it. */
typedef struct strpool {
  char *items[64];
  size_t n;
} strpool;

static char *pool_str(napi_env env, strpool *p, napi_value v) {
  size_t len = 0;
  char *s;
  if (p->n == sizeof p->items / sizeof p->items[0]) return NULL;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  s = malloc(len + 1);
  if (s == NULL) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  p->items[p->n++] = s;
  return s;
}

static const char *opt_str(napi_env env, strpool *p, napi_value obj, const char *name) {
  napi_value v;
  napi_valuetype t;
  if (!prop(env, obj, name, &v) || napi_typeof(env, v, &t) != napi_ok || t != napi_string) return NULL;
  return pool_str(env, p, v);
}

static void pool_free(strpool *p) {
  for (size_t i = 0; i < p->n; ++i) free(p->items[i]);
  p->n = 0;
}

/* A flat [name, value, name, value...] array into headers whose strings live in the pool. */
static wsc_header_t *opt_headers(napi_env env, strpool *p, napi_value arr, size_t *n) {
  uint32_t len = 0;
  wsc_header_t *h;
  *n = 0;
  if (napi_get_array_length(env, arr, &len) != napi_ok || len < 2) return NULL;
  h = calloc(len / 2, sizeof *h);
  if (h == NULL) return NULL;
  for (uint32_t i = 0; i + 1 < len; i += 2) {
    napi_value k, v;
    napi_get_element(env, arr, i, &k);
    napi_get_element(env, arr, i + 1, &v);
    h[*n].name = pool_str(env, p, k);
    h[*n].value = pool_str(env, p, v);
    if (h[*n].name == NULL || h[*n].value == NULL) break;
    h[*n].name_len = strlen(h[*n].name);
    h[*n].value_len = strlen(h[*n].value);
    ++*n;
  }
  return h;
}

/* The bytes of a Uint8Array (a Buffer); 0 for anything else. */
static int u8_of(napi_env env, napi_value v, const void **data, size_t *len) {
  napi_typedarray_type tt;
  void *p;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &tt, len, &p, &ab, &off) != napi_ok || tt != napi_uint8_array) return 0;
  *data = p;
  return 1;
}

/* Bytes of a string (UTF-8) or a Uint8Array. Small strings use `stack`, larger ones a heap copy
 * that *heap owns. */
static int bytes_of(napi_env env, napi_value v, char *stack, size_t cap, const void **data, size_t *len,
                    char **heap) {
  napi_valuetype t;
  *heap = NULL;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_string) {
    size_t n = 0;
    if (napi_get_value_string_utf8(env, v, stack, cap, &n) != napi_ok) return 0;
    if (n + 1 < cap) {  /* it fit (a full buffer may have been cut) */
      *data = stack;
      *len = n;
      return 1;
    }
    if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) return 0;
    *heap = malloc(n + 1);
    if (*heap == NULL) return 0;
    napi_get_value_string_utf8(env, v, *heap, n + 1, &n);
    *data = *heap;
    *len = n;
    return 1;
  }
  if (t == napi_undefined || t == napi_null) {
    *data = NULL;
    *len = 0;
    return 1;
  }
  return u8_of(env, v, data, len);
}

static addon *get_addon(napi_env env) {
  void *d = NULL;
  napi_get_instance_data(env, &d);
  return d;
}

/* Calls fn (a reference) with `this` = recv inside an async context; a listener's exception goes
 * to 'uncaughtException'. */
static void call_js(napi_env env, napi_async_context ctx, napi_value recv, napi_ref fn, size_t argc,
                    const napi_value *argv) {
  napi_value f, result;
  if (napi_get_reference_value(env, fn, &f) != napi_ok || f == NULL) return;
  if (napi_make_callback(env, ctx, recv, f, argc, argv, &result) == napi_pending_exception) {
    napi_value err;
    if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
  }
}

/* ---- teardown ------------------------------------------------------------------------- */

static void addon_unref(addon *a) {
  if (--a->refs == 0) free(a);
}

static void on_sentinel_closed(uv_handle_t *h) {
  addon *a = h->data;
  napi_remove_async_cleanup_hook(a->cleanup);
  addon_unref(a);
}

/* Once nothing is left open during teardown: free the wsc loop, and let Node go on once its
 * handles have closed (the sentinel's close callback runs after theirs, closed before them). */
static void maybe_finish_teardown(addon *a) {
  if (!a->tearing_down || a->conns || a->servers || a->tearing_down == 2) return;
  if (wsc_loop_handle_count(a->loop) != 0) return;
  a->tearing_down = 2;
  uv_close((uv_handle_t *)&a->sentinel, on_sentinel_closed);
  wsc_loop_free(a->loop);
  a->loop = NULL;
}

/* ---- the JS side of a wrapper ---------------------------------------------------------- */

/* Holds obj strongly, with an async context named `name` for its events. */
static int bind_js(napi_env env, napi_value obj, const char *name, napi_ref *ref, napi_async_context *actx) {
  napi_value n;
  if (napi_create_reference(env, obj, 1, ref) != napi_ok) return 0;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &n);
  napi_async_init(env, obj, n, actx);
  return 1;
}

/* Lets go of them (during teardown Node frees them with the environment). */
static void drop_js(addon *a, napi_ref *ref, napi_async_context *actx) {
  if (!a->tearing_down) {
    if (*ref) napi_delete_reference(a->env, *ref);
    if (*actx) napi_async_destroy(a->env, *actx);
  }
  *ref = NULL;
  *actx = NULL;
}

/* ---- connections ---------------------------------------------------------------------- */

/* After the final event and the last completion: the JS object goes, and the wrapper with it
 * once JS has let go of its handle (else conn_finalize frees it). */
static void conn_release(conn_w *w) {
  if (!w->closed || w->pending > 0) return;
  drop_js(w->a, &w->obj, &w->actx);
  if (w->external_gone) free(w);
}

static void conn_finalize(napi_env env, void *data, void *hint) {
  conn_w *w = data;
  (void)env;
  (void)hint;
  if (w->closed && w->pending == 0 && w->obj == NULL) free(w); else w->external_gone = 1;
}

enum {
  EV_SENT = 20 /* a send's completion: status */
};

static void on_conn(wsc_conn_t *c, const wsc_conn_event_t *ev, void *ud) {
  conn_w *w = ud;
  addon *a = w->a;
  napi_env env = a->env;
  napi_handle_scope scope;
  napi_value argv[6], recv;
  size_t argc = 1;
  if (ev->type == WSC_EV_CLOSE) {
    w->conn = NULL;
    if (w->prev) w->prev->next = w->next; else a->conns = w->next;
    if (w->next) w->next->prev = w->prev;
    w->prev = w->next = NULL;
  }
  if (a->tearing_down || w->obj == NULL) {
    if (ev->type == WSC_EV_CLOSE) {
      w->closed = 1;
      conn_release(w);
      maybe_finish_teardown(a);
    }
    return;
  }
  napi_open_handle_scope(env, &scope);
  napi_get_reference_value(env, w->obj, &recv);
  argv[0] = num_u32(env, ev->type);
  switch (ev->type) {
    case WSC_EV_MESSAGE:
      argv[1] = message_buffer(env, c, ev);
      argv[2] = boolean(env, ev->opcode == WSC_OP_BINARY);
      argc = 3;
      break;
    case WSC_EV_FRAGMENT:
      argv[1] = message_buffer(env, c, ev);
      argv[2] = boolean(env, ev->opcode == WSC_OP_BINARY);
      argv[3] = boolean(env, (ev->flags & WSC_FRAME_FIN) != 0);
      argc = 4;
      break;
    case WSC_EV_PING:
    case WSC_EV_PONG:
      argv[1] = buffer_copy(env, ev->data, ev->len);
      argc = 2;
      break;
    case WSC_EV_CLOSE:
      argv[1] = num_u32(env, ev->code);
      argv[2] = buffer_copy(env, ev->data, ev->len);
      argv[3] = boolean(env, ev->was_clean);
      argc = 4;
      break;
    case WSC_EV_ERROR:
      argv[1] = num_i32(env, ev->error);
      argv[2] = str(env, ev->message ? ev->message : wsc_strerror(ev->error));
      argv[3] = str(env, wsc_err_name(ev->error));
      argc = 4;
      break;
    case WSC_EV_UPGRADE:
    case WSC_EV_UNEXPECTED_RESPONSE:
      argv[1] = num_u32(env, ev->code);
      argv[2] = headers_array(env, ev->headers, ev->nheaders);
      argv[3] = buffer_copy(env, ev->data, ev->len);
      argc = 4;
      break;
    case WSC_EV_REDIRECT:
      argv[1] = num_u32(env, ev->code);
      argv[2] = latin1(env, (const char *)ev->data, ev->len);
      argv[3] = headers_array(env, ev->headers, ev->nheaders);
      argc = 4;
      break;
    case WSC_EV_TIMEOUT:
      argv[1] = num_u32(env, ev->code);
      argc = 2;
      break;
    case WSC_EV_RECONNECTING:
      argv[1] = num_u32(env, ev->attempt);
      argv[2] = num_u32(env, ev->delay_ms);
      argv[3] = num_u32(env, ev->code);
      argv[4] = num_i32(env, ev->error);
      argc = 5;
      break;
    default:
      break;
  }
  if (ev->type == WSC_EV_CLOSE) w->closed = 1;
  call_js(env, w->actx, recv, a->conn_dispatch, argc, argv);
  napi_close_handle_scope(env, scope);
  if (ev->type == WSC_EV_CLOSE) conn_release(w);
}

/* A send's completion; JS hears of it when it asked to. */
static void sent(conn_w *w, int status, int tell_js) {
  addon *a = w->a;
  napi_env env = a->env;
  if (w->pending > 0) --w->pending;
  if (tell_js && !a->tearing_down && w->obj != NULL) {
    napi_handle_scope scope;
    napi_value argv[2], recv;
    napi_open_handle_scope(env, &scope);
    napi_get_reference_value(env, w->obj, &recv);
    argv[0] = num_u32(env, EV_SENT);
    argv[1] = num_i32(env, status);
    call_js(env, w->actx, recv, a->conn_dispatch, 2, argv);
    napi_close_handle_scope(env, scope);
  }
  conn_release(w);
  maybe_finish_teardown(a); /* a teardown may wait for this (a compression on the thread pool) */
}

static void on_sent(wsc_conn_t *c, int status, void *ud) {
  (void)c;
  sent(ud, status, 1);
}

static void on_sent_quiet(wsc_conn_t *c, int status, void *ud) {
  (void)c;
  sent(ud, status, 0);
}

/* A send written from the caller's Buffer, held until wsc is done with it. */
typedef struct lent_send {
  conn_w *w;
  napi_ref data;
  int tell_js;
} lent_send;

static void on_lent_sent(wsc_conn_t *c, int status, void *ud) {
  lent_send *l = ud;
  conn_w *w = l->w;
  int tell_js = l->tell_js;
  (void)c;
  if (!w->a->tearing_down) napi_delete_reference(w->a->env, l->data); /* else freed with the environment */
  free(l);
  sent(w, status, tell_js);
}

static conn_w *conn_new(addon *a) {
  conn_w *w = calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  w->a = a;
  return w;
}

static void conn_link(addon *a, conn_w *w, wsc_conn_t *c) {
  w->conn = c;
  w->next = a->conns;
  if (a->conns) a->conns->prev = w;
  a->conns = w;
}

/* Binds the JS object that receives a connection's events. */
static int conn_bind(napi_env env, conn_w *w, napi_value obj) {
  return w->obj != NULL || bind_js(env, obj, "WebSocket", &w->obj, &w->actx);
}

static napi_value conn_external(napi_env env, conn_w *w) {
  napi_value ext;
  if (napi_create_external(env, w, conn_finalize, NULL, &ext) != napi_ok) return NULL;
  return ext;
}

/* The wrapper behind an External handle of ours, or NULL with a thrown TypeError naming `what`. */
static void *arg_external(napi_env env, napi_value v, const char *what) {
  void *p = NULL;
  char msg[64];
  if (napi_get_value_external(env, v, &p) == napi_ok && p != NULL) return p;
  snprintf(msg, sizeof msg, "not a wsc %s handle", what);
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

/* The live connection behind argument 0, or a thrown error. */
static conn_w *arg_conn(napi_env env, napi_value v, int need_open) {
  conn_w *w = arg_external(env, v, "connection");
  if (w == NULL) return NULL;
  if (need_open && w->conn == NULL) {
    napi_throw_error(env, "ERR_WSC_CLOSED", "the WebSocket's native handle is closed");
    return NULL;
  }
  return w;
}

#define ARGS(n)                                                     \
  size_t argc = (n);                                                \
  napi_value argv[(n) > 0 ? (n) : 1];                               \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL; \
  for (size_t i_ = argc; i_ < (n); ++i_) napi_get_undefined(env, &argv[i_])

static int32_t arg_i32(napi_env env, napi_value v) {
  int32_t r = 0;
  napi_get_value_int32(env, v, &r);
  return r;
}

static uint32_t arg_u32(napi_env env, napi_value v) {
  uint32_t r = 0;
  napi_get_value_uint32(env, v, &r);
  return r;
}

static int arg_bool(napi_env env, napi_value v) {
  bool b = false;
  napi_get_value_bool(env, v, &b);
  return b;
}

/* argv[0] an open connection, argv[1] its data (a string or Uint8Array, read into stack when it
 * fits, else into *heap to free). 0 after a throw. */
static int conn_and_bytes(napi_env env, napi_value *argv, char *stack, size_t cap, conn_w **w, const void **data,
                          size_t *len, char **heap) {
  if ((*w = arg_conn(env, argv[0], 1)) == NULL) return 0;
  if (!bytes_of(env, argv[1], stack, cap, data, len, heap)) {
    throw_code(env, "ERR_INVALID_ARG_TYPE", "data must be a string or a Uint8Array");
    return 0;
  }
  return 1;
}

/* send(h, data, opcode, flags, withCallback) -> rc */
static napi_value js_send(napi_env env, napi_callback_info info) {
  char stack[16384];
  const void *data = NULL;
  size_t len = 0;
  char *heap = NULL;
  conn_w *w;
  int with_cb, rc;
  ARGS(5);
  if (!conn_and_bytes(env, argv, stack, sizeof stack, &w, &data, &len, &heap)) return NULL;
  with_cb = arg_bool(env, argv[4]);
  if (len >= ZERO_COPY_BYTES && data != stack && heap == NULL) { /* the caller's Uint8Array: lent */
    lent_send *l = malloc(sizeof *l);
    if (l == NULL) return throw_code(env, "ERR_WSC_ENOMEM", "out of memory");
    l->w = w;
    l->tell_js = with_cb;
    if (napi_create_reference(env, argv[1], 1, &l->data) != napi_ok) {
      free(l);
      return NULL;
    }
    rc = wsc_conn_send(w->conn, arg_u32(env, argv[2]), data, len, arg_u32(env, argv[3]) | WSC_SEND_BORROW,
                       on_lent_sent, l);
    if (rc < 0) {
      napi_delete_reference(env, l->data);
      free(l);
    } else {
      ++w->pending;
    }
    return num_i32(env, rc);
  }
  /* A message from 1 MiB on may be compressed on the thread pool: its completion, even one JS
   * does not hear of, lets a teardown that waits for the compression go on. */
  rc = wsc_conn_send(w->conn, arg_u32(env, argv[2]), data, len, arg_u32(env, argv[3]),
                     with_cb ? on_sent : len >= ZERO_COPY_BYTES ? on_sent_quiet : NULL, w);
  free(heap);
  if ((with_cb || len >= ZERO_COPY_BYTES) && rc >= 0) ++w->pending;
  return num_i32(env, rc);
}

/* ping(h, data, withCallback) / pong(...) -> rc */
static napi_value control(napi_env env, napi_callback_info info, int ping) {
  char stack[256];
  const void *data = NULL;
  size_t len = 0;
  char *heap = NULL;
  conn_w *w;
  int with_cb, rc;
  ARGS(3);
  if (!conn_and_bytes(env, argv, stack, sizeof stack, &w, &data, &len, &heap)) return NULL;
  with_cb = arg_bool(env, argv[2]);
  rc = ping ? wsc_conn_ping(w->conn, data, len, with_cb ? on_sent : NULL, w)
            : wsc_conn_pong(w->conn, data, len, with_cb ? on_sent : NULL, w);
  free(heap);
  if (with_cb && rc >= 0) ++w->pending;
  return num_i32(env, rc);
}

static napi_value js_ping(napi_env env, napi_callback_info info) { return control(env, info, 1); }
static napi_value js_pong(napi_env env, napi_callback_info info) { return control(env, info, 0); }

/* close(h, code, reason) -> rc */
static napi_value js_close(napi_env env, napi_callback_info info) {
  char stack[256];
  const void *data = NULL;
  size_t len = 0;
  char *heap = NULL;
  conn_w *w;
  int rc;
  ARGS(3);
  if ((w = arg_conn(env, argv[0], 1)) == NULL) return NULL;
  if (!bytes_of(env, argv[2], stack, sizeof stack, &data, &len, &heap))
    return throw_code(env, "ERR_INVALID_ARG_TYPE", "reason must be a string or a Uint8Array");
  rc = wsc_conn_close(w->conn, arg_u32(env, argv[1]), data, len);
  free(heap);
  return num_i32(env, rc);
}

static napi_value js_terminate(napi_env env, napi_callback_info info) {
  conn_w *w;
  ARGS(1);
  if ((w = arg_conn(env, argv[0], 1)) == NULL) return NULL;
  wsc_conn_terminate(w->conn);
  return NULL;
}

static napi_value js_pause(napi_env env, napi_callback_info info) {
  conn_w *w;
  ARGS(2);
  if ((w = arg_conn(env, argv[0], 1)) == NULL) return NULL;
  if (arg_bool(env, argv[1])) wsc_conn_pause(w->conn); else wsc_conn_resume(w->conn);
  return NULL;
}

static napi_value js_buffered(napi_env env, napi_callback_info info) {
  conn_w *w;
  ARGS(1);
  if ((w = arg_conn(env, argv[0], 0)) == NULL) return NULL;
  return num_f64(env, w->conn ? (double)wsc_conn_buffered_amount(w->conn) : 0);
}

static napi_value js_ready_state(napi_env env, napi_callback_info info) {
  conn_w *w;
  ARGS(1);
  if ((w = arg_conn(env, argv[0], 0)) == NULL) return NULL;
  return num_u32(env, w->conn ? wsc_conn_ready_state(w->conn) : WSC_CLOSED);
}

/* info(h) -> { protocol, extensions, url, remote, local, bytesIn, bytesOut, rttUs } */
static napi_value js_info(napi_env env, napi_callback_info info) {
  conn_w *w;
  napi_value o;
  wsc_addr_t addr;
  wsc_conn_stats_t st;
  ARGS(1);
  if ((w = arg_conn(env, argv[0], 1)) == NULL) return NULL;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "protocol", str(env, wsc_conn_protocol(w->conn)));
  napi_set_named_property(env, o, "extensions", str(env, wsc_conn_extensions(w->conn)));
  napi_set_named_property(env, o, "url", str(env, wsc_conn_url(w->conn)));
  if (wsc_conn_remote_address(w->conn, &addr) == 0) napi_set_named_property(env, o, "remote", addr_object(env, &addr));
  if (wsc_conn_local_address(w->conn, &addr) == 0) napi_set_named_property(env, o, "local", addr_object(env, &addr));
  memset(&st, 0, sizeof st);
  st.size = sizeof st;
  if (wsc_conn_stats(w->conn, &st) == 0) {
    napi_set_named_property(env, o, "bytesIn", num_f64(env, (double)st.bytes_in));
    napi_set_named_property(env, o, "bytesOut", num_f64(env, (double)st.bytes_out));
    napi_set_named_property(env, o, "messagesIn", num_f64(env, (double)st.messages_in));
    napi_set_named_property(env, o, "messagesOut", num_f64(env, (double)st.messages_out));
  }
  napi_set_named_property(env, o, "rttUs", num_f64(env, (double)wsc_conn_rtt_us(w->conn)));
  napi_set_named_property(env, o, "memory", num_f64(env, (double)wsc_conn_memory_usage(w->conn)));
  {
    wsc_tls_info_t t;
    memset(&t, 0, sizeof t);
    t.size = sizeof t;
    if (wsc_conn_tls_info(w->conn, &t) == 0) {
      napi_value tl;
      napi_create_object(env, &tl);
      napi_set_named_property(env, tl, "version", str(env, t.version));
      napi_set_named_property(env, tl, "cipher", str(env, t.cipher));
      napi_set_named_property(env, tl, "alpn", str(env, t.alpn));
      napi_set_named_property(env, tl, "servername", str(env, t.servername));
      napi_set_named_property(env, tl, "peerSubject", str(env, t.peer_subject));
      napi_set_named_property(env, tl, "peerIssuer", str(env, t.peer_issuer));
      napi_set_named_property(env, tl, "verifyResult", num_i32(env, t.verify_result));
      napi_set_named_property(env, tl, "verifyMessage", str(env, t.verify_message));
      napi_set_named_property(env, o, "tls", tl);
    }
  }
  return o;
}

static napi_value js_set_nodelay(napi_env env, napi_callback_info info) {
  conn_w *w;
  ARGS(2);
  if ((w = arg_conn(env, argv[0], 1)) == NULL) return NULL;
  return num_i32(env, wsc_conn_set_nodelay(w->conn, arg_bool(env, argv[1])));
}

/* setRequestHeader(h, name, value|null) -> rc: inside a 'redirect' event */
static napi_value js_set_request_header(napi_env env, napi_callback_info info) {
  conn_w *w;
  strpool p = {{0}, 0};
  napi_valuetype t;
  const char *name, *value = NULL;
  int rc;
  ARGS(3);
  if ((w = arg_conn(env, argv[0], 1)) == NULL) return NULL;
  name = pool_str(env, &p, argv[1]);
  if (napi_typeof(env, argv[2], &t) == napi_ok && t == napi_string) value = pool_str(env, &p, argv[2]);
  rc = name ? wsc_conn_set_request_header(w->conn, name, value) : WSC_EINVAL;
  pool_free(&p);
  return num_i32(env, rc);
}

/* bind(h, obj): the object that gets a server-side connection's events. */
static napi_value js_bind(napi_env env, napi_callback_info info) {
  conn_w *w;
  ARGS(2);
  if ((w = arg_conn(env, argv[0], 0)) == NULL) return NULL;
  if (w->closed) return boolean(env, 0);
  return boolean(env, conn_bind(env, w, argv[1]));
}

static void read_deflate(napi_env env, napi_value o, wsc_deflate_options_t *d) {
  wsc_deflate_options_init(d, sizeof *d);
  if (opt_bool(env, o, "disable", 0)) d->flags |= WSC_DEFLATE_DISABLE;
  if (opt_bool(env, o, "serverNoContextTakeover", 0)) d->flags |= WSC_DEFLATE_SERVER_NO_CONTEXT_TAKEOVER;
  if (opt_bool(env, o, "clientNoContextTakeover", 0)) d->flags |= WSC_DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER;
  d->server_max_window_bits = opt_u32(env, o, "serverMaxWindowBits", 0);
  d->client_max_window_bits = opt_u32(env, o, "clientMaxWindowBits", 0);
  {
    napi_value v;
    int32_t level = -1;
    if (prop(env, o, "level", &v) && napi_get_value_int32(env, v, &level) == napi_ok) d->level = level;
  }
  d->mem_level = opt_u32(env, o, "memLevel", 0);
  d->threshold = opt_u64(env, o, "threshold", WSC_DEFAULT_DEFLATE_THRESHOLD);
}

/* Connection options shared by clients and servers: maxPayload, skipUTF8Validation, autoPong,
 * perMessageDeflate (an object, or absent / false: off). */
static void read_conn(napi_env env, napi_value o, wsc_conn_options_t *co, wsc_deflate_options_t *d, int *has_deflate) {
  napi_value v;
  wsc_conn_options_init(co, sizeof *co);
  co->max_message_size = opt_u64(env, o, "maxPayload", co->max_message_size);
  if (opt_bool(env, o, "skipUTF8Validation", 0)) co->flags |= WSC_CONN_SKIP_UTF8;
  if (!opt_bool(env, o, "autoPong", 1)) co->flags |= WSC_CONN_NO_AUTO_PONG;
  co->close_timeout_ms = opt_u32(env, o, "closeTimeout", co->close_timeout_ms);
  co->high_water_mark = opt_u64(env, o, "highWaterMark", co->high_water_mark);
  co->max_buffered = opt_u64(env, o, "maxBuffered", 0);
  *has_deflate = 0;
  if (prop(env, o, "deflate", &v)) {
    napi_valuetype t;
    napi_typeof(env, v, &t);
    if (t == napi_object) {
      read_deflate(env, v, d);
      co->deflate = d;
      *has_deflate = 1;
    }
  }
}

static void read_tls(napi_env env, strpool *p, napi_value o, wsc_tls_options_t *t) {
  wsc_tls_options_init(t, sizeof *t);
  t->ca_pem = opt_str(env, p, o, "ca");
  t->cert_pem = opt_str(env, p, o, "cert");
  t->key_pem = opt_str(env, p, o, "key");
  t->passphrase = opt_str(env, p, o, "passphrase");
  t->servername = opt_str(env, p, o, "servername");
  t->ciphers = opt_str(env, p, o, "ciphers");
  if (!opt_bool(env, o, "rejectUnauthorized", 1)) t->flags |= WSC_TLS_INSECURE_SKIP_VERIFY;
  if (opt_bool(env, o, "requestCert", 0)) t->flags |= WSC_TLS_REQUEST_CLIENT_CERT;
}

static void throw_wsc(napi_env env, int rc) {
  const char *detail = wsc_last_error_message();
  char msg[512];
  napi_value err, code;
  snprintf(msg, sizeof msg, "%s%s%s", wsc_strerror(rc), detail && *detail ? ": " : "", detail ? detail : "");
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &err);
  napi_create_error(env, NULL, err, &err);
  napi_set_named_property(env, err, "wscCode", num_i32(env, rc));
  napi_create_string_utf8(env, wsc_err_name(rc), NAPI_AUTO_LENGTH, &code);
  napi_set_named_property(env, err, "wscName", code);
  napi_throw(env, err);
}

/* connect(obj, url, opts) -> handle */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  addon *a = get_addon(env);
  strpool p = {{0}, 0};
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  wsc_conn_options_t co;
  wsc_deflate_options_t d;
  wsc_tls_options_t tls;
  wsc_header_t *headers = NULL;
  const char **protocols = NULL;
  const char *url;
  napi_value v, ext = NULL;
  int has_deflate, rc;
  wsc_conn_t *c = NULL;
  conn_w *w;
  ARGS(3);
  if (a == NULL || a->loop == NULL) return throw_code(env, "ERR_WSC_SHUTDOWN", "the environment is shutting down");
  url = pool_str(env, &p, argv[1]);
  read_conn(env, argv[2], &co, &d, &has_deflate);
  if (!has_deflate) {  /* a client offers permessage-deflate unless told not to */
    wsc_deflate_options_init(&d, sizeof d);
    d.flags |= WSC_DEFLATE_DISABLE;
    co.deflate = &d;
  }
  o.conn = &co;
  o.origin = opt_str(env, &p, argv[2], "origin");
  if (opt_bool(env, argv[2], "followRedirects", 0)) o.flags |= WSC_CLIENT_FOLLOW_REDIRECTS;
  o.max_redirects = opt_u32(env, argv[2], "maxRedirects", 10);
  o.handshake_timeout_ms = opt_u32(env, argv[2], "handshakeTimeout", 0);
  if (prop(env, argv[2], "headers", &v)) headers = opt_headers(env, &p, v, &o.nheaders);
  o.headers = headers;
  if (prop(env, argv[2], "protocols", &v)) {
    uint32_t n = 0;
    napi_get_array_length(env, v, &n);
    protocols = calloc(n ? n : 1, sizeof *protocols);
    for (uint32_t i = 0; protocols && i < n; ++i) {
      napi_value e;
      napi_get_element(env, v, i, &e);
      protocols[i] = pool_str(env, &p, e);
    }
    o.protocols = protocols;
    o.nprotocols = protocols ? n : 0;
  }
  if (prop(env, argv[2], "tls", &v)) {
    read_tls(env, &p, v, &tls);
    o.tls = &tls;
  }
  w = conn_new(a);
  if (w == NULL || url == NULL || !conn_bind(env, w, argv[0])) {
    free(w);
    rc = WSC_ENOMEM;
  } else {
    rc = wsc_connect(&c, a->loop, url, &o, on_conn, w);
    if (rc == 0) {
      conn_link(a, w, c);
      ext = conn_external(env, w);
    } else {
      w->closed = w->external_gone = 1;  /* no handle was given out: released and freed now */
      conn_release(w);
    }
  }
  free(headers);
  free(protocols);
  pool_free(&p);
  if (rc != 0) {
    throw_wsc(env, rc);
    return NULL;
  }
  return ext;
}

/* ---- servers -------------------------------------------------------------------------- */

/* After the final CLOSE event: as conn_release. */
static void server_release(server_w *s) {
  drop_js(s->a, &s->obj, &s->actx);
  if (s->external_gone) free(s);
}

static void server_finalize(napi_env env, void *data, void *hint) {
  server_w *s = data;
  (void)env;
  (void)hint;
  if (s->srv == NULL && s->obj == NULL) free(s); else s->external_gone = 1;
}

static void req_finalize(napi_env env, void *data, void *hint) {
  req_w *r = data;
  (void)env;
  (void)hint;
  if (!r->in_list) free(r); else r->external_gone = 1; /* freed when decided or cancelled */
}

static void req_forget(server_w *s, req_w *r) {
  req_w **pp;
  for (pp = &s->deferred; *pp; pp = &(*pp)->next)
    if (*pp == r) {
      *pp = r->next;
      break;
    }
  r->next = NULL;
  r->req = NULL;
  r->in_list = 0;
  if (r->external_gone) free(r);
}

static napi_value request_args_remote(napi_env env, wsc_request_t *req) {
  wsc_addr_t a;
  if (wsc_request_remote_address(req, &a) != 0) return undef(env);
  return addr_object(env, &a);
}

static napi_value request_headers(napi_env env, wsc_request_t *req) {
  size_t n = wsc_request_header_count(req);
  napi_value arr;
  napi_create_array_with_length(env, n * 2, &arr);
  for (size_t i = 0; i < n; ++i) {
    wsc_header_t h;
    if (wsc_request_header(req, i, &h) == 0) set_header(env, arr, i, &h);
  }
  return arr;
}

static napi_value request_protocols(napi_env env, wsc_request_t *req) {
  size_t n = wsc_request_protocol_count(req);
  napi_value arr;
  napi_create_array_with_length(env, n, &arr);
  for (size_t i = 0; i < n; ++i) napi_set_element(env, arr, (uint32_t)i, str(env, wsc_request_protocol(req, i)));
  return arr;
}

static void on_server(wsc_server_t *srv, const wsc_server_event_t *ev, void *ud) {
  server_w *s = ud;
  addon *a = s->a;
  napi_env env = a->env;
  napi_handle_scope scope;
  napi_value argv[10], recv;
  size_t argc = 1;
  req_w *r = NULL;
  (void)srv;
  if (ev->type == WSC_SERVER_CLOSE) {
    s->srv = NULL;
    if (s->prev) s->prev->next = s->next; else a->servers = s->next;
    if (s->next) s->next->prev = s->prev;
    s->prev = s->next = NULL;
  }
  if (ev->type == WSC_SERVER_REQUEST_CANCELLED) {
    for (r = s->deferred; r && r->req != ev->request; r = r->next) {}
    if (r == NULL) return;
    req_forget(s, r);
  }
  if (a->tearing_down || s->obj == NULL) {
    if (ev->type == WSC_SERVER_CONNECTION) {  /* nobody to take it */
      conn_w *w = conn_new(a);
      if (w) {
        conn_link(a, w, ev->conn);
        w->external_gone = 1;
        wsc_conn_set_callback(ev->conn, on_conn, w);
      }
      wsc_conn_terminate(ev->conn);
    } else if (ev->type == WSC_SERVER_REQUEST) {
      wsc_request_reject(ev->request, 503, NULL, NULL, 0);
    } else if (ev->type == WSC_SERVER_CLOSE) {
      server_release(s);
      maybe_finish_teardown(a);
    }
    return;
  }
  napi_open_handle_scope(env, &scope);
  napi_get_reference_value(env, s->obj, &recv);
  argv[0] = num_u32(env, ev->type);
  switch (ev->type) {
    case WSC_SERVER_REQUEST: {
      wsc_request_t *req = ev->request;
      napi_value ext;
      r = calloc(1, sizeof *r);
      if (r == NULL || napi_create_external(env, r, req_finalize, NULL, &ext) != napi_ok) {
        free(r);
        r = NULL;
        wsc_request_reject(req, 503, NULL, NULL, 0);
        napi_close_handle_scope(env, scope);
        return;
      }
      r->req = req;
      r->server = s;
      argv[1] = ext;
      argv[2] = str(env, wsc_request_method(req));
      argv[3] = str(env, wsc_request_target(req));
      argv[4] = request_headers(env, req);
      argv[5] = request_args_remote(env, req);
      argv[6] = boolean(env, wsc_request_is_secure(req));
      argv[7] = request_protocols(env, req);
      argc = 8;
      break;
    }
    case WSC_SERVER_CONNECTION: {
      conn_w *w = conn_new(a);
      if (w == NULL) {
        wsc_conn_terminate(ev->conn);
        napi_close_handle_scope(env, scope);
        return;
      }
      conn_link(a, w, ev->conn);
      wsc_conn_set_callback(ev->conn, on_conn, w);
      argv[1] = conn_external(env, w);
      {
        napi_ref ctx = s->accepting ? s->accepting : s->accepted_next;
        if (ctx == NULL || napi_get_reference_value(env, ctx, &argv[2]) != napi_ok) argv[2] = undef(env);
        if (!s->accepting && s->accepted_next) {
          napi_delete_reference(env, s->accepted_next);
          s->accepted_next = NULL;
        }
      }
      argc = 3;
      break;
    }
    case WSC_SERVER_CLIENT_ERROR:
      argv[1] = num_i32(env, ev->error);
      argv[2] = num_u32(env, ev->code);
      argv[3] = str(env, ev->message ? ev->message : wsc_strerror(ev->error));
      argv[4] = str(env, wsc_err_name(ev->error));
      argv[5] = ev->request ? request_args_remote(env, ev->request) : undef(env);
      argc = 6;
      break;
    case WSC_SERVER_ERROR:
      argv[1] = num_i32(env, ev->error);
      argv[2] = str(env, ev->message ? ev->message : wsc_strerror(ev->error));
      argv[3] = str(env, wsc_err_name(ev->error));
      argc = 4;
      break;
    case WSC_SERVER_REQUEST_CANCELLED:
      argc = 1;
      break;
    default:
      break;
  }
  call_js(env, s->actx, recv, a->server_dispatch, argc, argv);
  if (r != NULL) {  /* the request outlives the event only when deferred and undecided */
    if (!r->deferred || r->req == NULL) {
      r->req = NULL;
    } else {
      r->next = s->deferred;
      r->in_list = 1;
      s->deferred = r;
    }
  }
  napi_close_handle_scope(env, scope);
  if (ev->type == WSC_SERVER_CLOSE) server_release(s);
}

static server_w *arg_server(napi_env env, napi_value v, int need_open) {
  server_w *s = arg_external(env, v, "server");
  if (s == NULL) return NULL;
  if (need_open && s->srv == NULL) {
    napi_throw_error(env, "ERR_WSC_CLOSED", "the server's native handle is closed");
    return NULL;
  }
  return s;
}

/* serverNew(obj, opts) -> handle */
static napi_value js_server_new(napi_env env, napi_callback_info info) {
  addon *a = get_addon(env);
  strpool p = {{0}, 0};
  wsc_server_options_t o = WSC_SERVER_OPTIONS_INIT;
  wsc_conn_options_t co;
  wsc_deflate_options_t d;
  wsc_tls_options_t tls;
  napi_value v, ext = NULL;
  int has_deflate, rc;
  server_w *s;
  ARGS(2);
  if (a == NULL || a->loop == NULL) return throw_code(env, "ERR_WSC_SHUTDOWN", "the environment is shutting down");
  read_conn(env, argv[1], &co, &d, &has_deflate);
  o.conn = &co;
  o.flags = WSC_SERVER_HANDLE_REQUESTS;
  if (opt_bool(env, argv[1], "noServer", 0)) o.flags |= WSC_SERVER_NO_LISTEN;
  if (opt_bool(env, argv[1], "ipv6Only", 0)) o.flags |= WSC_SERVER_IPV6_ONLY;
  o.host = opt_str(env, &p, argv[1], "host");
  o.unix_path = opt_str(env, &p, argv[1], "unixPath");
  o.path = opt_str(env, &p, argv[1], "path");
  o.port = opt_u32(env, argv[1], "port", 0);
  o.backlog = (int32_t)opt_u32(env, argv[1], "backlog", 0);
  o.handshake_timeout_ms = opt_u32(env, argv[1], "handshakeTimeout", 0);
  o.max_header_bytes = opt_u32(env, argv[1], "maxHeaderSize", 0);
  if (prop(env, argv[1], "tls", &v)) {
    read_tls(env, &p, v, &tls);
    o.tls = &tls;
  }
  s = calloc(1, sizeof *s);
  if (s == NULL) {
    pool_free(&p);
    throw_wsc(env, WSC_ENOMEM);
    return NULL;
  }
  s->a = a;
  rc = bind_js(env, argv[0], "WebSocketServer", &s->obj, &s->actx) ? wsc_server_new(&s->srv, a->loop, &o, on_server, s)
                                                                    : WSC_ENOMEM;
  pool_free(&p);
  if (rc != 0) {
    s->external_gone = 1;  /* no handle was given out */
    server_release(s);
    throw_wsc(env, rc);
    return NULL;
  }
  s->next = a->servers;
  if (a->servers) a->servers->prev = s;
  a->servers = s;
  napi_create_external(env, s, server_finalize, NULL, &ext);
  return ext;
}

static napi_value js_server_address(napi_env env, napi_callback_info info) {
  server_w *s;
  wsc_addr_t addr;
  ARGS(1);
  if ((s = arg_server(env, argv[0], 0)) == NULL) return NULL;
  if (s->srv == NULL || wsc_server_address(s->srv, &addr) != 0) return undef(env);
  return addr_object(env, &addr);
}

/* serverClose(h, code, timeoutMs, flags) */
static napi_value js_server_close(napi_env env, napi_callback_info info) {
  server_w *s;
  ARGS(4);
  if ((s = arg_server(env, argv[0], 0)) == NULL) return NULL;
  if (s->srv) wsc_server_shutdown(s->srv, arg_u32(env, argv[1]), arg_u32(env, argv[2]), arg_u32(env, argv[3]));
  return NULL;
}

static napi_value js_server_count(napi_env env, napi_callback_info info) {
  server_w *s;
  ARGS(1);
  if ((s = arg_server(env, argv[0], 0)) == NULL) return NULL;
  return num_f64(env, s->srv ? (double)wsc_server_connection_count(s->srv) : 0);
}

static req_w *arg_req(napi_env env, napi_value v) {
  req_w *r = arg_external(env, v, "request");
  if (r == NULL) return NULL;
  if (r->req == NULL) {
    napi_throw_error(env, "ERR_WSC_CLOSED", "the upgrade request is no longer pending");
    return NULL;
  }
  return r;
}

/* Decided: a deferred request leaves its server's list (wsc frees it). */
static void req_decided(req_w *r) {
  if (r->in_list) req_forget(r->server, r); else r->req = NULL;
}

static int add_headers(napi_env env, wsc_request_t *req, napi_value arr) {
  strpool p = {{0}, 0};
  size_t n = 0;
  int rc = 0;
  napi_valuetype t;
  wsc_header_t *h;
  if (napi_typeof(env, arr, &t) != napi_ok || t != napi_object) return 0;
  h = opt_headers(env, &p, arr, &n);
  for (size_t i = 0; i < n && rc == 0; ++i) rc = wsc_request_add_header(req, h[i].name, h[i].value);
  free(h);
  pool_free(&p);
  return rc;
}

/* reqAccept(r, protocol|null, headers, context) -> rc: the CONNECTION event that follows carries
 * context. */
static napi_value js_req_accept(napi_env env, napi_callback_info info) {
  req_w *r;
  strpool p = {{0}, 0};
  napi_valuetype t;
  const char *proto = "";
  int rc;
  wsc_request_t *req;
  server_w *s;
  napi_ref ctx = NULL;
  ARGS(4);
  if ((r = arg_req(env, argv[0])) == NULL) return NULL;
  req = r->req;
  s = r->server;
  if (napi_typeof(env, argv[1], &t) == napi_ok && t == napi_string) proto = pool_str(env, &p, argv[1]);
  rc = add_headers(env, req, argv[2]);
  if (rc == 0) {
    int later = r->in_list; /* deferred past its event: the connection opens during the call */
    napi_ref prev = s->accepting;
    napi_create_reference(env, argv[3], 1, &ctx);
    req_decided(r);
    if (later) s->accepting = ctx;
    rc = wsc_request_accept(req, proto);
    if (later) {
      s->accepting = prev;
    } else if (rc == 0) { /* inside the REQUEST event: the connection follows the event */
      if (s->accepted_next) napi_delete_reference(env, s->accepted_next);
      s->accepted_next = ctx;
      ctx = NULL;
    }
  }
  if (ctx) napi_delete_reference(env, ctx);
  pool_free(&p);
  return num_i32(env, rc);
}

/* reqReject(r, status, reason|null, body, headers) -> rc */
static napi_value js_req_reject(napi_env env, napi_callback_info info) {
  req_w *r;
  strpool p = {{0}, 0};
  char stack[1024];
  const void *body = NULL;
  size_t len = 0;
  char *heap = NULL;
  napi_valuetype t;
  const char *reason = NULL;
  int rc;
  wsc_request_t *req;
  ARGS(5);
  if ((r = arg_req(env, argv[0])) == NULL) return NULL;
  req = r->req;
  if (napi_typeof(env, argv[2], &t) == napi_ok && t == napi_string) reason = pool_str(env, &p, argv[2]);
  if (!bytes_of(env, argv[3], stack, sizeof stack, &body, &len, &heap)) body = NULL, len = 0;
  rc = add_headers(env, req, argv[4]);
  if (rc == 0) {
    req_decided(r); /* before the call, which may free a deferred request */
    rc = wsc_request_reject(req, arg_u32(env, argv[1]), reason, body, len);
  }
  free(heap);
  pool_free(&p);
  return num_i32(env, rc);
}

static napi_value js_req_defer(napi_env env, napi_callback_info info) {
  req_w *r;
  int rc;
  ARGS(1);
  if ((r = arg_req(env, argv[0])) == NULL) return NULL;
  rc = wsc_request_defer(r->req);
  if (rc == 0) r->deferred = 1;
  return num_i32(env, rc);
}

/* The TLS connection a request came over (client certificate...), or undefined. */
static napi_value js_req_tls(napi_env env, napi_callback_info info) {
  req_w *r;
  wsc_tls_info_t t;
  napi_value o;
  ARGS(1);
  if ((r = arg_req(env, argv[0])) == NULL) return NULL;
  memset(&t, 0, sizeof t);
  t.size = sizeof t;
  if (wsc_request_tls_info(r->req, &t) != 0) return undef(env);
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "version", str(env, t.version));
  napi_set_named_property(env, o, "servername", str(env, t.servername));
  napi_set_named_property(env, o, "peerSubject", str(env, t.peer_subject));
  napi_set_named_property(env, o, "verifyResult", num_i32(env, t.verify_result));
  return o;
}

/* Reads an adopted request: (method, target, headers, head) from argv[k..k+3]. */
typedef struct adopt_args {
  strpool p;
  wsc_adopt_request_t req;
  wsc_header_t *headers;
} adopt_args;

static int read_adopt(napi_env env, napi_value *argv, adopt_args *aa) {
  const void *data = NULL;
  size_t len = 0;
  wsc_adopt_request_t init = WSC_ADOPT_REQUEST_INIT;
  memset(aa, 0, sizeof *aa);
  aa->req = init;
  aa->req.method = pool_str(env, &aa->p, argv[0]);
  aa->req.target = pool_str(env, &aa->p, argv[1]);
  aa->headers = opt_headers(env, &aa->p, argv[2], &aa->req.nheaders);
  aa->req.headers = aa->headers;
  if (u8_of(env, argv[3], &data, &len)) {
    aa->req.head = data;
    aa->req.head_len = len;
  }
  return aa->req.method != NULL && aa->req.target != NULL;
}

/* adoptFd(h, fd, method, target, headers, head) -> rc: fd is a dup the server now owns */
static napi_value js_adopt_fd(napi_env env, napi_callback_info info) {
  server_w *s;
  adopt_args aa;
  int fd, rc;
  ARGS(6);
  if ((s = arg_server(env, argv[0], 1)) == NULL) return NULL;
  fd = dup(arg_i32(env, argv[1]));
  if (fd < 0) return num_i32(env, WSC_EIO);
  if (!read_adopt(env, argv + 2, &aa)) {
    close(fd);
    rc = WSC_EINVAL;
  } else {
    rc = wsc_server_adopt(s->srv, fd, &aa.req);
  }
  free(aa.headers);
  pool_free(&aa.p);
  return num_i32(env, rc);
}

/* ---- transports: a Node stream (a TLS socket) carrying a wsc connection ---------------------- */

static void transport_finalize(napi_env env, void *data, void *hint) {
  transport_w *t = data;
  (void)env;
  (void)hint;
  if (t->conn == NULL && t->obj == NULL) free(t); else t->external_gone = 1;
}

static void transport_call(transport_w *t, const char *method, size_t argc, napi_value *argv) {
  napi_env env = t->a->env;
  napi_value obj, fn, result;
  if (t->obj == NULL || t->a->tearing_down) return;
  napi_get_reference_value(env, t->obj, &obj);
  if (napi_get_named_property(env, obj, method, &fn) != napi_ok) return;
  if (napi_make_callback(env, t->a->transport_ctx, obj, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value err;
    if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
  }
}

static int transport_write(wsc_conn_t *c, const wsc_buf_t *bufs, uint32_t nbufs, void *ud) {
  transport_w *t = ud;
  napi_env env = t->a->env;
  napi_handle_scope scope;
  napi_value buf;
  size_t total = 0;
  uint8_t *dst;
  (void)c;
  if (t->obj == NULL || t->a->tearing_down) return WSC_EIO;
  for (uint32_t i = 0; i < nbufs; ++i) total += bufs[i].len;
  napi_open_handle_scope(env, &scope);
  if (napi_create_buffer(env, total, (void **)&dst, &buf) != napi_ok) {
    napi_close_handle_scope(env, scope);
    return WSC_ENOMEM;
  }
  for (uint32_t i = 0; i < nbufs; ++i) {
    memcpy(dst, bufs[i].base, bufs[i].len);
    dst += bufs[i].len;
  }
  transport_call(t, "write", 1, &buf);
  napi_close_handle_scope(env, scope);
  return 0;
}

static void transport_shutdown(wsc_conn_t *c, void *ud) {
  transport_w *t = ud;
  napi_handle_scope scope;
  (void)c;
  napi_open_handle_scope(t->a->env, &scope);
  transport_call(t, "shutdown", 0, NULL);
  napi_close_handle_scope(t->a->env, scope);
}

static void transport_close(wsc_conn_t *c, void *ud) {
  transport_w *t = ud;
  napi_env env = t->a->env;
  napi_handle_scope scope;
  (void)c;
  t->conn = NULL;
  napi_open_handle_scope(env, &scope);
  transport_call(t, "close", 0, NULL);
  napi_close_handle_scope(env, scope);
  if (t->obj) {
    napi_delete_reference(env, t->obj);
    t->obj = NULL;
  }
  if (t->external_gone) free(t);
}

/* adoptTransport(h, transportObj, method, target, headers, head) -> transport handle */
static napi_value js_adopt_transport(napi_env env, napi_callback_info info) {
  server_w *s;
  adopt_args aa;
  transport_w *t;
  wsc_transport_t tr;
  wsc_conn_t *c = NULL;
  napi_value ext;
  int rc;
  ARGS(6);
  if ((s = arg_server(env, argv[0], 1)) == NULL) return NULL;
  t = calloc(1, sizeof *t);
  if (t == NULL) return throw_code(env, "ERR_WSC_NOMEM", "out of memory");
  t->a = s->a;
  napi_create_reference(env, argv[1], 1, &t->obj);
  if (napi_create_external(env, t, transport_finalize, NULL, &ext) != napi_ok) return NULL;
  memset(&tr, 0, sizeof tr);
  tr.size = sizeof tr;
  tr.write = transport_write;
  tr.shutdown = transport_shutdown;
  tr.close = transport_close;
  tr.transport_data = t;
  if (!read_adopt(env, argv + 2, &aa)) {
    rc = WSC_EINVAL;
  } else {
    t->conn = (wsc_conn_t *)1; /* set before any callback can run: the real one follows */
    rc = wsc_server_adopt_transport(s->srv, &c, &tr, &aa.req);
    if (t->conn != NULL) t->conn = rc == 0 ? c : NULL;
  }
  free(aa.headers);
  pool_free(&aa.p);
  if (rc != 0) {
    if (t->obj) {
      napi_delete_reference(env, t->obj);
      t->obj = NULL;
    }
    throw_wsc(env, rc);
    return NULL;
  }
  return ext;
}

static transport_w *arg_transport(napi_env env, napi_value v) { return arg_external(env, v, "transport"); }

/* feed(t, bytes|null): null is the end of the stream. Returns rc (WSC_ESTATE once done). */
static napi_value js_feed(napi_env env, napi_callback_info info) {
  transport_w *t;
  const void *data = NULL;
  size_t len = 0;
  ARGS(2);
  if ((t = arg_transport(env, argv[0])) == NULL) return NULL;
  if (t->conn == NULL) return num_i32(env, WSC_ESTATE);
  if (!u8_of(env, argv[1], &data, &len)) return num_i32(env, wsc_conn_feed_eof(t->conn));
  return num_i32(env, wsc_conn_feed(t->conn, data, len));
}

/* ---- module --------------------------------------------------------------------------- */

/* setDispatch(connFn|undefined, serverFn|undefined): the functions that receive events. */
static napi_value js_set_dispatch(napi_env env, napi_callback_info info) {
  addon *a = get_addon(env);
  napi_ref *slots[2] = {&a->conn_dispatch, &a->server_dispatch};
  ARGS(2);
  for (int i = 0; i < 2; ++i) {
    napi_valuetype t;
    if (napi_typeof(env, argv[i], &t) != napi_ok || t != napi_function) continue;
    if (*slots[i]) napi_delete_reference(env, *slots[i]);
    napi_create_reference(env, argv[i], 1, slots[i]);
  }
  return NULL;
}

static napi_value js_err_name(napi_env env, napi_callback_info info) {
  ARGS(1);
  return str(env, wsc_err_name(arg_i32(env, argv[0])));
}

static napi_value js_strerror(napi_env env, napi_callback_info info) {
  ARGS(1);
  return str(env, wsc_strerror(arg_i32(env, argv[0])));
}

static napi_value js_version(napi_env env, napi_callback_info info) {
  (void)info;
  return str(env, wsc_version_string());
}

/* handles() -> { connections, servers }: what this environment holds open (for tests). */
static napi_value js_handles(napi_env env, napi_callback_info info) {
  addon *a = get_addon(env);
  napi_value o;
  uint32_t nc = 0, ns = 0;
  (void)info;
  for (conn_w *w = a->conns; w; w = w->next) ++nc;
  for (server_w *s = a->servers; s; s = s->next) ++ns;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "connections", num_u32(env, nc));
  napi_set_named_property(env, o, "servers", num_u32(env, ns));
  napi_set_named_property(env, o, "loop", num_f64(env, a->loop ? (double)wsc_loop_handle_count(a->loop) : 0));
  return o;
}

static void on_cleanup(napi_async_cleanup_hook_handle handle, void *arg) {
  addon *a = arg;
  (void)handle;
  a->tearing_down = 1;
  for (conn_w *w = a->conns, *next; w; w = next) {
    next = w->next;
    if (w->conn) wsc_conn_terminate(w->conn);
  }
  for (server_w *s = a->servers, *next; s; s = next) {
    next = s->next;
    if (s->srv) wsc_server_shutdown(s->srv, 1001, 1, 0);
  }
  maybe_finish_teardown(a);
}

static void on_instance_gone(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  addon_unref(data);
}

static napi_value init(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"setDispatch", js_set_dispatch}, {"connect", js_connect}, {"send", js_send}, {"ping", js_ping},
      {"pong", js_pong}, {"close", js_close}, {"terminate", js_terminate}, {"pause", js_pause},
      {"bufferedAmount", js_buffered}, {"readyState", js_ready_state}, {"info", js_info},
      {"setNoDelay", js_set_nodelay}, {"setRequestHeader", js_set_request_header}, {"bind", js_bind},
      {"serverNew", js_server_new}, {"serverAddress", js_server_address}, {"serverClose", js_server_close},
      {"serverConnectionCount", js_server_count}, {"reqAccept", js_req_accept}, {"reqReject", js_req_reject},
      {"reqDefer", js_req_defer}, {"reqTls", js_req_tls}, {"adoptFd", js_adopt_fd},
      {"adoptTransport", js_adopt_transport}, {"feed", js_feed}, {"errName", js_err_name},
      {"strerror", js_strerror}, {"version", js_version}, {"handles", js_handles},
  };
  struct uv_loop_s *uv;
  addon *a;
  napi_value name;
  int rc;
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; ++i) {
    napi_value f;
    CHECK(napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f));
    CHECK(napi_set_named_property(env, exports, fns[i].name, f));
  }
  a = calloc(1, sizeof *a);
  if (a == NULL) return throw_code(env, "ERR_WSC_NOMEM", "out of memory");
  a->env = env;
  a->refs = 2;
  CHECK(napi_get_uv_event_loop(env, &uv));
  if ((rc = wsc_loop_new(&a->loop, uv)) != 0) {
    free(a);
    throw_wsc(env, rc);
    return NULL;
  }
  uv_idle_init(uv, &a->sentinel);
  a->sentinel.data = a;
  napi_create_string_utf8(env, "wsc:transport", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &a->transport_ctx);
  CHECK(napi_set_instance_data(env, a, on_instance_gone, NULL));
  CHECK(napi_add_async_cleanup_hook(env, on_cleanup, a, &a->cleanup));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

/* wsc serve and wsc connect: a server and a client on the wsc C API. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <wsc/wsc.h>

/* ---- shared: stop on SIGINT / SIGTERM ---- */

typedef void (*stop_fn)(void *ctx);

typedef struct {
  uv_signal_t sigint, sigterm;
  stop_fn stop;
  void *ctx;
} signals_t;

static void on_signal(uv_signal_t *h, int signum) {
  signals_t *s = (signals_t *)h->data;
  (void)signum;
  uv_signal_stop(&s->sigint);
  uv_signal_stop(&s->sigterm);
  s->stop(s->ctx);
}

static void signals_start(signals_t *s, wsc_loop_t *loop, stop_fn stop, void *ctx) {
  uv_loop_t *uv = (uv_loop_t *)wsc_loop_uv(loop);
  s->stop = stop;
  s->ctx = ctx;
  uv_signal_init(uv, &s->sigint);
  uv_signal_init(uv, &s->sigterm);
  s->sigint.data = s->sigterm.data = s;
  uv_signal_start(&s->sigint, on_signal, SIGINT);
  uv_signal_start(&s->sigterm, on_signal, SIGTERM);
}

static void signals_close(signals_t *s) {
  uv_close((uv_handle_t *)&s->sigint, NULL);
  uv_close((uv_handle_t *)&s->sigterm, NULL);
}

/* ---- permessage-deflate options: --deflate[=PARAMS], PARAMS a comma list of
 *      server_no_context_takeover, client_no_context_takeover, server_max_window_bits=N,
 *      client_max_window_bits=N, level=N, mem_level=N, threshold=N ---- */

static int parse_deflate(const char *arg, wsc_deflate_options_t *d) {
  char buf[256];
  char *item, *save = NULL;
  if (strncmp(arg, "--deflate", 9) != 0) return 0;
  wsc_deflate_options_init(d, sizeof *d);
  if (arg[9] == '\0') return 1;
  if (arg[9] != '=' || strlen(arg + 10) >= sizeof buf) return -1;
  strcpy(buf, arg + 10);
  for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(item, '=');
    long v = eq ? strtol(eq + 1, NULL, 10) : 0;
    if (eq) *eq = '\0';
    if (strcmp(item, "server_no_context_takeover") == 0) d->flags |= WSC_DEFLATE_SERVER_NO_CONTEXT_TAKEOVER;
    else if (strcmp(item, "client_no_context_takeover") == 0) d->flags |= WSC_DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER;
    else if (strcmp(item, "server_max_window_bits") == 0 && eq) d->server_max_window_bits = (uint32_t)v;
    else if (strcmp(item, "client_max_window_bits") == 0 && eq) d->client_max_window_bits = (uint32_t)v;
    else if (strcmp(item, "level") == 0 && eq) d->level = (int32_t)v;
    else if (strcmp(item, "mem_level") == 0 && eq) d->mem_level = (uint32_t)v;
    else if (strcmp(item, "threshold") == 0 && eq) d->threshold = (uint64_t)v;
    else return -1;
  }
  return 1;
}

/* ---- wsc serve ---- */

typedef struct {
  wsc_server_t *server;
  int broadcast;
  int secure;
  uint64_t connections, messages_in, messages_out, bytes_in;
  signals_t signals;
  int closed;
} serve_t;

typedef struct {
  serve_t *app;
  const wsc_conn_event_t *ev;
  wsc_conn_t *from;
} fanout_t;

static int broadcast_one(wsc_conn_t *conn, void *user_data) {
  fanout_t *f = (fanout_t *)user_data;
  if (conn != f->from && wsc_conn_send(conn, f->ev->opcode, f->ev->data, f->ev->len, 0, NULL, NULL) >= 0)
    f->app->messages_out++;
  return 0;
}

static void on_server_conn(wsc_conn_t *conn, const wsc_conn_event_t *ev, void *user_data) {
  serve_t *app = (serve_t *)user_data;
  if (ev->type == WSC_EV_MESSAGE) {
    app->messages_in++;
    app->bytes_in += ev->len;
    if (app->broadcast) {
      fanout_t f;
      f.app = app;
      f.ev = ev;
      f.from = conn;
      wsc_server_walk(app->server, broadcast_one, &f);
    } else if (wsc_conn_send(conn, ev->opcode, ev->data, ev->len, 0, NULL, NULL) >= 0) {
      app->messages_out++;
    }
  } else if (ev->type == WSC_EV_ERROR) {
    fprintf(stderr, "wsc serve: connection %llu: %s\n", (unsigned long long)wsc_conn_id(conn), ev->message);
  }
}

static void on_server(wsc_server_t *server, const wsc_server_event_t *ev, void *user_data) {
  serve_t *app = (serve_t *)user_data;
  wsc_addr_t a;
  switch (ev->type) {
    case WSC_SERVER_LISTENING:
      wsc_server_address(server, &a);
      if (a.family == 0)
        printf("wsc serve: listening on ws+unix://%s\n", a.address);
      else
        printf("wsc serve: listening on %s://%s%s%s:%u/ (%s)\n", app->secure ? "wss" : "ws", a.family == 6 ? "[" : "", a.address,
               a.family == 6 ? "]" : "", a.port, app->broadcast ? "broadcast" : "echo");
      fflush(stdout);
      break;
    case WSC_SERVER_CONNECTION:
      app->connections++;
      if (*wsc_conn_extensions(ev->conn)) fprintf(stderr, "wsc serve: extensions: %s\n", wsc_conn_extensions(ev->conn));
      wsc_conn_set_callback(ev->conn, on_server_conn, app);
      break;
    case WSC_SERVER_CLIENT_ERROR:
      if (ev->code)
        fprintf(stderr, "wsc serve: refused a request (%u): %s\n", ev->code, ev->message);
      else
        fprintf(stderr, "wsc serve: a client failed: %s: %s\n", wsc_err_name(ev->error), ev->message);
      break;
    case WSC_SERVER_ERROR:
      fprintf(stderr, "wsc serve: %s\n", ev->message);
      break;
    case WSC_SERVER_CLOSE:
      app->closed = 1;
      break;
    default:
      break;
  }
}

static void serve_stop(void *ctx) {
  serve_t *app = (serve_t *)ctx;
  signals_close(&app->signals);
  wsc_server_close(app->server, WSC_CLOSE_GOING_AWAY);
}

int net_serve(int argc, char **argv) {
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  wsc_deflate_options_t deflate;
  wsc_tls_options_t tls = WSC_TLS_OPTIONS_INIT;
  wsc_loop_t *loop;
  serve_t app;
  int i, rc, d;
  memset(&app, 0, sizeof app);
  so.port = 8080;
  so.host = "127.0.0.1";
  for (i = 0; i < argc; ++i) {
    if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
      so.host = argv[++i];
    } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      so.port = (uint32_t)atoi(argv[++i]);
    } else if (strcmp(argv[i], "--unix") == 0 && i + 1 < argc) {
      so.unix_path = argv[++i];
    } else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc) {
      tls.cert_file = argv[++i];
      so.tls = &tls;
    } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
      tls.key_file = argv[++i];
      so.tls = &tls;
    } else if (strcmp(argv[i], "--echo") == 0) {
      app.broadcast = 0;
    } else if (strcmp(argv[i], "--broadcast") == 0) {
      app.broadcast = 1;
    } else if ((d = parse_deflate(argv[i], &deflate)) != 0) {
      if (d < 0) return fprintf(stderr, "wsc serve: bad %s\n", argv[i]), 2;
      co.deflate = &deflate;
      so.conn = &co;
    } else {
      fprintf(stderr, "usage: wsc serve [--host H] [--port 8080] [--unix PATH] [--cert FILE --key FILE] [--echo | --broadcast]\n"
                      "                 [--deflate[=PARAMS]]\n");
      return 2;
    }
  }
  if ((rc = wsc_loop_new(&loop, NULL)) != 0) return fprintf(stderr, "wsc: %s\n", wsc_strerror(rc)), 1;
  app.secure = so.tls != NULL;
  if ((rc = wsc_server_new(&app.server, loop, &so, on_server, &app)) != 0) {
    fprintf(stderr, "wsc serve: cannot listen: %s%s%s\n", wsc_strerror(rc), *wsc_last_error_message() ? ": " : "",
            wsc_last_error_message());
    wsc_loop_free(loop);
    return 1;
  }
  signals_start(&app.signals, loop, serve_stop, &app);
  wsc_loop_run(loop, WSC_RUN_DEFAULT);
  fprintf(stderr, "wsc serve: %llu connections, %llu messages in (%llu bytes), %llu messages out\n",
          (unsigned long long)app.connections, (unsigned long long)app.messages_in, (unsigned long long)app.bytes_in,
          (unsigned long long)app.messages_out);
  rc = wsc_loop_free(loop);
  return app.closed && rc == 0 ? 0 : 1;
}

/* ---- wsc connect ---- */

typedef struct {
  wsc_conn_t *conn;
  uv_pipe_t stdin_pipe;
  int stdin_open;
  char *line;
  size_t line_len, line_cap;
  signals_t signals;
  int failed;
  uint32_t close_code;
  wsc_conn_stats_t stats;
} connect_t;

static void stdin_close(connect_t *app) {
  if (!app->stdin_open) return;
  app->stdin_open = 0;
  uv_close((uv_handle_t *)&app->stdin_pipe, NULL);
}

static void send_line(connect_t *app) {
  if (wsc_conn_send(app->conn, WSC_OP_TEXT, app->line, app->line_len, 0, NULL, NULL) < 0)
    fprintf(stderr, "wsc connect: not sent (connection not open)\n");
  app->line_len = 0;
}

static void on_stdin_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  static char storage[65536];
  (void)h;
  (void)size;
  buf->base = storage;
  buf->len = sizeof storage;
}

static void on_stdin(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  connect_t *app = (connect_t *)s->data;
  ssize_t i;
  if (n < 0) {  /* end of input: finish the last line and close */
    if (app->line_len > 0) send_line(app);
    stdin_close(app);
    wsc_conn_close(app->conn, WSC_CLOSE_NORMAL, NULL, 0);
    return;
  }
  for (i = 0; i < n; ++i) {
    if (buf->base[i] == '\n') {
      send_line(app);
      continue;
    }
    if (app->line_len + 1 > app->line_cap) {
      size_t cap = app->line_cap ? app->line_cap * 2 : 256;
      char *p = (char *)realloc(app->line, cap);
      if (!p) exit(1);
      app->line = p;
      app->line_cap = cap;
    }
    app->line[app->line_len++] = buf->base[i];
  }
}

static void on_client(wsc_conn_t *conn, const wsc_conn_event_t *ev, void *user_data) {
  connect_t *app = (connect_t *)user_data;
  switch (ev->type) {
    case WSC_EV_OPEN:
      fprintf(stderr, "wsc connect: connected to %s%s%s%s%s\n", wsc_conn_url(conn), *wsc_conn_protocol(conn) ? " as " : "",
              wsc_conn_protocol(conn), *wsc_conn_extensions(conn) ? " with " : "", wsc_conn_extensions(conn));
      if (uv_pipe_init((uv_loop_t *)wsc_loop_uv(wsc_conn_loop(conn)), &app->stdin_pipe, 0) == 0 &&
          uv_pipe_open(&app->stdin_pipe, 0) == 0) {
        app->stdin_open = 1;
        app->stdin_pipe.data = app;
        uv_read_start((uv_stream_t *)&app->stdin_pipe, on_stdin_alloc, on_stdin);
      }
      break;
    case WSC_EV_MESSAGE:
      fwrite(ev->data, 1, ev->len, stdout);
      fputc('\n', stdout);
      fflush(stdout);
      break;
    case WSC_EV_UNEXPECTED_RESPONSE:
      fprintf(stderr, "wsc connect: the server answered %u\n", ev->code);
      break;
    case WSC_EV_ERROR:
      fprintf(stderr, "wsc connect: %s (%s)\n", ev->message, wsc_err_name(ev->error));
      app->failed = 1;
      break;
    case WSC_EV_CLOSE:
      app->close_code = ev->code;
      app->stats.size = sizeof app->stats;
      wsc_conn_stats(conn, &app->stats);
      fprintf(stderr, "wsc connect: closed %u%s%.*s (%s)\n", ev->code, ev->len ? " " : "", (int)ev->len,
              (const char *)ev->data, ev->was_clean ? "clean" : "not clean");
      stdin_close(app);
      signals_close(&app->signals);
      break;
    default:
      break;
  }
}

static void connect_stop(void *ctx) {
  connect_t *app = (connect_t *)ctx;
  stdin_close(app);
  if (wsc_conn_close(app->conn, WSC_CLOSE_GOING_AWAY, NULL, 0) != 0) wsc_conn_terminate(app->conn);
}

int net_connect(int argc, char **argv) {
  wsc_loop_t *loop;
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  wsc_deflate_options_t deflate;
  wsc_tls_options_t tls = WSC_TLS_OPTIONS_INIT;
  connect_t app;
  const char *url = NULL;
  int rc, i, d;
  memset(&app, 0, sizeof app);
  wsc_deflate_options_init(&deflate, sizeof deflate);
  deflate.flags = WSC_DEFLATE_DISABLE;  /* offered only with --deflate */
  for (i = 0; i < argc; ++i) {
    if ((d = parse_deflate(argv[i], &deflate)) < 0) return fprintf(stderr, "wsc connect: bad %s\n", argv[i]), 2;
    if (d != 0) continue;
    if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc) {
      tls.ca_file = argv[++i];
    } else if (strcmp(argv[i], "--insecure") == 0) {
      tls.flags |= WSC_TLS_INSECURE_SKIP_VERIFY;
    } else if (url || argv[i][0] == '-') {
      url = NULL;
      break;
    } else {
      url = argv[i];
    }
  }
  if (!url) return fprintf(stderr, "usage: wsc connect [--deflate[=PARAMS]] [--ca FILE] [--insecure] URL\n"), 2;
  o.tls = &tls;
  co.deflate = &deflate;
  o.conn = &co;
  if ((rc = wsc_loop_new(&loop, NULL)) != 0) return fprintf(stderr, "wsc: %s\n", wsc_strerror(rc)), 1;
  if ((rc = wsc_connect(&app.conn, loop, url, &o, on_client, &app)) != 0) {
    fprintf(stderr, "wsc connect: %s: %s%s%s\n", url, wsc_strerror(rc), *wsc_last_error_message() ? ": " : "",
            wsc_last_error_message());
    wsc_loop_free(loop);
    return 2;
  }
  signals_start(&app.signals, loop, connect_stop, &app);
  wsc_loop_run(loop, WSC_RUN_DEFAULT);
  fprintf(stderr, "wsc connect: %llu messages out, %llu in; %llu bytes out, %llu in\n",
          (unsigned long long)app.stats.messages_out, (unsigned long long)app.stats.messages_in,
          (unsigned long long)app.stats.bytes_out, (unsigned long long)app.stats.bytes_in);
  free(app.line);
  rc = wsc_loop_free(loop);
  return app.failed || rc != 0 ? 1 : 0;
}

/* wsc echo server for the benchmark kit (bench/README.md): listens on 127.0.0.1, prints
 * "PORT n", echoes every message as it came (text or binary), and exits when stdin closes.
 *   wsc_echo [PORT] [--cert FILE --key FILE]     (with a certificate: wss://) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "wsc/wsc.h"

static void on_conn(wsc_conn_t *conn, const wsc_conn_event_t *ev, void *user_data) {
  (void)user_data;
  if (ev->type == WSC_EV_MESSAGE) wsc_conn_send(conn, ev->opcode, ev->data, ev->len, 0, NULL, NULL);
}

static void on_server(wsc_server_t *server, const wsc_server_event_t *ev, void *user_data) {
  (void)user_data;
  if (ev->type == WSC_SERVER_CONNECTION) {
    wsc_conn_set_callback(ev->conn, on_conn, NULL);
  } else if (ev->type == WSC_SERVER_LISTENING) {
    wsc_addr_t addr;
    if (wsc_server_address(server, &addr) == 0) printf("PORT %u\n", (unsigned)addr.port);
    fflush(stdout);
  }
}

static void on_stdin(uv_poll_t *h, int status, int events) {
  char buf[256];
  (void)status;
  (void)events;
  if (read(0, buf, sizeof buf) <= 0) _exit(0);
  (void)h;
}

int main(int argc, char **argv) {
  wsc_loop_t *loop;
  wsc_server_t *server;
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  wsc_tls_options_t tls = WSC_TLS_OPTIONS_INIT;
  uv_poll_t in;
  int rc, i;
  so.host = "127.0.0.1";
  for (i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc) {
      tls.cert_file = argv[++i];
      so.tls = &tls;
    } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
      tls.key_file = argv[++i];
      so.tls = &tls;
    } else {
      so.port = (uint32_t)atoi(argv[i]);
    }
  }
  so.backlog = 4096;
  so.conn = &co;
  co.max_buffered = 0; /* the load generator bounds what is in flight */
  if ((rc = wsc_loop_new(&loop, NULL)) != 0 || (rc = wsc_server_new(&server, loop, &so, on_server, NULL)) != 0) {
    fprintf(stderr, "wsc_echo: %s %s\n", wsc_strerror(rc), wsc_last_error_message());
    return 1;
  }
  uv_poll_init(wsc_loop_uv(loop), &in, 0);
  uv_poll_start(&in, UV_READABLE | UV_DISCONNECT, on_stdin);
  uv_unref((uv_handle_t *)&in);
  wsc_loop_run(loop, WSC_RUN_DEFAULT);
  return 0;
}

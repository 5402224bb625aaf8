/* Autobahn|Testsuite testees on the wsc library (server and client over libuv):
 *   testee server PORT     echo server on 127.0.0.1:PORT (wstest fuzzingclient)
 *   testee client          reads AUTOBAHN_URL and AUTOBAHN_AGENT (wstest fuzzingserver) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wsc/wsc.h>

static void on_echo(wsc_conn_t *conn, const wsc_conn_event_t *ev, void *user_data) {
  (void)user_data;
  if (ev->type == WSC_EV_MESSAGE) wsc_conn_send(conn, ev->opcode, ev->data, ev->len, 0, NULL, NULL);
}

static void on_server(wsc_server_t *server, const wsc_server_event_t *ev, void *user_data) {
  (void)server;
  (void)user_data;
  if (ev->type == WSC_SERVER_CONNECTION) wsc_conn_set_callback(ev->conn, on_echo, NULL);
}

static int run_server(int port) {
  wsc_loop_t *loop;
  wsc_server_t *server;
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  wsc_deflate_options_t deflate = WSC_DEFLATE_OPTIONS_INIT; /* the server accepts permessage-deflate */
  co.max_message_size = 64u * 1024 * 1024;
  co.deflate = &deflate;
  so.host = "127.0.0.1";
  so.port = (uint32_t)port;
  so.conn = &co;
  if (wsc_loop_new(&loop, NULL) != 0 || wsc_server_new(&server, loop, &so, on_server, NULL) != 0) return 1;
  fprintf(stderr, "testee: echo server on ws://127.0.0.1:%d\n", port);
  wsc_loop_run(loop, WSC_RUN_DEFAULT);
  return 0;
}

typedef struct {
  wsc_loop_t *loop;
  const char *base;
  const char *agent;
  int count, next;
  int done;
} client_t;

static void next_session(client_t *c);

static void on_client(wsc_conn_t *conn, const wsc_conn_event_t *ev, void *user_data) {
  client_t *c = (client_t *)user_data;
  if (ev->type == WSC_EV_MESSAGE) {
    if (c->next == 0) {
      char text[32];
      size_t n = ev->len < sizeof text - 1 ? ev->len : sizeof text - 1;
      memcpy(text, ev->data, n);
      text[n] = '\0';
      c->count = atoi(text);
    } else {
      wsc_conn_send(conn, ev->opcode, ev->data, ev->len, 0, NULL, NULL);
    }
  } else if (ev->type == WSC_EV_CLOSE) {
    c->next++;
    next_session(c);
  }
}

static void next_session(client_t *c) {
  char url[512];
  wsc_conn_t *conn;
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  co.max_message_size = 64u * 1024 * 1024;
  o.conn = &co;
  if (c->next == 0)
    snprintf(url, sizeof url, "%s/getCaseCount", c->base);
  else if (c->next <= c->count)
    snprintf(url, sizeof url, "%s/runCase?case=%d&agent=%s", c->base, c->next, c->agent);
  else if (!c->done) {
    c->done = 1;
    snprintf(url, sizeof url, "%s/updateReports?agent=%s", c->base, c->agent);
  } else
    return;
  if (wsc_connect(&conn, c->loop, url, &o, on_client, c) != 0) fprintf(stderr, "testee: cannot connect to %s\n", url);
}

static int run_client(void) {
  client_t c;
  memset(&c, 0, sizeof c);
  c.base = getenv("AUTOBAHN_URL");
  c.agent = getenv("AUTOBAHN_AGENT");
  if (!c.base || !c.agent) return fprintf(stderr, "AUTOBAHN_URL and AUTOBAHN_AGENT must be set\n"), 2;
  if (wsc_loop_new(&c.loop, NULL) != 0) return 1;
  next_session(&c);
  wsc_loop_run(c.loop, WSC_RUN_DEFAULT);
  fprintf(stderr, "testee: ran %d cases\n", c.count);
  return wsc_loop_free(c.loop) == 0 && c.count > 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "server") == 0) return run_server(atoi(argv[2]));
  if (argc == 2 && strcmp(argv[1], "client") == 0) return run_client();
  fprintf(stderr, "usage: testee server PORT | testee client\n");
  return 2;
}

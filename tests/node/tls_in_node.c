/* wss:// inside Node: libwsc loaded by a Node addon, on Node's own libuv loop, where the OpenSSL
 * symbols libwsc calls resolve to Node's copy of OpenSSL. A wsc TLS server and two wsc clients in
 * the Node process: one trusts the test CA and exchanges a message by host name (SNI, host name
 * check); one has only the system store (found from Node's OpenSSL too) and must be refused.
 * tls_in_node.js drives it: run(certDir) starts, poll() returns "" until the outcome is known. */
#include <node_api.h>
#include <stdio.h>
#include <string.h>

#include "wsc/wsc.h"

static wsc_loop_t *loop;
static wsc_server_t *server;
static char cert_dir[512], paths[3][600];
static char outcome[512];
static int trusted_done, untrusted_done, server_closed;
static char trusted_result[256], untrusted_result[256];

static void finish_if_done(void) {
  if (trusted_done && untrusted_done && server == NULL && server_closed && outcome[0] == 0) {
    if (wsc_loop_handle_count(loop) != 0) return;
    int rc = wsc_loop_free(loop);
    snprintf(outcome, sizeof outcome, "%s | %s | loop freed: %s", trusted_result, untrusted_result,
             rc == 0 ? "yes" : wsc_err_name(rc));
  }
}

static void on_server(wsc_server_t *s, const wsc_server_event_t *ev, void *ud);

/* A client's close: its code goes after its result; once both clients are done, the server closes. */
static void client_closed(char *result, size_t cap, uint32_t code, int *done) {
  size_t n = strlen(result);
  snprintf(result + n, cap - n, ", closed %u", code);
  *done = 1;
  if (trusted_done && untrusted_done && server) {
    wsc_server_close(server, 1001);
    server = NULL;
  }
}

static void on_trusted(wsc_conn_t *c, const wsc_conn_event_t *ev, void *ud) {
  (void)ud;
  if (ev->type == WSC_EV_OPEN) {
    wsc_conn_send(c, WSC_OP_TEXT, "hello from node", 15, 0, NULL, NULL);
  } else if (ev->type == WSC_EV_MESSAGE) {
    wsc_tls_info_t info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    wsc_conn_tls_info(c, &info);
    snprintf(trusted_result, sizeof trusted_result, "echo \"%.*s\" over %s, verify %d, peer %s", (int)ev->len,
             (const char *)ev->data, info.version, info.verify_result, info.peer_subject);
    wsc_conn_close(c, 1000, NULL, 0);
  } else if (ev->type == WSC_EV_ERROR) {
    snprintf(trusted_result, sizeof trusted_result, "trusted client failed: %s %s", wsc_err_name(ev->error),
             ev->message);
  } else if (ev->type == WSC_EV_CLOSE) {
    client_closed(trusted_result, sizeof trusted_result, ev->code, &trusted_done);
  }
}

static void on_untrusted(wsc_conn_t *c, const wsc_conn_event_t *ev, void *ud) {
  (void)c;
  (void)ud;
  if (ev->type == WSC_EV_ERROR) {
    snprintf(untrusted_result, sizeof untrusted_result, "system store: %s", wsc_err_name(ev->error));
  } else if (ev->type == WSC_EV_OPEN) {
    snprintf(untrusted_result, sizeof untrusted_result, "system store: accepted the test CA");
  } else if (ev->type == WSC_EV_CLOSE) {
    client_closed(untrusted_result, sizeof untrusted_result, ev->code, &untrusted_done);
  }
}

static void on_server_conn(wsc_conn_t *c, const wsc_conn_event_t *ev, void *ud) {
  (void)ud;
  if (ev->type == WSC_EV_MESSAGE) wsc_conn_send(c, ev->opcode, ev->data, ev->len, 0, NULL, NULL);
}

static void on_server(wsc_server_t *s, const wsc_server_event_t *ev, void *ud) {
  (void)ud;
  if (ev->type == WSC_SERVER_CONNECTION) {
    wsc_conn_set_callback(ev->conn, on_server_conn, NULL);
  } else if (ev->type == WSC_SERVER_LISTENING) {
    wsc_addr_t a;
    char url[128];
    wsc_conn_t *c;
    wsc_tls_options_t trust = WSC_TLS_OPTIONS_INIT;
    wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
    int rc;
    wsc_server_address(s, &a);
    snprintf(url, sizeof url, "wss://localhost:%u/", a.port);
    trust.ca_file = paths[2];
    o.tls = &trust;
    if ((rc = wsc_connect(&c, loop, url, &o, on_trusted, NULL)) != 0) {
      snprintf(outcome, sizeof outcome, "connect: %s", wsc_err_name(rc));
      return;
    }
    if ((rc = wsc_connect(&c, loop, url, NULL, on_untrusted, NULL)) != 0)
      snprintf(outcome, sizeof outcome, "connect: %s", wsc_err_name(rc));
  } else if (ev->type == WSC_SERVER_CLOSE) {
    server_closed = 1;
  }
}

static napi_value run(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  size_t len = 0;
  struct uv_loop_s *uv;
  wsc_tls_options_t tls = WSC_TLS_OPTIONS_INIT;
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  int rc;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_get_value_string_utf8(env, argv[0], cert_dir, sizeof cert_dir, &len);
  snprintf(paths[0], sizeof paths[0], "%s/server.pem", cert_dir);
  snprintf(paths[1], sizeof paths[1], "%s/server.key", cert_dir);
  snprintf(paths[2], sizeof paths[2], "%s/ca.pem", cert_dir);
  napi_get_uv_event_loop(env, &uv);
  if ((rc = wsc_loop_new(&loop, uv)) != 0) {
    snprintf(outcome, sizeof outcome, "wsc_loop_new: %s", wsc_err_name(rc));
    return NULL;
  }
  tls.cert_file = paths[0];
  tls.key_file = paths[1];
  so.host = "127.0.0.1";
  so.tls = &tls;
  if ((rc = wsc_server_new(&server, loop, &so, on_server, NULL)) != 0)
    snprintf(outcome, sizeof outcome, "wsc_server_new: %s %s", wsc_err_name(rc), wsc_last_error_message());
  return NULL;
}

static napi_value poll_outcome(napi_env env, napi_callback_info info) {
  napi_value s;
  (void)info;
  finish_if_done();
  napi_create_string_utf8(env, outcome, NAPI_AUTO_LENGTH, &s);
  return s;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value f;
  napi_create_function(env, "run", NAPI_AUTO_LENGTH, run, NULL, &f);
  napi_set_named_property(env, exports, "run", f);
  napi_create_function(env, "poll", NAPI_AUTO_LENGTH, poll_outcome, NULL, &f);
  napi_set_named_property(env, exports, "poll", f);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

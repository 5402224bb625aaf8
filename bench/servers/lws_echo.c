/* libwebsockets (Debian's) echo server for the benchmark kit, on lws' default poll() event
 * loop: listens on 127.0.0.1, prints "PORT n", echoes every message fragment by fragment with
 * its opcode, and exits when stdin closes. */
#include <libwebsockets.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct chunk {
  struct chunk *next;
  size_t len;
  int flags; /* lws_write_ws_flags() */
  unsigned char data[];  /* LWS_PRE bytes of head room, then the payload */
};

struct session {
  struct chunk *head, *tail;
  int binary;
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  struct session *s = user;
  switch (reason) {
    case LWS_CALLBACK_RECEIVE: {
      struct chunk *c = malloc(sizeof *c + LWS_PRE + len);
      if (c == NULL) return -1;
      int first = lws_is_first_fragment(wsi), last = lws_is_final_fragment(wsi);
      if (first) s->binary = lws_frame_is_binary(wsi);
      c->next = NULL;
      c->len = len;
      c->flags = lws_write_ws_flags(s->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT, first, last);
      memcpy(c->data + LWS_PRE, in, len);
      if (s->tail) s->tail->next = c; else s->head = c;
      s->tail = c;
      lws_callback_on_writable(wsi);
      break;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
      while (s->head != NULL) {
        struct chunk *c = s->head;
        if (lws_write(wsi, c->data + LWS_PRE, c->len, (enum lws_write_protocol)c->flags) < (int)c->len) return -1;
        s->head = c->next;
        if (s->head == NULL) s->tail = NULL;
        free(c);
        if (lws_send_pipe_choked(wsi)) {
          if (s->head) lws_callback_on_writable(wsi);
          break;
        }
      }
      break;
    case LWS_CALLBACK_CLOSED:
      while (s->head) {
        struct chunk *c = s->head;
        s->head = c->next;
        free(c);
      }
      s->tail = NULL;
      break;
    default:
      break;
  }
  return 0;
}

static struct lws_protocols protocols[] = {
    {"echo", callback, sizeof(struct session), 64 * 1024, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

int main(int argc, char **argv) {
  struct lws_context_creation_info info;
  int port = argc > 1 ? atoi(argv[1]) : 0;
  lws_set_log_level(LLL_ERR, NULL);
  memset(&info, 0, sizeof info);
  info.port = port ? port : 40000 + (getpid() % 20000);
  info.iface = "127.0.0.1";
  info.protocols = protocols;
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 * 0;
  info.count_threads = 1;
  info.fd_limit_per_thread = 30000;
  info.pt_serv_buf_size = 64 * 1024;
  struct lws_context *ctx = lws_create_context(&info);
  if (ctx == NULL) return 1;
  printf("PORT %d\n", info.port);
  fflush(stdout);
  for (;;) {
    struct pollfd in = {0, POLLIN, 0};
    if (poll(&in, 1, 0) == 1) {
      char b[64];
      if (read(0, b, sizeof b) <= 0) break;
    }
    if (lws_service(ctx, 0) < 0) break;
  }
  lws_context_destroy(ctx);
  return 0;
}

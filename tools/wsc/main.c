/* wsc: the command-line tool.
 *   wsc serve [--host H] [--port 8080] [--unix PATH] [--echo | --broadcast] [--deflate[=PARAMS]]
 *   wsc connect [--deflate[=PARAMS]] URL   stdin lines become messages; messages go to stdout
 *   wsc demo                      the protocol engine offline: frames, parsing, a hostile frame
 *   wsc encode [opts] OPCODE TEXT one frame as hex (opts: --mask, --key HEX8, --more, --rsv1)
 *   wsc decode [opts] HEX...      frames to events (opts: --client, --server, --no-assemble)
 *   wsc version
 * It uses wsc's public C API, and libuv for signals and stdin on the loop wsc runs on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wsc/wsc.h>

static const char *opcode_name(uint32_t op) {
  switch (op) {
    case WSC_OP_CONTINUATION: return "continuation";
    case WSC_OP_TEXT: return "text";
    case WSC_OP_BINARY: return "binary";
    case WSC_OP_CLOSE: return "close";
    case WSC_OP_PING: return "ping";
    case WSC_OP_PONG: return "pong";
    default: return "?";
  }
}

static void print_payload(const uint8_t *p, size_t n) {
  size_t i, shown = n > 48 ? 48 : n;
  putchar('"');
  for (i = 0; i < shown; ++i) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
      putchar(p[i]);
    else
      printf("\\x%02x", p[i]);
  }
  putchar('"');
  if (shown < n) printf("... (%zu bytes)", n);
}

static void print_hex(const uint8_t *p, size_t n, size_t max) {
  size_t i;
  for (i = 0; i < n && i < max; ++i) printf("%s%02x", i ? " " : "", p[i]);
  if (n > max) printf(" ... (%zu bytes)", n);
}

/* ---- parser events ---- */

static void on_event(wsc_parser_t *parser, const wsc_parser_event_t *ev, void *user_data) {
  (void)parser;
  (void)user_data;
  switch (ev->type) {
    case WSC_PARSER_MESSAGE:
      printf("  message  %-6s %s", opcode_name(ev->opcode), ev->flags & WSC_FRAME_RSV1 ? "rsv1 " : "");
      print_payload(ev->data, ev->len);
      putchar('\n');
      break;
    case WSC_PARSER_FRAGMENT:
      printf("  fragment %-6s %s%s", opcode_name(ev->opcode), ev->flags & WSC_FRAME_CONTINUATION ? "cont " : "first ",
             ev->flags & WSC_FRAME_FIN ? "fin " : "");
      print_payload(ev->data, ev->len);
      putchar('\n');
      break;
    case WSC_PARSER_PING:
    case WSC_PARSER_PONG:
      printf("  %s     ", ev->type == WSC_PARSER_PING ? "ping" : "pong");
      print_payload(ev->data, ev->len);
      putchar('\n');
      break;
    case WSC_PARSER_CLOSE:
      printf("  close    %u %s ", (unsigned)ev->close_code,
             wsc_close_code_name(ev->close_code) ? wsc_close_code_name(ev->close_code) : "");
      print_payload(ev->data, ev->len);
      putchar('\n');
      break;
    case WSC_PARSER_ERROR:
      printf("  error    %s (%s): %s -> close %u %s\n", wsc_err_name(ev->error), wsc_strerror(ev->error), ev->message,
             (unsigned)ev->close_code, wsc_close_code_name(ev->close_code));
      break;
  }
}

/* ---- the demo ---- */

typedef struct {
  uint8_t *data;
  size_t len, cap;
  int frames;
} wire_t;

static void on_write(wsc_sender_t *sender, const wsc_buf_t *bufs, uint32_t nbufs, void *user_data) {
  wire_t *w = (wire_t *)user_data;
  uint32_t i;
  size_t total = 0;
  (void)sender;
  for (i = 0; i < nbufs; ++i) total += bufs[i].len;
  if (w->len + total > w->cap) {
    size_t cap = (w->len + total) * 2;
    uint8_t *p = (uint8_t *)realloc(w->data, cap);
    if (!p) {
      fprintf(stderr, "out of memory\n");
      exit(1);
    }
    w->data = p;
    w->cap = cap;
  }
  printf("  frame %2d: ", ++w->frames);
  print_hex(bufs[0].base, bufs[0].len, 16);
  putchar('\n');
  for (i = 0; i < nbufs; ++i) {
    memcpy(w->data + w->len, bufs[i].base, bufs[i].len);
    w->len += bufs[i].len;
  }
}

static int check(int rc, const char *what) {
  if (rc < 0) {
    fprintf(stderr, "%s: %s (%s)\n", what, wsc_strerror(rc), wsc_err_name(rc));
    exit(1);
  }
  return rc;
}

static int demo(void) {
  wire_t wire = {NULL, 0, 0, 0};
  wsc_sender_options_t so = WSC_SENDER_OPTIONS_INIT;
  wsc_parser_options_t po = WSC_PARSER_OPTIONS_INIT;
  wsc_sender_t *client;
  wsc_parser_t *server;
  size_t off = 0, used, big_len = 40000, i;
  unsigned seed = 12345;
  char *big = (char *)malloc(big_len);
  static const char *greeting = "Hello, wsc \xe2\x9c\x93"; /* U+2713 CHECK MARK */
  static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  uint8_t hostile[32];
  size_t hostile_len;
  wsc_frame_t bad;

  if (!big) return 1;
  for (i = 0; i < big_len; ++i) big[i] = (char)('a' + i % 26);
  printf("wsc %s: the sans-I/O protocol engine, offline\n\n", wsc_version_string());

  printf("A client sender (masking, fragments of 16 KiB) writes:\n");
  so.role = WSC_ROLE_CLIENT;
  so.flags = WSC_SENDER_FRAGMENT;
  check(wsc_sender_new(&client, &so, on_write, &wire), "sender");
  check(wsc_sender_send(client, WSC_OP_TEXT, greeting, strlen(greeting), 0), "send");
  check(wsc_sender_send(client, WSC_OP_TEXT, big, big_len, 0), "send big");
  check(wsc_sender_send(client, WSC_OP_BINARY, "\x01\x02", 2, WSC_SEND_MORE), "stream");
  check(wsc_sender_ping(client, "are you there?", 14), "ping");
  check(wsc_sender_send(client, WSC_OP_BINARY, "\x03\x04", 2, 0), "stream end");
  check(wsc_sender_close(client, WSC_CLOSE_GOING_AWAY, "bye", 3), "close");
  wsc_sender_free(client);

  printf("\nA server parser, fed those %zu bytes in random chunks, reports:\n", wire.len);
  po.role = WSC_ROLE_SERVER;
  check(wsc_parser_new(&server, &po, on_event, NULL), "parser");
  while (off < wire.len) {
    size_t n;
    seed = seed * 1103515245u + 12345u;
    n = 1 + (seed >> 8) % 4096;
    if (n > wire.len - off) n = wire.len - off;
    check(wsc_parser_feed(server, &used, wire.data + off, n), "feed");
    off += used;
  }
  wsc_parser_free(server);

  printf("\nA masked text frame with invalid UTF-8 (\"caf\\xfe\") reaches a fresh server parser:\n  bytes:    ");
  memset(&bad, 0, sizeof bad);
  bad.opcode = WSC_OP_TEXT;
  bad.flags = WSC_FRAME_FIN | WSC_FRAME_MASK;
  bad.mask_key = key;
  bad.payload = (const uint8_t *)"caf\xfe";
  bad.payload_len = 4;
  check(wsc_frame_encode(&hostile_len, hostile, sizeof hostile, &bad), "encode");
  print_hex(hostile, hostile_len, 16);
  putchar('\n');
  check(wsc_parser_new(&server, &po, on_event, NULL), "parser");
  {
    int rc = wsc_parser_feed(server, &used, hostile, hostile_len);
    printf("  feed returned %s after %zu bytes\n", wsc_err_name(rc), used);
  }
  wsc_parser_free(server);
  free(wire.data);
  free(big);
  return 0;
}

/* ---- encode / decode ---- */

static int hex_value(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Appends the hex digits of s (spaces and colons ignored) to out; returns -1 on bad input. */
static int parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len) {
  int hi = -1;
  for (; *s; ++s) {
    int v;
    if (*s == ' ' || *s == ':') continue;
    if ((v = hex_value(*s)) < 0) return -1;
    if (hi < 0) {
      hi = v;
    } else {
      if (*len >= cap) return -1;
      out[(*len)++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  return hi < 0 ? 0 : -1;
}

static int parse_opcode(const char *s) {
  static const char *names[] = {"continuation", "text", "binary", "", "", "", "", "", "close", "ping", "pong"};
  int i;
  for (i = 0; i <= 10; ++i)
    if (names[i][0] && strcmp(s, names[i]) == 0) return i;
  return -1;
}

static int encode(int argc, char **argv) {
  wsc_frame_t f;
  uint8_t key[4], *buf;
  size_t klen = 0, need;
  int i, rc;
  memset(&f, 0, sizeof f);
  f.flags = WSC_FRAME_FIN;
  for (i = 0; i < argc && strncmp(argv[i], "--", 2) == 0; ++i) {
    if (strcmp(argv[i], "--mask") == 0) {
      f.flags |= WSC_FRAME_MASK;
    } else if (strcmp(argv[i], "--more") == 0) {
      f.flags &= ~WSC_FRAME_FIN;
    } else if (strcmp(argv[i], "--rsv1") == 0) {
      f.flags |= WSC_FRAME_RSV1;
    } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
      if (parse_hex(argv[++i], key, 4, &klen) != 0 || klen != 4) return fprintf(stderr, "--key takes 8 hex digits\n"), 2;
      f.flags |= WSC_FRAME_MASK;
      f.mask_key = key;
    } else {
      return fprintf(stderr, "unknown option %s\n", argv[i]), 2;
    }
  }
  if (argc - i != 2 || parse_opcode(argv[i]) < 0)
    return fprintf(stderr, "usage: wsc encode [--mask] [--key HEX8] [--more] [--rsv1] OPCODE PAYLOAD\n"), 2;
  f.opcode = (uint32_t)parse_opcode(argv[i]);
  f.payload = (const uint8_t *)argv[i + 1];
  f.payload_len = strlen(argv[i + 1]);
  if ((rc = wsc_frame_encode(&need, NULL, 0, &f)) != 0) return fprintf(stderr, "encode: %s\n", wsc_strerror(rc)), 1;
  if (!(buf = (uint8_t *)malloc(need))) return 1;
  if ((rc = wsc_frame_encode(&need, buf, need, &f)) != 0) return fprintf(stderr, "encode: %s\n", wsc_strerror(rc)), 1;
  print_hex(buf, need, (size_t)-1);
  putchar('\n');
  free(buf);
  return 0;
}

static int decode(int argc, char **argv) {
  wsc_parser_options_t po = WSC_PARSER_OPTIONS_INIT;
  wsc_parser_t *parser;
  uint8_t *buf;
  size_t len = 0, cap = 0, used;
  int i, rc;
  for (i = 0; i < argc; ++i) cap += strlen(argv[i]) / 2 + 1;
  if (!(buf = (uint8_t *)malloc(cap + 1))) return 1;
  for (i = 0; i < argc; ++i) {
    if (strcmp(argv[i], "--client") == 0) {
      po.role = WSC_ROLE_CLIENT;
    } else if (strcmp(argv[i], "--server") == 0) {
      po.role = WSC_ROLE_SERVER;
    } else if (strcmp(argv[i], "--no-assemble") == 0) {
      po.flags |= WSC_PARSER_NO_ASSEMBLE;
    } else if (parse_hex(argv[i], buf, cap, &len) != 0) {
      free(buf);
      return fprintf(stderr, "not hex: %s\n", argv[i]), 2;
    }
  }
  check(wsc_parser_new(&parser, &po, on_event, NULL), "parser");
  rc = wsc_parser_feed(parser, &used, buf, len);
  if (rc == 0 && wsc_parser_buffered(parser) > 0)
    printf("  (incomplete: %zu bytes buffered)\n", wsc_parser_buffered(parser));
  wsc_parser_free(parser);
  free(buf);
  return rc == 0 ? 0 : 1;
}

int net_serve(int argc, char **argv);
int net_connect(int argc, char **argv);

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "serve") == 0) return net_serve(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "connect") == 0) return net_connect(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "demo") == 0) return demo();
  if (argc >= 2 && strcmp(argv[1], "encode") == 0) return encode(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "decode") == 0) return decode(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "version") == 0) {
    printf("wsc %s (headers %s)\n", wsc_version_string(), WSC_VERSION_STRING);
    return wsc_version() == WSC_VERSION_NUMBER ? 0 : 1;
  }
  fprintf(stderr,
          "usage: wsc serve [--host H] [--port 8080] [--unix PATH] [--echo | --broadcast] [--deflate[=PARAMS]]\n"
          "       wsc connect [--deflate[=PARAMS]] URL\n"
          "       PARAMS: comma-separated server_no_context_takeover, client_no_context_takeover,\n"
          "               server_max_window_bits=N, client_max_window_bits=N, level=N, mem_level=N, threshold=N\n"
          "       wsc demo\n"
          "       wsc encode [--mask] [--key HEX8] [--more] [--rsv1] OPCODE PAYLOAD\n"
          "       wsc decode [--client|--server] [--no-assemble] HEX...\n"
          "       wsc version\n");
  return 2;
}

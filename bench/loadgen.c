/* The benchmark kit's load generator (bench/README.md), on wsc's client and one libuv loop.
 *
 *   loadgen --url ws://127.0.0.1:PORT/ [--raw] [--mode echo|idle|handshake] [-c conns]
 *           [-d in-flight] [-s bytes] [-t seconds] [-w warmup] [--rate per-conn-per-s]
 *           [--inflight connects] [--pid server-pid]
 *
 * echo:      C connections each keep D binary messages of S bytes in flight; every echoed byte
 *            is checked against what was sent; reports messages/s, MB/s, latency percentiles.
 * idle:      opens C connections, reports the server's RSS growth per connection (after the
 *            upgrade, and again after one message on each), then a trickle of --rate messages
 *            per second on every connection for -t seconds. The growth is counted from a
 *            baseline taken once a first (probe) connection has echoed a message, so that
 *            one-time costs (code paged in, lazy initialisation) are not spread over the C.
 * handshake: keeps --inflight connections opening; each is dropped once open; upgrades/s.
 * --raw:     plain TCP to a raw echo server (the ceiling): the same byte stream, no framing.
 * With --pid, the server's CPU time (all its threads) over the measured window is reported.
 * Prints one JSON object on stdout; exits 1 when anything failed (an error, a wrong byte). */
#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <uv.h>

#include "wsc/wsc.h"

enum { MODE_ECHO, MODE_IDLE, MODE_HANDSHAKE };
enum { PHASE_CONNECT, PHASE_WARMUP, PHASE_MEASURE, PHASE_IDLE_SETTLE };

#define POOL_SPREAD 4096u

typedef struct lconn {
  wsc_conn_t *ws;
  uv_tcp_t *tcp; /* --raw */
  uv_connect_t connect_req;
  uint32_t index;
  int open;
  uint64_t sent, received; /* messages */
  size_t partial;          /* --raw: bytes of the current message received so far */
  uint64_t *stamps;        /* send time of each message in flight, by sequence % depth */
  uv_buf_t *pend;          /* --raw: messages to write in this loop pass */
  uint32_t npend;
} lconn_t;

static struct {
  int mode, raw;
  const char *url;
  const char *ca; /* wss://: the CA to verify the server with; without it, no verification */
  struct sockaddr_in addr;
  uint32_t conns, depth, inflight;
  size_t size;
  double seconds, warmup, rate;
  int pid;
  uv_loop_t *uv;
  wsc_loop_t *loop;
  uint8_t *pool; /* message k of connection i is pool[offset(i, k) .. + size) */
  lconn_t *lc;
  uint32_t started, opened, failed;
  int phase;
  uint64_t errors, mismatches;
  uint64_t msgs; /* echoed messages (or upgrades) in the measured window */
  uint64_t hist[64 * 32];
  uint64_t t0_ns, server_cpu0_ns, client_cpu0_ns;
  long rss_base_kb, rss_open_kb, rss_msg_kb;
  int probing; /* idle mode: only the probe connection (slot 0) is opening */
  uint32_t trickle_next;
  double trickle_due;
  uv_timer_t timer, trickle;
  uv_check_t flush; /* --raw: one write per connection per loop pass, as a WebSocket library does */
  lconn_t **dirty;
  uint32_t ndirty;
  const char *first_error;
} G;

/* ---- measurements ------------------------------------------------------------------------- */

static uint64_t server_cpu_ns(void) {
  /* the sum over the server's threads of /proc/PID/task/TID/schedstat's first field */
  char path[64];
  uint64_t total = 0;
  if (G.pid <= 0) return 0;
  snprintf(path, sizeof path, "/proc/%d/task", G.pid);
  DIR *d = opendir(path);
  if (d == NULL) return 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    char p[300];
    snprintf(p, sizeof p, "/proc/%d/task/%s/schedstat", G.pid, e->d_name);
    FILE *f = fopen(p, "r");
    unsigned long long ns = 0;
    if (f) {
      if (fscanf(f, "%llu", &ns) != 1) ns = 0;
      fclose(f);
    }
    total += ns;
  }
  closedir(d);
  return total;
}

static long server_rss_kb(void) {
  char path[64], line[256];
  long kb = -1;
  if (G.pid <= 0) return -1;
  snprintf(path, sizeof path, "/proc/%d/status", G.pid);
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
  fclose(f);
  return kb;
}

static uint64_t client_cpu_ns(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000u +
         (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
}

static unsigned hist_index(uint64_t ns) {
  if (ns < 32) return (unsigned)ns;
  unsigned msb = 63u - (unsigned)__builtin_clzll(ns);
  return (msb - 4) * 32 + (unsigned)((ns >> (msb - 5)) & 31);
}

static uint64_t hist_value(unsigned i) {
  if (i < 32) return i;
  unsigned msb = i / 32 + 4;
  return ((uint64_t)(32 + i % 32) << (msb - 5)) + ((uint64_t)1 << (msb - 5)) / 2;
}

static double percentile_us(double q) {
  uint64_t total = 0, seen = 0;
  for (unsigned i = 0; i < sizeof G.hist / sizeof G.hist[0]; ++i) total += G.hist[i];
  if (total == 0) return 0;
  uint64_t want = (uint64_t)(q * (double)total);
  for (unsigned i = 0; i < sizeof G.hist / sizeof G.hist[0]; ++i) {
    seen += G.hist[i];
    if (seen > want) return (double)hist_value(i) / 1000.0;
  }
  return 0;
}

/* ---- messages ----------------------------------------------------------------------------- */

static const uint8_t *message(const lconn_t *c, uint64_t k) {
  return G.pool + ((k * 61u + c->index * 17u) % POOL_SPREAD);
}

static void fail_run(const char *why) {
  if (G.first_error == NULL) G.first_error = strdup(why); /* an event's message is borrowed */
  ++G.errors;
}

static void send_next(lconn_t *c, uint64_t now);

static void start_more(void);

static void got_message(lconn_t *c) {
  uint64_t now = uv_hrtime();
  if (G.probing && c == &G.lc[0]) { /* the probe's echo: the baseline, then the C connections */
    G.probing = 0;
    G.rss_base_kb = server_rss_kb();
    ++c->received;
    start_more();
    return;
  }
  if (G.phase == PHASE_MEASURE) {
    ++G.msgs;
    ++G.hist[hist_index(now - c->stamps[c->received % G.depth])];
  }
  ++c->received;
  if (G.mode == MODE_ECHO) send_next(c, now); /* the echo's arrival is the next send's start */
}

static void raw_written(uv_write_t *req, int status) {
  if (status < 0) fail_run("raw write failed");
  free(req);
}

static void raw_flush(uv_check_t *h) {
  (void)h;
  for (uint32_t i = 0; i < G.ndirty; ++i) {
    lconn_t *c = G.dirty[i];
    uv_write_t *req = malloc(sizeof *req);
    if (req == NULL || uv_write(req, (uv_stream_t *)c->tcp, c->pend, c->npend, raw_written) != 0)
      fail_run("raw write failed");
    c->npend = 0;
  }
  G.ndirty = 0;
}

static void send_next(lconn_t *c, uint64_t now) {
  const uint8_t *m = message(c, c->sent);
  c->stamps[c->sent % G.depth] = now;
  ++c->sent;
  if (G.raw) {
    if (c->npend == 0) G.dirty[G.ndirty++] = c;
    c->pend[c->npend++] = uv_buf_init((char *)m, (unsigned)G.size);
    return;
  }
  int rc = wsc_conn_send(c->ws, WSC_OP_BINARY, m, G.size, 0, NULL, NULL);
  if (rc < 0) fail_run(wsc_strerror(rc));
}

/* ---- connections -------------------------------------------------------------------------- */

static void start_more(void);
static void all_open(void);

static void conn_opened(lconn_t *c) {
  c->open = 1;
  ++G.opened;
  if (G.mode == MODE_ECHO)
    for (uint32_t i = 0; i < G.depth; ++i) send_next(c, uv_hrtime());
  if (G.mode == MODE_HANDSHAKE) {
    if (G.phase == PHASE_MEASURE) ++G.msgs;
    wsc_conn_terminate(c->ws);
    return;
  }
  if (G.probing) {
    send_next(c, uv_hrtime());
    return;
  }
  start_more();
  if (G.opened == G.conns) all_open();
}

static void on_ws(wsc_conn_t *conn, const wsc_conn_event_t *ev, void *user_data) {
  lconn_t *c = user_data;
  switch (ev->type) {
    case WSC_EV_OPEN:
      conn_opened(c);
      break;
    case WSC_EV_MESSAGE:
      if (ev->len != G.size || memcmp(ev->data, message(c, c->received), G.size) != 0) ++G.mismatches;
      got_message(c);
      break;
    case WSC_EV_ERROR:
      if (G.mode != MODE_HANDSHAKE || c->open == 0) fail_run(ev->message);
      break;
    case WSC_EV_CLOSE:
      c->ws = NULL;
      if (G.mode == MODE_HANDSHAKE) {
        c->open = 0;
        --G.started;
        --G.opened;
        start_more();
      } else if (G.phase != PHASE_CONNECT || c->open) {
        fail_run("a connection closed during the run");
      }
      break;
    default:
      break;
  }
  (void)conn;
}

static void raw_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  static char big[256 * 1024];
  (void)h;
  (void)hint;
  *buf = uv_buf_init(big, sizeof big);
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  lconn_t *c = s->data;
  if (n < 0) {
    fail_run("raw connection closed");
    uv_read_stop(s);
    return;
  }
  const uint8_t *p = (const uint8_t *)buf->base;
  while (n > 0) {
    size_t take = G.size - c->partial;
    if (take > (size_t)n) take = (size_t)n;
    if (memcmp(p, message(c, c->received) + c->partial, take) != 0) ++G.mismatches;
    c->partial += take;
    p += take;
    n -= (ssize_t)take;
    if (c->partial == G.size) {
      c->partial = 0;
      got_message(c);
    }
  }
}

static void raw_connected(uv_connect_t *req, int status) {
  lconn_t *c = req->data;
  if (status < 0) {
    fail_run(uv_strerror(status));
    return;
  }
  uv_tcp_nodelay(c->tcp, 1);
  c->tcp->data = c;
  uv_read_start((uv_stream_t *)c->tcp, raw_alloc, raw_read);
  conn_opened(c);
}

static void start_one(lconn_t *c) {
  ++G.started;
  c->open = 0;
  c->sent = c->received = 0;
  c->partial = 0;
  if (G.raw) {
    c->tcp = malloc(sizeof *c->tcp);
    uv_tcp_init(G.uv, c->tcp);
    c->connect_req.data = c;
    if (uv_tcp_connect(&c->connect_req, c->tcp, (const struct sockaddr *)&G.addr, raw_connected) != 0)
      fail_run("connect failed");
    return;
  }
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  wsc_deflate_options_t no_deflate = WSC_DEFLATE_OPTIONS_INIT;
  wsc_client_options_t cl = WSC_CLIENT_OPTIONS_INIT;
  no_deflate.flags = WSC_DEFLATE_DISABLE;
  co.deflate = &no_deflate;
  co.max_buffered = 0;
  co.max_message_size = 0;
  cl.conn = &co;
  wsc_tls_options_t tls = WSC_TLS_OPTIONS_INIT;
  tls.ca_file = G.ca;
  if (G.ca == NULL) tls.flags = WSC_TLS_INSECURE_SKIP_VERIFY; /* a benchmark of the transport, not of trust */
  cl.tls = &tls;
  int rc = wsc_connect(&c->ws, G.loop, G.url, &cl, on_ws, c);
  if (rc != 0) fail_run(wsc_strerror(rc));
}

/* Opens connections up to the target, --inflight at a time. */
static void start_more(void) {
  uint32_t limit = G.probing ? 1 : G.conns;
  while (G.started < limit && G.started - G.opened < G.inflight && G.errors == 0) {
    lconn_t *c = NULL;
    if (G.mode == MODE_HANDSHAKE) {
      for (uint32_t i = 0; i < G.conns; ++i)
        if (G.lc[i].ws == NULL && !G.lc[i].open) {
          c = &G.lc[i];
          break;
        }
      if (c == NULL) return;
    } else {
      c = &G.lc[G.started];
    }
    start_one(c);
  }
}

/* ---- phases ------------------------------------------------------------------------------- */

static void finish(void);

static void begin_measure(uv_timer_t *t) {
  (void)t;
  memset(G.hist, 0, sizeof G.hist);
  G.msgs = 0;
  G.phase = PHASE_MEASURE;
  G.t0_ns = uv_hrtime();
  G.server_cpu0_ns = server_cpu_ns();
  G.client_cpu0_ns = client_cpu_ns();
  uv_timer_start(&G.timer, (uv_timer_cb)finish, (uint64_t)(G.seconds * 1000), 0);
}

static void trickle_tick(uv_timer_t *t) {
  /* every connection sends --rate messages per second, spread evenly */
  (void)t;
  G.trickle_due += G.rate * G.conns / 100.0;
  while (G.trickle_due >= 1.0) {
    lconn_t *c = &G.lc[G.trickle_next];
    G.trickle_next = (G.trickle_next + 1) % G.conns;
    G.trickle_due -= 1.0;
    if (c->sent == c->received) send_next(c, uv_hrtime());
  }
}

static void idle_after_message(uv_timer_t *t);

static void idle_settled(uv_timer_t *t) {
  (void)t;
  G.rss_open_kb = server_rss_kb();
  /* one message on every connection, then measure again */
  for (uint32_t i = 1; i < G.conns; ++i) send_next(&G.lc[i], uv_hrtime());
  uv_timer_start(&G.timer, idle_after_message, 100, 100);
}

static void idle_after_message(uv_timer_t *t) {
  for (uint32_t i = 1; i < G.conns; ++i)
    if (G.lc[i].received < 1) return; /* not all back yet */
  uv_timer_stop(t);
  G.rss_msg_kb = server_rss_kb();
  uv_timer_start(&G.trickle, trickle_tick, 10, 10);
  begin_measure(NULL);
}

static void all_open(void) {
  if (G.mode == MODE_IDLE) {
    uv_timer_start(&G.timer, idle_settled, 1000, 0);
    return;
  }
  G.phase = PHASE_WARMUP;
  uv_timer_start(&G.timer, begin_measure, (uint64_t)(G.warmup * 1000), 0);
}

static void finish(void) {
  double secs = (double)(uv_hrtime() - G.t0_ns) / 1e9;
  uint64_t scpu = server_cpu_ns() - G.server_cpu0_ns;
  uint64_t ccpu = client_cpu_ns() - G.client_cpu0_ns;
  double rate = (double)G.msgs / secs;

  const char *mode = G.mode == MODE_ECHO ? "echo" : G.mode == MODE_IDLE ? "idle" : "handshake";
  printf("{\"mode\":\"%s\",\"raw\":%d,\"conns\":%u,\"depth\":%u,\"size\":%zu,\"seconds\":%.3f,"
         "\"msgs\":%llu,\"msg_per_s\":%.1f,\"mb_per_s\":%.2f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
         "\"p999_us\":%.1f,\"server_cpu_s\":%.4f,\"server_cpu_per_msg_ns\":%.1f,\"client_cpu_s\":%.4f,"
         "\"client_cpu_per_msg_ns\":%.1f",
         mode, G.raw, G.mode == MODE_IDLE ? G.conns - 1 : G.conns, G.depth, G.size, secs, (unsigned long long)G.msgs, rate,
         rate * (double)G.size / 1e6, percentile_us(0.50), percentile_us(0.99), percentile_us(0.999),
         (double)scpu / 1e9, G.msgs ? (double)scpu / (double)G.msgs : 0.0, (double)ccpu / 1e9,
         G.msgs ? (double)ccpu / (double)G.msgs : 0.0);
  if (G.mode == MODE_IDLE && G.rss_base_kb > 0)
    printf(",\"rss_base_kb\":%ld,\"bytes_per_conn_open\":%.1f,\"bytes_per_conn\":%.1f", G.rss_base_kb,
           (double)(G.rss_open_kb - G.rss_base_kb) * 1024.0 / (G.conns - 1),
           (double)(G.rss_msg_kb - G.rss_base_kb) * 1024.0 / (G.conns - 1));
  printf(",\"errors\":%llu,\"mismatches\":%llu}\n", (unsigned long long)G.errors, (unsigned long long)G.mismatches);
  if (G.first_error) fprintf(stderr, "loadgen: %s\n", G.first_error);
  fflush(stdout);
  _exit(G.errors || G.mismatches ? 1 : 0);
}

static void watchdog(uv_timer_t *t) {
  (void)t;
  if (G.errors) {
    fprintf(stderr, "loadgen: %s\n", G.first_error);
    _exit(1);
  }
}

static void usage(void) {
  fprintf(stderr, "usage: loadgen --url ws://HOST:PORT/ [--raw] [--mode echo|idle|handshake] [-c N] [-d N] "
                  "[-s BYTES] [-t SECONDS] [-w SECONDS] [--rate N] [--inflight N] [--pid PID] [--ca FILE]\n"
                  "       (a wss:// URL is verified against --ca FILE, or not at all without it)\n");
  exit(2);
}

int main(int argc, char **argv) {
  G.conns = 1;
  G.depth = 1;
  G.size = 32;
  G.seconds = 5;
  G.warmup = 1;
  G.rate = 1;
  G.inflight = 256;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--raw")) {
      G.raw = 1;
      continue;
    }
    if (v == NULL) usage();
    ++i;
    if (!strcmp(a, "--url")) G.url = v;
    else if (!strcmp(a, "--mode")) G.mode = !strcmp(v, "idle") ? MODE_IDLE : !strcmp(v, "handshake") ? MODE_HANDSHAKE : MODE_ECHO;
    else if (!strcmp(a, "-c")) G.conns = (uint32_t)atoi(v);
    else if (!strcmp(a, "-d")) G.depth = (uint32_t)atoi(v);
    else if (!strcmp(a, "-s")) G.size = (size_t)atol(v);
    else if (!strcmp(a, "-t")) G.seconds = atof(v);
    else if (!strcmp(a, "-w")) G.warmup = atof(v);
    else if (!strcmp(a, "--rate")) G.rate = atof(v);
    else if (!strcmp(a, "--inflight")) G.inflight = (uint32_t)atoi(v);
    else if (!strcmp(a, "--pid")) G.pid = atoi(v);
    else if (!strcmp(a, "--ca")) G.ca = v;
    else usage();
  }
  if (G.url == NULL || G.conns == 0 || G.depth == 0 || G.size == 0) usage();
  if (G.mode == MODE_IDLE) { /* the probe connection goes first, in slot 0 */
    G.conns += 1;
    G.probing = 1;
  }
  if (G.raw) {
    char host[64];
    int port;
    if (sscanf(G.url, "ws://%63[^:]:%d", host, &port) != 2 || uv_ip4_addr(host, port, &G.addr) != 0) usage();
  }
  if (G.mode == MODE_HANDSHAKE) {
    G.depth = 1;
    G.conns = G.inflight; /* the slots of the connections opening at once */
  }
  if (G.mode == MODE_IDLE) G.size = G.size ? G.size : 32;
  G.pool = malloc(G.size + POOL_SPREAD);
  for (size_t i = 0; i < G.size + POOL_SPREAD; ++i) G.pool[i] = (uint8_t)(i * 2654435761u >> 13);
  G.lc = calloc(G.conns, sizeof *G.lc);
  for (uint32_t i = 0; i < G.conns; ++i) {
    G.lc[i].index = i;
    G.lc[i].stamps = calloc(G.depth, sizeof(uint64_t));
    if (G.raw) G.lc[i].pend = calloc(G.depth, sizeof(uv_buf_t));
  }
  G.dirty = calloc(G.conns, sizeof *G.dirty);
  if (wsc_loop_new(&G.loop, NULL) != 0) return 1;
  G.uv = wsc_loop_uv(G.loop);
  uv_timer_init(G.uv, &G.timer);
  uv_timer_init(G.uv, &G.trickle);
  uv_check_init(G.uv, &G.flush);
  uv_check_start(&G.flush, raw_flush);
  uv_unref((uv_handle_t *)&G.flush);
  uv_timer_t dog;
  uv_timer_init(G.uv, &dog);
  uv_timer_start(&dog, watchdog, 100, 100);
  uv_unref((uv_handle_t *)&dog);
  if (G.mode == MODE_HANDSHAKE) {
    G.phase = PHASE_WARMUP;
    uv_timer_start(&G.timer, begin_measure, (uint64_t)(G.warmup * 1000), 0);
  }
  start_more();
  wsc_loop_run(G.loop, WSC_RUN_DEFAULT);
  fprintf(stderr, "loadgen: the loop ran out of work (%s)\n", G.first_error ? G.first_error : "no error");
  return 1;
}

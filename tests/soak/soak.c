/* soak: a load and soak test of wsc through its public C API only (tests/soak/README.md).
 *
 *   soak server [--host H] [--port P] [--report SEC] [--backlog N] [--nofile N]
 *       An echo server. Prints "soak-server: listening on ws://H:P/ (pid N)", then every SEC
 *       seconds its RSS (/proc/self/statm), open fds (/proc/self/fd), open connections and
 *       messages echoed. SIGTERM or SIGINT: wsc_server_shutdown, then its totals.
 *
 *   soak client --url ws://H:P/ [--server-pid PID] [OPTIONS]
 *   soak run [OPTIONS]
 *       The client: `run` spawns `soak server` on an ephemeral port as its child (and stops it
 *       with SIGTERM at the end); `client` uses a server that runs elsewhere (sampled when its
 *       pid is given). The client opens --conns connections, at most --inflight of them in
 *       their handshake at once; sends --rate messages per second in all, round robin, at most
 *       --depth in flight per connection; checks every echoed byte, length, opcode and the
 *       order; closes and reopens --churn percent of the connections per second (one in four
 *       of them dropped abruptly), and samples the server's RSS and fd count every second.
 *
 * OPTIONS: --conns N (1000)  --seconds S (20)  --warmup S (5)  --rate MSGS_PER_S (5000)
 *          --size B | MIN-MAX (32-300)  --depth D (4)  --burst K (1: messages per pick)
 *          --churn PCT_PER_S (1)  --inflight N (256)  --report SEC (10)
 *          --rss-pct P (5)  --rss-mib M (1): the allowed growth of the server's RSS
 *          --rss-check 0|1 (1; 0 under AddressSanitizer)  --end client|server (run: who closes
 *          the connections at the end: the client, or the server's shutdown on SIGTERM, 1001)
 *
 *   soak emfile [--limit FDS] [--extra N]
 *       A server limited to FDS open files, offered N connections more than it can take, then a
 *       client limited to 40 fds more than it uses (see emfile_main).
 *
 * Every message sent is accounted for as echoed intact, corrupted (wrong length, opcode,
 * byte or order), failed (its send completion or its connection's close reported a failure)
 * or lost (sent, no echo, no failure). Exit status 0 only when nothing was corrupted or lost,
 * no connection closed or failed unless the test ended it, the server's RSS and fd count were
 * flat after the warm-up, fds returned to their baseline once every connection closed (in both
 * processes), and the server shut down cleanly. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <uv.h>

#include "wsc/wsc.h"

/* ---- shared helpers ------------------------------------------------------------------------ */

static double now_s(void) { return (double)uv_hrtime() / 1e9; }

/* Resident set size in KiB of a process (pid 0: this one), from /proc/PID/statm. */
static long rss_kb(int pid) {
  char path[64];
  unsigned long size = 0, resident = 0;
  if (pid > 0) snprintf(path, sizeof path, "/proc/%d/statm", pid);
  else snprintf(path, sizeof path, "/proc/self/statm");
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  int n = fscanf(f, "%lu %lu", &size, &resident);
  fclose(f);
  if (n != 2) return -1;
  return (long)(resident * (unsigned long)sysconf(_SC_PAGESIZE) / 1024);
}

/* Open file descriptors of a process (pid 0: this one, without the directory's own fd). */
static int fd_count(int pid) {
  char path[64];
  if (pid > 0) snprintf(path, sizeof path, "/proc/%d/fd", pid);
  else snprintf(path, sizeof path, "/proc/self/fd");
  DIR *d = opendir(path);
  if (d == NULL) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return pid > 0 ? n : n - 1;
}

static double mib(long kb) { return (double)kb / 1024.0; }

/* Raises RLIMIT_NOFILE's soft limit to its hard limit. Returns the new limit, or -1 (with a
 * message) if it is below `need`. */
static long raise_nofile(const char *who, long need) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    fprintf(stderr, "%s: getrlimit(RLIMIT_NOFILE): %s\n", who, strerror(errno));
    return -1;
  }
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      fprintf(stderr, "%s: setrlimit(RLIMIT_NOFILE, %lu): %s\n", who, (unsigned long)rl.rlim_max, strerror(errno));
      return -1;
    }
  }
  if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < need) {
    fprintf(stderr,
            "%s: %ld connections need about %ld file descriptors in each process (client and server), "
            "but the hard limit of open files (RLIMIT_NOFILE) is %lu: raise it (ulimit -Hn as root, "
            "LimitNOFILE= for a service, nofile in /etc/security/limits.conf) or use fewer --conns\n",
            who, need - 64, need, (unsigned long)rl.rlim_cur);
    return -1;
  }
  return rl.rlim_cur == RLIM_INFINITY ? 1L << 30 : (long)rl.rlim_cur;
}

/* ---- the server ---------------------------------------------------------------------------- */

static struct {
  wsc_loop_t *loop;
  wsc_server_t *server;
  uv_timer_t report;
  uv_signal_t sigterm, sigint;
  double t0;
  unsigned report_s;
  int shutting_down, handles_closed;
  uint64_t accepted, closed, echoed, echo_refused, echo_failed, conn_errors, client_errors, server_errors;
  size_t peak;
  size_t leak_bytes; /* SOAK_INJECT_LEAK="BYTES[:FDS]": a leak per accepted connection, to see */
  unsigned leak_fds; /* the checks fail (README.md) */
  void *leaked;
} S;

static void server_report(const char *what) {
  printf("soak-server: %s t=%.0fs rss=%.1fMiB fds=%d conns=%zu peak=%zu accepted=%" PRIu64 " closed=%" PRIu64
         " echoed=%" PRIu64 " echo_refused=%" PRIu64 " echo_failed=%" PRIu64 " conn_errors=%" PRIu64
         " client_errors=%" PRIu64 " server_errors=%" PRIu64 "\n",
         what, now_s() - S.t0, mib(rss_kb(0)), fd_count(0), S.server ? wsc_server_connection_count(S.server) : 0,
         S.peak, S.accepted, S.closed, S.echoed, S.echo_refused, S.echo_failed, S.conn_errors, S.client_errors,
         S.server_errors);
  fflush(stdout);
}

static void server_echo_done(wsc_conn_t *conn, int status, void *user_data) {
  (void)conn;
  (void)user_data;
  if (status != 0) ++S.echo_failed; /* the client went away before the echo was written */
}

static void server_on_conn(wsc_conn_t *conn, const wsc_conn_event_t *ev, void *user_data) {
  (void)user_data;
  switch (ev->type) {
    case WSC_EV_MESSAGE:
      if (wsc_conn_send(conn, ev->opcode, ev->data, ev->len, 0, server_echo_done, NULL) >= 0) ++S.echoed;
      else ++S.echo_refused;
      break;
    case WSC_EV_ERROR:
      ++S.conn_errors; /* expected for the connections the client drops abruptly */
      break;
    case WSC_EV_CLOSE:
      ++S.closed;
      break;
    default:
      break;
  }
}

static void server_close_handles(void) {
  if (S.handles_closed) return;
  S.handles_closed = 1;
  uv_close((uv_handle_t *)&S.report, NULL);
  uv_close((uv_handle_t *)&S.sigterm, NULL);
  uv_close((uv_handle_t *)&S.sigint, NULL);
}

static void server_on_event(wsc_server_t *server, const wsc_server_event_t *ev, void *user_data) {
  (void)user_data;
  switch (ev->type) {
    case WSC_SERVER_LISTENING: {
      wsc_addr_t addr;
      if (wsc_server_address(server, &addr) == 0)
        printf("soak-server: listening on ws://%s:%u/ (pid %d)\n", addr.address, (unsigned)addr.port, (int)getpid());
      fflush(stdout);
      break;
    }
    case WSC_SERVER_CONNECTION: {
      wsc_conn_set_callback(ev->conn, server_on_conn, NULL);
      ++S.accepted;
      if (S.leak_bytes > 0) { /* a chain: reachable, so that LeakSanitizer stays quiet */
        void **p = malloc(S.leak_bytes > sizeof(void *) ? S.leak_bytes : sizeof(void *));
        if (p != NULL) {
          memset(p, 1, S.leak_bytes);
          *p = S.leaked;
          S.leaked = p;
        }
      }
      for (unsigned i = 0; i < S.leak_fds; ++i) (void)!dup(1);
      size_t n = wsc_server_connection_count(server);
      if (n > S.peak) S.peak = n;
      break;
    }
    case WSC_SERVER_CLIENT_ERROR:
      if (S.client_errors++ < 10) fprintf(stderr, "soak-server: client error: %u %s\n", ev->code, ev->message);
      break;
    case WSC_SERVER_ERROR:
      if (S.server_errors++ < 10) fprintf(stderr, "soak-server: server error: %s\n", ev->message);
      break;
    case WSC_SERVER_CLOSE:
      S.server = NULL;
      server_report("totals:");
      server_close_handles();
      break;
    default:
      break;
  }
}

static void server_on_report(uv_timer_t *t) {
  (void)t;
  server_report("report:");
}

static void server_on_signal(uv_signal_t *h, int signum) {
  (void)h;
  if (S.shutting_down || S.server == NULL) return;
  S.shutting_down = 1;
  printf("soak-server: %s: shutting down\n", signum == SIGTERM ? "SIGTERM" : "SIGINT");
  fflush(stdout);
  wsc_server_shutdown(S.server, 1001, 10000, 0);
}

static int server_main(int argc, char **argv) {
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.host = "127.0.0.1";
  so.backlog = 4096;
  S.report_s = 10;
  long nofile = 0; /* --nofile N: run out of fds at N (soak emfile) */
  for (int i = 2; i < argc; ++i) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--die-with-parent")) {
      prctl(PR_SET_PDEATHSIG, SIGKILL); /* spawned by `soak run`: never outlive it */
      if (getppid() == 1) return 1;
      continue;
    }
    if (v == NULL) goto usage;
    ++i;
    if (!strcmp(a, "--host")) so.host = v;
    else if (!strcmp(a, "--port")) so.port = (uint32_t)atoi(v);
    else if (!strcmp(a, "--report")) S.report_s = (unsigned)atoi(v);
    else if (!strcmp(a, "--backlog")) so.backlog = atoi(v);
    else if (!strcmp(a, "--nofile")) nofile = atol(v);
    else goto usage;
  }
  const char *inject = getenv("SOAK_INJECT_LEAK");
  if (inject != NULL) {
    char *end;
    S.leak_bytes = strtoul(inject, &end, 10);
    if (*end == ':') S.leak_fds = (unsigned)strtoul(end + 1, NULL, 10);
    printf("soak-server: SOAK_INJECT_LEAK: leaking %zu bytes and %u fds per connection\n", S.leak_bytes, S.leak_fds);
  }
  long limit = raise_nofile("soak-server", 0);
  if (limit < 0) return 1;
  if (nofile > 0) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = (rlim_t)nofile;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      fprintf(stderr, "soak-server: setrlimit(RLIMIT_NOFILE, %ld): %s\n", nofile, strerror(errno));
      return 1;
    }
    limit = nofile;
  }
  S.t0 = now_s();
  int rc = wsc_loop_new(&S.loop, NULL);
  if (rc == 0) rc = wsc_server_new(&S.server, S.loop, &so, server_on_event, NULL);
  if (rc != 0) {
    fprintf(stderr, "soak-server: %s: %s %s\n", wsc_err_name(rc), wsc_strerror(rc), wsc_last_error_message());
    return 1;
  }
  printf("soak-server: open files limit %ld, backlog %d\n", limit, so.backlog);
  uv_loop_t *uv = wsc_loop_uv(S.loop);
  uv_timer_init(uv, &S.report);
  if (S.report_s > 0) uv_timer_start(&S.report, server_on_report, S.report_s * 1000u, S.report_s * 1000u);
  uv_signal_init(uv, &S.sigterm);
  uv_signal_start(&S.sigterm, server_on_signal, SIGTERM);
  uv_signal_init(uv, &S.sigint);
  uv_signal_start(&S.sigint, server_on_signal, SIGINT);
  wsc_loop_run(S.loop, WSC_RUN_DEFAULT);
  rc = wsc_loop_free(S.loop);
  if (rc != 0) {
    fprintf(stderr, "soak-server: wsc_loop_free: %s\n", wsc_err_name(rc));
    return 1;
  }
  return 0;
usage:
  fprintf(stderr, "usage: soak server [--host H] [--port P] [--report SEC] [--backlog N] [--nofile N]\n");
  return 2;
}

/* ---- the client ---------------------------------------------------------------------------- */

enum { S_IDLE, S_QUEUED, S_CONNECTING, S_OPEN, S_CLOSING };
enum { END_NONE, END_CLOSE, END_TERMINATE, END_FINAL, END_SERVER };
enum { P_SPAWN, P_RAMP, P_WARMUP, P_SOAK, P_SETTLE, P_CLOSE, P_FDS, P_STOP, P_DONE };
static const char *const phase_name[] = {"spawn", "ramp", "warm-up", "soak", "settle", "close", "fds", "stop", "done"};

typedef struct slot {
  wsc_conn_t *ws;
  uint32_t index, gen; /* a message is a function of (index, gen, seq): gen counts reconnections */
  uint8_t state, end;  /* end: how the test ended this connection */
  uint64_t sent, received, failed; /* of the current connection; seq = the count before it */
  double connect_t; /* when wsc_connect was called */
} slot_t;

static struct {
  /* options */
  uint32_t conns, depth, burst, inflight, report_s;
  double seconds, warmup, rate, churn, rss_pct, rss_mib;
  size_t size_min, size_max;
  const char *url;
  int server_pid, spawn, server_close, rss_check;
  char url_buf[128];
  /* runtime */
  wsc_loop_t *loop;
  uv_loop_t *uv;
  slot_t *slots;
  uint32_t *queue, qhead, qlen; /* slots waiting to connect */
  uint32_t handshaking, open, closing, live, covered, cursor;
  uint8_t *buf;
  int phase;
  double t0, phase_t0, soak_t0, soak_t1, last_report;
  uv_timer_t tick, sampler;
  uint64_t last_tick_ms;
  double tokens, churn_due;
  uint64_t rng;
  /* counters */
  uint64_t sent, intact, corrupted, unsolicited, failed, failed_dropped, lost, refused, unexpected, connect_failed, stray;
  uint64_t outstanding, churn_closed, churn_dropped, reopened, opens, errors_printed;
  /* samples: server (s*) and client (c*) */
  long s_rss0, s_rss_base, s_rss_final, s_rss_peak, s_rss_after;
  int s_fd0, s_fd_base, s_fd_final, s_fd_min, s_fd_max, s_fd_after;
  long c_rss_base, c_rss_final;
  double hs_sum, hs_max, hs_max_all; /* handshake times (connect to OPEN) since the last report */
  uint64_t hs_n;
  double cpu_t, c_cpu, s_cpu; /* CPU seconds at the last report */
  int c_fd0, c_fd_base, c_fd_final, c_fd_after;
  /* the spawned server */
  uv_process_t proc;
  uv_pipe_t out;
  char line[2048];
  size_t linelen;
  int proc_running, proc_exited, proc_signal, out_open;
  int64_t proc_status;
  unsigned port;
  int srv_totals;
  uint64_t srv_echoed, srv_accepted, srv_closed, srv_errors;
  void (*on_listening)(void);
  void (*finish)(void);
  wsc_conn_cb conn_cb;
  uint32_t handshake_timeout_ms;
  double stop_t0;
  /* verdict */
  int failures;
  char reasons[2048];
} G;

static void fail(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (G.failures < 20) fprintf(stderr, "soak: FAIL: %s\n", msg);
  if (G.failures++ < 8) {
    size_t n = strlen(G.reasons);
    snprintf(G.reasons + n, sizeof G.reasons - n, "%s%s", n ? "; " : "", msg);
  }
}

/* Messages: a function of (connection index, generation, sequence number). */
static uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

static size_t msg_len(uint32_t index, uint64_t seq) {
  if (G.size_min == G.size_max) return G.size_min;
  return G.size_min + (size_t)(mix64(((uint64_t)index << 40) ^ seq ^ 0x5bd1e995u) % (G.size_max - G.size_min + 1));
}

static int msg_is_text(uint32_t index, uint64_t seq) { return (mix64(seq * 0x9e3779b97f4a7c15ULL + index) & 3) == 0; }

/* A 16-byte header (index, generation, sequence; little endian) then pseudo-random bytes; a
 * text message (one in four) maps every byte to printable ASCII. */
static void msg_fill(uint8_t *p, size_t len, uint32_t index, uint32_t gen, uint64_t seq, int text) {
  uint8_t hdr[16];
  for (int i = 0; i < 4; ++i) hdr[i] = (uint8_t)(index >> (8 * i));
  for (int i = 0; i < 4; ++i) hdr[4 + i] = (uint8_t)(gen >> (8 * i));
  for (int i = 0; i < 8; ++i) hdr[8 + i] = (uint8_t)(seq >> (8 * i));
  size_t i = 0;
  for (; i < len && i < 16; ++i) p[i] = hdr[i];
  uint64_t st = mix64(((uint64_t)index << 32 | gen) ^ mix64(seq + 0x9e3779b97f4a7c15ULL));
  while (i < len) {
    st = st * 6364136223846793005ULL + 1442695040888963407ULL;
    uint64_t v = mix64(st);
    for (int k = 0; k < 8 && i < len; ++k, ++i) p[i] = (uint8_t)(v >> (8 * k));
  }
  if (text)
    for (i = 0; i < len; ++i) p[i] = (uint8_t)(0x20 + p[i] % 95);
}

static uint64_t rnd(void) {
  G.rng ^= G.rng << 13;
  G.rng ^= G.rng >> 7;
  G.rng ^= G.rng << 17;
  return G.rng;
}

static void set_phase(int p) {
  G.phase = p;
  G.phase_t0 = now_s();
  printf("soak: [%5.1fs] phase %s\n", G.phase_t0 - G.t0, phase_name[p]);
  fflush(stdout);
}

static void pump_connects(void);
static void client_on_conn(wsc_conn_t *conn, const wsc_conn_event_t *ev, void *user_data);

static void enqueue(slot_t *s) {
  s->state = S_QUEUED;
  G.queue[(G.qhead + G.qlen++) % G.conns] = s->index;
}

static void start_connect(slot_t *s) {
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  wsc_deflate_options_t no_deflate = WSC_DEFLATE_OPTIONS_INIT;
  wsc_client_options_t cl = WSC_CLIENT_OPTIONS_INIT;
  no_deflate.flags = WSC_DEFLATE_DISABLE;
  co.deflate = &no_deflate;
  cl.conn = &co;
  cl.connect_timeout_ms = 20000;
  cl.handshake_timeout_ms = G.handshake_timeout_ms ? G.handshake_timeout_ms : 30000;
  s->sent = s->received = s->failed = 0;
  s->end = END_NONE;
  s->state = S_CONNECTING;
  s->connect_t = now_s();
  int rc = wsc_connect(&s->ws, G.loop, G.url, &cl, G.conn_cb ? G.conn_cb : client_on_conn, s);
  if (rc != 0) {
    s->ws = NULL;
    s->state = S_IDLE;
    ++G.connect_failed;
    fail("wsc_connect: %s", wsc_strerror(rc));
    return;
  }
  ++G.handshaking;
  ++G.live;
}

/* Opens queued connections, at most --inflight in their handshake at once. */
static void pump_connects(void) {
  while (G.qlen > 0 && G.handshaking < G.inflight && G.phase < P_CLOSE) {
    slot_t *s = &G.slots[G.queue[G.qhead]];
    G.qhead = (G.qhead + 1) % G.conns;
    --G.qlen;
    start_connect(s);
  }
}

static void client_on_sent(wsc_conn_t *conn, int status, void *user_data) {
  slot_t *s = user_data;
  if (s->ws != conn) {
    if (G.stray++ == 0) fail("a send completion came after its connection's close event");
    return;
  }
  if (status != 0) {
    ++s->failed;
    ++G.failed;
    --G.outstanding;
    if (s->end != END_TERMINATE && G.errors_printed++ < 10)
      fprintf(stderr, "soak: conn %u: a send failed: %s\n", s->index, wsc_strerror(status));
  }
}

static int send_one(slot_t *s) {
  uint64_t seq = s->sent;
  size_t len = msg_len(s->index, seq);
  int text = msg_is_text(s->index, seq);
  msg_fill(G.buf, len, s->index, s->gen, seq, text);
  ++s->sent; /* before the call: a completion may not come first, but be safe */
  ++G.outstanding;
  int rc = wsc_conn_send(s->ws, text ? WSC_OP_TEXT : WSC_OP_BINARY, G.buf, len, 0, client_on_sent, s);
  if (rc < 0) {
    --s->sent;
    --G.outstanding;
    if (G.refused++ == 0) fail("conn %u: wsc_conn_send refused a message: %s", s->index, wsc_strerror(rc));
    return -1;
  }
  ++G.sent;
  return 0;
}

static void check_message(slot_t *s, const wsc_conn_event_t *ev) {
  if (s->received >= s->sent) {
    ++G.unsolicited;
    if (G.corrupted++ < 10) fprintf(stderr, "soak: conn %u: a message that was not sent (%zu bytes)\n", s->index, ev->len);
    return;
  }
  uint64_t seq = s->received++;
  --G.outstanding;
  size_t len = msg_len(s->index, seq);
  int text = msg_is_text(s->index, seq);
  msg_fill(G.buf, len, s->index, s->gen, seq, text);
  if (ev->len == len && ev->opcode == (uint32_t)(text ? WSC_OP_TEXT : WSC_OP_BINARY) &&
      memcmp(ev->data, G.buf, len) == 0) {
    ++G.intact;
    if (seq == 0 && s->gen == 0 && G.phase <= P_WARMUP) ++G.covered;
    return;
  }
  if (G.corrupted++ < 10) {
    size_t off = 0;
    while (off < len && off < ev->len && ev->data[off] == G.buf[off]) ++off;
    uint64_t got_seq = 0;
    if (!text && ev->len >= 16)
      for (int i = 7; i >= 0; --i) got_seq = got_seq << 8 | ev->data[8 + i];
    fprintf(stderr,
            "soak: conn %u gen %u: message %" PRIu64 " corrupted: %zu bytes (expected %zu), opcode %u (expected %u), "
            "first difference at byte %zu%s%" PRIu64 "\n",
            s->index, s->gen, seq, ev->len, len, ev->opcode, text ? WSC_OP_TEXT : WSC_OP_BINARY, off,
            text ? "" : ", sequence number in it ", text ? (uint64_t)0 : got_seq);
  }
}

static void client_on_conn(wsc_conn_t *conn, const wsc_conn_event_t *ev, void *user_data) {
  slot_t *s = user_data;
  (void)conn;
  switch (ev->type) {
    case WSC_EV_OPEN:
      --G.handshaking;
      ++G.open;
      ++G.opens;
      s->state = S_OPEN;
      if (s->gen > 0) ++G.reopened;
      {
        double dt = now_s() - s->connect_t;
        G.hs_sum += dt;
        ++G.hs_n;
        if (dt > G.hs_max) G.hs_max = dt;
        if (dt > G.hs_max_all) G.hs_max_all = dt;
      }
      if (G.phase == P_RAMP && G.open == G.conns) set_phase(P_WARMUP);
      pump_connects();
      break;
    case WSC_EV_MESSAGE:
      check_message(s, ev);
      break;
    case WSC_EV_ERROR:
      if (s->end != END_TERMINATE && G.errors_printed++ < 10)
        fprintf(stderr, "soak: conn %u (%s): error %s: %s\n", s->index, s->state == S_CONNECTING ? "connecting" : "open",
                wsc_err_name(ev->error), ev->message ? ev->message : "");
      break;
    case WSC_EV_CLOSE: {
      uint64_t unresolved = s->sent - s->received - s->failed;
      G.outstanding -= unresolved;
      int expected_clean = s->end == END_CLOSE || s->end == END_FINAL || s->end == END_SERVER;
      uint32_t expected_code = s->end == END_SERVER ? 1001 : 1000;
      if (s->state == S_CONNECTING) {
        --G.handshaking;
        ++G.connect_failed;
        fail("conn %u: the handshake failed (close %u)", s->index, ev->code);
      } else {
        if (s->end == END_CLOSE || s->end == END_TERMINATE) --G.closing;
        if (s->state == S_OPEN || s->state == S_CLOSING) --G.open;
        if (s->end == END_TERMINATE) {
          G.failed += unresolved; /* reported by the close (1006) */
          G.failed_dropped += unresolved + s->failed;
        } else if (expected_clean && ev->was_clean && ev->code == expected_code) {
          /* the server echoes everything it received before its close frame */
          if (unresolved) fail("conn %u: %" PRIu64 " messages lost before a clean close", s->index, unresolved);
          G.lost += unresolved;
        } else {
          G.failed += unresolved;
          ++G.unexpected;
          fail("conn %u: %s close %u%s (%.*s) with %" PRIu64 " messages in flight", s->index,
               expected_clean ? "an unclean or wrong" : "an unexpected", ev->code, ev->was_clean ? " clean" : "",
               (int)ev->len, ev->data ? (const char *)ev->data : "", unresolved);
        }
      }
      --G.live;
      s->ws = NULL;
      s->state = S_IDLE;
      ++s->gen;
      if (G.phase < P_CLOSE) enqueue(s); /* churned (or failed): open it again */
      pump_connects();
      break;
    }
    default:
      break;
  }
}

/* ---- sampling and phases ---- */

static void sample_server(long *rss, int *fds) {
  *rss = G.server_pid > 0 ? rss_kb(G.server_pid) : -1;
  *fds = G.server_pid > 0 ? fd_count(G.server_pid) : -1;
}

/* CPU seconds (user + system) of a process (pid 0: this one), from /proc/PID/stat. */
static double cpu_s(int pid) {
  char path[64], buf[1024];
  if (pid > 0) snprintf(path, sizeof path, "/proc/%d/stat", pid);
  else snprintf(path, sizeof path, "/proc/self/stat");
  FILE *f = fopen(path, "r");
  if (f == NULL) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *p = strrchr(buf, ')'); /* the command may hold spaces */
  unsigned long ut = 0, st = 0;
  if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return 0;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void progress(void) {
  long srss, crss = rss_kb(0);
  int sfd, cfd = fd_count(0);
  sample_server(&srss, &sfd);
  double t = now_s(), c_cpu = cpu_s(0), s_cpu = G.server_pid > 0 ? cpu_s(G.server_pid) : 0;
  double dt = G.cpu_t > 0 ? t - G.cpu_t : 0;
  if (dt > 0)
    printf("soak: [%5.1fs %s] cpu client %.0f%% server %.0f%%; %" PRIu64 " handshakes, avg %.1f ms, max %.1f ms\n",
           t - G.t0, phase_name[G.phase], 100 * (c_cpu - G.c_cpu) / dt, 100 * (s_cpu - G.s_cpu) / dt, G.hs_n,
           G.hs_n ? 1000 * G.hs_sum / (double)G.hs_n : 0.0, 1000 * G.hs_max);
  G.cpu_t = t;
  G.c_cpu = c_cpu;
  G.s_cpu = s_cpu;
  G.hs_sum = G.hs_max = 0;
  G.hs_n = 0;
  printf("soak: [%5.1fs %s] open %u, handshaking %u, sent %" PRIu64 ", intact %" PRIu64 ", in flight %" PRIu64
         ", corrupted %" PRIu64 ", failed %" PRIu64 ", lost %" PRIu64 ", churn %" PRIu64 "+%" PRIu64
         "; server rss %.1f MiB fds %d; client rss %.1f MiB fds %d\n",
         now_s() - G.t0, phase_name[G.phase], G.open, G.handshaking, G.sent, G.intact, G.outstanding, G.corrupted,
         G.failed, G.lost, G.churn_closed, G.churn_dropped, mib(srss), sfd, mib(crss), cfd);
  fflush(stdout);
}

static void begin_ramp(void) {
  sample_server(&G.s_rss0, &G.s_fd0);
  G.c_fd0 = fd_count(0);
  printf("soak: server pid %d: rss %.1f MiB, fds %d before any connection; client fds %d\n", G.server_pid,
         mib(G.s_rss0), G.s_fd0, G.c_fd0);
  set_phase(P_RAMP);
  for (uint32_t i = 0; i < G.conns; ++i) enqueue(&G.slots[i]);
  pump_connects();
}

static void begin_soak(void) {
  sample_server(&G.s_rss_base, &G.s_fd_base);
  G.c_rss_base = rss_kb(0);
  G.c_fd_base = fd_count(0);
  G.s_rss_peak = G.s_rss_base;
  G.s_fd_min = G.s_fd_max = G.s_fd_base;
  printf("soak: baseline after warm-up: server rss %.1f MiB, fds %d; client rss %.1f MiB, fds %d\n", mib(G.s_rss_base),
         G.s_fd_base, mib(G.c_rss_base), G.c_fd_base);
  set_phase(P_SOAK);
  G.soak_t0 = G.phase_t0;
}

static void close_all(void) {
  set_phase(P_CLOSE);
  if (G.server_close) { /* the server's graceful shutdown closes every connection with 1001 */
    for (uint32_t i = 0; i < G.conns; ++i) {
      G.slots[i].end = END_SERVER;
      G.slots[i].state = S_CLOSING;
    }
    G.stop_t0 = now_s();
    uv_process_kill(&G.proc, SIGTERM);
    return;
  }
  for (uint32_t i = 0; i < G.conns; ++i) {
    slot_t *s = &G.slots[i];
    if (s->state != S_OPEN) continue;
    s->end = END_FINAL;
    s->state = S_CLOSING;
    int rc = wsc_conn_close(s->ws, 1000, "done", 4);
    if (rc != 0) fail("conn %u: wsc_conn_close: %s", s->index, wsc_strerror(rc));
  }
}

static void stop_server(void) {
  set_phase(P_STOP);
  if (G.server_close) return; /* stopped already */
  G.stop_t0 = now_s();
  if (G.proc_running && !G.proc_exited) uv_process_kill(&G.proc, SIGTERM);
}

static void finish(void);

static void trickle(uint64_t now_ms) {
  /* --rate messages per second over the open connections, round robin */
  if (G.phase < P_RAMP || G.phase > P_SOAK) return;
  G.tokens += G.rate * (double)(now_ms - G.last_tick_ms) / 1000.0;
  if (G.tokens > G.rate) G.tokens = G.rate; /* no catching up on a second's stall */
  uint32_t scanned = 0;
  while (G.tokens >= 1.0 && scanned < G.conns) {
    slot_t *s = &G.slots[G.cursor];
    G.cursor = (G.cursor + 1) % G.conns;
    ++scanned;
    if (s->state != S_OPEN) continue;
    for (uint32_t k = 0; k < G.burst && s->sent - s->received - s->failed < G.depth && G.tokens >= 1.0; ++k) {
      if (send_one(s) != 0) break;
      G.tokens -= 1.0;
      scanned = 0;
    }
  }
  if (G.tokens >= 1.0) G.tokens = 0; /* every connection is at its depth */
}

static void churn(uint64_t now_ms) {
  /* --churn percent of the connections per second: three in four closed (1000), one dropped */
  if (G.phase != P_SOAK || G.churn <= 0) return;
  G.churn_due += G.conns * G.churn / 100.0 * (double)(now_ms - G.last_tick_ms) / 1000.0;
  while (G.churn_due >= 1.0) {
    G.churn_due -= 1.0;
    slot_t *s = NULL;
    for (int tries = 0; tries < 16 && s == NULL; ++tries) {
      slot_t *c = &G.slots[rnd() % G.conns];
      if (c->state == S_OPEN) s = c;
    }
    if (s == NULL) continue;
    s->state = S_CLOSING;
    ++G.closing;
    if (rnd() % 4 == 0) {
      s->end = END_TERMINATE;
      ++G.churn_dropped;
      wsc_conn_terminate(s->ws); /* the close event follows from the loop */
    } else {
      s->end = END_CLOSE;
      ++G.churn_closed;
      int rc = wsc_conn_close(s->ws, 1000, "churn", 5);
      if (rc != 0) fail("conn %u: wsc_conn_close: %s", s->index, wsc_strerror(rc));
    }
  }
}

static void phase_timeout(double limit, const char *what) {
  if (now_s() - G.phase_t0 <= limit) return;
  fail("%s did not complete within %.0f s (open %u of %u, handshaking %u, queued %u, in flight %" PRIu64 ", live %u)",
       what, limit, G.open, G.conns, G.handshaking, G.qlen, G.outstanding, G.live);
  finish();
}

static void on_tick(uv_timer_t *t) {
  (void)t;
  uint64_t now_ms = uv_now(G.uv);
  trickle(now_ms);
  churn(now_ms);
  G.last_tick_ms = now_ms;
  double now = now_s();
  switch (G.phase) {
    case P_SPAWN:
      if (now - G.phase_t0 > 10) {
        fail("the server did not start");
        finish();
      }
      break;
    case P_RAMP:
      phase_timeout(60 + G.conns / 100.0, "opening the connections");
      break;
    case P_WARMUP:
      if (now - G.phase_t0 >= G.warmup && G.covered == G.conns) begin_soak();
      else phase_timeout(G.warmup + 60, "the warm-up (an echo on every connection)");
      break;
    case P_SOAK:
      if (now - G.soak_t0 >= G.seconds) {
        G.soak_t1 = now;
        set_phase(P_SETTLE); /* no more sends or churn: every connection open again, nothing in flight */
      }
      break;
    case P_SETTLE:
      if (G.open == G.conns && G.closing == 0 && G.outstanding == 0) {
        long srss;
        int sfd;
        sample_server(&srss, &sfd);
        /* the server closes a churned socket after its close handshake: allow it a moment */
        if (sfd == G.s_fd_base || now - G.phase_t0 > 10) {
          G.s_rss_final = srss;
          G.s_fd_final = sfd;
          G.c_rss_final = rss_kb(0);
          G.c_fd_final = fd_count(0);
          if (srss > G.s_rss_peak) G.s_rss_peak = srss;
          close_all();
        }
      } else {
        phase_timeout(60, "settling (every connection open again, every echo back)");
      }
      break;
    case P_CLOSE:
      if (G.live == 0) set_phase(P_FDS);
      else phase_timeout(45, "closing every connection");
      break;
    case P_FDS: {
      long srss;
      int sfd;
      sample_server(&srss, &sfd);
      int cfd = fd_count(0) + (G.spawn && !G.out_open); /* the server's stdout pipe, closed at its exit */
      if (G.server_close) sfd = G.s_fd0; /* the server exited after closing them all */
      if ((sfd == G.s_fd0 && cfd == G.c_fd0) || now - G.phase_t0 > 10) {
        G.s_rss_after = srss;
        G.s_fd_after = G.server_close ? -1 : sfd;
        G.c_fd_after = cfd;
        stop_server();
      }
      break;
    }
    case P_STOP:
      if ((!G.proc_running || G.proc_exited) && !G.out_open) finish();
      else if (now - G.phase_t0 > 20) {
        fail("the server did not exit within 20 s of SIGTERM");
        finish();
      }
      break;
    default:
      break;
  }
}

static void on_sample(uv_timer_t *t) {
  (void)t;
  if (G.phase == P_SOAK) {
    long srss;
    int sfd;
    sample_server(&srss, &sfd);
    if (srss > G.s_rss_peak) G.s_rss_peak = srss;
    if (sfd < G.s_fd_min) G.s_fd_min = sfd;
    if (sfd > G.s_fd_max) G.s_fd_max = sfd;
  }
  double now = now_s();
  if (G.phase >= P_RAMP && G.phase <= P_SETTLE && now - G.last_report >= G.report_s - 0.01) {
    G.last_report = now;
    progress();
  }
}

/* ---- the spawned server ---- */

static void on_server_line(const char *line) {
  unsigned port;
  const char *p;
  printf("  | %s\n", line);
  fflush(stdout);
  if ((p = strstr(line, "listening on ws://127.0.0.1:")) != NULL && sscanf(p, "listening on ws://127.0.0.1:%u", &port) == 1 &&
      G.phase == P_SPAWN) {
    G.port = port;
    snprintf(G.url_buf, sizeof G.url_buf, "ws://127.0.0.1:%u/soak", port);
    G.url = G.url_buf;
    G.on_listening();
  }
  if (strstr(line, "totals:") != NULL) {
    G.srv_totals = 1;
    if ((p = strstr(line, " echoed=")) != NULL) G.srv_echoed = strtoull(p + 8, NULL, 10);
    if ((p = strstr(line, " accepted=")) != NULL) G.srv_accepted = strtoull(p + 10, NULL, 10);
    if ((p = strstr(line, " closed=")) != NULL) G.srv_closed = strtoull(p + 8, NULL, 10);
    if ((p = strstr(line, " server_errors=")) != NULL) G.srv_errors = strtoull(p + 15, NULL, 10);
  }
}

static void out_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  static char chunk[4096];
  (void)h;
  (void)hint;
  *buf = uv_buf_init(chunk, sizeof chunk);
}

static void on_out_closed(uv_handle_t *h) {
  (void)h;
  G.out_open = 0;
}

static void on_out(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  if (n < 0) {
    uv_close((uv_handle_t *)s, on_out_closed);
    return;
  }
  for (ssize_t i = 0; i < n; ++i) {
    char ch = buf->base[i];
    if (ch == '\n' || G.linelen == sizeof G.line - 1) {
      G.line[G.linelen] = 0;
      G.linelen = 0;
      on_server_line(G.line);
    } else {
      G.line[G.linelen++] = ch;
    }
  }
}

static void on_exit_cb(uv_process_t *p, int64_t status, int signal) {
  (void)p;
  G.proc_exited = 1;
  G.proc_status = status;
  G.proc_signal = signal;
  if (G.phase != P_STOP && !(G.server_close && G.phase >= P_CLOSE)) {
    fail("the server exited during the %s phase (status %" PRId64 ", signal %d)", phase_name[G.phase], status, signal);
    G.finish();
  }
}

static int spawn_server(long nofile) {
  static char exe[4096];
  size_t n = sizeof exe;
  char report[16], limit[24];
  if (uv_exepath(exe, &n) != 0) return -1;
  snprintf(report, sizeof report, "%u", G.report_s);
  snprintf(limit, sizeof limit, "%ld", nofile);
  char *args[] = {exe, "server", "--port", "0", "--report", report, "--die-with-parent", "--nofile", limit, NULL};
  if (nofile <= 0) args[7] = NULL;
  uv_stdio_container_t io[3];
  io[0].flags = UV_IGNORE;
  io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  io[1].data.stream = (uv_stream_t *)&G.out;
  io[2].flags = UV_INHERIT_FD;
  io[2].data.fd = 2;
  uv_process_options_t po;
  memset(&po, 0, sizeof po);
  po.file = exe;
  po.args = args;
  po.exit_cb = on_exit_cb;
  po.stdio = io;
  po.stdio_count = 3;
  uv_pipe_init(G.uv, &G.out, 0);
  G.out_open = 1;
  int rc = uv_spawn(G.uv, &G.proc, &po);
  if (rc != 0) {
    fprintf(stderr, "soak: cannot start %s server: %s\n", exe, uv_strerror(rc));
    return -1;
  }
  G.proc_running = 1;
  G.server_pid = G.proc.pid;
  uv_read_start((uv_stream_t *)&G.out, out_alloc, on_out);
  return 0;
}

/* ---- the verdict ---- */

static void finish(void) {
  static int done;
  if (done) return;
  done = 1;
  G.phase = P_DONE;
  if (G.proc_running && !G.proc_exited) uv_process_kill(&G.proc, SIGKILL); /* only after a failure */
  double secs = (G.soak_t1 > 0 ? G.soak_t1 : now_s()) - (G.soak_t0 > 0 ? G.soak_t0 : now_s());

  /* what the server's RSS may grow by, from the baseline after the warm-up to the end */
  long allowed_kb = (long)((double)G.s_rss_base * G.rss_pct / 100.0 + G.rss_mib * 1024.0);
  long growth_kb = G.s_rss_final - G.s_rss_base;
  if (G.server_pid > 0 && G.s_rss_base > 0 && G.s_rss_final > 0) {
    if (growth_kb > allowed_kb && G.rss_check)
      fail("the server's RSS grew by %.1f MiB (%.1f -> %.1f MiB), more than the %.1f MiB allowed (%.0f%% + %.0f MiB)",
           mib(growth_kb), mib(G.s_rss_base), mib(G.s_rss_final), mib(allowed_kb), G.rss_pct, G.rss_mib);
    if (G.s_fd_final != G.s_fd_base)
      fail("the server's fd count changed with every connection open: %d after the warm-up, %d at the end", G.s_fd_base,
           G.s_fd_final);
    if (G.s_fd_after != G.s_fd0 && !G.server_close)
      fail("the server's fds did not return to their baseline once every connection closed: %d before, %d after",
           G.s_fd0, G.s_fd_after);
  }
  if (G.c_fd_after != G.c_fd0 && G.phase_t0 > 0 && G.c_fd_after > 0)
    fail("the client's fds did not return to their baseline: %d before, %d after", G.c_fd0, G.c_fd_after);
  if (G.c_fd_final != G.c_fd_base && G.c_fd_final > 0)
    fail("the client's fd count changed with every connection open: %d after the warm-up, %d at the end", G.c_fd_base,
         G.c_fd_final);
  if (G.corrupted) fail("%" PRIu64 " messages corrupted or out of order", G.corrupted);
  if (G.lost) fail("%" PRIu64 " messages lost", G.lost);
  if (G.outstanding) fail("%" PRIu64 " messages never resolved", G.outstanding);
  if (G.failed > G.failed_dropped)
    fail("%" PRIu64 " messages failed on connections the test did not drop", G.failed - G.failed_dropped);
  if (G.sent != G.intact + G.corrupted - G.unsolicited + G.failed + G.lost + G.outstanding)
    fail("the accounting does not add up: sent %" PRIu64 " != intact + corrupted + failed + lost", G.sent);
  if (G.spawn) {
    if (!G.proc_exited || G.proc_status != 0 || G.proc_signal != 0)
      fail("the server did not exit cleanly (status %" PRId64 ", signal %d)", G.proc_status, G.proc_signal);
    else if (!G.srv_totals) fail("the server printed no totals");
    else {
      if (G.srv_echoed < G.intact || G.srv_echoed > G.sent)
        fail("the server echoed %" PRIu64 " messages: not between the client's intact %" PRIu64 " and sent %" PRIu64,
             G.srv_echoed, G.intact, G.sent);
      if (G.srv_accepted != G.opens || G.srv_closed != G.srv_accepted)
        fail("the server accepted %" PRIu64 " and closed %" PRIu64 " connections; the client opened %" PRIu64,
             G.srv_accepted, G.srv_closed, G.opens);
    }
  }
  double pct = G.s_rss_base > 0 ? 100.0 * (double)growth_kb / (double)G.s_rss_base : 0;
  printf("soak: %u conns, %.0f s, %" PRIu64 " msgs sent, %" PRIu64 " echoed intact, %" PRIu64 " corrupted, %" PRIu64
         " failed (%" PRIu64 " on dropped conns), %" PRIu64 " lost; %" PRIu64 " reconnects (%" PRIu64 " closed, %" PRIu64
         " dropped); server RSS %.1f MiB -> %.1f MiB (%+.1f%%, %+ld KiB; allowed +%.1f MiB; peak %.1f), fds %d -> %d (soak %d..%d"
         ", idle %d -> %d%s); client fds %d -> %d\n",
         G.conns, secs, G.sent, G.intact, G.corrupted, G.failed, G.failed_dropped, G.lost, G.reopened, G.churn_closed,
         G.churn_dropped, mib(G.s_rss_base), mib(G.s_rss_final), pct, growth_kb, mib(allowed_kb), mib(G.s_rss_peak), G.s_fd_base,
         G.s_fd_final, G.s_fd_min, G.s_fd_max, G.s_fd0, G.s_fd_after, G.server_close ? ": server gone" : "", G.c_fd0,
         G.c_fd_after);
  printf("soak: slowest handshake %.0f ms\n", 1000 * G.hs_max_all);
  if (!G.rss_check) printf("soak: the RSS check is off (--rss-check 0 or AddressSanitizer)\n");
  if (G.failures) printf("soak: FAIL (%d): %s\n", G.failures, G.reasons);
  else printf("soak: PASS\n");
  fflush(stdout);
  if (G.live > 0 || (G.proc_running && !G.proc_exited)) _exit(1); /* an aborted run: nothing to tidy */
  uv_close((uv_handle_t *)&G.tick, NULL);
  uv_close((uv_handle_t *)&G.sampler, NULL);
  if (G.proc_running) uv_close((uv_handle_t *)&G.proc, NULL);
  if (G.out_open) uv_close((uv_handle_t *)&G.out, on_out_closed);
}

static int parse_size(const char *v) {
  char *end;
  unsigned long a = strtoul(v, &end, 10), b = a;
  if (*end == '-') b = strtoul(end + 1, &end, 10);
  if (*end != 0 || a > b || a < 16 || b > 16u * 1024 * 1024) return -1;
  G.size_min = a;
  G.size_max = b;
  return 0;
}

static int client_usage(void) {
  fprintf(stderr,
          "usage: soak run [OPTIONS]                       (spawns `soak server` and runs the client against it)\n"
          "       soak client --url ws://H:P/ [--server-pid PID] [OPTIONS]\n"
          "       soak server [--host H] [--port P] [--report SEC] [--backlog N] [--nofile N]\n"
          "       soak emfile [--limit FDS (1000)] [--extra N (100)]   (a server out of file descriptors)\n"
          "OPTIONS: --conns N (1000) --seconds S (20) --warmup S (5) --rate MSGS_PER_S (5000)\n"
          "         --size B|MIN-MAX (32-300, at least 16) --depth D (4) --burst K (1) --churn PCT_PER_S (1)\n"
          "         --inflight HANDSHAKES (256) --report SEC (10) --rss-pct P (5) --rss-mib M (1)\n"
          "         --rss-check 0|1 (1; 0 under AddressSanitizer, whose quarantine keeps freed memory)\n"
          "         --end client|server (run: who closes the connections at the end; server: SIGTERM, 1001)\n");
  return 2;
}

/* The client's end: runs the loop until nothing is left in it, frees it and the client's
 * tables; the exit status. */
static int client_run(void) {
  wsc_loop_run(G.loop, WSC_RUN_DEFAULT);
  int rc = wsc_loop_free(G.loop);
  if (rc != 0) {
    fprintf(stderr, "soak: wsc_loop_free: %s\n", wsc_err_name(rc));
    return 1;
  }
  free(G.slots);
  free(G.queue);
  free(G.buf); /* NULL in emfile */
  return G.failures ? 1 : 0;
}

static int client_main(int argc, char **argv, int spawn) {
  G.spawn = spawn;
  G.conns = 1000;
  G.seconds = 20;
  G.warmup = 5;
  G.rate = 5000;
  G.size_min = 32;
  G.size_max = 300;
  G.depth = 4;
  G.burst = 1;
  G.churn = 1;
  G.inflight = 256;
  G.report_s = 10;
  G.rss_pct = 5;
  G.rss_mib = 1;
  G.rss_check = 1;
#if defined(__SANITIZE_ADDRESS__)
  G.rss_check = 0; /* AddressSanitizer's quarantine keeps freed memory resident */
#endif
  for (int i = 2; i < argc; ++i) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v == NULL) return client_usage();
    ++i;
    if (!strcmp(a, "--conns")) G.conns = (uint32_t)atoi(v);
    else if (!strcmp(a, "--seconds")) G.seconds = atof(v);
    else if (!strcmp(a, "--warmup")) G.warmup = atof(v);
    else if (!strcmp(a, "--rate")) G.rate = atof(v);
    else if (!strcmp(a, "--size")) {
      if (parse_size(v) != 0) return client_usage();
    } else if (!strcmp(a, "--depth")) G.depth = (uint32_t)atoi(v);
    else if (!strcmp(a, "--burst")) G.burst = (uint32_t)atoi(v);
    else if (!strcmp(a, "--churn")) G.churn = atof(v);
    else if (!strcmp(a, "--inflight")) G.inflight = (uint32_t)atoi(v);
    else if (!strcmp(a, "--report")) G.report_s = (uint32_t)atoi(v);
    else if (!strcmp(a, "--rss-pct")) G.rss_pct = atof(v);
    else if (!strcmp(a, "--rss-mib")) G.rss_mib = atof(v);
    else if (!strcmp(a, "--rss-check")) G.rss_check = atoi(v) != 0;
    else if (!strcmp(a, "--url") && !spawn) G.url = v;
    else if (!strcmp(a, "--server-pid") && !spawn) G.server_pid = atoi(v);
    else if (!strcmp(a, "--end") && spawn && (!strcmp(v, "server") || !strcmp(v, "client")))
      G.server_close = !strcmp(v, "server");
    else return client_usage();
  }
  if (G.conns == 0 || G.depth == 0 || G.burst == 0 || G.inflight == 0 || G.report_s == 0 || G.rate <= 0 ||
      (!spawn && G.url == NULL))
    return client_usage();
  /* each connection is one fd in each process; a few more for the loops, stdio, /proc reads */
  if (raise_nofile("soak", (long)G.conns + 64) < 0) return 1;
  FILE *pr = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
  unsigned lo = 0, hi = 0;
  if (pr) {
    if (fscanf(pr, "%u %u", &lo, &hi) == 2 && hi >= lo && G.conns > hi - lo + 1) {
      fprintf(stderr, "soak: %u connections to one server address need as many local ports, but "
                      "net.ipv4.ip_local_port_range has %u\n", G.conns, hi - lo + 1);
      fclose(pr);
      return 1;
    }
    fclose(pr);
  }
  signal(SIGPIPE, SIG_IGN);
  G.rng = 0x2545f4914f6cdd1dULL;
  G.slots = calloc(G.conns, sizeof *G.slots);
  G.queue = calloc(G.conns, sizeof *G.queue);
  G.buf = malloc(G.size_max);
  if (G.slots == NULL || G.queue == NULL || G.buf == NULL) return 1;
  for (uint32_t i = 0; i < G.conns; ++i) G.slots[i].index = i;
  if (wsc_loop_new(&G.loop, NULL) != 0) return 1;
  G.uv = wsc_loop_uv(G.loop);
  uv_timer_init(G.uv, &G.tick);
  uv_timer_init(G.uv, &G.sampler);
  G.t0 = now_s();
  G.last_report = G.t0;
  printf("soak: %u conns, %.0f s (+%.0f s warm-up), %.0f msgs/s, %zu-%zu bytes, depth %u, churn %.2f%%/s, "
         "%u handshakes at once, closed by the %s\n",
         G.conns, G.seconds, G.warmup, G.rate, G.size_min, G.size_max, G.depth, G.churn, G.inflight,
         G.server_close ? "server's shutdown" : "client");
  fflush(stdout);
  G.phase = P_SPAWN;
  G.phase_t0 = G.t0;
  G.on_listening = begin_ramp;
  G.finish = finish;
  if (spawn) {
    if (spawn_server(0) != 0) return 1;
  } else {
    begin_ramp();
  }
  G.last_tick_ms = uv_now(G.uv);
  uv_timer_start(&G.tick, on_tick, 10, 10);
  uv_timer_start(&G.sampler, on_sample, 1000, 1000);
  return client_run();
}

/* ---- soak emfile: the server runs out of file descriptors --------------------------------- */

/* The server runs with RLIMIT_NOFILE at --limit. Round 1 opens as many connections as it has fds
 * left, plus --extra: those wait in its backlog while accept() fails with EMFILE, and time out
 * (the client's handshake timeout is 3 s). Meanwhile the server must not spin (it pauses
 * accepting), and must report the failure. Then the client closes everything: the server's fds
 * return to their baseline (the backlog's leftovers accepted and dropped), and round 2 opens as
 * many connections as round 1 could: all of them must open (the server accepts again). */
static struct {
  uint32_t limit, extra, capacity, requested, opened, timed_out, client_limit, client_opened, client_failed;
  char client_error[128];
  int step, round1_opened, round1_timed_out;
  uint32_t round2_opened;
  double t, cpu0, spin_pct;
} E;

static void emfile_on_conn(wsc_conn_t *conn, const wsc_conn_event_t *ev, void *user_data) {
  slot_t *s = user_data;
  (void)conn;
  if (ev->type == WSC_EV_OPEN) {
    --G.handshaking;
    ++G.open;
    ++E.opened;
    s->state = S_OPEN;
    pump_connects();
  } else if (ev->type == WSC_EV_ERROR && E.step == 7) {
    if (E.client_error[0] == 0)
      snprintf(E.client_error, sizeof E.client_error, "%s: %s", wsc_err_name(ev->error), ev->message ? ev->message : "");
  } else if (ev->type == WSC_EV_ERROR && s->state == S_CONNECTING && E.step >= 5 && G.errors_printed++ < 10) {
    fprintf(stderr, "soak: conn %u: %s: %s\n", s->index, wsc_err_name(ev->error), ev->message ? ev->message : "");
  } else if (ev->type == WSC_EV_CLOSE) {
    if (s->state == S_CONNECTING) {
      --G.handshaking;
      ++E.timed_out;
    } else {
      --G.open;
    }
    --G.live;
    s->ws = NULL;
    s->state = S_IDLE;
    pump_connects();
  }
}

/* Sets RLIMIT_NOFILE's soft limit (0: back to the hard limit). */
static void set_soft_nofile(uint32_t n) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = n ? (rlim_t)n : rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) fail("setrlimit(RLIMIT_NOFILE, %u): %s", n, strerror(errno));
}

static void emfile_open(uint32_t n) {
  E.requested = n;
  E.opened = E.timed_out = 0;
  for (uint32_t i = 0; i < G.conns && n > 0; ++i)
    if (G.slots[i].state == S_IDLE) {
      enqueue(&G.slots[i]);
      --n;
    }
  pump_connects();
}

static void emfile_close_all(void) {
  for (uint32_t i = 0; i < G.conns; ++i)
    if (G.slots[i].state == S_OPEN) {
      G.slots[i].state = S_CLOSING;
      wsc_conn_close(G.slots[i].ws, 1000, NULL, 0);
    }
}

static void emfile_finish(void) {
  static int done;
  if (done) return;
  done = 1;
  if (G.proc_running && !G.proc_exited) uv_process_kill(&G.proc, SIGKILL);
  if (!G.proc_exited || G.proc_status != 0 || G.proc_signal != 0)
    fail("the server did not exit cleanly (status %" PRId64 ", signal %d)", G.proc_status, G.proc_signal);
  else if (G.srv_errors == 0)
    fail("the server reported no accept failure");
  printf("soak emfile: server limit %u fds, %d in use idle; round 1: %d of %u opened, %d timed out in the backlog, "
         "%" PRIu64 " accept failures reported, server CPU %.0f%% while out of fds; round 2: %u of %u opened; "
         "server fds %d -> %d; client limited to %u fds: %u opened, %u failed (%s), fds %d -> %d\n",
         E.limit, G.s_fd0, E.round1_opened, E.capacity + E.extra, E.round1_timed_out, G.srv_errors, E.spin_pct,
         E.round2_opened, E.capacity, G.s_fd0, G.s_fd_after, E.client_limit, E.client_opened, E.client_failed,
         E.client_error, G.c_fd0, G.c_fd_after);
  if (G.failures) printf("soak: FAIL (%d): %s\n", G.failures, G.reasons);
  else printf("soak: PASS\n");
  fflush(stdout);
  if (G.live > 0 || (G.proc_running && !G.proc_exited)) _exit(1);
  uv_close((uv_handle_t *)&G.tick, NULL);
  if (G.proc_running) uv_close((uv_handle_t *)&G.proc, NULL);
  if (G.out_open) uv_close((uv_handle_t *)&G.out, on_out_closed);
}

static void emfile_listening(void) {
  G.s_fd0 = fd_count(G.server_pid);
  if (G.s_fd0 <= 0 || (uint32_t)G.s_fd0 >= E.limit) {
    fail("the server uses %d fds before any connection, its limit is %u", G.s_fd0, E.limit);
    emfile_finish();
    return;
  }
  E.capacity = E.limit - (uint32_t)G.s_fd0;
  printf("soak: the server has %d fds open and may have %u: round 1 opens %u connections\n", G.s_fd0, E.limit,
         E.capacity + E.extra);
  E.step = 1;
  G.phase = P_RAMP;
  E.t = now_s();
  emfile_open(E.capacity + E.extra);
}

static void emfile_tick(uv_timer_t *t) {
  (void)t;
  double now = now_s();
  if (G.phase == P_SPAWN && now - G.t0 > 10) {
    fail("the server did not start");
    emfile_finish();
    return;
  }
  if (E.step > 0 && E.step < 9 && now - E.t > 60) {
    fail("step %d did not complete within 60 s (open %u, handshaking %u, live %u, server fds %d)", E.step, G.open,
         G.handshaking, G.live, fd_count(G.server_pid));
    emfile_finish();
    return;
  }
  switch (E.step) {
    case 1: /* round 1: every connection opened or timed out */
      if (E.opened + E.timed_out < E.requested || G.qlen > 0) break;
      E.round1_opened = (int)E.opened;
      E.round1_timed_out = (int)E.timed_out;
      printf("soak: round 1: %u opened, %u timed out\n", E.opened, E.timed_out);
      /* the server's /proc reads (its reports) may take an fd at the wrong moment: allow 2 */
      if (E.opened > E.capacity || E.opened + 2 < E.capacity)
        fail("round 1 opened %u connections, the server had fds for %u", E.opened, E.capacity);
      /* with connections still waiting in the backlog, measure whether the server spins */
      emfile_open(E.extra);
      E.cpu0 = cpu_s(G.server_pid);
      E.t = now;
      E.step = 2;
      break;
    case 2:
      if (now - E.t < 2) break;
      E.spin_pct = 100 * (cpu_s(G.server_pid) - E.cpu0) / (now - E.t);
      printf("soak: server CPU %.0f%% over %.1f s with %u connections waiting in its backlog\n", E.spin_pct, now - E.t,
             G.handshaking);
      if (E.spin_pct > 50) fail("the server used %.0f%% CPU while out of fds: it spins on accept", E.spin_pct);
      E.step = 3;
      break;
    case 3: /* the waiting ones time out; then close the open ones */
      if (G.handshaking > 0 || G.qlen > 0) break;
      emfile_close_all();
      E.t = now;
      E.step = 4;
      break;
    case 4: /* every connection gone, the server's fds back to their baseline */
      if (G.live > 0 || fd_count(G.server_pid) != G.s_fd0) break;
      printf("soak: all closed, server fds back to %d; round 2 opens %u connections\n", G.s_fd0, E.capacity);
      E.t = now;
      E.step = 5;
      emfile_open(E.capacity);
      break;
    case 5: /* round 2: all must open */
      if (E.opened + E.timed_out < E.requested || G.qlen > 0) break;
      E.round2_opened = E.opened;
      if (E.opened != E.capacity) fail("round 2 opened %u of %u connections: accepting did not recover", E.opened, E.capacity);
      emfile_close_all();
      E.t = now;
      E.step = 6;
      break;
    case 6:
      if (G.live > 0) break;
      G.s_fd_after = fd_count(G.server_pid);
      if (G.s_fd_after != G.s_fd0 && now - E.t < 10) break;
      if (G.s_fd_after != G.s_fd0)
        fail("the server's fds did not return to their baseline: %d before, %d after", G.s_fd0, G.s_fd_after);
      /* the client out of fds: its soft limit a few fds above what it uses */
      G.c_fd0 = fd_count(0);
      E.client_limit = (uint32_t)G.c_fd0 + 40;
      set_soft_nofile(E.client_limit);
      printf("soak: the client's limit lowered to %u fds (%d in use): it opens %u connections\n", E.client_limit,
             G.c_fd0, E.extra);
      E.t = now;
      E.step = 7;
      emfile_open(E.extra);
      break;
    case 7: /* each failed with an error event, none crashed */
      if (E.opened + E.timed_out < E.requested || G.qlen > 0) break;
      set_soft_nofile(0);
      E.client_opened = E.opened;
      E.client_failed = E.timed_out;
      printf("soak: %u opened, %u failed (%s)\n", E.opened, E.timed_out, E.client_error);
      if (E.opened == 0 || E.opened > 42 || E.timed_out == 0 || strstr(E.client_error, "WSC_") == NULL)
        fail("with 40 fds left the client opened %u connections and failed %u (%s)", E.opened, E.timed_out,
             E.client_error);
      emfile_close_all();
      E.t = now;
      E.step = 8;
      break;
    case 8: /* the client's fds back to their baseline */
      if (G.live > 0) break;
      G.c_fd_after = fd_count(0);
      if (G.c_fd_after != G.c_fd0 && now - E.t < 10) break;
      if (G.c_fd_after != G.c_fd0)
        fail("the client's fds did not return to their baseline: %d before, %d after", G.c_fd0, G.c_fd_after);
      G.phase = P_STOP;
      E.t = now;
      E.step = 9;
      uv_process_kill(&G.proc, SIGTERM);
      break;
    case 9:
      if ((G.proc_exited && !G.out_open) || now - E.t > 20) emfile_finish();
      break;
  }
}

static int emfile_main(int argc, char **argv) {
  E.limit = 1000;
  E.extra = 100;
  G.inflight = 256;
  G.report_s = 60;
  for (int i = 2; i < argc; ++i) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v == NULL) return client_usage();
    ++i;
    if (!strcmp(a, "--limit")) E.limit = (uint32_t)atoi(v);
    else if (!strcmp(a, "--extra")) E.extra = (uint32_t)atoi(v);
    else return client_usage();
  }
  if (E.limit < 64 || E.extra == 0) return client_usage();
  if (raise_nofile("soak", (long)E.limit + E.extra + 64) < 0) return 1;
  G.conns = E.limit + E.extra;
  G.size_min = G.size_max = 16;
  G.slots = calloc(G.conns, sizeof *G.slots);
  G.queue = calloc(G.conns, sizeof *G.queue);
  if (G.slots == NULL || G.queue == NULL) return 1;
  for (uint32_t i = 0; i < G.conns; ++i) G.slots[i].index = i;
  G.conn_cb = emfile_on_conn;
  G.handshake_timeout_ms = 3000;
  G.spawn = 1;
  G.finish = emfile_finish;
  G.on_listening = emfile_listening;
  if (wsc_loop_new(&G.loop, NULL) != 0) return 1;
  G.uv = wsc_loop_uv(G.loop);
  uv_timer_init(G.uv, &G.tick);
  G.t0 = now_s();
  G.phase = P_SPAWN;
  printf("soak emfile: a server limited to %u fds, %u connections more than it can take\n", E.limit, E.extra);
  fflush(stdout);
  if (spawn_server(E.limit) != 0) return 1;
  uv_timer_start(&G.tick, emfile_tick, 10, 10);
  return client_run();
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "server")) return server_main(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "client")) return client_main(argc, argv, 0);
  if (argc >= 2 && !strcmp(argv[1], "run")) return client_main(argc, argv, 1);
  if (argc >= 2 && !strcmp(argv[1], "emfile")) return emfile_main(argc, argv);
  return client_usage();
}

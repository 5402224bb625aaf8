// permessage-deflate benchmark: compressed echo throughput of wsc's server and of ws (npm) in
// the same run, each in its own process, loaded by wsc's client from this one; the servers'
// memory per compressed connection (RSS growth over many connections); the memory one wsc
// connection holds at different settings; and how long compressing one 16 MiB message takes.
//   bench/deflate_bench [connections] [seconds]     (needs build/wsc and npm's ws, see README)
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "wsc/wsc.h"

namespace {

using Clock = std::chrono::steady_clock;

// ---- a child process serving on a port it prints -------------------------------------------

struct Child {
  pid_t pid = -1;
  int port = 0;
  int stdin_fd = -1;
};

Child spawn(const std::vector<std::string> &argv, const std::vector<std::string> &env) {
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) return {};
  Child c;
  c.pid = fork();
  if (c.pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 2);  // the servers' own chatter
    close(in[1]);
    close(out[0]);
    for (const auto &e : env) putenv(const_cast<char *>(e.c_str()));
    std::vector<char *> args;
    for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  c.stdin_fd = in[1];
  std::string text;
  char ch;
  while (read(out[0], &ch, 1) == 1) {
    text += ch;
    size_t p = text.find("PORT ");
    if (p == std::string::npos) p = text.find("ws://127.0.0.1:");
    if (p != std::string::npos && ch == '\n') {
      size_t colon = text.rfind(':');
      size_t start = text.find("PORT ") != std::string::npos ? text.find("PORT ") + 5 : colon + 1;
      c.port = std::atoi(text.c_str() + start);
      break;
    }
  }
  close(out[0]);
  return c;
}

void stop(Child &c) {
  if (c.pid <= 0) return;
  close(c.stdin_fd);
  kill(c.pid, SIGINT);
  int status;
  waitpid(c.pid, &status, 0);
  c.pid = -1;
}

long rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

// ---- load: C connections, D messages in flight each, echoes verified ------------------------

struct Load {
  std::string message;
  int in_flight;
  uint64_t echoed = 0, bad = 0;
  int open = 0, closed = 0;
  bool stop = false;
};

void on_load(wsc_conn_t *c, const wsc_conn_event_t *ev, void *ud) {
  auto *l = static_cast<Load *>(ud);
  if (ev->type == WSC_EV_OPEN) {
    ++l->open;
    for (int i = 0; i < l->in_flight; ++i) wsc_conn_send(c, WSC_OP_TEXT, l->message.data(), l->message.size(), 0, nullptr, nullptr);
  } else if (ev->type == WSC_EV_MESSAGE) {
    if (ev->len != l->message.size() || std::memcmp(ev->data, l->message.data(), ev->len) != 0) ++l->bad;
    ++l->echoed;
    if (!l->stop) wsc_conn_send(c, WSC_OP_TEXT, l->message.data(), l->message.size(), 0, nullptr, nullptr);
  } else if (ev->type == WSC_EV_CLOSE) {
    ++l->closed;
  }
}

struct Result {
  double msgs_per_s = 0;
  double rss_per_conn = 0;
};

Result run_load(int port, int conns, double seconds, pid_t server_pid) {
  wsc_loop_t *loop;
  wsc_loop_new(&loop, nullptr);
  Load l;
  l.in_flight = 4;
  for (int i = 0; l.message.size() < 1024; ++i) l.message += "the quick brown fox " + std::to_string(i % 10) + " ";
  l.message.resize(1024);
  wsc_deflate_options_t d = WSC_DEFLATE_OPTIONS_INIT;
  d.threshold = 0;
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  co.deflate = &d;
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  o.conn = &co;
  long rss0 = rss_kib(server_pid);
  std::string url = "ws://127.0.0.1:" + std::to_string(port) + "/";
  std::vector<wsc_conn_t *> all(static_cast<size_t>(conns));
  for (auto &c : all) wsc_connect(&c, loop, url.c_str(), &o, on_load, &l);
  while (l.open < conns && l.closed == 0) wsc_loop_run(loop, WSC_RUN_ONCE);
  auto t0 = Clock::now();
  uint64_t e0 = l.echoed;
  while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds) wsc_loop_run(loop, WSC_RUN_ONCE);
  Result r;
  r.msgs_per_s = static_cast<double>(l.echoed - e0) / std::chrono::duration<double>(Clock::now() - t0).count();
  r.rss_per_conn = (rss_kib(server_pid) - rss0) * 1024.0 / conns;
  l.stop = true;
  for (auto &c : all) wsc_conn_close(c, 1000, nullptr, 0);
  while (l.closed < conns) wsc_loop_run(loop, WSC_RUN_ONCE);
  wsc_loop_free(loop);
  if (l.bad) std::fprintf(stderr, "  %llu echoes were wrong\n", static_cast<unsigned long long>(l.bad));
  return r;
}

// ---- one process: the memory a wsc connection holds, and a 16 MiB compression ---------------

// A wsc server (echoing, optionally) and a wsc client in this process, both open.
struct LocalPair {
  LocalPair(wsc_conn_options_t co, bool echo_messages) : echo(echo_messages) {
    co.max_message_size = 64u << 20;
    wsc_loop_new(&loop, nullptr);
    wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
    so.host = "127.0.0.1";
    so.conn = &co;
    wsc_server_new(&srv, loop, &so, [](wsc_server_t *, const wsc_server_event_t *ev, void *ud) {
      if (ev->type != WSC_SERVER_CONNECTION) return;
      auto *p = static_cast<LocalPair *>(ud);
      p->server_conn = ev->conn;
      wsc_conn_set_callback(ev->conn, [](wsc_conn_t *c, const wsc_conn_event_t *e, void *u) {
        if (e->type == WSC_EV_MESSAGE && static_cast<LocalPair *>(u)->echo)
          wsc_conn_send(c, e->opcode, e->data, e->len, 0, nullptr, nullptr);
      }, ud);
    }, this);
    wsc_addr_t a;
    wsc_server_address(srv, &a);
    wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
    o.conn = &co;
    wsc_connect(&client, loop, ("ws://127.0.0.1:" + std::to_string(a.port) + "/").c_str(), &o,
                [](wsc_conn_t *, const wsc_conn_event_t *e, void *u) {
                  if (e->type == WSC_EV_MESSAGE) ++static_cast<LocalPair *>(u)->got;
                },
                this);
    while (server_conn == nullptr || wsc_conn_ready_state(server_conn) != WSC_OPEN ||
           wsc_conn_ready_state(client) != WSC_OPEN)
      wsc_loop_run(loop, WSC_RUN_ONCE);
  }
  void wait_for(int messages) {
    while (got < messages) wsc_loop_run(loop, WSC_RUN_ONCE);
  }
  ~LocalPair() {
    wsc_conn_close(client, 1000, nullptr, 0);
    wsc_server_close(srv, 0);
    while (wsc_loop_handle_count(loop) > 0) wsc_loop_run(loop, WSC_RUN_ONCE);
    wsc_loop_free(loop);
  }
  bool echo;
  wsc_loop_t *loop = nullptr;
  wsc_server_t *srv = nullptr;
  wsc_conn_t *server_conn = nullptr, *client = nullptr;
  int got = 0;
};

size_t memory_at(int bits, int mem_level, uint32_t flags) {
  wsc_deflate_options_t d = WSC_DEFLATE_OPTIONS_INIT;
  d.threshold = 0;
  d.flags = flags;
  d.mem_level = static_cast<uint32_t>(mem_level);
  if (bits != 15) d.server_max_window_bits = d.client_max_window_bits = static_cast<uint32_t>(bits);
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  co.deflate = &d;
  LocalPair p(co, true);
  std::string m(1024, 'm');
  wsc_conn_send(p.client, WSC_OP_TEXT, m.data(), m.size(), 0, nullptr, nullptr);
  p.wait_for(1);
  return wsc_conn_memory_usage(p.server_conn);  // the server's side, after one message each way
}

void compress_16mib() {
  wsc_deflate_options_t d = WSC_DEFLATE_OPTIONS_INIT;
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  co.deflate = &d;
  LocalPair p(co, false);
  std::string text;
  for (int i = 0; text.size() < (16u << 20); ++i) text += "line " + std::to_string(i) + " of a large JSON-ish log\n";
  text.resize(16u << 20);
  auto t0 = Clock::now();
  wsc_conn_send(p.server_conn, WSC_OP_TEXT, text.data(), text.size(), 0, nullptr, nullptr);
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  p.wait_for(1);
  std::printf("\nsending one compressed 16 MiB text message: the loop thread spent %.2f ms in the call; "
              "delivered after %.0f ms (compressed on the thread pool)\n",
              ms, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
}

}  // namespace

int main(int argc, char **argv) {
  int conns = argc > 1 ? std::atoi(argv[1]) : 100;
  double seconds = argc > 2 ? std::atof(argv[2]) : 3.0;
  std::string exe = argv[0];
  std::string root = exe.substr(0, exe.rfind('/')) + "/..";
  const char *home = std::getenv("HOME");
  std::string node_path = std::string(std::getenv("WSC_NPM_CACHE") ? std::getenv("WSC_NPM_CACHE") : std::string(home ? home : "") + "/.cache/wsc/npm") + "/node_modules";
  std::string src = WSC_BENCH_SOURCE_DIR;

  std::printf("permessage-deflate, 1 KiB text messages, %d connections x 4 in flight, %.0f s, medians of 3\n", conns, seconds);
  std::printf("%-28s %14s %18s\n", "server", "msgs/s", "RSS per conn (B)");
  struct Server {
    const char *name;
    std::vector<std::string> argv;
    std::vector<std::string> env;
  } servers[] = {
      {"wsc (C, wsc serve)", {root + "/wsc", "serve", "--port", "0", "--deflate=threshold=0"}, {}},
      {"ws 8 (Node)", {"node", src + "/servers/ws_echo.js"}, {"PEER_DEFLATE=1", "NODE_PATH=" + node_path}},
  };
  double wsc_rate = 0;
  for (auto &s : servers) {
    std::vector<double> rates, mems;
    for (int run = 0; run < 3; ++run) {
      Child c = spawn(s.argv, s.env);
      if (c.port == 0) {
        std::printf("%-28s %14s\n", s.name, "(did not start)");
        stop(c);
        break;
      }
      Result r = run_load(c.port, conns, seconds, c.pid);
      rates.push_back(r.msgs_per_s);
      mems.push_back(r.rss_per_conn);
      stop(c);
    }
    if (rates.empty()) continue;
    std::sort(rates.begin(), rates.end());
    std::sort(mems.begin(), mems.end());
    double rate = rates[rates.size() / 2];
    if (wsc_rate == 0) wsc_rate = rate;
    std::printf("%-28s %14.0f %18.0f   (wsc / this: %.2fx)\n", s.name, rate, mems[mems.size() / 2], wsc_rate / rate);
  }
  std::printf("\nmemory one wsc server connection holds after a compressed message each way:\n");
  std::printf("  defaults (window 15, memLevel 8, context takeover): %zu B\n", memory_at(15, 8, 0));
  std::printf("  window 12, memLevel 5:                              %zu B\n", memory_at(12, 5, 0));
  std::printf("  no context takeover (both directions):              %zu B\n",
              memory_at(15, 8, WSC_DEFLATE_SERVER_NO_CONTEXT_TAKEOVER | WSC_DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER));
  compress_16mib();
  return 0;
}

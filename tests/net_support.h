// Support for loop tests: running a wsc loop until a condition holds (with a deadline), raw TCP
// peers on a thread, and recording connection events as text.
#ifndef WSC_TESTS_NET_SUPPORT_H
#define WSC_TESTS_NET_SUPPORT_H

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "wsc/wsc.h"

namespace wsc_test {

// Bounds on how long a call may take are multiplied by WSC_TEST_TIME_SCALE (tools/valgrind.sh
// sets it: memcheck runs code ~20x slower).
inline double time_scale() {
  const char *s = std::getenv("WSC_TEST_TIME_SCALE");
  return s && std::atof(s) > 0 ? std::atof(s) : 1.0;
}

// A loop for one test. Every test ends with close_clean(): nothing left open, loop freed.
class TestLoop {
 public:
  TestLoop() { EXPECT_EQ(wsc_loop_new(&loop, nullptr), 0); }
  ~TestLoop() {
    if (loop) close_clean();
  }

  // Runs the loop until done() is true; fails the test after timeout_ms.
  bool run_until(const std::function<bool()> &done, int timeout_ms = 5000) {
    uv_loop_t *uv = static_cast<uv_loop_t *>(wsc_loop_uv(loop));
    uv_timer_t tick;
    uv_timer_init(uv, &tick);
    uv_timer_start(&tick, [](uv_timer_t *) {}, 5, 5);  // keeps RUN_ONCE from blocking for long
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_ms * time_scale()));
    bool ok = done();
    while (!ok && std::chrono::steady_clock::now() < deadline) {
      wsc_loop_run(loop, WSC_RUN_ONCE);
      ok = done();
    }
    uv_close(reinterpret_cast<uv_handle_t *>(&tick), nullptr);
    wsc_loop_run(loop, WSC_RUN_NOWAIT);  // let the timer's close callback run
    EXPECT_TRUE(ok) << "timed out after " << timeout_ms << " ms";
    return ok;
  }

  // Runs the loop for ms milliseconds, whatever happens.
  void run_for(int ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    run_until([&] { return std::chrono::steady_clock::now() >= until; }, ms + 5000);
  }

  // Runs until no wsc handle is open, then frees the loop: it must close clean.
  void close_clean() {
    run_until([&] { return wsc_loop_handle_count(loop) == 0; });
    int rc;
    for (int i = 0; (rc = wsc_loop_free(loop)) == WSC_EBUSY && i < 1000; ++i)
      wsc_loop_run(loop, WSC_RUN_ONCE);  // a compression may still be on the thread pool
    EXPECT_EQ(rc, 0) << "the loop did not close clean";
    loop = nullptr;
  }

  wsc_loop_t *loop = nullptr;
};

// Client options for handshake tests: offering the subprotocol "chat" or not, and
// permessage-deflate or not. Not copyable: the options point into it.
struct HandshakeOptions {
  HandshakeOptions(bool offer_protocol, bool no_deflate) {
    if (offer_protocol) {
      options.protocols = protocols;
      options.nprotocols = 1;
    }
    off.flags = WSC_DEFLATE_DISABLE;
    conn.deflate = &off;
    if (no_deflate) options.conn = &conn;
  }
  HandshakeOptions(const HandshakeOptions &) = delete;
  HandshakeOptions &operator=(const HandshakeOptions &) = delete;

  const char *protocols[1] = {"chat"};
  wsc_deflate_options_t off = WSC_DEFLATE_OPTIONS_INIT;
  wsc_conn_options_t conn = WSC_CONN_OPTIONS_INIT;
  wsc_client_options_t options = WSC_CLIENT_OPTIONS_INIT;
};

// Server and connection events as text lines, for assertions.
struct Events {
  std::vector<std::string> log;
  bool has(const std::string &prefix) const {
    for (const auto &l : log)
      if (l.rfind(prefix, 0) == 0) return true;
    return false;
  }
  size_t count(const std::string &prefix) const {
    size_t n = 0;
    for (const auto &l : log) n += l.rfind(prefix, 0) == 0;
    return n;
  }
};

inline std::string describe_conn_event(const wsc_conn_event_t &ev) {
  std::string data(reinterpret_cast<const char *>(ev.data), ev.data ? ev.len : 0);
  switch (ev.type) {
    case WSC_EV_OPEN: return "open";
    case WSC_EV_MESSAGE: return std::string(ev.opcode == WSC_OP_TEXT ? "text " : "binary ") + data;
    case WSC_EV_FRAGMENT:
      return std::string("fragment ") + ((ev.flags & WSC_FRAME_FIN) ? "fin " : "more ") + data;
    case WSC_EV_PING: return "ping " + data;
    case WSC_EV_PONG: return "pong " + data;
    case WSC_EV_CLOSE:
      return "close " + std::to_string(ev.code) + " " + data + (ev.was_clean ? " clean" : " unclean");
    case WSC_EV_ERROR: return std::string("error ") + wsc_err_name(ev.error) + " " + (ev.message ? ev.message : "");
    case WSC_EV_UPGRADE: return "upgrade " + std::to_string(ev.code);
    case WSC_EV_UNEXPECTED_RESPONSE: return "unexpected-response " + std::to_string(ev.code) + " " + data;
    case WSC_EV_DRAIN: return "drain";
    case WSC_EV_TIMEOUT: return "timeout " + std::to_string(ev.code);
    case WSC_EV_REDIRECT: return "redirect " + std::to_string(ev.code) + " " + data;
    case WSC_EV_RECONNECTING:
      return "reconnecting " + std::to_string(ev.code) + " attempt " + std::to_string(ev.attempt);
  }
  return "?";
}

// Connects the socket fd to 127.0.0.1:port; true once connected.
inline bool connect_loopback(int fd, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
}

// A blocking TCP peer on its own thread: it runs `script` with a connected socket.
class RawPeer {
 public:
  RawPeer(int port, std::function<void(int fd)> script) {
    thread_ = std::thread([this, port, script] {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      if (connect_loopback(fd, port)) script(fd);
      close(fd);
      done = true;
    });
  }
  ~RawPeer() { join(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  std::atomic<bool> done{false};

 private:
  std::thread thread_;
};

inline bool send_all(int fd, const std::string &s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads until the peer closes (or 5 s pass); returns everything read.
inline std::string read_all(int fd) {
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Reads until `marker` has been seen (or the peer closes); returns what was read.
inline std::string read_until(int fd, const std::string &marker) {
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  char c;
  while (out.find(marker) == std::string::npos) {
    ssize_t n = recv(fd, &c, 1, 0);
    if (n <= 0) break;
    out += c;
  }
  return out;
}

// A listening socket on 127.0.0.1 with an ephemeral port (non-blocking, polled while a loop runs,
// unless `blocking`).
inline int listen_loopback(int *port, int backlog = 4, bool blocking = false) {
  int lfd = socket(AF_INET, blocking ? SOCK_STREAM : SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(lfd, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
  EXPECT_EQ(listen(lfd, backlog), 0);
  socklen_t len = sizeof a;
  getsockname(lfd, reinterpret_cast<sockaddr *>(&a), &len);
  *port = ntohs(a.sin_port);
  return lfd;
}

// A blocking listener on 127.0.0.1 (an ephemeral port) that serves one connection with `script`:
// for client tests that need a misbehaving server.
class RawServer {
 public:
  explicit RawServer(std::function<void(int fd)> script) {
    lfd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(lfd_, reinterpret_cast<sockaddr *>(&a), sizeof a);
    listen(lfd_, 8);
    socklen_t len = sizeof a;
    getsockname(lfd_, reinterpret_cast<sockaddr *>(&a), &len);
    port = ntohs(a.sin_port);
    thread_ = std::thread([this, script] {
      int fd = accept(lfd_, nullptr, nullptr);
      if (fd >= 0) {
        script(fd);
        close(fd);
      }
    });
  }
  ~RawServer() {
    shutdown(lfd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    close(lfd_);
  }
  int port = 0;

 private:
  int lfd_;
  std::thread thread_;
};

}  // namespace wsc_test

#endif

// Support for the hostile-input suite: a live wsc server and live wsc clients on one loop, against
// peers that are raw TCP sockets scripted on threads. Every test
//   - runs under a hard deadline (a watchdog ends the program if a test overruns it),
//   - keeps a well-behaved wsc client (the bystander) connected to the same server, whose echoes
//     are checked byte for byte before and after the hostile part (Scene),
//   - and ends with the loop closing clean.
// Memory is measured as the process's resident set (/proc/self/statm, and the peak VmHWM after
// resetting it through /proc/self/clear_refs): the peers run in this process, so their buffers
// are built and touched before a measurement starts.
#ifndef WSC_TESTS_HOSTILE_SUPPORT_H
#define WSC_TESTS_HOSTILE_SUPPORT_H

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http.h"  // wsc::websocket_accept, for the raw servers' 101
#include "net_support.h"

#if defined(__SANITIZE_ADDRESS__)
#define WSC_HOSTILE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WSC_HOSTILE_ASAN 1
#endif
#endif
#ifndef WSC_HOSTILE_ASAN
#define WSC_HOSTILE_ASAN 0
#endif
#if WSC_HOSTILE_ASAN && __has_include(<sanitizer/allocator_interface.h>)
#include <sanitizer/allocator_interface.h>
#elif WSC_HOSTILE_ASAN  // GCC 12 ships the runtime without its interface headers
extern "C" {
size_t __sanitizer_get_allocated_size(const volatile void *p);
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
}
#endif

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define WSC_HOSTILE_VALGRIND 1
#else
#define WSC_HOSTILE_VALGRIND 0
#endif

namespace hostile {

using wsc_test::TestLoop;
using Clock = std::chrono::steady_clock;

// Timing slack: the sanitizers make everything a few times slower, valgrind more
// (WSC_TEST_TIME_SCALE, see net_support.h).
inline const int kSlow = (WSC_HOSTILE_ASAN ? 3 : 1) * (wsc_test::time_scale() > 1 ? static_cast<int>(wsc_test::time_scale()) : 1);

inline long ms_since(Clock::time_point t) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

// ---- the hard deadline ----------------------------------------------------------------------

// Arms a deadline when each test starts (60 s, times kSlow; hard_deadline() changes it) and ends
// the program with a message if the test is still running then: no case may hang.
class Watchdog : public testing::EmptyTestEventListener {
 public:
  static constexpr int kDefaultSeconds = 60;

  void OnTestStart(const testing::TestInfo &info) override {
    std::lock_guard<std::mutex> lk(mu_);
    name_ = std::string(info.test_suite_name()) + "." + info.name();
    done_ = false;
    deadline_ = Clock::now() + std::chrono::seconds(kDefaultSeconds * kSlow);
    thread_ = std::thread([this] { watch(); });
  }
  void OnTestEnd(const testing::TestInfo &) override {
    {
      std::lock_guard<std::mutex> lk(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void set(int seconds) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      deadline_ = Clock::now() + std::chrono::seconds(seconds * kSlow);
    }
    cv_.notify_all();
  }

 private:
  void watch() {
    std::unique_lock<std::mutex> lk(mu_);
    while (!done_) {
      cv_.wait_until(lk, deadline_);
      if (!done_ && Clock::now() >= deadline_) {
        std::fprintf(stderr, "\n*** %s is past its hard deadline: the program ends here\n", name_.c_str());
        std::fflush(stderr);
        _exit(3);
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  std::string name_;
  bool done_ = true;
  Clock::time_point deadline_;
};

inline Watchdog *watchdog() {
  static Watchdog *w = [] {
    auto *dog = new Watchdog;  // owned by gtest's listener list
    testing::UnitTest::GetInstance()->listeners().Append(dog);
    return dog;
  }();
  return w;
}
inline const bool kWatchdogInstalled = (watchdog(), true);

// The current test must end within `seconds` (times kSlow) from now.
inline void hard_deadline(int seconds) { watchdog()->set(seconds); }

// ---- memory ---------------------------------------------------------------------------------

inline long rss_kb() {
  long pages = 0, resident = 0;
  FILE *f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

inline long peak_rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

// Resets VmHWM to the current resident set (Linux >= 4.0); false where it cannot be.
inline bool reset_peak_rss() {
  FILE *f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

#if WSC_HOSTILE_ASAN
// Under AddressSanitizer the resident set says little (freed blocks stay resident in its
// quarantine, and every call touches fresh fake-stack frames): the live heap is counted instead,
// through the sanitizer's allocation hooks, with its peak.
namespace heap {
inline std::atomic<long long> live{0}, peak{0};
inline void on_malloc(const volatile void *, size_t size) {
  long long now = live.fetch_add(static_cast<long long>(size)) + static_cast<long long>(size);
  long long was = peak.load();
  while (now > was && !peak.compare_exchange_weak(was, now)) {
  }
}
inline void on_free(const volatile void *p) {
  live.fetch_sub(static_cast<long long>(__sanitizer_get_allocated_size(const_cast<const void *>(p))));
}
inline const bool kHooked = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free) != 0;
}  // namespace heap
#endif

// How far memory rose above where it was when the watch started: without ASan the resident set
// (the kernel's peak, VmHWM, when it can be reset, and the samples taken meanwhile in any case);
// under ASan the peak of the live heap.
class MemoryWatch {
 public:
  MemoryWatch() : peak_reset_(reset_peak_rss()), base_(rss_kb()), max_(base_) {
#if WSC_HOSTILE_ASAN
    EXPECT_TRUE(heap::kHooked);
    heap_base_ = heap::live.load();
    heap::peak.store(heap_base_);
#endif
  }
  void sample() { max_ = std::max(max_, rss_kb()); }
  long growth_kb() {
#if WSC_HOSTILE_VALGRIND
    // Under memcheck the resident set holds its shadow memory, in proportion to what was ever
    // allocated: the bounds are asserted by the plain and the ASan runs, this one looks for
    // invalid accesses and leaks.
    if (RUNNING_ON_VALGRIND) return 0;
#endif
#if WSC_HOSTILE_ASAN
    return static_cast<long>((heap::peak.load() - heap_base_) / 1024);
#else
    sample();
    long peak = peak_reset_ ? std::max(max_, peak_rss_kb()) : max_;
    return peak - base_;
#endif
  }
  static const char *what() { return WSC_HOSTILE_ASAN ? "the live heap's peak" : "the resident set"; }

 private:
  bool peak_reset_;
  long base_, max_;
#if WSC_HOSTILE_ASAN
  long long heap_base_ = 0;
#endif
};

// ---- frames as raw peers write and read them ------------------------------------------------

constexpr uint8_t kFin = 0x80, kRsv1 = 0x40, kRsv2 = 0x20, kRsv3 = 0x10;
constexpr uint8_t kCont = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9, kPong = 0xA;
inline const uint8_t kMaskKey[4] = {0x37, 0xfa, 0x21, 0x3d};

// The length field as written: the minimal form, or a chosen one (7, 16 or 64 bits) even when it
// is not minimal.
enum class LengthForm { kMinimal, k7, k16, k64 };

// The header of a frame: b0 (FIN, RSV, opcode), the declared length, and kMaskKey when masked.
inline std::string frame_header(uint8_t b0, uint64_t len, bool masked, LengthForm form = LengthForm::kMinimal) {
  if (form == LengthForm::kMinimal) form = len < 126 ? LengthForm::k7 : len < 65536 ? LengthForm::k16 : LengthForm::k64;
  std::string h(1, static_cast<char>(b0));
  const char m = masked ? '\x80' : '\0';
  if (form == LengthForm::k7) {
    h += static_cast<char>(m | static_cast<char>(len));
  } else if (form == LengthForm::k16) {
    h += static_cast<char>(m | 126);
    h += static_cast<char>(len >> 8);
    h += static_cast<char>(len & 0xff);
  } else {
    h += static_cast<char>(m | 127);
    for (int i = 7; i >= 0; --i) h += static_cast<char>((len >> (8 * i)) & 0xff);
  }
  if (masked) h.append(reinterpret_cast<const char *>(kMaskKey), 4);
  return h;
}

inline void mask_in_place(char *p, size_t n) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<char>(p[i] ^ kMaskKey[i % 4]);
}

// A whole frame: a client's is masked with kMaskKey.
inline std::string frame(uint8_t b0, const std::string &payload, bool masked, LengthForm form = LengthForm::kMinimal) {
  std::string f = frame_header(b0, payload.size(), masked, form);
  size_t at = f.size();
  f += payload;
  if (masked) mask_in_place(&f[at], payload.size());
  return f;
}

inline std::string close_payload(uint32_t code, const std::string &reason = "") {
  std::string p;
  p += static_cast<char>(code >> 8);
  p += static_cast<char>(code & 0xff);
  return p + reason;
}

struct Frame {
  uint8_t b0 = 0;
  bool masked = false;
  std::string payload;  // unmasked
  uint8_t opcode() const { return b0 & 0x0f; }
  bool fin() const { return (b0 & kFin) != 0; }
  uint32_t close_code() const {
    return payload.size() >= 2 ? (static_cast<uint32_t>(static_cast<uint8_t>(payload[0])) << 8) |
                                     static_cast<uint8_t>(payload[1])
                               : 1005u;
  }
  std::string close_reason() const { return payload.size() > 2 ? payload.substr(2) : std::string(); }
};

// A raw peer's side of a socket: reads with time limits (poll), an HTTP head, frames, the end.
class Wire {
 public:
  explicit Wire(int fd) : fd_(fd) {}

  // Reads what is there within timeout_ms: false at the end of the stream, on an error, or when
  // nothing came in time.
  bool fill(int timeout_ms) {
    if (eof) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n > 0) {
      buf.append(tmp, static_cast<size_t>(n));
      total_read += static_cast<size_t>(n);
      return true;
    }
    eof = true;
    reset = n < 0 && errno == ECONNRESET;
    return false;
  }

  // The HTTP head, blank line included ("" if it did not come); what follows stays buffered.
  std::string head(int timeout_ms = 10000) {
    auto until = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      size_t end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string h = buf.substr(0, end + 4);
        buf.erase(0, end + 4);
        return h;
      }
      if (!fill(remaining(until))) return "";
    }
  }

  // The next frame, unmasked; nullopt if none came whole within timeout_ms.
  std::optional<Frame> next(int timeout_ms = 10000) {
    auto until = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (auto f = parse()) return f;
      if (!fill(remaining(until))) return std::nullopt;
    }
  }

  // True if the stream ends (FIN or reset) within timeout_ms; bytes that come first are kept
  // in `buf` (a peer that ends cleanly sends none).
  bool ends_within(int timeout_ms) {
    auto until = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!eof) {
      if (!fill(remaining(until)) && !eof) return false;
    }
    return true;
  }

  std::string buf;  // read and not consumed yet
  bool eof = false, reset = false;
  size_t total_read = 0;

 private:
  static int remaining(Clock::time_point until) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    return ms > 0 ? static_cast<int>(ms) : 0;
  }
  std::optional<Frame> parse() {
    if (buf.size() < 2) return std::nullopt;
    const auto *p = reinterpret_cast<const uint8_t *>(buf.data());
    Frame f;
    f.b0 = p[0];
    f.masked = (p[1] & 0x80) != 0;
    uint64_t len = p[1] & 0x7f;
    size_t h = 2;
    if (len == 126) {
      if (buf.size() < 4) return std::nullopt;
      len = (uint64_t{p[2]} << 8) | p[3];
      h = 4;
    } else if (len == 127) {
      if (buf.size() < 10) return std::nullopt;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
      h = 10;
    }
    uint8_t key[4] = {0, 0, 0, 0};
    if (f.masked) {
      if (buf.size() < h + 4) return std::nullopt;
      std::memcpy(key, p + h, 4);
      h += 4;
    }
    if (buf.size() - h < len) return std::nullopt;
    f.payload = buf.substr(h, static_cast<size_t>(len));
    for (size_t i = 0; f.masked && i < f.payload.size(); ++i) f.payload[i] = static_cast<char>(f.payload[i] ^ key[i % 4]);
    buf.erase(0, h + static_cast<size_t>(len));
    return f;
  }
  int fd_;
};

// Bounds every blocking send and recv of a raw peer: a script cannot hang on its socket.
inline void arm_socket(int fd, int seconds = 20) {
  timeval tv{seconds * kSlow, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Writes everything; the bytes the kernel took (less than s.size() when the peer went away).
inline size_t send_some(int fd, const char *p, size_t n) {
  size_t off = 0;
  while (off < n) {
    ssize_t w = ::send(fd, p + off, n - off, MSG_NOSIGNAL);
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
  return off;
}
inline bool send_all(int fd, const std::string &s) { return send_some(fd, s.data(), s.size()) == s.size(); }

// ---- raw peers on threads -------------------------------------------------------------------

// A raw client: connects to 127.0.0.1:port and runs `script` on its own thread.
class RawClient {
 public:
  RawClient(int port, std::function<void(int fd)> script) {
    thread_ = std::thread([this, port, script] {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      arm_socket(fd);
      if (wsc_test::connect_loopback(fd, port))
        script(fd);
      else
        ADD_FAILURE() << "raw client: connect failed";
      close(fd);
      done = true;
    });
  }
  ~RawClient() { join(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  std::atomic<bool> done{false};

 private:
  std::thread thread_;
};

// A raw server: listens on 127.0.0.1 (an ephemeral port), accepts one connection and runs
// `script` with it on its own thread.
class RawServer {
 public:
  explicit RawServer(std::function<void(int fd)> script) {
    lfd_ = wsc_test::listen_loopback(&port, 8, /*blocking=*/true);
    thread_ = std::thread([this, script] {
      int fd = accept(lfd_, nullptr, nullptr);
      if (fd >= 0) {
        arm_socket(fd);
        script(fd);
        close(fd);
      }
      done = true;
    });
  }
  ~RawServer() {
    shutdown(lfd_, SHUT_RDWR);  // unblocks an accept that never got its connection
    join();
    close(lfd_);
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  std::string url(const std::string &path = "/") const { return "ws://127.0.0.1:" + std::to_string(port) + path; }
  int port = 0;
  std::atomic<bool> done{false};

 private:
  int lfd_;
  std::thread thread_;
};

// ---- the opening handshake, raw -------------------------------------------------------------

constexpr const char *kClientKey = "dGhlIHNhbXBsZSBub25jZQ==";

// A conforming upgrade request, with `extra` header lines ("Name: value\r\n"...) added.
inline std::string upgrade_request(const std::string &extra = "", const std::string &target = "/") {
  return "GET " + target +
         " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: " +
         kClientKey + "\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n";
}

inline std::string status_line(const std::string &head) { return head.substr(0, head.find("\r\n")); }

// A raw client's opening handshake: true once the server answered 101 (its head in *head).
inline bool raw_upgrade(int fd, Wire &w, const std::string &extra = "", std::string *head = nullptr) {
  if (!send_all(fd, upgrade_request(extra))) return false;
  std::string h = w.head();
  if (head) *head = h;
  return status_line(h) == "HTTP/1.1 101 Switching Protocols";
}

inline std::string header_value(const std::string &head, const std::string &name) {
  size_t p = head.find("\r\n" + name + ": ");
  if (p == std::string::npos) return "";
  p += name.size() + 4;
  return head.substr(p, head.find("\r\n", p) - p);
}

// A conforming 101 answer to `request`, with `extra` header lines added.
inline std::string accept_response(const std::string &request, const std::string &extra = "") {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         std::string(wsc::websocket_accept(header_value(request, "Sec-WebSocket-Key")).view()) + "\r\n" + extra + "\r\n";
}

// ---- event logs -----------------------------------------------------------------------------

// A connection's events as text; pings and pongs are counted instead (a flood of them must not
// grow the log), and message payloads shown only when short.
struct EventLog {
  std::vector<std::string> lines;
  size_t pings = 0, pongs = 0, messages = 0;
  std::string last_ping;
  bool closed = false;
  Clock::time_point closed_at;

  void add(const wsc_conn_event_t &ev) {
    if (ev.type == WSC_EV_PING || ev.type == WSC_EV_PONG) {  // no allocation per ping
      if (ev.type == WSC_EV_PONG) return void(++pongs);
      ++pings;
      last_ping.assign(reinterpret_cast<const char *>(ev.data), ev.data ? ev.len : 0);
      return;
    }
    std::string data(reinterpret_cast<const char *>(ev.data), ev.data ? ev.len : 0);
    switch (ev.type) {
      case WSC_EV_MESSAGE:
        ++messages;
        lines.push_back(std::string(ev.opcode == WSC_OP_TEXT ? "text " : "binary ") +
                        (ev.len <= 64 && ev.opcode == WSC_OP_TEXT ? data : "[" + std::to_string(ev.len) + " bytes]"));
        return;
      case WSC_EV_ERROR:
        lines.push_back(std::string("error ") + wsc_err_name(ev.error) + " " + (ev.message ? ev.message : ""));
        return;
      case WSC_EV_CLOSE:
        closed = true;
        closed_at = Clock::now();
        lines.push_back("close " + std::to_string(ev.code) + (data.empty() ? "" : " " + data) +
                        (ev.was_clean ? " clean" : " unclean"));
        return;
      default: lines.push_back(wsc_test::describe_conn_event(ev)); return;
    }
  }
  // The lines without those that start with `prefix` (events whose timing may vary).
  std::vector<std::string> without(const std::string &prefix) const {
    std::vector<std::string> out;
    for (const auto &l : lines)
      if (l.rfind(prefix, 0) != 0) out.push_back(l);
    return out;
  }
  bool has(const std::string &prefix) const {
    for (const auto &l : lines)
      if (l.rfind(prefix, 0) == 0) return true;
    return false;
  }
  std::string str() const {
    std::string s;
    for (const auto &l : lines) s += "[" + l + "] ";
    return s;
  }
};

// ---- the wsc server under attack ------------------------------------------------------------

// A wsc echo server on 127.0.0.1 that records each connection's events and each client error.
struct Server {
  struct Conn {
    wsc_conn_t *conn = nullptr;
    EventLog log;
    Clock::time_point opened;
    bool echo = true;
  };

  explicit Server(TestLoop &t, wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT, const wsc_conn_options_t *co = nullptr)
      : loop(t) {
    so.host = "127.0.0.1";
    if (co) {
      conn_opts = *co;
      so.conn = &conn_opts;
    }
    EXPECT_EQ(wsc_server_new(&srv, t.loop, &so, on_event, this), 0);
    wsc_addr_t a;
    EXPECT_EQ(wsc_server_address(srv, &a), 0);
    port = static_cast<int>(a.port);
  }

  static void on_event(wsc_server_t *, const wsc_server_event_t *ev, void *ud) {
    auto *s = static_cast<Server *>(ud);
    switch (ev->type) {
      case WSC_SERVER_CONNECTION: {
        s->conns.push_back(std::make_unique<Conn>());
        Conn *c = s->conns.back().get();
        c->conn = ev->conn;
        c->opened = Clock::now();
        c->log.lines.push_back("open");  // the connection is announced open
        wsc_conn_set_callback(ev->conn, on_conn, c);
        break;
      }
      case WSC_SERVER_CLIENT_ERROR:
        s->client_errors.push_back(std::to_string(ev->code) + " " + (ev->message ? ev->message : ""));
        break;
      case WSC_SERVER_REQUEST:
        if (s->on_request) s->on_request(ev->request);
        break;
      case WSC_SERVER_CLOSE: s->closed = true; break;
      default: break;
    }
  }
  static void on_conn(wsc_conn_t *conn, const wsc_conn_event_t *ev, void *ud) {
    auto *c = static_cast<Conn *>(ud);
    if (ev->type == WSC_EV_OPEN) return;  // logged at CONNECTION
    c->log.add(*ev);
    if (ev->type == WSC_EV_MESSAGE && c->echo) wsc_conn_send(conn, ev->opcode, ev->data, ev->len, 0, nullptr, nullptr);
    if (ev->type == WSC_EV_CLOSE) c->conn = nullptr;
  }

  // The connections opened after the bystander's: the hostile peers'.
  Conn *hostile(size_t i = 0) { return conns.size() > i + 1 ? conns[i + 1].get() : nullptr; }

  void close() {
    wsc_server_close(srv, 0);
    loop.run_until([&] { return closed; }, 10000 * kSlow);
  }

  TestLoop &loop;
  wsc_conn_options_t conn_opts = WSC_CONN_OPTIONS_INIT;
  wsc_server_t *srv = nullptr;
  int port = 0;
  bool closed = false;
  std::vector<std::unique_ptr<Conn>> conns;
  std::vector<std::string> client_errors;
  std::function<void(wsc_request_t *)> on_request;
};

// ---- wsc clients ----------------------------------------------------------------------------

// A wsc client whose events are logged (and whose messages are kept, in full).
struct Client {
  Client(TestLoop &t, const std::string &url, const wsc_client_options_t *opts = nullptr) : loop(t) {
    EXPECT_EQ(wsc_connect(&conn, t.loop, url.c_str(), opts, on_event, this), 0);
    started = Clock::now();
  }
  static void on_event(wsc_conn_t *, const wsc_conn_event_t *ev, void *ud) {
    auto *c = static_cast<Client *>(ud);
    c->log.add(*ev);
    if (ev->type == WSC_EV_MESSAGE) c->received.emplace_back(reinterpret_cast<const char *>(ev->data), ev->len);
    if (ev->type == WSC_EV_CLOSE) c->conn = nullptr;
  }
  TestLoop &loop;
  wsc_conn_t *conn = nullptr;
  EventLog log;
  std::vector<std::string> received;
  Clock::time_point started;
};

// The well-behaved connection that stays open through every hostile case: a wsc client of the
// server under attack, whose echoes must come back whole and in order, before and after.
struct Bystander {
  Bystander(TestLoop &t, int port) : loop(t), client(t, "ws://127.0.0.1:" + std::to_string(port) + "/bystander") {
    loop.run_until([&] { return client.log.has("open") || client.log.closed; }, 10000 * kSlow);
    EXPECT_TRUE(client.log.has("open")) << client.log.str();
  }

  // Three messages (text with multi-byte UTF-8, 70 kB of binary, empty text) and their echoes.
  void check_echo(const std::string &when) {
    ASSERT_NE(client.conn, nullptr) << "the bystander's connection ended " << when << ": " << client.log.str();
    std::vector<std::pair<uint32_t, std::string>> msgs;
    msgs.emplace_back(WSC_OP_TEXT, "bystander " + when + " #" + std::to_string(round) + ": h\xc3\xa9llo \xe2\x9c\x93");
    std::string bin(70000, '\0');
    uint32_t x = 2166136261u + static_cast<uint32_t>(round);
    for (auto &ch : bin) {
      x = x * 1664525u + 1013904223u;
      ch = static_cast<char>(x >> 24);
    }
    msgs.emplace_back(WSC_OP_BINARY, bin);
    msgs.emplace_back(WSC_OP_TEXT, "");
    ++round;
    size_t before = client.received.size();
    for (const auto &m : msgs)
      ASSERT_GE(wsc_conn_send(client.conn, m.first, m.second.data(), m.second.size(), 0, nullptr, nullptr), 0) << when;
    loop.run_until([&] { return client.received.size() >= before + msgs.size() || client.log.closed; }, 10000 * kSlow);
    ASSERT_EQ(client.received.size(), before + msgs.size()) << "bystander echoes " << when << ": " << client.log.str();
    for (size_t i = 0; i < msgs.size(); ++i)
      EXPECT_TRUE(client.received[before + i] == msgs[i].second) << "bystander echo " << i << " " << when;
  }

  // A normal close, and nothing else went wrong for it.
  void finish() {
    if (client.conn) {
      EXPECT_EQ(wsc_conn_close(client.conn, 1000, "bye", 3), 0);
    }
    loop.run_until([&] { return client.log.closed; }, 10000 * kSlow);
    EXPECT_FALSE(client.log.has("error")) << client.log.str();
    EXPECT_EQ(client.log.lines.back(), "close 1000 bye clean") << client.log.str();
  }

  TestLoop &loop;
  Client client;
  int round = 0;
};

// One hostile case's setting: a loop, the wsc server under attack (or standing by, for client
// cases) and the bystander, whose echo is checked once at the start. end() checks it again, closes
// everything and requires the loop to close clean.
struct Scene {
  explicit Scene(wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT, const wsc_conn_options_t *co = nullptr)
      : server(t, so, co), bystander(t, server.port) {
    bystander.check_echo("before");
  }
  void end() {
    ended = true;
    bystander.check_echo("after");
    bystander.finish();
    server.close();
    t.close_clean();
  }
  // A test that stopped early (a failed ASSERT) still ends everything: the bystander, then the
  // server (what is still open is terminated after 100 ms); the loop must still close clean.
  ~Scene() {
    if (ended) return;
    if (bystander.client.conn) wsc_conn_terminate(bystander.client.conn);
    if (!server.closed) {
      wsc_server_shutdown(server.srv, 1001, 100, 0);
      t.run_until([&] { return server.closed; }, 10000 * kSlow);
    }
  }
  // Runs the loop until the raw peer's script is done.
  template <typename Peer>
  void wait_for(Peer &peer, int timeout_ms = 20000) {
    t.run_until([&] { return peer.done.load(); }, timeout_ms * kSlow);
    if (peer.done) peer.join();  // else its socket's time limits end it; the destructor joins
  }
  std::string url(const std::string &path = "/") const { return "ws://127.0.0.1:" + std::to_string(server.port) + path; }

  TestLoop t;
  Server server;
  Bystander bystander;
  bool ended = false;
};

// ---- RFC 6455 violations, each with the error it is reported as and its close code ----------

struct Violation {
  std::string name;   // a test name
  std::string bytes;  // what the peer sends once the connection is open
  std::string error;  // the WSC_ERR_* the wsc side reports
  uint32_t code;      // the close code it answers with (RFC 6455 §7.4.1)
  std::string delivered = "";  // a whole text message that came before the violation, or ""
};

inline void PrintTo(const Violation &v, std::ostream *os) { *os << v.name; }

inline std::string hex_name(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "%X", v);
  return b;
}

// Every framing violation of RFC 6455 §5 and §7 that does not depend on the receiver's role, as
// a peer in that role would send it (masked: from a client).
inline std::vector<Violation> violations(bool masked) {
  auto f = [masked](uint8_t b0, const std::string &payload, LengthForm form = LengthForm::kMinimal) {
    return frame(b0, payload, masked, form);
  };
  std::vector<Violation> v;
  // §5.2: RSV1-3 must be 0 unless an extension negotiated them (none was).
  v.push_back({"Rsv1WithoutExtension", f(kFin | kRsv1 | kText, "hi"), "WSC_ERR_UNEXPECTED_RSV_1", 1002});
  v.push_back({"Rsv2", f(kFin | kRsv2 | kText, "hi"), "WSC_ERR_UNEXPECTED_RSV_2_3", 1002});
  v.push_back({"Rsv3", f(kFin | kRsv3 | kBinary, "hi"), "WSC_ERR_UNEXPECTED_RSV_2_3", 1002});
  v.push_back({"Rsv1OnPing", f(kFin | kRsv1 | kPing, "hi"), "WSC_ERR_UNEXPECTED_RSV_1", 1002});
  // §5.2: reserved opcodes.
  for (uint8_t op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF})
    v.push_back({"ReservedOpcode" + hex_name(op), f(static_cast<uint8_t>(kFin | op), "x"), "WSC_ERR_INVALID_OPCODE", 1002});
  v.push_back({"ReservedOpcodeInsideAMessage", f(kText, "a") + f(kFin | 0x3, "x"), "WSC_ERR_INVALID_OPCODE", 1002});
  // §5.5: control frames are not fragmented and carry at most 125 bytes (in the 7-bit form).
  v.push_back({"FragmentedPing", f(kPing, "p"), "WSC_ERR_EXPECTED_FIN", 1002});
  v.push_back({"FragmentedPong", f(kPong, "p"), "WSC_ERR_EXPECTED_FIN", 1002});
  v.push_back({"FragmentedClose", f(kClose, close_payload(1000)), "WSC_ERR_EXPECTED_FIN", 1002});
  v.push_back({"Ping126Bytes", f(kFin | kPing, std::string(126, 'p')), "WSC_ERR_INVALID_CONTROL_PAYLOAD_LENGTH", 1002});
  v.push_back({"Pong126Bytes", f(kFin | kPong, std::string(126, 'p')), "WSC_ERR_INVALID_CONTROL_PAYLOAD_LENGTH", 1002});
  v.push_back({"Close126Bytes", f(kFin | kClose, close_payload(1000, std::string(124, 'r'))),
               "WSC_ERR_INVALID_CONTROL_PAYLOAD_LENGTH", 1002});
  v.push_back({"PingLengthIn16Bits", f(kFin | kPing, "p", LengthForm::k16), "WSC_ERR_INVALID_CONTROL_PAYLOAD_LENGTH", 1002});
  v.push_back({"PingLengthIn64Bits", f(kFin | kPing, "p", LengthForm::k64), "WSC_ERR_INVALID_CONTROL_PAYLOAD_LENGTH", 1002});
  // §5.4: continuation frames continue a message; a message's fragments are not interleaved.
  v.push_back({"ContinuationWithoutStart", f(kFin | kCont, "x"), "WSC_ERR_UNEXPECTED_CONTINUATION", 1002});
  v.push_back({"UnfinishedContinuationWithoutStart", f(kCont, "x"), "WSC_ERR_UNEXPECTED_CONTINUATION", 1002});
  v.push_back({"ContinuationAfterAWholeMessage", f(kFin | kText, "done") + f(kFin | kCont, "x"),
               "WSC_ERR_UNEXPECTED_CONTINUATION", 1002, "done"});
  v.push_back({"TextInsideAFragmentedMessage", f(kText, "a") + f(kFin | kText, "b"), "WSC_ERR_EXPECTED_CONTINUATION", 1002});
  v.push_back({"BinaryInsideAFragmentedMessage", f(kText, "a") + f(kBinary, "b"),
               "WSC_ERR_EXPECTED_CONTINUATION", 1002});
  // §8.1: text is UTF-8 (checked as it arrives, across fragments, and at the message's end).
  v.push_back({"InvalidUtf8", f(kFin | kText, "abc\xff"), "WSC_ERR_INVALID_UTF8", 1007});
  v.push_back({"Utf8Overlong", f(kFin | kText, "\xc0\xaf"), "WSC_ERR_INVALID_UTF8", 1007});
  v.push_back({"Utf8Surrogate", f(kFin | kText, "\xed\xa0\x80"), "WSC_ERR_INVALID_UTF8", 1007});
  v.push_back({"Utf8AboveU10FFFF", f(kFin | kText, "\xf4\x90\x80\x80"), "WSC_ERR_INVALID_UTF8", 1007});
  v.push_back({"Utf8TruncatedAtTheEnd", f(kFin | kText, "\xe2\x82"), "WSC_ERR_INVALID_UTF8", 1007});
  v.push_back({"Utf8InvalidInTheSecondFragment", f(kText, "ok \xe2") + f(kFin | kCont, "\x28\xa1"),
               "WSC_ERR_INVALID_UTF8", 1007});
  v.push_back({"Utf8TruncatedAcrossFragments", f(kText, "ok \xe2\x82") + f(kFin | kCont, ""), "WSC_ERR_INVALID_UTF8", 1007});
  // §5.5.1: a close body is empty or a 2-byte code (one §7.4 allows on the wire) and UTF-8.
  v.push_back({"CloseWithOneByte", f(kFin | kClose, "\x03"), "WSC_ERR_INVALID_CONTROL_PAYLOAD_LENGTH", 1002});
  for (uint32_t code : {0u, 999u, 1004u, 1005u, 1006u, 1015u, 1016u, 1100u, 2000u, 2999u, 5000u, 65535u})
    v.push_back({"CloseCode" + std::to_string(code), f(kFin | kClose, close_payload(code)), "WSC_ERR_INVALID_CLOSE_CODE", 1002});
  v.push_back({"CloseReasonInvalidUtf8", f(kFin | kClose, close_payload(1000, "bye\xff")), "WSC_ERR_INVALID_UTF8", 1007});
  v.push_back({"CloseReasonTruncatedUtf8", f(kFin | kClose, close_payload(1001, "\xe2\x82")), "WSC_ERR_INVALID_UTF8", 1007});
  // §5.2: the 64-bit length's most significant bit must be 0 (only the header is sent).
  v.push_back({"LengthTopBitSet", frame_header(kFin | kBinary, uint64_t{1} << 63, masked), "WSC_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH",
               1002});
  v.push_back({"LengthAllOnes", frame_header(kFin | kBinary, ~uint64_t{0}, masked), "WSC_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH", 1002});
  // Lengths over max_message_size (the default, 100 MiB): refused from the header alone.
  v.push_back({"Length2Pow63Minus1", frame_header(kFin | kBinary, (uint64_t{1} << 63) - 1, masked),
               "WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH", 1009});
  v.push_back({"Length2Pow40", frame_header(kFin | kText, uint64_t{1} << 40, masked), "WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH", 1009});
  v.push_back({"LengthJustOverTheLimit", frame_header(kFin | kBinary, WSC_DEFAULT_MAX_MESSAGE_SIZE + 1ull, masked),
               "WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH", 1009});
  v.push_back({"FragmentsOverTheLimit",
               f(kBinary, std::string(1000, 'a')) + frame_header(kFin | kCont, WSC_DEFAULT_MAX_MESSAGE_SIZE - 999ull, masked),
               "WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH", 1009});
  return v;
}

inline std::string violation_name(const testing::TestParamInfo<Violation> &info) { return info.param.name; }

}  // namespace hostile

#endif

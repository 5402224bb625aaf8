// Interop with real third-party peers, both ways: wsc's client against python-websockets' and npm
// ws' echo servers, and their clients against wsc's echo server. Text and binary messages of 0 B
// to 16 MiB must come back byte for byte and with their type, and every connection must end with
// a clean closing handshake (1000). The peers are tests/interop/websockets_peer.py and
// tests/interop/ws_peer.js, spawned on the test's own loop.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "net_support.h"
#include "tls_support.h"
#include "wsc/wsc.h"

extern char **environ;

using wsc_test::TestLoop;

namespace {

constexpr int kTimeoutMs = 120000;  // a whole exchange, 16 MiB each way included (ASan is slow)
constexpr int kStartMs = 60000;     // for a peer to start listening
constexpr uint64_t kMaxMessage = 64ull << 20;

const char kPythonPeer[] = WSC_TEST_DATA_DIR "/../interop/websockets_peer.py";
const char kNodePeer[] = WSC_TEST_DATA_DIR "/../interop/ws_peer.js";
const char kPython[] = "/usr/bin/python3";

// ---- the messages: the same payloads as the peers generate ----------------------------------

const size_t kSizes[] = {0, 1, 125, 126, 65535, 65536, 1u << 20, 16u << 20};

// Valid UTF-8 of exactly n bytes: ASCII and 2-, 3- and 4-byte sequences.
std::string text_payload(size_t n) {
  static const char *const pieces[] = {"Hello, wsc! ", "\xc3\xa9",         "interop ", "\xe2\x82\xac",
                                       "0123456789 ",  "\xf0\x9f\x98\x80", "~",        "\xc3\x9f\xc3\xbc"};
  std::string block;
  for (const char *p : pieces) block += p;
  std::string out;
  out.reserve(n);
  while (out.size() + block.size() <= n) out += block;
  for (size_t i = 0; out.size() < n; ++i) {
    std::string piece = pieces[i % (sizeof pieces / sizeof pieces[0])];
    if (piece.size() <= n - out.size())
      out += piece;
    else
      out.append(n - out.size(), 'x');
  }
  return out;
}

std::string binary_payload(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>((i * 31 + 7 + (i >> 8)) & 0xff);
  return out;
}

struct Message {
  uint32_t opcode;
  std::string data;
};

const std::vector<Message> &messages() {
  static const std::vector<Message> all = [] {
    std::vector<Message> v;
    for (size_t n : kSizes) {
      v.push_back({WSC_OP_TEXT, text_payload(n)});
      v.push_back({WSC_OP_BINARY, binary_payload(n)});
    }
    return v;
  }();
  return all;
}

std::string describe(uint32_t opcode, size_t len) {
  return std::string(opcode == WSC_OP_TEXT ? "text" : opcode == WSC_OP_BINARY ? "binary" : "opcode " +
                                                                                              std::to_string(opcode)) +
         " of " + std::to_string(len) + " B";
}

// ---- locating the peers ---------------------------------------------------------------------

bool is_file(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string find_node() {
  if (access("/usr/bin/node", X_OK) == 0) return "/usr/bin/node";
  const char *path = getenv("PATH");
  std::string dirs = path ? path : "";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/node";
    if (end > start && access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

// Where tools/setup.sh installs npm's ws.
std::string npm_modules() {
  const char *cache = getenv("WSC_NPM_CACHE");
  if (cache && *cache) return std::string(cache) + "/node_modules";
  const char *home = getenv("HOME");
  return std::string(home ? home : "") + "/.cache/wsc/npm/node_modules";
}

// Runs the loop until done() holds or timeout_ms pass, without failing the test.
bool run_quietly(TestLoop &loop, const std::function<bool()> &done, int timeout_ms) {
  uv_loop_t *uv = static_cast<uv_loop_t *>(wsc_loop_uv(loop.loop));
  uv_timer_t tick;
  uv_timer_init(uv, &tick);
  uv_timer_start(&tick, [](uv_timer_t *) {}, 5, 5);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool ok = done();
  while (!ok && std::chrono::steady_clock::now() < deadline) {
    wsc_loop_run(loop.loop, WSC_RUN_ONCE);
    ok = done();
  }
  uv_close(reinterpret_cast<uv_handle_t *>(&tick), nullptr);
  wsc_loop_run(loop.loop, WSC_RUN_NOWAIT);
  return ok;
}

// ---- a peer process on the test loop: stdin, stdout and stderr are pipes ----------------------

class Peer {
 public:
  explicit Peer(TestLoop &loop) : loop_(loop), uv_(static_cast<uv_loop_t *>(wsc_loop_uv(loop.loop))) {}
  ~Peer() { stop(); }
  Peer(const Peer &) = delete;
  Peer &operator=(const Peer &) = delete;

  // Spawns argv[0]; env: "NAME=value" entries added to (or replacing those of) our environment.
  bool spawn(const std::vector<std::string> &argv, const std::vector<std::string> &env = {}) {
    init_pipe(&in_);
    init_pipe(&out_);
    init_pipe(&err_);
    uv_stdio_container_t stdio[3];
    stdio[0].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_READABLE_PIPE);
    stdio[0].data.stream = reinterpret_cast<uv_stream_t *>(&in_);
    stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
    stdio[1].data.stream = reinterpret_cast<uv_stream_t *>(&out_);
    stdio[2].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
    stdio[2].data.stream = reinterpret_cast<uv_stream_t *>(&err_);

    std::vector<char *> args;
    for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char **e = environ; *e; ++e) {
      std::string entry = *e;
      bool replaced = false;
      for (const auto &x : env) replaced |= entry.compare(0, x.find('=') + 1, x, 0, x.find('=') + 1) == 0;
      if (!replaced) env_strings.push_back(entry);
    }
    for (const auto &x : env) env_strings.push_back(x);
    std::vector<char *> envp;
    for (auto &s : env_strings) envp.push_back(&s[0]);
    envp.push_back(nullptr);

    uv_process_options_t o{};
    o.exit_cb = on_exit;
    o.file = args[0];
    o.args = args.data();
    o.env = envp.data();
    o.stdio_count = 3;
    o.stdio = stdio;
    proc_.data = this;
    int rc = uv_spawn(uv_, &proc_, &o);
    ++open_;  // the process handle must be closed even when the spawn failed
    proc_open_ = true;
    if (rc != 0) {
      error_ = "cannot run " + argv[0] + ": " + uv_strerror(rc);
      exited_ = true;
      out_eof_ = err_eof_ = true;
      return false;
    }
    spawned_ = true;
    uv_read_start(reinterpret_cast<uv_stream_t *>(&out_), on_alloc, on_read);
    uv_read_start(reinterpret_cast<uv_stream_t *>(&err_), on_alloc, on_read);
    return true;
  }

  // Waits for a line "PORT <n>" on the peer's stdout; 0 if it exited or timed out first.
  int wait_port(int timeout_ms) {
    run_quietly(loop_, [&] { return port() != 0 || (exited_ && out_eof_); }, timeout_ms);
    return port();
  }

  int port() const {
    size_t at = out_text_.find("PORT ");
    if (at == std::string::npos || out_text_.find('\n', at) == std::string::npos) return 0;
    return atoi(out_text_.c_str() + at + 5);
  }

  // Waits for the exit and the end of its output.
  bool wait_exit(int timeout_ms) {
    return run_quietly(loop_, [&] { return exited_ && out_eof_ && err_eof_; }, timeout_ms);
  }

  // Ends the peer (stdin closed: it exits; else after 10 s SIGKILL) and closes every handle.
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    close_handle(&in_);
    if (spawned_ && !wait_exit(10000)) {
      ADD_FAILURE() << "the peer did not exit within 10 s of its stdin closing: killed";
      uv_process_kill(&proc_, SIGKILL);
      wait_exit(10000);
    }
    close_handle(&out_);
    close_handle(&err_);
    if (proc_open_) {
      proc_open_ = false;
      uv_close(reinterpret_cast<uv_handle_t *>(&proc_), on_close);
    }
    EXPECT_TRUE(run_quietly(loop_, [&] { return open_ == 0; }, 10000)) << open_ << " uv handles still open";
  }

  // What the peer printed, for failure messages.
  std::string output() const {
    std::string s = error_;
    if (!out_text_.empty()) s += "\n--- stdout:\n" + out_text_;
    if (!err_text_.empty()) s += "\n--- stderr:\n" + err_text_;
    return s;
  }

  bool exited() const { return exited_; }
  int64_t exit_status() const { return exit_status_; }
  int term_signal() const { return term_signal_; }

 private:
  void init_pipe(uv_pipe_t *p) {
    uv_pipe_init(uv_, p, 0);
    p->data = this;
    ++open_;
  }

  void close_handle(uv_pipe_t *p) {
    uv_handle_t *h = reinterpret_cast<uv_handle_t *>(p);
    if (h->loop && !uv_is_closing(h)) uv_close(h, on_close);
  }

  static void on_close(uv_handle_t *h) { static_cast<Peer *>(h->data)->open_--; }

  static void on_exit(uv_process_t *p, int64_t status, int term_signal) {
    Peer *self = static_cast<Peer *>(p->data);
    self->exited_ = true;
    self->exit_status_ = status;
    self->term_signal_ = term_signal;
  }

  static void on_alloc(uv_handle_t *h, size_t, uv_buf_t *buf) {
    Peer *self = static_cast<Peer *>(h->data);
    buf->base = self->buf_;
    buf->len = sizeof self->buf_;
  }

  static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    Peer *self = static_cast<Peer *>(s->data);
    bool is_out = s == reinterpret_cast<uv_stream_t *>(&self->out_);
    if (n < 0) {
      uv_read_stop(s);
      (is_out ? self->out_eof_ : self->err_eof_) = true;
      return;
    }
    (is_out ? self->out_text_ : self->err_text_).append(buf->base, static_cast<size_t>(n));
    if (!is_out) fwrite(buf->base, 1, static_cast<size_t>(n), stderr);  // the peer's verdict, as it comes
  }

  TestLoop &loop_;
  uv_loop_t *uv_;
  uv_process_t proc_{};
  uv_pipe_t in_{}, out_{}, err_{};
  int open_ = 0;
  bool proc_open_ = false, spawned_ = false, stopped_ = false;
  bool exited_ = false, out_eof_ = false, err_eof_ = false;
  int64_t exit_status_ = -1;
  int term_signal_ = 0;
  std::string out_text_, err_text_, error_;
  char buf_[65536];
};

// The command lines of the peers; an empty vector (and a test failure) when one is missing.
std::vector<std::string> python_peer(const std::vector<std::string> &args) {
  if (access(kPython, X_OK) != 0) {
    ADD_FAILURE() << kPython << " is missing: run tools/setup.sh (python3, python3-websockets)";
    return {};
  }
  if (!is_file(kPythonPeer)) {
    ADD_FAILURE() << "the peer script is missing: " << kPythonPeer;
    return {};
  }
  std::vector<std::string> argv = {kPython, kPythonPeer};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::vector<std::string> node_peer(const std::vector<std::string> &args, std::vector<std::string> *env) {
  std::string node = find_node();
  if (node.empty()) {
    ADD_FAILURE() << "node is not installed (neither /usr/bin/node nor on PATH): run tools/setup.sh";
    return {};
  }
  std::string modules = npm_modules();
  if (!is_file(modules + "/ws/package.json")) {
    ADD_FAILURE() << "npm's ws is not installed in " << modules << ": run tools/setup.sh";
    return {};
  }
  if (!is_file(kNodePeer)) {
    ADD_FAILURE() << "the peer script is missing: " << kNodePeer;
    return {};
  }
  env->push_back("NODE_PATH=" + modules);
  std::vector<std::string> argv = {node, kNodePeer};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// ---- wsc's client against a peer's echo server ------------------------------------------------

struct EchoClient {
  std::string extensions;  // negotiated, as seen at OPEN
  wsc_conn_t *conn = nullptr;
  size_t next = 0;  // the message whose echo is awaited
  bool open = false, closed = false, was_clean = false;
  uint32_t close_code = 0;
  int send_failures = 0;
  std::vector<std::string> failures;
  wsc_test::Events events;  // everything but the messages

  void send_next() {
    const Message &m = messages()[next];
    int rc = wsc_conn_send(conn, m.opcode, m.data.data(), m.data.size(), 0, on_sent, this);
    if (rc < 0) failures.push_back("sending " + describe(m.opcode, m.data.size()) + ": " + wsc_err_name(rc));
  }

  static void on_sent(wsc_conn_t *, int status, void *user_data) {
    EchoClient *c = static_cast<EchoClient *>(user_data);
    if (status != 0) c->failures.push_back(std::string("a send completed with ") + wsc_err_name(status));
  }

  static void on_event(wsc_conn_t *conn, const wsc_conn_event_t *ev, void *user_data) {
    EchoClient *c = static_cast<EchoClient *>(user_data);
    if (ev->type != WSC_EV_MESSAGE) c->events.log.push_back(wsc_test::describe_conn_event(*ev));
    switch (ev->type) {
      case WSC_EV_OPEN:
        c->open = true;
        c->extensions = wsc_conn_extensions(conn);
        c->send_next();
        break;
      case WSC_EV_MESSAGE: {
        if (c->next >= messages().size()) {
          c->failures.push_back("an unexpected " + describe(ev->opcode, ev->len));
          break;
        }
        const Message &m = messages()[c->next];
        std::string got(reinterpret_cast<const char *>(ev->data), ev->data ? ev->len : 0);
        if (ev->opcode != m.opcode) {
          c->failures.push_back("sent " + describe(m.opcode, m.data.size()) + ", got back " +
                                describe(ev->opcode, ev->len) + " (wrong type)");
        } else if (got != m.data) {
          size_t first = 0;
          while (first < got.size() && first < m.data.size() && got[first] == m.data[first]) ++first;
          c->failures.push_back("sent " + describe(m.opcode, m.data.size()) + ", got back " +
                                describe(ev->opcode, ev->len) + " differing from byte " + std::to_string(first));
        }
        if (++c->next < messages().size()) {
          c->send_next();
        } else {
          int rc = wsc_conn_close(conn, WSC_CLOSE_NORMAL, "done", 4);
          if (rc != 0) c->failures.push_back(std::string("wsc_conn_close: ") + wsc_err_name(rc));
        }
        break;
      }
      case WSC_EV_CLOSE:
        c->closed = true;
        c->close_code = ev->code;
        c->was_clean = ev->was_clean != 0;
        c->conn = nullptr;  // freed after this callback
        break;
      default:
        break;
    }
  }
};

std::string joined(const std::vector<std::string> &lines) {
  std::string s;
  for (const auto &l : lines) s += "\n  " + l;
  return s;
}

void client_to_peer_server(const std::vector<std::string> &argv, std::vector<std::string> env, bool deflate = false,
                           bool tls = false) {
  if (deflate) env.push_back("PEER_DEFLATE=1");
  if (tls) {  // the peer serves wss:// with the test CA's certificate for 127.0.0.1
    env.push_back("PEER_TLS_CERT=" + wsc_test::cert("server.pem"));
    env.push_back("PEER_TLS_KEY=" + wsc_test::cert("server.key"));
  }
  ASSERT_FALSE(argv.empty());
  TestLoop loop;
  {
    Peer peer(loop);
    ASSERT_TRUE(peer.spawn(argv, env)) << peer.output();
    int port = peer.wait_port(kStartMs);
    ASSERT_NE(port, 0) << "the peer printed no PORT line" << peer.output();

    EchoClient client;
    wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
    co.max_message_size = kMaxMessage;
    wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
    o.conn = &co;
    o.connect_timeout_ms = 10000;
    std::string ca = wsc_test::cert("ca.pem");
    wsc_tls_options_t tls_opts = WSC_TLS_OPTIONS_INIT;
    tls_opts.ca_file = ca.c_str();
    if (tls) o.tls = &tls_opts;
    std::string url = (tls ? "wss://127.0.0.1:" : "ws://127.0.0.1:") + std::to_string(port) + "/";
    ASSERT_EQ(wsc_connect(&client.conn, loop.loop, url.c_str(), &o, EchoClient::on_event, &client), 0);
    bool done = loop.run_until([&] { return client.closed; }, kTimeoutMs);
    if (!done && client.conn) {  // do not leave the connection open
      wsc_conn_terminate(client.conn);
      run_quietly(loop, [&] { return client.closed; }, 10000);
    }

    EXPECT_TRUE(client.open) << joined(client.events.log) << peer.output();
    EXPECT_TRUE(client.failures.empty()) << joined(client.failures);
    EXPECT_EQ(client.next, messages().size()) << "echoes received" << joined(client.events.log) << peer.output();
    EXPECT_EQ(client.close_code, 1000u) << joined(client.events.log);
    EXPECT_TRUE(client.was_clean) << joined(client.events.log);
    EXPECT_FALSE(client.events.has("error")) << joined(client.events.log);
    EXPECT_EQ(client.extensions.rfind("permessage-deflate", 0) == 0, deflate) << client.extensions;

    peer.stop();  // stdin closed: the server exits
    EXPECT_TRUE(peer.exited());
    EXPECT_EQ(peer.exit_status(), 0) << peer.output();
    EXPECT_EQ(peer.term_signal(), 0) << peer.output();
  }
  loop.close_clean();
}

// ---- a peer's client against wsc's echo server ------------------------------------------------

struct EchoServer {
  wsc_server_t *server = nullptr;
  bool listening = false, closed = false;
  int connections = 0, conns_closed = 0;
  uint64_t echoed = 0;
  std::vector<std::string> failures;
  wsc_test::Events conn_events;  // every connection event but the messages
  wsc_test::Events server_events;

  static void on_sent(wsc_conn_t *, int status, void *user_data) {
    EchoServer *s = static_cast<EchoServer *>(user_data);
    if (status != 0) s->failures.push_back(std::string("an echo completed with ") + wsc_err_name(status));
  }

  static void on_conn(wsc_conn_t *conn, const wsc_conn_event_t *ev, void *user_data) {
    EchoServer *s = static_cast<EchoServer *>(user_data);
    if (ev->type == WSC_EV_MESSAGE) {
      int rc = wsc_conn_send(conn, ev->opcode, ev->data, ev->len, 0, on_sent, s);
      if (rc >= 0)  // 0, or WSC_SEND_BACKPRESSURE: queued either way
        s->echoed++;
      else
        s->failures.push_back("echoing " + describe(ev->opcode, ev->len) + ": " + wsc_err_name(rc));
      return;
    }
    s->conn_events.log.push_back(wsc_test::describe_conn_event(*ev));
    if (ev->type == WSC_EV_CLOSE) s->conns_closed++;
  }

  static void on_server(wsc_server_t *, const wsc_server_event_t *ev, void *user_data) {
    EchoServer *s = static_cast<EchoServer *>(user_data);
    switch (ev->type) {
      case WSC_SERVER_LISTENING:
        s->listening = true;
        s->server_events.log.push_back("listening");
        break;
      case WSC_SERVER_CONNECTION:
        s->connections++;
        s->server_events.log.push_back(std::string("connection ") + wsc_conn_extensions(ev->conn));
        wsc_conn_set_callback(ev->conn, on_conn, s);
        break;
      case WSC_SERVER_CLIENT_ERROR:
        s->server_events.log.push_back("client-error " + std::to_string(ev->code) + " " +
                                       (ev->message ? ev->message : ""));
        break;
      case WSC_SERVER_ERROR:
        s->server_events.log.push_back(std::string("error ") + (ev->message ? ev->message : ""));
        break;
      case WSC_SERVER_CLOSE:
        s->closed = true;
        s->server_events.log.push_back("close");
        break;
      default:
        break;
    }
  }
};

void peer_client_to_server(const std::vector<std::string> &peer_args, bool node, bool deflate = false,
                           bool tls = false) {
  TestLoop loop;
  {
    EchoServer echo;
    wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
    co.max_message_size = kMaxMessage;
    wsc_deflate_options_t pmd = WSC_DEFLATE_OPTIONS_INIT;
    pmd.threshold = 0;  // compress every message, the empty ones too
    if (deflate) co.deflate = &pmd;
    wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
    so.host = "127.0.0.1";
    so.port = 0;
    so.conn = &co;
    std::string cert = wsc_test::cert("server.pem"), key = wsc_test::cert("server.key");
    wsc_tls_options_t tls_opts = WSC_TLS_OPTIONS_INIT;
    tls_opts.cert_file = cert.c_str();
    tls_opts.key_file = key.c_str();
    if (tls) so.tls = &tls_opts;
    ASSERT_EQ(wsc_server_new(&echo.server, loop.loop, &so, EchoServer::on_server, &echo), 0);
    if (!loop.run_until([&] { return echo.listening || echo.closed; }, 10000) || !echo.listening) {
      if (!echo.closed) wsc_server_close(echo.server, 0);
      run_quietly(loop, [&] { return echo.closed; }, 10000);
      FAIL() << "the server did not listen" << joined(echo.server_events.log);
    }
    wsc_addr_t addr;
    ASSERT_EQ(wsc_server_address(echo.server, &addr), 0);
    EXPECT_EQ(addr.family, 4u);
    std::string url = (tls ? "wss://127.0.0.1:" : "ws://127.0.0.1:") + std::to_string(addr.port) + "/";

    std::vector<std::string> env;
    if (deflate) env.push_back("PEER_DEFLATE=1");
    if (tls) env.push_back("PEER_TLS_CA=" + wsc_test::cert("ca.pem"));
    std::vector<std::string> args = peer_args;
    args.push_back(url);
    std::vector<std::string> argv = node ? node_peer(args, &env) : python_peer(args);
    {
      Peer peer(loop);
      if (!argv.empty()) {
        EXPECT_TRUE(peer.spawn(argv, env)) << peer.output();
        EXPECT_TRUE(loop.run_until([&] { return peer.exited(); }, kTimeoutMs)) << peer.output();
        peer.wait_exit(10000);  // the rest of its output
        EXPECT_EQ(peer.exit_status(), 0) << "the peer failed:" << peer.output() << "\nserver:"
                                         << joined(echo.server_events.log) << "\nconnection:"
                                         << joined(echo.conn_events.log);
        EXPECT_EQ(peer.term_signal(), 0) << peer.output();
      }
      peer.stop();
    }
    if (!argv.empty()) {
      // The peer completed its closing handshake: our side of it closed clean with its 1000.
      EXPECT_TRUE(loop.run_until([&] { return echo.conns_closed == echo.connections; }, 10000));
      EXPECT_EQ(echo.connections, 1) << joined(echo.server_events.log);
      bool compressed = false;
      for (const auto &l : echo.server_events.log) compressed |= l.rfind("connection permessage-deflate", 0) == 0;
      EXPECT_EQ(compressed, deflate) << joined(echo.server_events.log);
      EXPECT_EQ(echo.echoed, messages().size());
      EXPECT_TRUE(echo.failures.empty()) << joined(echo.failures);
      EXPECT_TRUE(echo.conn_events.has("close 1000 done clean")) << joined(echo.conn_events.log);
      EXPECT_FALSE(echo.conn_events.has("error")) << joined(echo.conn_events.log);
    }
    wsc_server_close(echo.server, 0);
    EXPECT_TRUE(loop.run_until([&] { return echo.closed; }, 10000));
  }
  loop.close_clean();
}

}  // namespace

TEST(Interop, ClientToPythonWebsocketsServer) {
  std::vector<std::string> argv = python_peer({"server"});
  if (!argv.empty()) client_to_peer_server(argv, {});
}

TEST(Interop, ClientToNodeWsServer) {
  std::vector<std::string> env;
  std::vector<std::string> argv = node_peer({"server"}, &env);
  if (!argv.empty()) client_to_peer_server(argv, env);
}

TEST(Interop, PythonWebsocketsClientToServer) { peer_client_to_server({"client"}, false); }

TEST(Interop, NodeWsClientToServer) { peer_client_to_server({"client"}, true); }

// ---- the same with permessage-deflate negotiated ---------------------------------------------

TEST(Interop, CompressedClientToPythonWebsocketsServer) {
  std::vector<std::string> argv = python_peer({"server"});
  if (!argv.empty()) client_to_peer_server(argv, {}, true);
}

TEST(Interop, CompressedClientToNodeWsServer) {
  std::vector<std::string> env;
  std::vector<std::string> argv = node_peer({"server"}, &env);
  if (!argv.empty()) client_to_peer_server(argv, env, true);
}

TEST(Interop, CompressedPythonWebsocketsClientToServer) { peer_client_to_server({"client"}, false, true); }

TEST(Interop, CompressedNodeWsClientToServer) { peer_client_to_server({"client"}, true, true); }

// ---- the same over TLS (wss://), verified against the test CA on both sides --------------------

TEST(Interop, TlsClientToPythonWebsocketsServer) {
  std::vector<std::string> argv = python_peer({"server"});
  if (!argv.empty()) client_to_peer_server(argv, {}, false, true);
}

TEST(Interop, TlsClientToNodeWsServer) {
  std::vector<std::string> env;
  std::vector<std::string> argv = node_peer({"server"}, &env);
  if (!argv.empty()) client_to_peer_server(argv, env, false, true);
}

TEST(Interop, TlsPythonWebsocketsClientToServer) { peer_client_to_server({"client"}, false, false, true); }

TEST(Interop, TlsNodeWsClientToServer) { peer_client_to_server({"client"}, true, false, true); }

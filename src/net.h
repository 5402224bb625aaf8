// The networking core's internal structures: the loop, connections and servers on libuv.
#ifndef WSC_SRC_NET_H
#define WSC_SRC_NET_H

#include <uv.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "buffer.h"
#include "random.h"
#include "deflate.h"
#include "fifo.h"
#include "http.h"
#include "receiver.h"
#include "sender.h"
#include "slab.h"
#include "slots.h"
#include "tls.h"
#include "writeq.h"
#include "wsc/client.h"
#include "wsc/conn.h"
#include "wsc/loop.h"
#include "wsc/server.h"

namespace wsc {
int from_uv(int uv_err);
void addr_from_sockaddr(const struct sockaddr *sa, wsc_addr_t *out);
// One read buffer per loop (512 KiB, as uWebSockets): large enough that a stream of big messages
// takes few reads, and that most messages are parsed and delivered where they were read.
constexpr size_t kReadBufferSize = 512 * 1024;
// What a TLS connection decrypts is delivered in pieces of up to this many bytes.
constexpr size_t kTlsPlainBytes = 64 * 1024;
}  // namespace wsc

namespace wsc {
// A socket in the loop's own epoll set (wsc_loop_s::epfd), so that a connection carries these
// 12 bytes of I/O state instead of a uv_tcp_t (248 bytes), and its reads and writes are plain
// system calls on the loop's shared buffer.
struct Watched {
  enum Kind : uint8_t { kConn, kListener, kLibuv };
  explicit Watched(Kind k) : kind(k) {}
  int fd = -1;
  uint32_t interest = 0;  // the epoll events asked for; 0: not in the set
  Kind kind;
};
}  // namespace wsc

struct wsc_loop_s {
  wsc_loop_s();
  ~wsc_loop_s();
  uv_loop_t *uv = nullptr;
  uv_loop_t own;
  bool owned = false;
  bool freeing = false;
  int open_handles = 0;  // async, prepare, check, timer
  uv_async_t async;
  uv_prepare_t prepare;
  uv_check_t check;
  std::mutex mu;
  std::vector<std::pair<wsc_loop_post_cb, void *>> posts;
  std::vector<uint64_t> dirty;  // connections with output to write, by id
  std::vector<uint64_t> releases;  // finished connections whose last reference goes next pass
  // Every connection's timeout on one libuv timer: a min-heap of deadlines (an idle connection
  // carries no timer handle of its own).
  uv_timer_t timer;
  std::vector<wsc_conn_s *> timers;
  // Every socket of the loop in one epoll set. A loop wsc owns is driven around that set (drive()),
  // with libuv's own backend descriptor as one more member: a socket's readiness then wakes one
  // epoll, not two. A wrapped loop (its owner runs uv_run) watches the set as one uv_poll_t.
  int epfd = -1;
  bool nested = false;  // the set is watched through epoll_watch
  uv_poll_t epoll_watch;
  wsc::Watched libuv_watch{wsc::Watched::kLibuv};  // libuv's backend, in the set (driven loops)
  size_t sockets = 0;  // open sockets: while there is one, the loop runs
  bool stop_requested = false;
  int drive(uint32_t mode);  // wsc_loop_run for a loop wsc owns
  bool alive() const;
  int wait_timeout() const;  // how long a wait on the set may block (wsc_loop_backend_timeout)
  std::unique_ptr<uint8_t[]> read_buf;  // one read buffer for every connection of the loop
  // The cork: small frames sent to a connection with nothing queued are built here, and go to
  // the kernel straight from here at its flush (only what the kernel does not take is copied to
  // its queue). One connection holds it at a time: cork_owner (others queue as usual).
  wsc::ByteBuffer cork;
  wsc_conn_s *cork_owner = nullptr;
  wsc::MaskKeyPool mask_keys;  // for clients' small frames (wsc_conn_send): no thread-local lookup
  static constexpr size_t kCorkBytes = 64 * 1024;
  std::unique_ptr<uint8_t[]> tls_buf;   // and one for what TLS connections decrypt (allocated by the first)
  // Clients' TLS contexts by their options (TlsContext::client_key): loading a CA store takes
  // milliseconds, so connections with the same settings share one. The newest few are kept.
  std::vector<std::pair<std::string, std::shared_ptr<wsc::TlsContext>>> tls_contexts;
  std::shared_ptr<wsc::TlsContext> client_tls_context(const wsc_tls_options_t &o, int *err, std::string *why);
  bool read_busy = false;
  int ready = 0;  // sockets the current epoll batch reported ready
  // How many batches in a row reported one socket ready, the same one (solo): that socket's
  // peer is waiting on it alone (wsc_conn_s::feed_frames splits its reads).
  const void *solo = nullptr;
  uint32_t solo_streak = 0;
  // The message event being delivered, for wsc_conn_take_message.
  struct Delivering {
    wsc_conn_s *conn;
    const uint8_t *data;
    size_t len;
  } delivering{nullptr, nullptr, 0};
  wsc::BufferPool pool;  // large message and send buffers, reused by every connection
  wsc::ByteBuffer deflate_out;  // compressed messages on their way to a sender
  // One compressor per setting for the connections without context takeover (uWebSockets'
  // SHARED_COMPRESSOR): it is reset after each message, so any connection may use it next.
  std::vector<std::pair<uint32_t, std::unique_ptr<wsc::Deflater>>> shared_deflaters;
  wsc::Deflater *shared_deflater(int level, int mem_level, int window_bits);
  wsc::SlotTable<wsc_conn_s> conns;  // every connection, by id
  wsc::Slab conn_slab;  // where connections live
  size_t servers = 0;
  size_t jobs = 0;  // compressions running on the thread pool

  void mark_dirty(wsc_conn_s *c);
  void schedule_flush();  // flush_dirty() at the end of this loop pass
  void flush_dirty();
  void release_later(wsc_conn_s *c);  // drops the connection's own reference on the next pass
  void timer_set(wsc_conn_s *c, uint64_t ms, void (*fn)(wsc_conn_s *));  // ms 0: cancel; c->x is set
  void timer_cancel(wsc_conn_s *c);
  void timer_expired();
  // Takes ownership of an open socket (the loop now counts it); unwatch_close() gives it back.
  void adopt_socket(wsc::Watched *w, int fd);
  // Sets the events w is watched for (EPOLLIN, EPOLLOUT; 0: none). 0 or a negative errno.
  int watch(wsc::Watched *w, uint32_t events);
  void unwatch_close(wsc::Watched *w);
  void on_epoll();  // the set is readable: dispatch what is ready
  bool dispatch(const struct epoll_event *evs, int n);  // true if libuv's backend is among them

 private:
  void heap_swap(size_t a, size_t b);
  void heap_up(size_t i);
  void heap_down(size_t i);
  bool heap_remove(wsc_conn_s *c);  // true if it held the earliest deadline
  void timer_rearm();
};

struct Completion {
  uint64_t end;  // done once this many bytes were written
  wsc_send_cb cb;
  void *user_data;
};


// A connection's settings, read and validated once. A server's connections all point to the
// server's (which outlives them); a client keeps its own in its ClientConfig. Never changed while
// a connection uses it: per-connection state lives in wsc_conn_s.
struct ConnConfig {
  // server: the server the connections belong to, or nullptr for a client.
  ConnConfig(const wsc_conn_options_t &o, wsc_loop_s *loop, wsc_server_s *server);
  wsc_loop_s *loop;
  wsc_server_s *server;
  bool is_server;
  uint32_t flags;
  uint32_t close_timeout_ms;
  uint64_t high_water, low_water, max_buffered;
  uint32_t overflow_policy;
  uint32_t keepalive_ms, keepalive_grace_ms, idle_timeout_ms, tcp_keepalive_ms;
  uint64_t fragment_threshold;
  bool pmd_configured;
  wsc_deflate_options_t pmd;  // permessage-deflate's settings, if configured
  wsc::ReceiverConfig rx;
  bool liveness() const { return keepalive_ms != 0 || idle_timeout_ms != 0; }
};

struct StoredSend;

// What a client connection needs to connect again (after a redirect, or to reconnect), and its
// state across attempts.
struct ClientConfig {
  ClientConfig(const wsc_conn_options_t &o, wsc_loop_s *loop) : conn(o, loop, nullptr) {}
  ConnConfig conn;
  std::string url;
  std::vector<std::string> protocols;
  std::vector<std::pair<std::string, std::string>> headers;
  bool follow_redirects = false;
  uint32_t max_redirects = 10;
  uint32_t connect_timeout_ms = 0, handshake_timeout_ms = 30000;
  uint32_t reconnect_min_ms = 0, reconnect_max_ms = 30000, reconnect_max_attempts = 0;
  bool reconnect_always = false;
  uint64_t offline_queue_bytes = 0;
  // wss://: the context (made at connect for a wss:// URL or TLS options, else by the first
  // redirect to wss://), and the name to verify and send as SNI instead of the URL's host.
  std::shared_ptr<wsc::TlsContext> tls;
  std::string servername, servername_for;  // the override, and the URL host it stands for
  bool no_sni = false;
  // State.
  bool user_closed = false;  // close() or terminate() was called: no reconnection
  uint32_t attempt = 0;      // reconnection attempts in a row
  wsc::Fifo<StoredSend> offline;  // sends made while (re)connecting
  uint64_t offline_bytes = 0;
};

// A send, or with is_close the close, kept for later: while a client (re)connects, or behind a
// message that the thread pool is compressing.
struct StoredSend {
  bool is_close;
  uint32_t opcode, flags, code;
  std::string data;
  wsc_send_cb cb;
  void *user_data;

  static StoredSend make(bool is_close, uint32_t opcode, uint32_t flags, uint32_t code, const void *data, size_t len,
                         wsc_send_cb cb, void *user_data) {
    return StoredSend{is_close, opcode, flags, code,
                      len ? std::string(static_cast<const char *>(data), len) : std::string(), cb, user_data};
  }
};

// The opening handshake's state, dropped once the connection is open.
struct wsc_request_s;

struct Handshake {
  Handshake(wsc::HttpParser::Kind kind, size_t max_headers, size_t max_head_bytes)
      : http(kind, max_headers, max_head_bytes, 64 * 1024) {}
  ~Handshake() {
    if (addrs) uv_freeaddrinfo(addrs);
  }
  Handshake(const Handshake &) = delete;
  Handshake &operator=(const Handshake &) = delete;
  wsc::HttpParser http;
  // client
  std::string request;  // the GET request
  std::string key;      // Sec-WebSocket-Key sent
  std::vector<std::string> protocols;
  std::vector<std::pair<std::string, std::string>> headers;  // Origin and the user's, per hop
  std::string host;
  std::string host_header;
  std::string target;
  int port = 0;
  std::string unix_path;
  bool secure = false;  // this hop is wss://
  bool follow_redirects = false;
  uint32_t max_redirects = 10;
  uint32_t redirects = 0;
  std::vector<std::string> visited;
  uint32_t connect_timeout_ms = 0;
  uint32_t handshake_timeout_ms = 0;
  uv_getaddrinfo_t gai;
  bool resolving = false;
  // A connect that finished before it could be reported (at once, or failed to start): its
  // result waits for the loop pass's flush, so that events never come from inside a call.
  bool connect_reported = true;
  int connect_status = 0;
  struct addrinfo *addrs = nullptr;
  struct addrinfo *next_addr = nullptr;
  // server
  sockaddr_storage peer{};  // the client's address, as accept() gave it (ss_family 0: not known)
  wsc_request_s *deferred_request = nullptr;  // an upgrade request awaiting a deferred decision
};

// What only some connections need, allocated when first needed (wsc_conn_s::extra()): an idle
// server connection with no deflate, keepalive or transport holds none of it.
struct ConnExtra {
  // The connection's timeout, in the loop's heap (wsc_loop_s::timer_set): an idle connection
  // has none.
  uint64_t timer_due = 0;
  void (*timer_fn)(wsc_conn_s *) = nullptr;
  uint32_t timer_slot = UINT32_MAX;  // index in the heap, or none
  std::unique_ptr<wsc_transport_t> transport;  // a transport the caller owns, instead of a socket
  bool transport_closed = false;
  // Liveness.
  bool idle_notified = false;
  uint64_t last_activity = 0;      // uv_now() of the last bytes received
  uint64_t keepalive_ping_at = 0;  // uv_now() of an unanswered keepalive ping, or 0
  uint64_t ping_sent_ns = 0;       // uv_hrtime() of the last ping sent, until its pong
  int64_t rtt_us = -1;
  // The latest ping's payload, answered once the send queue drains (wsc_conn_s::auto_pong).
  bool pong_held = false;
  std::string held_pong;
  // permessage-deflate: what was negotiated.
  std::unique_ptr<wsc::Deflater> deflater;  // our own compressor (context takeover)
  wsc::Deflater *compressor = nullptr;      // deflater, or the loop's shared one
  std::unique_ptr<wsc::Inflater> inflater;
  bool compressing = false;  // the streamed message in progress is compressed
  // A large message is compressed on libuv's thread pool, not on the loop; the sends and the
  // close that come after it wait, in order, until it is done.
  bool offloading = false;
  wsc::Fifo<StoredSend> deferred;
  wsc::ByteBuffer pending_in;  // bytes read but not parsed, because the user paused
  std::string peer_reason;     // of the close frame received
  std::unique_ptr<Handshake> hs;         // until the connection opens
  std::unique_ptr<ClientConfig> client;  // clients only (it holds their ConnConfig)
  std::unique_ptr<wsc::TlsSession> tls;  // a wss:// connection's TLS
  // A reconnecting client's fresh start: everything but the ClientConfig (and the last RTT) goes.
  void reset_session() {
    transport_closed = idle_notified = compressing = offloading = pong_held = false;
    held_pong.clear();
    last_activity = keepalive_ping_at = ping_sent_ns = 0;
    deflater.reset();
    compressor = nullptr;
    inflater.reset();
    deferred.clear();
    pending_in.release();
    peer_reason.clear();
    hs.reset();
    tls.reset();
  }
  // Nothing here a connection still needs once open: a server connection without deflate,
  // keepalive or transport then drops it.
  bool idle(const ConnConfig &cfg) const {
    return timer_slot == UINT32_MAX && !transport && !hs && !client && !tls && !inflater && !deflater && pending_in.capacity() == 0 &&
           peer_reason.empty() && !pong_held && deferred.empty() && ping_sent_ns == 0 && rtt_us < 0 && !cfg.liveness();
  }
};

// Three short strings (protocol, extensions, URL) in 16 bytes: kept inline while they fit, as
// a server connection's usual "", "", "/path" do, else in one heap block.
class PackedStrings {
 public:
  enum Which { kProtocol, kExtensions, kUrl };
  PackedStrings() { std::memset(buf_, 0, sizeof buf_); }
  ~PackedStrings() { clear(); }
  PackedStrings(const PackedStrings &) = delete;
  PackedStrings &operator=(const PackedStrings &) = delete;
  const char *get(Which w) const;
  bool set(Which w, const std::string &value);  // false on out of memory
  void clear();

 private:
  // buf_[15] says where the strings are: 0, in buf_ itself; 1, behind the pointer at buf_.
  static constexpr size_t kInline = 15;
  bool on_heap() const { return buf_[kInline] != 0; }
  const char *base() const;
  char buf_[16];
};

struct wsc_conn_s : wsc::Watched {
  // A new connection, entered in its loop's table (nullptr when out of memory).
  static wsc_conn_s *create(const ConnConfig *cfg);
  explicit wsc_conn_s(const ConnConfig *cfg);
  // Connections live in their loop's slab: `new (loop->conn_slab) wsc_conn_s(...)`; delete
  // gives the memory back to it.
  static void *operator new(size_t, wsc::Slab &slab) noexcept { return slab.alloc(); }
  static void operator delete(void *p, wsc::Slab &) noexcept { wsc::Slab::free_any(p); }
  static void operator delete(void *p) noexcept { wsc::Slab::free_any(p); }
  ~wsc_conn_s();

  // ---- I/O ----
  bool start_reading();
  void on_io(uint32_t events);  // the socket is ready (epoll events)
  void read_ready();
  int update_interest();  // asks epoll for what the connection waits for now
  void on_data(uint8_t *p, size_t n);
  void on_tls_data(wsc::TlsSession *t, const uint8_t *p, size_t n);  // ciphertext read
  void flush_tls(wsc::TlsSession *t);
  void tls_failed(wsc::TlsSession *t);  // sends the alert OpenSSL queued, if it can, then fails
  void on_eof();
  void on_io_error(int uv_err);
  // Queues a frame (the sender's sink); a large one may be written at once. 0 or WSC_ENOMEM.
  int queue(const wsc_buf_t *bufs, uint32_t n, const uint8_t *mask_key);
  // Room for a small frame built in place at the end of the queue (nullptr: use queue()), and
  // the bytes it took.
  uint8_t *reserve(size_t n);
  void commit(size_t n);
  void queue_shared(wsc::SharedFrame *f);
  void wrote(size_t n);  // the kernel took n more bytes
  void wait_writable();  // the kernel's buffer is full: watch for EPOLLOUT
  void progress(uint64_t n);  // n more bytes of the stream were written: completions, DRAIN
  void flush();
  void flush_if_dirty();  // the flush a mark_dirty() asked for, unless it already ran
  void after_flush();
  void complete_upto(uint64_t written_total, int status);
  void send_held_pong();      // the pong auto_pong held back
  void after_progress();     // completions ran: maybe DRAIN, or the held pong
  void auto_pong(const uint8_t *data, size_t len);
  void feed_frames(uint8_t *p, size_t n);
  void process_pending();    // parse what was read while paused
  bool hold_input(const uint8_t *p, size_t n);  // keeps bytes for process_pending()
  int admit_send();          // flow control before a send: 0 or WSC_EQUEUEFULL
  // Sends our close frame unless sent, enters CLOSING and starts the close timeout; with
  // fin_after_flush the TCP side is shut once everything is written. 0 or tx.close's error.
  int begin_close(uint32_t code, const uint8_t *reason, size_t len, bool fin_after_flush);
  // Bytes sent but not yet handed to the kernel (with TLS, also the encrypted ones).
  uint64_t buffered() const { return out.bytes() + corked_bytes() + (x && x->tls ? x->tls->plain_pending() : 0); }
  uint64_t queued() const { return written + out.bytes() + corked_bytes(); }
  // The frames in the loop's cork (wsc_loop_s::cork) are the tail of this connection's queue.
  bool corked() const { return loop()->cork_owner == this; }
  size_t corked_bytes() const { return corked() ? loop()->cork.size() : 0; }
  // Moves the cork's frames, from byte `from` on, into the queue and frees the cork for other
  // connections: false on out of memory (end_error is set).
  bool uncork(size_t from = 0);
  void drop_cork();  // frees the cork, discarding its frames (the connection ends)
  ssize_t send_cork();  // writes them; the rest goes to the queue. The bytes taken, or -errno
  wsc_loop_s *loop() const { return cfg->loop; }
  wsc_server_s *server() const { return cfg->server; }
  bool is_server() const { return cfg->is_server; }

  // ---- the WebSocket ----
  void open(const std::string &rest);  // the handshake succeeded; rest: bytes after it
  void on_frame_event(const wsc_parser_event_t &ev);
  void start_timer(uint64_t ms, void (*fn)(wsc_conn_s *));
  void liveness();  // the keepalive / idle timer: act on what is due, re-arm for the next
  void stop_timer();
  void fail(int err, const std::string &message);  // error event, then terminate
  void finish();  // close the handles; the final event follows
  void final_event();
  void reset_for_reconnect();  // a fresh connection state in the same object
  // Carries out the stored sends (and close) in order, or fails their callbacks with an error.
  void replay(wsc::Fifo<StoredSend> &queue);
  void fail_stored(wsc::Fifo<StoredSend> &queue, int err);
  void emit(wsc_conn_event_t &ev);

  // Small fields first: they fill the tail of Watched (a compact connection is a small one).
  // State bits.
  bool announced : 1 = false;  // the user knows this connection (server: CONNECTION was delivered)
  bool is_pipe : 1 = false;    // the socket is a Unix one
  bool connecting : 1 = false;  // a client's socket is connecting (it turns writable when done)
  bool backpressure : 1 = false;  // a send reported WSC_SEND_BACKPRESSURE; DRAIN is owed
  bool paused : 1 = false;
  bool reading : 1 = false;
  bool blocked : 1 = false;  // the kernel's send buffer is full: waiting for EPOLLOUT
  bool dirty : 1 = false;
  bool close_sent : 1 = false;
  bool close_received : 1 = false;
  bool shutdown_after_flush : 1 = false;  // send FIN once everything is written
  bool shutdown_sent : 1 = false;
  bool finishing : 1 = false;
  bool final_done : 1 = false;
  bool was_clean : 1 = false;
  bool borrowing : 1 = false;  // the frame being queued has a payload lent by the caller
  uint8_t open_handles = 1;  // the connection's own reference, dropped after finish()
  uint64_t id = 0;  // given by the loop's table (create())
  const ConnConfig *cfg;  // the server's, or client->conn
  wsc_conn_cb cb = nullptr;
  void *user_data = nullptr;
  std::unique_ptr<ConnExtra> x;  // see extra()

  wsc::Receiver rx;
  wsc::Sender tx;
  wsc::WriteQueue out;
  uint64_t written = 0;  // bytes ever handed to the kernel (those ever queued: + out.bytes())
  wsc::Fifo<Completion> completions;  // of the sends that have a callback

  uint32_t state = WSC_CONNECTING;
  int end_error = 0;  // why pending sends fail
  uint16_t peer_code = 1005;
  PackedStrings strings;  // protocol, extensions, URL
  // Statistics (bytes out: `written`).
  uint64_t bytes_in = 0, messages_in = 0, messages_out = 0;

  // The rarely needed part, allocated on first use; nullptr when out of memory.
  ConnExtra *extra();
  wsc_transport_t *transport() const { return x ? x->transport.get() : nullptr; }
  wsc::TlsSession *tls() const { return x ? x->tls.get() : nullptr; }
  wsc::Deflater *compressor() const { return x ? x->compressor : nullptr; }
  Handshake *hs() const { return x ? x->hs.get() : nullptr; }
  ClientConfig *client() const { return x ? x->client.get() : nullptr; }
  // Sends go out as they are: no compressor, no compression under way on the thread pool, no
  // messages waiting for a client's reconnection.
  bool plain_sends() const {
    return !x || (x->compressor == nullptr && !x->offloading && (!x->client || x->client->offline.empty()));
  }
  bool has_pending_in() const { return x && !x->pending_in.empty(); }
  bool has_io() const { return fd >= 0 || transport() != nullptr; }
  std::string url() const { return strings.get(PackedStrings::kUrl); }
  std::string peer_reason() const { return x ? x->peer_reason : std::string(); }
  bool pmd_start(const wsc::PmdAgreement &a, const std::string &response);  // false: out of memory
};


struct wsc_server_s : wsc::Watched {
  wsc_server_s() : Watched(kListener) {}
  wsc_loop_s *loop;
  wsc_server_cb cb;
  void *user_data;
  wsc_server_options_t opts;
  std::unique_ptr<ConnConfig> conn_cfg;  // shared by its connections
  std::shared_ptr<wsc::TlsContext> tls;  // wss://: every accepted connection speaks TLS
  std::string host, unix_path, path;
  std::vector<std::string> origins;  // wsc_server_options_t.origins, normalized (origin_key)
  bool check_origin = false, allow_no_origin = false;
  bool is_pipe = false;
  bool closing = false;
  bool listen_closed = false;
  uint32_t close_code = 1001;
  uv_timer_t notify;  // delivers LISTENING; resumes accepting after an error; the shutdown timeout
  bool notify_closing = false;
  size_t conn_count = 0;  // every accepted connection, upgraded or not (they are in loop->conns)
  size_t open_count = 0;  // of them, those announced to the user

  void emit(wsc_server_event_t &ev) {
    if (cb) cb(this, &ev, user_data);
  }
  void conn_gone(wsc_conn_s *c);
  void maybe_final();
};

// Server side of the handshake: called by the connection once a request head arrived.
// The server's listening socket is readable: accept what waits.
void server_on_accept(wsc_server_s *srv);
// Client side: the socket's connect finished (status: 0 or a negative errno).
void client_on_connected(wsc_conn_s *c, int status);
void server_handle_request(wsc_conn_s *c, wsc::HttpParser::Result result, const std::string &rest);
// A deferred request's connection ended before the decision: REQUEST_CANCELLED, then free it.
void server_request_gone(wsc_conn_s *c);
// The bytes a deferred request's client sent meanwhile.
std::string *server_request_rest(wsc_conn_s *c);
// Sends an already compressed message (RSV1): used when the thread pool finished compressing.
int wsc_conn_send_compressed(wsc_conn_s *conn, uint32_t opcode, const uint8_t *z, size_t zlen, wsc_send_cb cb,
                             void *user_data);
// Installs a caller-owned transport (validated); false if it is unusable.
bool conn_set_transport(wsc_conn_s *c, const wsc_transport_t *t);
// Clients: reconnects a dropped connection when its policy says so (else false: it ends).
bool client_reconnect(wsc_conn_s *c);
// A server connection failed its TLS handshake before its request: CLIENT_ERROR, then the end.
void server_tls_failed(wsc_conn_s *c, int err, const std::string &message);
// Client side: the response head (or refusal) arrived.
void client_handle_response(wsc_conn_s *c, wsc::HttpParser::Result result, const std::string &rest);

#endif

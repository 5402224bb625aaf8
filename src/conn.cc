// A WebSocket connection on libuv (wsc/conn.h): reads into the loop's buffer, parses with the
// receiver, queues frames from the sender and writes them once per loop pass, and runs the
// closing handshake. Shared by server and client connections.
#include <algorithm>
#include <cstring>
#include <new>

#include <sys/epoll.h>

#include "framing.h"
#include "net.h"
#include "options.h"
#include "random.h"
#include "socket.h"
#include "wsc/close.h"
#include "wsc/error.h"
#include "wsc/frame.h"

namespace {

constexpr size_t kMaxHeldBytes = 1024 * 1024;
// A read of at least this many bytes is answered in two halves (wsc_conn_s::feed_frames) when
// its socket was the only one ready in this many epoll batches in a row.
constexpr size_t kSplitBytes = 256;
constexpr uint32_t kSplitStreak = 4;
// Frames at least this large are written as they are sent (wsc_conn_s::queue), not copied.
constexpr size_t kDirectWriteBytes = 16 * 1024;

// The write queue's first pieces (at most max) as iovecs; total: their bytes.
size_t gather_iov(const wsc::WriteQueue &q, iovec *iov, size_t max, size_t *total) {
  wsc_buf_t bufs[64];
  size_t count = q.gather(bufs, max < 64 ? max : 64, total);
  for (size_t i = 0; i < count; ++i) iov[i] = iovec{const_cast<uint8_t *>(bufs[i].base), bufs[i].len};
  return count;
}

// One vectored write of the front of q: the bytes the kernel took (0 when its buffer is full),
// or a negative errno.
ssize_t send_front(int fd, const wsc::WriteQueue &q) {
  constexpr size_t kMaxBufs = 64;
  iovec iov[kMaxBufs];
  size_t total = 0;
  ssize_t rc = wsc::sock::send(fd, iov, gather_iov(q, iov, kMaxBufs, &total));
  return rc == -EAGAIN ? 0 : rc;
}

// Frames go to the connection's write queue; a small one is built in place there.
const wsc::Sender::Output kSenderOutput = {
    [](void *ctx, const wsc_buf_t *bufs, uint32_t n, const uint8_t *mask_key) {
      return static_cast<wsc_conn_s *>(ctx)->queue(bufs, n, mask_key);
    },
    [](void *ctx, size_t n) { return static_cast<wsc_conn_s *>(ctx)->reserve(n); },
    [](void *ctx, size_t n) { static_cast<wsc_conn_s *>(ctx)->commit(n); },
};

void receiver_sink(void *ctx, const wsc_parser_event_t &ev) { static_cast<wsc_conn_s *>(ctx)->on_frame_event(ev); }

}  // namespace

ConnConfig::ConnConfig(const wsc_conn_options_t &o, wsc_loop_s *l, wsc_server_s *srv)
    : loop(l),
      server(srv),
      is_server(srv != nullptr),
      flags(o.flags),
      close_timeout_ms(o.close_timeout_ms),
      high_water(o.high_water_mark),
      low_water(o.low_water_mark),
      max_buffered(o.max_buffered),
      overflow_policy(o.overflow_policy),
      keepalive_ms(o.keepalive_interval_ms),
      keepalive_grace_ms(o.keepalive_grace_ms ? o.keepalive_grace_ms : 10000),
      idle_timeout_ms(o.idle_timeout_ms),
      tcp_keepalive_ms(o.tcp_keepalive_ms),
      fragment_threshold(o.fragment_threshold),
      pmd_configured(o.deflate != nullptr || srv == nullptr),
      pmd(WSC_DEFLATE_OPTIONS_INIT) {
  if (o.deflate && wsc::options_read(&pmd, o.deflate) != 0) pmd_configured = false;
  if (pmd.flags & WSC_DEFLATE_DISABLE) pmd_configured = false;
  rx.sink = receiver_sink;
  rx.pool = &l->pool;
  rx.role = srv ? WSC_ROLE_SERVER : WSC_ROLE_CLIENT;
  rx.assemble = (o.flags & WSC_CONN_NO_ASSEMBLE) == 0;
  rx.validate_utf8 = (o.flags & WSC_CONN_SKIP_UTF8) == 0;
  rx.max_message = o.max_message_size;
  rx.max_frame = o.max_frame_size;
  rx.max_fragments = o.max_fragments;
}

wsc_conn_s::wsc_conn_s(const ConnConfig *c)
    : Watched(kConn),
      cfg(c),
      rx(c->rx, this),
      tx(c->is_server ? WSC_ROLE_SERVER : WSC_ROLE_CLIENT, (c->flags & WSC_CONN_FRAGMENT) != 0, c->fragment_threshold,
         &kSenderOutput, this) {
  if (c->server) ++c->server->conn_count;
}

wsc_conn_s *wsc_conn_s::create(const ConnConfig *cfg) {
  auto *c = new (cfg->loop->conn_slab) wsc_conn_s(cfg);
  if (c != nullptr && !cfg->loop->conns.add(c)) {
    if (cfg->server) --cfg->server->conn_count;
    delete c;
    return nullptr;
  }
  return c;
}

ConnExtra *wsc_conn_s::extra() {
  if (!x) x.reset(new (std::nothrow) ConnExtra());
  return x.get();
}

const char *PackedStrings::base() const {
  if (!on_heap()) return buf_;
  const char *heap;
  std::memcpy(&heap, buf_, sizeof heap);
  return heap;
}

const char *PackedStrings::get(Which w) const {
  const char *p = base();
  for (int i = 0; i < w; ++i) p += std::strlen(p) + 1;
  return p;
}

bool PackedStrings::set(Which w, const std::string &value) {
  std::string all;
  for (int i = kProtocol; i <= kUrl; ++i) {
    all += i == w ? value : std::string(get(static_cast<Which>(i)));
    all += '\0';
  }
  if (all.size() <= kInline) {
    clear();
    std::memcpy(buf_, all.data(), all.size());
    return true;
  }
  char *heap = static_cast<char *>(std::malloc(all.size()));
  if (heap == nullptr) return false;
  std::memcpy(heap, all.data(), all.size());
  clear();
  std::memcpy(buf_, &heap, sizeof heap);
  buf_[kInline] = 1;
  return true;
}

void PackedStrings::clear() {
  if (on_heap()) std::free(const_cast<char *>(base()));
  std::memset(buf_, 0, sizeof buf_);
}

wsc_conn_s::~wsc_conn_s() {
  drop_cork();
  loop()->timer_cancel(this);
  loop()->conns.remove(this);
  out.clear(&loop()->pool);  // large buffers go back to the loop's pool
}

bool wsc_conn_s::start_reading() {
  reading = true;
  return update_interest() == 0;
}

int wsc_conn_s::update_interest() {
  uint32_t want = (reading && !paused ? uint32_t{EPOLLIN} : 0u) | (blocked || connecting ? uint32_t{EPOLLOUT} : 0u);
  return loop()->watch(this, want);
}

void wsc_conn_s::on_io(uint32_t events) {
  if (connecting) {
    connecting = false;
    update_interest();
    return client_on_connected(this, wsc::sock::pending_error(fd));
  }
  // Reads first: a reset's error is reported by the read that finds it.
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && (interest & EPOLLIN)) read_ready();
  if (fd < 0 || !(events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) || !blocked) return;
  blocked = false;
  if (update_interest() == 0) flush();
}

void wsc_conn_s::read_ready() {
  // Reads while the kernel fills the whole buffer (a few times at most, to be fair to the other
  // sockets); what a read's callbacks send in answer goes out right after it, while it is hot,
  // rather than at the end of the loop pass.
  if (loop()->read_busy) return;  // a nested loop run inside a callback: read on the next pass
  uint8_t *buf = loop()->read_buf.get();
  for (int i = 0; i < 4 && fd >= 0 && reading && !paused; ++i) {
    loop()->read_busy = true;
    ssize_t n = wsc::sock::recv(fd, buf, wsc::kReadBufferSize);
    if (n > 0) {
      if (wsc::TlsSession *t = tls())
        on_tls_data(t, buf, static_cast<size_t>(n));
      else
        on_data(buf, static_cast<size_t>(n));
      loop()->read_busy = false;
      flush_if_dirty();
      if (static_cast<size_t>(n) < wsc::kReadBufferSize) return;
      continue;
    }
    loop()->read_busy = false;
    if (n == -EAGAIN) return;
    if (n == 0) {
      reading = false;  // nothing more will come: stop watching for it
      update_interest();
      return on_eof();
    }
    return on_io_error(static_cast<int>(n));
  }
}

bool wsc_conn_s::hold_input(const uint8_t *p, size_t n) {
  ConnExtra *e = extra();
  return e != nullptr && e->pending_in.append(p, n, SIZE_MAX);
}

void wsc_conn_s::feed_frames(uint8_t *p, size_t n) {
  if (has_pending_in() || paused) {  // keep the order: what was read before goes first
    if (!hold_input(p, n)) return fail(WSC_ENOMEM, "out of memory");
    return process_pending();
  }
  size_t used = 0;
  if (n >= kSplitBytes && loop()->ready == 1 && loop()->solo_streak >= kSplitStreak && fd >= 0 && !tls() &&
      loop()->read_busy) {
    // The only busy socket, with several messages read at once: answer the first half of them
    // before parsing the rest, so the peer works on those replies while this side works on the
    // rest. Replying to the whole read at once makes the two ends take turns: one connection
    // with many messages in flight then runs at half speed (measured in Node). With several
    // busy sockets the ends never wait on each other, and a split would only add a write (and
    // its packet) per read: 100 connections measured 1.14 writes per read with it.
    rx.feed(p, n, &used, n / 2);
    if (used < n && !paused && !finishing) {
      flush_if_dirty();  // read_busy stays set: no nested read can reuse the buffer meanwhile
      if (finishing) return;
      size_t rest = 0;
      rx.feed(p + used, n - used, &rest);
      used += rest;
    }
  } else {
    rx.feed(p, n, &used);
  }
  // Paused by a callback: keep the rest (only it: the read buffer is the loop's) for resume.
  if (used < n && paused && !finishing && !hold_input(p + used, n - used)) fail(WSC_ENOMEM, "out of memory");
}

void wsc_conn_s::process_pending() {
  while (has_pending_in() && !paused && !finishing) {
    wsc::ByteBuffer &pending = x->pending_in;
    wsc::ByteBuffer batch;
    batch.swap(pending);
    size_t used = 0;
    rx.feed(batch.data(), batch.size(), &used);
    if (used < batch.size() && paused && !finishing) {
      wsc::ByteBuffer rest;
      if (!rest.append(batch.data() + used, batch.size() - used, SIZE_MAX) ||
          !rest.append(pending.data(), pending.size(), SIZE_MAX))
        return fail(WSC_ENOMEM, "out of memory");
      rest.swap(pending);
    }
  }
}

void wsc_conn_s::on_data(uint8_t *p, size_t n) {
  bytes_in += n;
  if (x) {  // any bytes from the peer show it is alive (WebSocket-Node's keepalive does the same)
    x->last_activity = uv_now(loop()->uv);
    x->keepalive_ping_at = 0;
    x->idle_notified = false;
  }
  if (finishing) return;
  if (state == WSC_CONNECTING) {
    if (hs() && hs()->deferred_request != nullptr) {  // the server is deciding: keep what arrives (bounded)
      std::string &held = *server_request_rest(this);
      if (held.size() + n > kMaxHeldBytes) return fail(WSC_EBAD_REQUEST, "too much data before the upgrade");
      held.append(reinterpret_cast<const char *>(p), n);
      return;
    }
    if (!hs()) return;
    size_t used = 0;
    auto r = hs()->http.feed(reinterpret_cast<const char *>(p), n, &used);
    if (r == wsc::HttpParser::kNeedMore) return;
    std::string rest(reinterpret_cast<const char *>(p) + used, n - used);
    if (is_server())
      server_handle_request(this, r, rest);
    else
      client_handle_response(this, r, rest);
    return;
  }
  if (close_received && rx.state() == wsc::Receiver::kClosed) return;
  if (is_server() && !announced) return;  // refused: what the client still sends is ignored
  feed_frames(p, n);
}

void wsc_conn_s::on_tls_data(wsc::TlsSession *t, const uint8_t *p, size_t n) {
  wsc_loop_s *l = loop();
  if (!l->tls_buf) {
    l->tls_buf.reset(new (std::nothrow) uint8_t[wsc::kTlsPlainBytes]);
    if (!l->tls_buf) return fail(WSC_ENOMEM, "out of memory");
  }
  auto deliver = [](void *ctx, uint8_t *plain, size_t len) {
    auto *c = static_cast<wsc_conn_s *>(ctx);
    c->on_data(plain, len);
    return !c->finishing;
  };
  wsc::TlsSession::Status st = t->decrypt(p, n, l->tls_buf.get(), wsc::kTlsPlainBytes, deliver, this);
  if (finishing) return;
  if (st == wsc::TlsSession::kError) return tls_failed(t);
  // Handshake records to answer, or plaintext that waited for the handshake.
  if (!t->out.empty() || !out.empty()) l->mark_dirty(this);
  if (st == wsc::TlsSession::kClosed) {  // close_notify: the peer's stream ended
    reading = false;
    update_interest();
    on_eof();
  }
}

void wsc_conn_s::tls_failed(wsc::TlsSession *t) {
  int err = t->error();
  std::string message = t->message();
  // OpenSSL queued an alert that tells the peer why: one try to send it, without waiting.
  if (fd >= 0 && !t->out.empty()) send_front(fd, t->out);
  if (is_server() && !announced) return server_tls_failed(this, err, message);
  fail(err, message);
}

void wsc_conn_s::on_eof() {
  if (finishing) return;
  if (state == WSC_CONNECTING && !is_server() && hs()) {
    client_handle_response(this, hs()->http.finish(), "");
    return;
  }
  // RFC 6455 §7.1.1: the TCP connection closing after both close frames is a clean close.
  was_clean = close_sent && close_received;
  finish();
}

void wsc_conn_s::on_io_error(int uv_err) {
  if (finishing) return;
  if (close_sent && close_received) {  // a reset after the closing handshake changes nothing
    was_clean = true;
    finish();
    return;
  }
  fail(wsc::from_uv(uv_err), std::string(wsc_strerror(wsc::from_uv(uv_err))) + " (" + uv_strerror(uv_err) + ")");
}

int wsc_conn_s::queue(const wsc_buf_t *bufs, uint32_t n, const uint8_t *mask_key) {
  if (!uncork()) return WSC_ENOMEM;  // the frame goes behind what is corked
  size_t total = 0, taken = 0;
  for (uint32_t i = 0; i < n; ++i) total += bufs[i].len;
  if (mask_key == nullptr && total >= kDirectWriteBytes && fd >= 0 && !blocked && !connecting && !finishing && !tls()) {
    // A large frame goes to the kernel now, behind what is queued, in one vectored write:
    // the payload is copied only if the socket does not take it whole.
    constexpr size_t kMaxBufs = 64;
    iovec iov[kMaxBufs];
    size_t before = 0;
    size_t count = gather_iov(out, iov, kMaxBufs - n, &before);
    if (before == out.bytes()) {  // the whole queue fits in the write
      for (uint32_t i = 0; i < n; ++i) iov[count + i] = iovec{const_cast<uint8_t *>(bufs[i].base), bufs[i].len};
      ssize_t rc = wsc::sock::send(fd, iov, count + n);
      if (rc > 0) {
        size_t w = static_cast<size_t>(rc);
        size_t from_queue = w < before ? w : before;
        out.consume(from_queue, &loop()->pool);
        written += w;
        taken = w - from_queue;
      }
    }
  }
  // What the kernel did not take is copied (and masked, for a client) into the queue, or
  // referenced when the caller lent the payload (WSC_SEND_BORROW).
  for (uint32_t i = 0; i < n; ++i) {
    size_t len = bufs[i].len, skip = taken < len ? taken : len;
    taken -= skip;
    bool ok = i == 1 && borrowing && mask_key == nullptr
                  ? out.append_borrowed(bufs[i].base + skip, len - skip)
                  : out.append_masked(bufs[i].base + skip, len - skip, i == 1 ? mask_key : nullptr, &loop()->pool);
    if (!ok) {
      end_error = WSC_ENOMEM;
      return WSC_ENOMEM;
    }
  }
  loop()->mark_dirty(this);  // the flush reports what was written
  return 0;
}

uint8_t *wsc_conn_s::reserve(size_t n) {
  // A large frame takes queue(): it may go to the kernel without a copy.
  if (n >= kDirectWriteBytes) return nullptr;
  wsc_loop_s *l = loop();
  if (l->cork_owner == this) {
    if (l->cork.room() >= n) return l->cork.tail();
    if (!uncork()) return nullptr;  // full: this frame and the next go to the queue
  } else if (l->cork_owner == nullptr && out.empty() && fd >= 0 && !tls()) {
    // Nothing queued, on a socket of ours without TLS (whose plaintext goes to the encryption
    // from the queue): the cork is free to take.
    if (l->cork.capacity() == 0 && !l->cork.reserve_extra(wsc_loop_s::kCorkBytes, wsc_loop_s::kCorkBytes))
      return out.reserve(n, &l->pool);
    l->cork_owner = this;
    return l->cork.tail();
  }
  return out.reserve(n, &l->pool);
}

void wsc_conn_s::commit(size_t n) {
  if (corked())
    loop()->cork.commit(n);
  else
    out.commit(n);
  loop()->mark_dirty(this);
}

void wsc_conn_s::queue_shared(wsc::SharedFrame *f) {
  if (!uncork()) return;  // out of memory: end_error says so
  out.append_shared(f);
  loop()->mark_dirty(this);
}

bool wsc_conn_s::uncork(size_t from) {
  if (!corked()) return true;
  wsc_loop_s *l = loop();
  bool ok = out.append(l->cork.data() + from, l->cork.size() - from, &l->pool);
  drop_cork();
  if (!ok) end_error = WSC_ENOMEM;
  return ok;
}

void wsc_conn_s::drop_cork() {
  if (!corked()) return;
  loop()->cork.clear();
  loop()->cork_owner = nullptr;
}

ssize_t wsc_conn_s::send_cork() {
  wsc_loop_s *l = loop();
  iovec iov{l->cork.data(), l->cork.size()};
  ssize_t rc = wsc::sock::send(fd, &iov, 1);
  if (rc == -EAGAIN) rc = 0;
  if (rc < 0) return rc;
  return uncork(static_cast<size_t>(rc)) ? rc : -ENOMEM;
}

void wsc_conn_s::wrote(size_t n) {
  out.consume(n, &loop()->pool);
  progress(n);
}

void wsc_conn_s::progress(uint64_t n) {
  written += n;
  complete_upto(written, 0);
  after_progress();
}

void wsc_conn_s::flush() {
  if (has_pending_in() && !paused) process_pending();  // resumed: deliver what waited
  if (hs() && !hs()->connect_reported) {  // a connect that finished inside the call that began it
    hs()->connect_reported = true;
    return client_on_connected(this, hs()->connect_status);
  }
  if (finishing || blocked || connecting || !has_io()) return;
  if (!completions.empty() && completions.front().end <= written) {  // written by queue()
    complete_upto(written, 0);
    after_progress();
    if (finishing || blocked) return;
  }
  if (wsc::TlsSession *t = tls()) return flush_tls(t);
  const bool from_cork = corked();  // the usual case: the frames were built in the loop's cork
  if (out.empty() && !from_cork) {
    after_flush();
    return;
  }
  if (wsc_transport_t *t = transport()) {  // the caller's transport takes everything, now (never corked)
    while (!out.empty() && !finishing) {
      wsc_buf_t bufs[64];
      size_t total = 0;
      size_t n = out.gather(bufs, 64, &total);
      int rc = t->write(this, bufs, static_cast<uint32_t>(n), t->transport_data);
      if (rc < 0) return fail(rc, std::string("transport write failed: ") + wsc_strerror(rc));
      wrote(total);
    }
    if (!finishing) after_flush();
    return;
  }
  // Everything queued in this loop pass goes out in one write, from the cork or the queue.
  ssize_t rc = from_cork ? send_cork() : send_front(fd, out);
  if (from_cork && rc == -ENOMEM) return fail(WSC_ENOMEM, "out of memory");
  if (rc < 0) return on_io_error(static_cast<int>(rc));
  if (rc > 0 && from_cork) progress(static_cast<size_t>(rc));  // the queue holds only what was left
  if (rc > 0 && !from_cork) wrote(static_cast<size_t>(rc));
  if (finishing || fd < 0) return;
  if (out.empty()) return after_flush();
  wait_writable();
}

void wsc_conn_s::wait_writable() {
  // The kernel's buffer is full: the rest waits in the queue until the socket is writable.
  blocked = true;
  if (int err = update_interest()) on_io_error(err);
}

void wsc_conn_s::flush_tls(wsc::TlsSession *t) {
  // Plaintext is encrypted while the ciphertext ahead of the socket stays under this bound, in
  // calls of a few full records each; a send completes once its records reached the kernel.
  constexpr size_t kCipherBacklog = 256 * 1024, kPlainChunk = 4 * 16384;
  for (;;) {
    while (!out.empty() && t->out.bytes() < kCipherBacklog) {
      wsc_buf_t b{nullptr, 0};
      size_t total = 0;
      out.gather(&b, 1, &total);
      long r = t->encrypt(b.base, b.len < kPlainChunk ? b.len : kPlainChunk);
      if (r < 0) return tls_failed(t);
      if (r == 0) break;  // the handshake is not done: the plaintext waits
      out.consume(static_cast<size_t>(r), &loop()->pool);
    }
    if (t->out.empty()) break;
    ssize_t rc = send_front(fd, t->out);
    if (rc < 0) return on_io_error(static_cast<int>(rc));
    if (rc > 0) progress(t->sent(static_cast<size_t>(rc)));
    if (finishing || fd < 0) return;
    if (!t->out.empty()) return wait_writable();
  }
  if (out.empty()) after_flush();
}

void wsc_conn_s::flush_if_dirty() {
  if (!dirty) return;
  dirty = false;
  flush();
}

void wsc_conn_s::after_flush() {
  // Everything is written: a closing connection sends FIN now (RFC 6455 §7.1.1: the server
  // closes the TCP connection first) and waits for the peer's.
  if (!shutdown_after_flush || shutdown_sent || finishing || !out.empty() || blocked) return;
  if (wsc::TlsSession *t = tls()) {  // TLS ends with close_notify (RFC 8446 §6.1), then FIN
    if (!t->out.empty()) return;
    if (!t->close_notify_sent() && t->handshake_done()) {
      t->close_notify();
      if (!t->out.empty()) return flush_tls(t);
    }
  }
  shutdown_sent = true;
  if (wsc_transport_t *t = transport()) {
    if (t->shutdown) t->shutdown(this, t->transport_data);
    return;
  }
  if (::shutdown(fd, SHUT_WR) != 0) finish();
}

void wsc_conn_s::complete_upto(uint64_t written_total, int status) {
  while (!completions.empty() && (status != 0 || completions.front().end <= written_total)) {
    Completion done = completions.front();
    completions.pop_front();
    if (done.cb) done.cb(this, status, done.user_data);
  }
}

// RFC 6455 §5.5.3: an endpoint with pongs still unsent may answer only the most recent ping.
// While the send queue is at the high-water mark (a peer that pings without reading), the
// latest ping is held and answered once the queue drains, so a ping flood cannot grow it.
void wsc_conn_s::auto_pong(const uint8_t *data, size_t len) {
  const uint64_t limit = cfg->high_water != 0 ? cfg->high_water : WSC_DEFAULT_HIGH_WATER_MARK;
  if (buffered() < limit && !(x && x->pong_held)) {
    tx.pong(data, len);
    return;
  }
  if (extra() == nullptr) return;  // out of memory: this ping goes unanswered, as §5.5.3 allows
  x->held_pong.assign(reinterpret_cast<const char *>(data), len);
  x->pong_held = true;
}

void wsc_conn_s::send_held_pong() {
  x->pong_held = false;
  tx.pong(reinterpret_cast<const uint8_t *>(x->held_pong.data()), x->held_pong.size());
  std::string().swap(x->held_pong);
}

void wsc_conn_s::after_progress() {
  if (x && x->pong_held && !finishing && state == WSC_OPEN && buffered() <= cfg->low_water) send_held_pong();
  if (!backpressure || finishing || buffered() > cfg->low_water) return;
  backpressure = false;
  wsc_conn_event_t ev{};
  ev.type = WSC_EV_DRAIN;
  emit(ev);
}

int wsc_conn_s::admit_send() {
  if (cfg->max_buffered == 0 || buffered() <= cfg->max_buffered) return 0;
  // A consumer this slow would make the queue grow without end: apply the policy.
  if (cfg->overflow_policy == WSC_OVERFLOW_CLOSE && !close_sent)
    begin_close(WSC_CLOSE_POLICY_VIOLATION, reinterpret_cast<const uint8_t *>("send queue is full"), 18, false);
  return WSC_EQUEUEFULL;
}

int wsc_conn_s::begin_close(uint32_t code, const uint8_t *reason, size_t len, bool fin_after_flush) {
  if (!close_sent) {
    int rc = tx.check_close(code, reason, len);
    if (rc != 0) return rc;
    // A held pong answers a ping that came before our close: it goes out first, or never.
    if (x && x->pong_held) send_held_pong();
    rc = tx.close(code, reason, len);
    if (rc != 0) return rc;
    close_sent = true;
  }
  state = WSC_CLOSING;
  if (fin_after_flush) shutdown_after_flush = true;
  loop()->mark_dirty(this);
  start_timer(cfg->close_timeout_ms, [](wsc_conn_s *c) { c->finish(); });
  return 0;
}

void wsc_conn_s::emit(wsc_conn_event_t &ev) {
  if (cb && !final_done) cb(this, &ev, user_data);
}

bool wsc_conn_s::pmd_start(const wsc::PmdAgreement &a, const std::string &response) {
  ConnExtra *e = extra();
  if (e == nullptr || !strings.set(PackedStrings::kExtensions, response)) return false;
  // Our compressor obeys the limits set for our side; our inflater takes any window.
  int level = cfg->pmd.level;
  int mem = cfg->pmd.mem_level ? static_cast<int>(cfg->pmd.mem_level) : 8;
  int bits = is_server() ? a.server_max_window_bits : a.client_max_window_bits;
  bool our_no_ctx = is_server() ? a.server_no_context_takeover : a.client_no_context_takeover;
  bool peer_no_ctx = is_server() ? a.client_no_context_takeover : a.server_no_context_takeover;
  if (our_no_ctx) {
    e->compressor = loop()->shared_deflater(level, mem, bits);
  } else {
    e->deflater.reset(new wsc::Deflater(level, mem, bits, false));
    e->compressor = e->deflater.get();
  }
  e->inflater.reset(new wsc::Inflater(peer_no_ctx));
  rx.set_filter(e->inflater.get());
  rx.set_allow_rsv1(true);
  return true;
}

void wsc_conn_s::liveness() {
  if (state != WSC_OPEN || finishing || !x) return;
  ConnExtra &e = *x;  // allocated by open() for a connection with liveness settings
  const uint64_t now = uv_now(loop()->uv);
  if (cfg->keepalive_ms != 0) {
    if (e.keepalive_ping_at != 0 && now >= e.keepalive_ping_at + cfg->keepalive_grace_ms) {
      e.keepalive_ping_at = 0;
      if (!(cfg->flags & WSC_CONN_KEEPALIVE_NO_DROP)) return fail(WSC_ETIMEDOUT, "Peer not responding");
      wsc_conn_event_t ev{};
      ev.type = WSC_EV_TIMEOUT;
      ev.code = 1;
      emit(ev);
      if (state != WSC_OPEN || finishing) return;
    } else if (e.keepalive_ping_at == 0 && now >= e.last_activity + cfg->keepalive_ms) {
      if (tx.ping(nullptr, 0) == 0) {
        e.keepalive_ping_at = now;
        e.ping_sent_ns = uv_hrtime();
      }
    }
  }
  if (cfg->idle_timeout_ms != 0 && !e.idle_notified && now >= e.last_activity + cfg->idle_timeout_ms) {
    e.idle_notified = true;
    wsc_conn_event_t ev{};
    ev.type = WSC_EV_TIMEOUT;
    emit(ev);
    if (state != WSC_OPEN || finishing) return;
  }
  // The next moment something may be due.
  uint64_t next = UINT64_MAX;
  if (cfg->keepalive_ms != 0)
    next = e.keepalive_ping_at ? e.keepalive_ping_at + cfg->keepalive_grace_ms : e.last_activity + cfg->keepalive_ms;
  if (cfg->idle_timeout_ms != 0 && !e.idle_notified) next = std::min(next, e.last_activity + cfg->idle_timeout_ms);
  if (next == UINT64_MAX) return;
  start_timer(next > now ? next - now : 1, [](wsc_conn_s *c) { c->liveness(); });
}

void wsc_conn_s::open(const std::string &rest) {
  stop_timer();
  if (x) x->hs.reset();
  if (x && x->idle(*cfg)) x.reset();  // an idle connection holds no more than it needs
  state = WSC_OPEN;
  if (cfg->tcp_keepalive_ms != 0 && !is_pipe && fd >= 0) wsc::sock::set_keepalive(fd, true, cfg->tcp_keepalive_ms / 1000);
  if (cfg->liveness()) {  // keepalive pings or an idle timeout: their state lives in x
    if (extra() == nullptr) return fail(WSC_ENOMEM, "out of memory");
    x->last_activity = uv_now(loop()->uv);
    liveness();
  }
  if (client()) client()->attempt = 0;
  wsc_conn_event_t ev{};
  ev.type = WSC_EV_OPEN;
  emit(ev);
  if (client() && !client()->offline.empty() && state == WSC_OPEN && !finishing) {
    client()->offline_bytes = 0;
    replay(client()->offline);
  }
  if (!rest.empty() && !finishing && state == WSC_OPEN) {
    std::string copy = rest;  // the receiver unmasks in place
    feed_frames(reinterpret_cast<uint8_t *>(&copy[0]), copy.size());
  }
}

void wsc_conn_s::on_frame_event(const wsc_parser_event_t &pe) {
  wsc_conn_event_t ev{};
  ev.opcode = pe.opcode;
  ev.flags = pe.flags;
  ev.data = pe.data;
  ev.len = pe.len;
  switch (pe.type) {
    case WSC_PARSER_MESSAGE:
    case WSC_PARSER_FRAGMENT: {
      if (pe.type == WSC_PARSER_MESSAGE || (pe.flags & WSC_FRAME_FIN)) ++messages_in;
      ev.type = pe.type == WSC_PARSER_MESSAGE ? WSC_EV_MESSAGE : WSC_EV_FRAGMENT;
      wsc_loop_s::Delivering outer = loop()->delivering;  // a nested loop run may deliver too
      loop()->delivering = {this, pe.data, pe.len};
      emit(ev);
      loop()->delivering = outer;
      break;
    }
    case WSC_PARSER_PING:
      if (!(cfg->flags & WSC_CONN_NO_AUTO_PONG) && state == WSC_OPEN) auto_pong(pe.data, pe.len);
      ev.type = WSC_EV_PING;
      emit(ev);
      break;
    case WSC_PARSER_PONG:
      if (x && x->ping_sent_ns != 0) {
        x->rtt_us = static_cast<int64_t>((uv_hrtime() - x->ping_sent_ns) / 1000);
        x->ping_sent_ns = 0;
      }
      ev.type = WSC_EV_PONG;
      emit(ev);
      break;
    case WSC_PARSER_CLOSE:
      // RFC 6455 §5.5.1: answer a close frame with one (echoing the code, and the reason as ws
      // does), unless already sent.
      close_received = true;
      peer_code = pe.close_code;
      if (pe.len > 0 && extra() != nullptr) x->peer_reason.assign(reinterpret_cast<const char *>(pe.data), pe.len);
      // The server closes the TCP connection first (RFC 6455 §7.1.1); a client waits for it.
      if (pe.close_code == WSC_CLOSE_NO_STATUS) begin_close(0, nullptr, 0, is_server());
      else begin_close(pe.close_code, pe.data, pe.len, is_server());
      break;
    case WSC_PARSER_ERROR: {
      // RFC 6455 §7.1.7: fail the connection: send a close frame with the code, then close.
      ev.type = WSC_EV_ERROR;
      ev.error = pe.error;
      ev.message = pe.message;
      ev.data = nullptr;
      ev.len = 0;
      emit(ev);
      if (finishing) break;
      begin_close(pe.close_code ? pe.close_code : uint32_t{WSC_CLOSE_INTERNAL_SERVER_ERROR}, nullptr, 0, true);
      break;
    }
  }
}

void wsc_conn_s::start_timer(uint64_t ms, void (*fn)(wsc_conn_s *)) {
  if (finishing) return;
  // Out of memory for the timer's state: what was to wait happens now (a close timeout ends
  // the connection early; the other timers' connections hold their state already).
  if (extra() == nullptr) return fn(this);
  loop()->timer_set(this, ms, fn);
}

void wsc_conn_s::stop_timer() { loop()->timer_cancel(this); }

void wsc_conn_s::fail(int err, const std::string &message) {
  if (finishing) return;
  end_error = err;
  wsc_conn_event_t ev{};
  ev.type = WSC_EV_ERROR;
  ev.error = err;
  ev.message = message.c_str();
  emit(ev);
  finish();
}

void wsc_conn_s::finish() {
  if (finishing) return;
  finishing = true;
  if (state != WSC_CLOSED) state = WSC_CLOSING;
  rx.pause();
  tx.stop();
  if (hs() && hs()->resolving) uv_cancel(reinterpret_cast<uv_req_t *>(&hs()->gai));
  loop()->timer_cancel(this);
  drop_cork();
  loop()->release_later(this);  // the final event comes on a later pass
  loop()->unwatch_close(this);
  if (wsc_transport_t *t = transport(); t != nullptr && !x->transport_closed) {
    x->transport_closed = true;
    if (t->close) t->close(this, t->transport_data);
  }
}

void wsc_conn_s::reset_for_reconnect() {
  state = WSC_CONNECTING;
  finishing = final_done = false;
  close_sent = close_received = shutdown_after_flush = shutdown_sent = was_clean = false;
  peer_code = WSC_CLOSE_NO_STATUS;
  end_error = 0;
  backpressure = paused = reading = blocked = connecting = false;
  out.clear(&loop()->pool);
  drop_cork();
  is_pipe = false;
  strings.clear();  // the attempt sets the URL again
  rx.~Receiver();
  new (&rx) wsc::Receiver(cfg->rx, this);
  tx.~Sender();
  new (&tx) wsc::Sender(WSC_ROLE_CLIENT, (cfg->flags & WSC_CONN_FRAGMENT) != 0, cfg->fragment_threshold,
                        &kSenderOutput, this);
  x->reset_session();  // a client always has x (it holds the ClientConfig)
  open_handles = 1;
}

void wsc_conn_s::replay(wsc::Fifo<StoredSend> &queue) {
  // Taken whole: a send that must wait again (a new compression) is stored anew, in order.
  wsc::Fifo<StoredSend> batch;
  batch.swap(queue);
  for (size_t i = 0; i < batch.size(); ++i) {
    StoredSend &m = batch[i];
    if (finishing) {  // the connection ended on the way: what is left fails, as at the end
      if (!m.is_close && m.cb) m.cb(this, WSC_ECLOSED, m.user_data);
      continue;
    }
    int rc = m.is_close ? wsc_conn_close(this, m.code, m.data.data(), m.data.size())
                        : wsc_conn_send(this, m.opcode, m.data.data(), m.data.size(), m.flags, m.cb, m.user_data);
    if (rc < 0 && !m.is_close && m.cb) m.cb(this, rc, m.user_data);
  }
}

void wsc_conn_s::fail_stored(wsc::Fifo<StoredSend> &queue, int err) {
  wsc::Fifo<StoredSend> batch;
  batch.swap(queue);
  for (size_t i = 0; i < batch.size(); ++i) {
    StoredSend &m = batch[i];
    if (m.cb) m.cb(this, err, m.user_data);
  }
}

void wsc_conn_s::final_event() {
  if (hs() && hs()->resolving) return;  // the resolver's callback finishes the job
  complete_upto(UINT64_MAX, end_error ? end_error : WSC_ECLOSED);
  if (x) fail_stored(x->deferred, WSC_ECLOSED);  // sends that waited behind a compression get their error too
  if (client() && client_reconnect(this)) return;  // the same connection tries again
  state = WSC_CLOSED;
  if (client()) fail_stored(client()->offline, WSC_ECLOSED);
  if (hs() && hs()->deferred_request != nullptr) server_request_gone(this);
  if (server()) server()->conn_gone(this);
  wsc_conn_event_t ev{};
  ev.type = WSC_EV_CLOSE;
  ev.code = close_received ? peer_code : wsc::abnormal_close_code(end_error);
  ev.was_clean = was_clean ? 1 : 0;
  const std::string *reason = x ? &x->peer_reason : nullptr;
  ev.data = reason ? reinterpret_cast<const uint8_t *>(reason->data()) : nullptr;
  ev.len = close_received && reason ? reason->size() : 0;
  if (announced || !is_server()) emit(ev);
  final_done = true;
  wsc_server_s *srv = server();
  delete this;
  if (srv) srv->maybe_final();
}

// ---- C API ----------------------------------------------------------------------------------

int wsc_conn_options_init(wsc_conn_options_t *opts, size_t size) {
  static const wsc_conn_options_t defaults = WSC_CONN_OPTIONS_INIT;
  return wsc::options_init(opts, size, defaults);
}

void wsc_conn_set_callback(wsc_conn_t *conn, wsc_conn_cb cb, void *user_data) {
  if (conn == nullptr) return;
  conn->cb = cb;
  conn->user_data = user_data;
}

// The end of every send whose frames were queued: the count, the completion, and backpressure.
static int sent(wsc_conn_t *conn, bool message, wsc_send_cb cb, void *user_data) {
  if (conn->end_error == WSC_ENOMEM) return WSC_ENOMEM;
  if (message) ++conn->messages_out;
  if (cb != nullptr && !conn->completions.emplace_back(Completion{conn->queued(), cb, user_data})) return WSC_ENOMEM;
  if (conn->cfg->high_water != 0 && conn->buffered() >= conn->cfg->high_water) {
    conn->backpressure = true;
    return WSC_SEND_BACKPRESSURE;
  }
  return 0;
}

// Every send: state and flow control, the frames, the completion, and backpressure.
template <typename Produce>
static int conn_send(wsc_conn_t *conn, bool message, wsc_send_cb cb, void *user_data, Produce produce) {
  if (conn == nullptr) return WSC_EINVAL;
  if (conn->state != WSC_OPEN || conn->finishing || (conn->client() && !conn->client()->offline.empty())) return WSC_ESTATE;
  int rc = conn->admit_send();
  if (rc == 0) rc = produce();
  if (rc != 0) return rc;
  return sent(conn, message, cb, user_data);
}

namespace {

// Compressing a message this large would stall every connection of the loop (a 16 MiB one
// takes ~130 ms at zlib's default level): it is done on the thread pool instead.
constexpr size_t kOffloadBytes = 1u << 20;

struct CompressJob {
  uv_work_t req;
  wsc_loop_s *loop;
  uint64_t conn_id;
  uint32_t opcode;
  std::string data;
  wsc_send_cb cb;
  void *user_data;
  std::unique_ptr<wsc::Deflater> own;  // the connection's compressor, lent to the job
  std::unique_ptr<wsc::Deflater> temp;  // or a fresh one, for the shared compressor's settings
  wsc::ByteBuffer out;
  int rc = 0;
};

void compress_done(uv_work_t *req, int status) {
  std::unique_ptr<CompressJob> job(static_cast<CompressJob *>(req->data));
  --job->loop->jobs;
  wsc_conn_s *c = job->loop->conns.find(job->conn_id);
  if (c == nullptr || c->finishing) {  // the connection ended meanwhile
    if (job->cb) job->cb(c, WSC_ECLOSED, job->user_data);
    return;
  }
  ConnExtra &e = *c->x;  // it holds the compressor that started the job
  if (job->own) {
    e.deflater = std::move(job->own);
    e.compressor = e.deflater.get();
  }
  e.offloading = false;
  int rc = status != 0 ? WSC_EIO : job->rc;
  if (rc == 0) {
    rc = wsc_conn_send_compressed(c, job->opcode, job->out.data(), job->out.size(), job->cb, job->user_data);
  }
  if (rc < 0 && job->cb) job->cb(c, rc, job->user_data);
  c->replay(e.deferred);
}

}  // namespace

int wsc_conn_send(wsc_conn_t *conn, uint32_t opcode, const void *data, size_t len, uint32_t flags, wsc_send_cb cb,
                  void *user_data) {
  if (conn != nullptr && flags == 0 && len < kDirectWriteBytes - WSC_FRAME_MAX_HEADER && (data != nullptr || len == 0) &&
      (opcode == WSC_OP_TEXT || opcode == WSC_OP_BINARY) && conn->state == WSC_OPEN && !conn->finishing &&
      conn->tx.one_frame(len) && conn->plain_sends()) {
    // The usual send: a small whole message, uncompressed, as one frame built in place (in the
    // loop's cork, mostly) without the sender's general path.
    int rc = conn->admit_send();
    if (rc != 0) return rc;
    uint8_t key[4];
    if (conn->tx.masks() && (rc = conn->loop()->mask_keys.next(key)) != 0) return rc;
    uint8_t *dst = conn->reserve(WSC_FRAME_MAX_HEADER + len);
    if (dst == nullptr) return WSC_ENOMEM;
    conn->commit(wsc::build_frame(dst, WSC_FRAME_FIN, opcode, static_cast<const uint8_t *>(data), len,
                                  conn->tx.masks() ? key : nullptr));
    return sent(conn, true, cb, user_data);
  }
  constexpr uint32_t kFlags = WSC_SEND_MORE | WSC_SEND_NO_COMPRESS | WSC_SEND_BORROW;
  if ((flags & ~kFlags) || ((flags & WSC_SEND_BORROW) && cb == nullptr)) return WSC_EINVAL;
  const uint32_t stored_flags = flags & ~WSC_SEND_BORROW;  // a stored send owns a copy
  ConnExtra *e = conn ? conn->x.get() : nullptr;  // with a compressor, if negotiated
  if (e && e->offloading && conn->state == WSC_OPEN && !conn->finishing) {
    // A large message ahead is being compressed: keep the order.
    if (data == nullptr && len > 0) return WSC_EINVAL;
    if (!e->deferred.emplace_back(StoredSend::make(false, opcode, stored_flags, 0, data, len, cb, user_data)))
      return WSC_ENOMEM;
    return 0;
  }
  if (e && conn->state == WSC_OPEN && !conn->finishing && !conn->tx.in_message() && !(flags & WSC_SEND_MORE) &&
      len >= kOffloadBytes && e->compressor && e->compressor->usable() && !(flags & WSC_SEND_NO_COMPRESS) &&
      len >= conn->cfg->pmd.threshold && (opcode == WSC_OP_TEXT || opcode == WSC_OP_BINARY) && data != nullptr &&
      conn->admit_send() == 0) {
    auto *job = new (std::nothrow) CompressJob();
    if (job == nullptr) return WSC_ENOMEM;
    job->req.data = job;
    job->loop = conn->loop();
    job->conn_id = conn->id;
    job->opcode = opcode;
    job->data.assign(static_cast<const char *>(data), len);
    job->cb = cb;
    job->user_data = user_data;
    if (e->compressor->shared()) {
      int mem = conn->cfg->pmd.mem_level ? static_cast<int>(conn->cfg->pmd.mem_level) : 8;
      job->temp.reset(new wsc::Deflater(conn->cfg->pmd.level, mem, e->compressor->window_bits(), true));
    } else {
      job->own = std::move(e->deflater);
      e->compressor = nullptr;
    }
    e->offloading = true;
    ++conn->loop()->jobs;
    uv_queue_work(conn->loop()->uv, &job->req,
                  [](uv_work_t *req) {
                    auto *j = static_cast<CompressJob *>(req->data);
                    wsc::Deflater *d = j->own ? j->own.get() : j->temp.get();
                    j->rc = d->compress(reinterpret_cast<const uint8_t *>(j->data.data()), j->data.size(), true, j->out);
                  },
                  compress_done);
    return 0;
  }
  ClientConfig *cl = conn ? conn->client() : nullptr;
  if (cl && cl->offline_queue_bytes != 0 && !cl->user_closed &&
      (conn->state == WSC_CONNECTING || !cl->offline.empty())) {
    // Not connected (yet, or again): the message waits for the next OPEN, within its bound.
    if ((data == nullptr && len > 0) || (opcode != WSC_OP_TEXT && opcode != WSC_OP_BINARY)) return WSC_EINVAL;
    if (cl->offline_bytes + len > cl->offline_queue_bytes) return WSC_EQUEUEFULL;
    if (!cl->offline.emplace_back(StoredSend::make(false, opcode, stored_flags, 0, data, len, cb, user_data)))
      return WSC_ENOMEM;
    cl->offline_bytes += len;
    return 0;
  }
  return conn_send(conn, (flags & WSC_SEND_MORE) == 0, cb, user_data, [&] {
    const uint32_t more = flags & WSC_SEND_MORE;
    const auto *p = static_cast<const uint8_t *>(data);
    auto plain = [&] {  // the caller's bytes as they are: lent to the queue if they may be
      conn->borrowing = (flags & WSC_SEND_BORROW) != 0;
      int rc = conn->tx.send(opcode, p, len, more);
      conn->borrowing = false;
      return rc;
    };
    // RFC 7692: compress when negotiated and usable, the message is big enough (its first
    // fragment decides for a stream) and the caller did not say no. A streamed message does not
    // use the loop's shared compressor: another connection's message could come in between.
    if (e == nullptr) return plain();
    if (!conn->tx.in_message())
      e->compressing = e->compressor && e->compressor->usable() && !(flags & WSC_SEND_NO_COMPRESS) &&
                       len >= conn->cfg->pmd.threshold && !(more && e->compressor->shared());
    if (!e->compressing) return plain();
    wsc::ByteBuffer &z = conn->loop()->deflate_out;
    z.clear();
    int rc = e->compressor->compress(p, len, more == 0, z);
    if (rc == 0) rc = conn->tx.send(opcode, z.data(), z.size(), more | WSC_SEND_COMPRESSED);
    z.clear_and_trim(1 << 20);
    return rc;
  });
}

int wsc_conn_send_compressed(wsc_conn_t *conn, uint32_t opcode, const uint8_t *z, size_t zlen, wsc_send_cb cb,
                             void *user_data) {
  return conn_send(conn, true, cb, user_data, [&] { return conn->tx.send(opcode, z, zlen, WSC_SEND_COMPRESSED); });
}

int wsc_conn_ping(wsc_conn_t *conn, const void *data, size_t len, wsc_send_cb cb, void *user_data) {
  return conn_send(conn, false, cb, user_data, [&] {
    int rc = conn->tx.ping(static_cast<const uint8_t *>(data), len);
    if (rc == 0 && conn->extra() != nullptr) conn->x->ping_sent_ns = uv_hrtime();  // for the RTT
    return rc;
  });
}

int wsc_conn_pong(wsc_conn_t *conn, const void *data, size_t len, wsc_send_cb cb, void *user_data) {
  return conn_send(conn, false, cb, user_data, [&] { return conn->tx.pong(static_cast<const uint8_t *>(data), len); });
}

namespace {

struct ThreadSend {
  uint64_t id = 0;  // set by the loop's table
  uint32_t opcode;
  std::string data;
  wsc_send_cb cb;
  void *user_data;
};

}  // namespace

int wsc_conn_send_threadsafe(wsc_loop_t *loop, uint64_t conn_id, uint32_t opcode, const void *data, size_t len,
                             wsc_send_cb cb, void *user_data) {
  if (loop == nullptr || (data == nullptr && len > 0)) return WSC_EINVAL;
  if (opcode != WSC_OP_TEXT && opcode != WSC_OP_BINARY) return WSC_EINVAL;
  auto *job = new (std::nothrow) ThreadSend{conn_id, opcode, std::string(), cb, user_data};
  if (job == nullptr) return WSC_ENOMEM;
  if (len) job->data.assign(static_cast<const char *>(data), len);
  int rc = wsc_loop_post(
      loop,
      [](wsc_loop_t *l, void *ud) {
        std::unique_ptr<ThreadSend> j(static_cast<ThreadSend *>(ud));
        wsc_conn_s *c = l->conns.find(j->id);
        if (c == nullptr) {
          if (j->cb) j->cb(nullptr, WSC_ENOTFOUND, j->user_data);
          return;
        }
        int r = wsc_conn_send(c, j->opcode, j->data.data(), j->data.size(), 0, j->cb, j->user_data);
        if (r < 0 && j->cb) j->cb(c, r, j->user_data);  // queued (0 or backpressure): cb comes later
      },
      job);
  if (rc != 0) delete job;
  return rc;
}

int wsc_conn_close(wsc_conn_t *conn, uint32_t code, const void *reason, size_t reason_len) {
  if (conn == nullptr) return WSC_EINVAL;
  if (conn->client()) conn->client()->user_closed = true;  // also from inside RECONNECTING: no further attempt
  if (conn->finishing || conn->state == WSC_CLOSED) return WSC_ESTATE;
  if (conn->state == WSC_CONNECTING) {
    conn->fail(WSC_ECLOSED, "WebSocket was closed before the connection was established");
    return 0;
  }
  if (conn->close_sent) return WSC_ESTATE;
  if (conn->x && conn->x->offloading) {  // the close goes after the message being compressed
    int rc = conn->tx.check_close(code, static_cast<const uint8_t *>(reason), reason_len);
    if (rc != 0) return rc;
    if (!conn->x->deferred.emplace_back(StoredSend::make(true, 0, 0, code, reason, reason_len, nullptr, nullptr))) return WSC_ENOMEM;
    return 0;
  }
  return conn->begin_close(code, static_cast<const uint8_t *>(reason), reason_len, false);
}

void wsc_conn_terminate(wsc_conn_t *conn) {
  if (conn == nullptr) return;
  if (conn->client()) conn->client()->user_closed = true;
  conn->finish();
}

uint64_t wsc_conn_buffered_amount(const wsc_conn_t *conn) { return conn ? conn->buffered() : 0; }

void wsc_conn_pause(wsc_conn_t *conn) {
  if (conn == nullptr || conn->paused || conn->finishing) return;
  conn->paused = true;
  conn->rx.pause();
  conn->update_interest();
}

void wsc_conn_resume(wsc_conn_t *conn) {
  if (conn == nullptr || !conn->paused || conn->finishing) return;
  conn->paused = false;
  conn->rx.resume();
  if (conn->has_pending_in()) conn->loop()->mark_dirty(conn);  // delivered on the next pass
  conn->update_interest();
}

int wsc_conn_is_paused(const wsc_conn_t *conn) { return conn && conn->paused ? 1 : 0; }

int wsc_conn_take_message(void **out, wsc_conn_t *conn) {
  if (out == nullptr) return WSC_EINVAL;
  *out = nullptr;
  if (conn == nullptr) return WSC_EINVAL;
  wsc_loop_s::Delivering &d = conn->loop()->delivering;
  if (d.conn != conn) return WSC_ESTATE;
  if (d.len == 0) return 0;
  uint8_t *p = conn->rx.take_message(d.data, d.len);
  if (p == nullptr) {  // delivered from the read buffer, or held otherwise: a copy
    p = static_cast<uint8_t *>(std::malloc(d.len));
    if (p == nullptr) return WSC_ENOMEM;
    std::memcpy(p, d.data, d.len);
  }
  d.data = p;  // a second take gets a copy of the same bytes
  *out = p;
  return 0;
}

void wsc_free(void *p) { std::free(p); }

int64_t wsc_conn_rtt_us(const wsc_conn_t *conn) { return conn && conn->x ? conn->x->rtt_us : -1; }

size_t wsc_conn_memory_usage(const wsc_conn_t *conn) {
  if (conn == nullptr) return 0;
  size_t n = sizeof(wsc_conn_s) + conn->rx.heap_bytes() + conn->out.bytes();
  if (const ConnExtra *e = conn->x.get()) {
    n += sizeof(ConnExtra) + e->pending_in.capacity();
    if (e->deflater) n += sizeof(wsc::Deflater) + e->deflater->memory();
    if (e->inflater) n += sizeof(wsc::Inflater) + e->inflater->memory();
  }
  if (conn->hs()) n += sizeof(Handshake);
  if (conn->client()) n += sizeof(ClientConfig);
  return n;
}

int wsc_conn_feed(wsc_conn_t *conn, const void *data, size_t len) {
  if (conn == nullptr || !conn->transport() || (data == nullptr && len > 0)) return WSC_EINVAL;
  if (conn->finishing) return WSC_ESTATE;
  if (len == 0) return 0;
  // The receiver unmasks in place: parse a copy (in the loop's read buffer when it fits).
  wsc_loop_s *loop = conn->loop();
  if (len <= wsc::kReadBufferSize && !loop->read_busy) {
    loop->read_busy = true;
    std::memcpy(loop->read_buf.get(), data, len);
    conn->on_data(loop->read_buf.get(), len);
    loop->read_busy = false;
  } else {
    std::unique_ptr<uint8_t[]> copy(new (std::nothrow) uint8_t[len]);
    if (!copy) return WSC_ENOMEM;
    std::memcpy(copy.get(), data, len);
    conn->on_data(copy.get(), len);
  }
  return 0;
}

int wsc_conn_feed_eof(wsc_conn_t *conn) {
  if (conn == nullptr || !conn->transport()) return WSC_EINVAL;
  if (conn->finishing) return WSC_ESTATE;
  conn->on_eof();
  return 0;
}

// Shared by the server's and the client's transport constructors.
bool conn_set_transport(wsc_conn_s *c, const wsc_transport_t *t) {
  wsc_transport_t copy{};
  if (t == nullptr || t->size < sizeof(wsc_transport_t) || t->write == nullptr) return false;
  std::memcpy(&copy, t, sizeof copy);
  ConnExtra *e = c->extra();
  if (e == nullptr) return false;
  e->transport.reset(new (std::nothrow) wsc_transport_t(copy));
  return e->transport != nullptr;
}

uint32_t wsc_conn_ready_state(const wsc_conn_t *conn) { return conn ? conn->state : uint32_t{WSC_CLOSED}; }
uint64_t wsc_conn_id(const wsc_conn_t *conn) { return conn ? conn->id : 0; }
int wsc_conn_is_server(const wsc_conn_t *conn) { return conn && conn->is_server() ? 1 : 0; }
const char *wsc_conn_protocol(const wsc_conn_t *conn) { return conn ? conn->strings.get(PackedStrings::kProtocol) : ""; }
const char *wsc_conn_extensions(const wsc_conn_t *conn) {
  return conn ? conn->strings.get(PackedStrings::kExtensions) : "";
}
const char *wsc_conn_url(const wsc_conn_t *conn) { return conn ? conn->strings.get(PackedStrings::kUrl) : ""; }

static int conn_address(const wsc_conn_t *conn, wsc_addr_t *out, bool remote) {
  if (conn == nullptr || out == nullptr) return WSC_EINVAL;
  *out = wsc_addr_t{};
  if (conn->fd < 0 || conn->finishing) return WSC_ESTATE;
  return wsc::from_uv(wsc::sock::name(conn->fd, remote, conn->is_pipe, out));
}

int wsc_conn_remote_address(const wsc_conn_t *conn, wsc_addr_t *out) { return conn_address(conn, out, true); }
int wsc_conn_local_address(const wsc_conn_t *conn, wsc_addr_t *out) { return conn_address(conn, out, false); }

int wsc_conn_stats(const wsc_conn_t *conn, wsc_conn_stats_t *out) {
  if (conn == nullptr || out == nullptr || out->size < sizeof(wsc_conn_stats_t)) return WSC_EINVAL;
  wsc_conn_stats_t st{};
  st.size = sizeof st;
  st.bytes_in = conn->bytes_in;
  st.bytes_out = conn->written;
  st.messages_in = conn->messages_in;
  st.messages_out = conn->messages_out;
  *out = st;
  return 0;
}

void wsc_conn_set_user_data(wsc_conn_t *conn, void *user_data) {
  if (conn) conn->user_data = user_data;
}
void *wsc_conn_user_data(const wsc_conn_t *conn) { return conn ? conn->user_data : nullptr; }

int wsc_conn_set_nodelay(wsc_conn_t *conn, int enable) {
  if (conn == nullptr) return WSC_EINVAL;
  if (conn->fd < 0 || conn->is_pipe) return WSC_ESTATE;
  return wsc::from_uv(wsc::sock::set_nodelay(conn->fd, enable != 0));
}

wsc_loop_t *wsc_conn_loop(const wsc_conn_t *conn) { return conn ? conn->loop() : nullptr; }

int wsc_conn_tls_info(const wsc_conn_t *conn, wsc_tls_info_t *out) {
  if (conn == nullptr || out == nullptr || out->size < sizeof(wsc_tls_info_t) || conn->tls() == nullptr)
    return WSC_EINVAL;
  conn->tls()->info(out);
  return 0;
}

// The wsc loop (wsc/loop.h): a libuv loop, owned or wrapped, with a thread-safe post queue and
// one flush of every connection's queued frames per loop pass.
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <utility>
#include <new>

#include "net.h"
#include "wsc/error.h"

namespace wsc {

int from_uv(int e) {
  switch (e) {
    case 0: return 0;
    case UV_ECONNREFUSED: return WSC_ECONNREFUSED;
    case UV_ECONNRESET:
    case UV_EPIPE:
    case UV_ECONNABORTED: return WSC_ECONNRESET;
    case UV_ETIMEDOUT: return WSC_ETIMEDOUT;
    case UV_EADDRINUSE: return WSC_EADDRINUSE;
    case UV_ENOMEM: return WSC_ENOMEM;
    case UV_EINVAL: return WSC_EINVAL;
    case UV_EAI_NONAME:
    case UV_EAI_AGAIN:
    case UV_EAI_FAIL:
    case UV_EAI_NODATA: return WSC_ENAME;
    case UV_ECANCELED: return WSC_ECLOSED;
    default: return WSC_EIO;
  }
}

void addr_from_sockaddr(const struct sockaddr *sa, wsc_addr_t *out) {
  *out = wsc_addr_t{};
  if (sa->sa_family == AF_INET) {
    auto *in = reinterpret_cast<const sockaddr_in *>(sa);
    // Dotted decimal by hand: inet_ntop's formatting costs 5% of an upgrade.
    const auto *b = reinterpret_cast<const uint8_t *>(&in->sin_addr);
    char *p = out->address;
    for (int i = 0; i < 4; ++i) {
      unsigned v = b[i];
      if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
      if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
      *p++ = static_cast<char>('0' + v % 10);
      *p++ = i < 3 ? '.' : '\0';
    }
    out->family = 4;
    out->port = ntohs(in->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    auto *in6 = reinterpret_cast<const sockaddr_in6 *>(sa);
    uv_ip6_name(in6, out->address, sizeof out->address);
    out->family = 6;
    out->port = ntohs(in6->sin6_port);
  }
}

}  // namespace wsc

void wsc_loop_s::schedule_flush() {
  if (uv_is_active(reinterpret_cast<uv_handle_t *>(&check))) return;
  uv_check_start(&check, [](uv_check_t *h) { static_cast<wsc_loop_s *>(h->data)->flush_dirty(); });
  uv_prepare_start(&prepare, [](uv_prepare_t *h) { static_cast<wsc_loop_s *>(h->data)->flush_dirty(); });
}

void wsc_loop_s::mark_dirty(wsc_conn_s *c) {
  if (c->dirty) return;
  c->dirty = true;
  dirty.push_back(c->id);
  schedule_flush();
}

wsc::Deflater *wsc_loop_s::shared_deflater(int level, int mem_level, int window_bits) {
  uint32_t key = (static_cast<uint32_t>(level + 1) << 16) | (static_cast<uint32_t>(mem_level) << 8) |
                 static_cast<uint32_t>(window_bits);
  for (auto &d : shared_deflaters)
    if (d.first == key) return d.second.get();
  shared_deflaters.emplace_back(key, std::make_unique<wsc::Deflater>(level, mem_level, window_bits, true, true));
  return shared_deflaters.back().second.get();
}

void wsc_loop_s::flush_dirty() {
  // Frames queued by completions that run during the flush are written in the same pass.
  std::vector<uint64_t> batch;
  while (!dirty.empty() || !releases.empty()) {
    batch.swap(dirty);
    for (uint64_t id : batch) {
      if (wsc_conn_s *c = conns.find(id)) c->flush_if_dirty();  // not if flushed after its read
    }
    batch.clear();
    batch.swap(releases);
    for (uint64_t id : batch) {
      wsc_conn_s *c = conns.find(id);
      if (c != nullptr && --c->open_handles == 0) c->final_event();
    }
    batch.clear();
  }
  uv_check_stop(&check);
  uv_prepare_stop(&prepare);
}

wsc_loop_s::wsc_loop_s() : conn_slab(sizeof(wsc_conn_s)) {}

std::shared_ptr<wsc::TlsContext> wsc_loop_s::client_tls_context(const wsc_tls_options_t &o, int *err,
                                                                 std::string *why) {
  std::string key = wsc::TlsContext::client_key(o);
  for (auto &e : tls_contexts)
    if (e.first == key) return e.second;
  auto ctx = wsc::TlsContext::create(o, false, err, why);
  if (!ctx) return ctx;
  constexpr size_t kKept = 8;
  if (tls_contexts.size() == kKept) tls_contexts.erase(tls_contexts.begin());
  tls_contexts.emplace_back(std::move(key), ctx);
  return ctx;
}

wsc_loop_s::~wsc_loop_s() {
  if (epfd >= 0) ::close(epfd);
}

// ---- the loop's sockets: one epoll set, watched by libuv as one descriptor --------------------

void wsc_loop_s::adopt_socket(wsc::Watched *w, int fd) {
  w->fd = fd;
  w->interest = 0;
  // The set's watcher keeps the loop alive exactly while a socket is open (as a libuv handle
  // each would).
  if (sockets++ == 0 && nested) uv_ref(reinterpret_cast<uv_handle_t *>(&epoll_watch));
}

int wsc_loop_s::watch(wsc::Watched *w, uint32_t events) {
  if (w->fd < 0 || w->interest == events) return 0;
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = w;
  // An idle or paused socket leaves the set: the kernel reports nothing for it (not even the
  // hang-ups that epoll always reports), until it is watched again.
  int op = w->interest == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
  if (epoll_ctl(epfd, op, w->fd, &ev) != 0) return -errno;
  w->interest = events;
  return 0;
}

void wsc_loop_s::unwatch_close(wsc::Watched *w) {
  if (w->fd < 0) return;
  watch(w, 0);
  ::close(w->fd);
  w->fd = -1;
  if (--sockets == 0 && nested) uv_unref(reinterpret_cast<uv_handle_t *>(&epoll_watch));
}

void wsc_loop_s::on_epoll() {
  epoll_event evs[256];
  dispatch(evs, epoll_wait(epfd, evs, 256, 0));
}

bool wsc_loop_s::dispatch(const epoll_event *evs, int n) {
  // Nothing a handler does frees a socket's object before this returns: connections and
  // servers are freed from a later callback (release_later, a timer's close). A socket closed
  // by an earlier handler of the batch has fd -1 and is skipped.
  bool libuv_ready = false;
  ready = n;
  if (n == 1 && evs[0].data.ptr == solo) {
    if (solo_streak < UINT32_MAX) ++solo_streak;
  } else {
    solo = n == 1 ? evs[0].data.ptr : nullptr;
    solo_streak = n == 1 ? 1 : 0;
  }
  for (int i = 0; i < n; ++i) {
    auto *w = static_cast<wsc::Watched *>(evs[i].data.ptr);
    if (w->fd < 0) continue;
    if (w->kind == wsc::Watched::kConn)
      static_cast<wsc_conn_s *>(w)->on_io(evs[i].events);
    else if (w->kind == wsc::Watched::kListener)
      server_on_accept(static_cast<wsc_server_s *>(w));
    else
      libuv_ready = true;
  }
  return libuv_ready;
}

bool wsc_loop_s::alive() const {
  return uv_loop_alive(uv) || sockets > 0 || !dirty.empty() || !releases.empty();
}

int wsc_loop_s::wait_timeout() const {
  if (!dirty.empty() || !releases.empty()) return 0;
  if (owned && !uv_loop_alive(uv)) return -1;  // only sockets: no deadline
  return uv_backend_timeout(uv);
}

int wsc_loop_s::drive(uint32_t mode) {
  // One pass: libuv's phases when it has something to do (its backend was readable, or a timer
  // is due, or handles are closing), then the flush of what was queued, then one wait on the
  // set. ONCE and NOWAIT end after their first wait, as uv_run does.
  bool libuv_ready = true, polled = false;
  epoll_event evs[256];
  for (;;) {
    uv_update_time(uv);
    if (libuv_ready || (uv_loop_alive(uv) && uv_backend_timeout(uv) == 0)) {
      libuv_ready = false;
      // uv_run does nothing on a loop without a referenced active handle, yet an unreferenced
      // one (a post's async, a caller's poll) may be what woke us: the flush's prepare and
      // check handles, started for this pass, make it poll.
      schedule_flush();
      uv_run(uv, UV_RUN_NOWAIT);
    }
    flush_dirty();
    if (stop_requested) {
      stop_requested = false;
      break;
    }
    if (!alive() || (polled && mode != WSC_RUN_DEFAULT)) break;
    int n = epoll_wait(epfd, evs, 256, mode == WSC_RUN_NOWAIT ? 0 : wait_timeout());
    polled = true;
    if (n > 0 && dispatch(evs, n)) libuv_ready = true;
  }
  return alive() ? 1 : 0;
}

void wsc_loop_s::release_later(wsc_conn_s *c) {
  releases.push_back(c->id);
  schedule_flush();
}

// ---- the connections' timeouts: a binary min-heap on timer_due ------------------------------

void wsc_loop_s::heap_swap(size_t a, size_t b) {
  std::swap(timers[a], timers[b]);
  timers[a]->x->timer_slot = static_cast<uint32_t>(a);
  timers[b]->x->timer_slot = static_cast<uint32_t>(b);
}

void wsc_loop_s::heap_up(size_t i) {
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (timers[parent]->x->timer_due <= timers[i]->x->timer_due) break;
    heap_swap(i, parent);
    i = parent;
  }
}

void wsc_loop_s::heap_down(size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < timers.size() && timers[l]->x->timer_due < timers[m]->x->timer_due) m = l;
    if (r < timers.size() && timers[r]->x->timer_due < timers[m]->x->timer_due) m = r;
    if (m == i) return;
    heap_swap(i, m);
    i = m;
  }
}

void wsc_loop_s::timer_rearm() {
  if (timers.empty()) {
    uv_timer_stop(&timer);
    return;
  }
  uint64_t now = uv_now(uv), due = timers[0]->x->timer_due;
  uv_timer_start(&timer, [](uv_timer_t *t) { static_cast<wsc_loop_s *>(t->data)->timer_expired(); },
                 due > now ? due - now : 0, 0);
}

bool wsc_loop_s::heap_remove(wsc_conn_s *c) {
  if (!c->x || c->x->timer_slot == UINT32_MAX) return false;
  size_t i = c->x->timer_slot;
  c->x->timer_slot = UINT32_MAX;
  if (i + 1 != timers.size()) {
    timers[i] = timers.back();
    timers[i]->x->timer_slot = static_cast<uint32_t>(i);
    timers.pop_back();
    heap_down(i);
    heap_up(i);
  } else {
    timers.pop_back();
  }
  return i == 0;
}

void wsc_loop_s::timer_cancel(wsc_conn_s *c) {
  if (heap_remove(c)) timer_rearm();
}

void wsc_loop_s::timer_set(wsc_conn_s *c, uint64_t ms, void (*fn)(wsc_conn_s *)) {
  bool was_first = heap_remove(c);
  if (ms != 0) {
    c->x->timer_due = uv_now(uv) + ms;
    c->x->timer_fn = fn;
    c->x->timer_slot = static_cast<uint32_t>(timers.size());
    timers.push_back(c);
    heap_up(timers.size() - 1);
  }
  if (was_first || c->x->timer_slot == 0) timer_rearm();  // the earliest deadline changed
}

void wsc_loop_s::timer_expired() {
  uint64_t now = uv_now(uv);
  while (!timers.empty() && timers[0]->x->timer_due <= now) {
    wsc_conn_s *c = timers[0];
    heap_remove(c);
    c->x->timer_fn(c);  // may set timers, or end connections
  }
  timer_rearm();
}

namespace {

void on_loop_handle_closed(uv_handle_t *h) {
  auto *loop = static_cast<wsc_loop_s *>(h->data);
  if (--loop->open_handles > 0) return;
  if (!loop->owned) delete loop;  // a wrapped loop is freed once its handles are closed
}

void on_async(uv_async_t *h) {
  auto *loop = static_cast<wsc_loop_s *>(h->data);
  std::vector<std::pair<wsc_loop_post_cb, void *>> batch;
  {
    std::lock_guard<std::mutex> lock(loop->mu);
    batch.swap(loop->posts);
  }
  for (auto &p : batch) p.first(loop, p.second);
}

}  // namespace

int wsc_loop_new(wsc_loop_t **out, void *uv_loop) {
  if (out == nullptr) return WSC_EINVAL;
  *out = nullptr;
  auto *loop = new (std::nothrow) wsc_loop_s();
  if (loop == nullptr) return WSC_ENOMEM;
  if (uv_loop != nullptr) {
    loop->uv = static_cast<uv_loop_t *>(uv_loop);
  } else {
    if (uv_loop_init(&loop->own) != 0) {
      delete loop;
      return WSC_EIO;
    }
    loop->uv = &loop->own;
    loop->owned = true;
  }
  loop->read_buf.reset(new (std::nothrow) uint8_t[wsc::kReadBufferSize]);
  loop->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (!loop->read_buf || loop->epfd < 0 || uv_async_init(loop->uv, &loop->async, on_async) != 0) {
    if (loop->owned) uv_loop_close(&loop->own);
    delete loop;
    return WSC_ENOMEM;
  }
  uv_prepare_init(loop->uv, &loop->prepare);
  uv_check_init(loop->uv, &loop->check);
  uv_timer_init(loop->uv, &loop->timer);
  loop->async.data = loop->prepare.data = loop->check.data = loop->timer.data = loop;
  loop->open_handles = 4;
  bool ok;
  if (loop->owned) {  // driven (drive()): libuv's backend joins the set
    loop->libuv_watch.fd = uv_backend_fd(loop->uv);
    ok = loop->watch(&loop->libuv_watch, EPOLLIN) == 0;
  } else {  // nested in the owner's loop
    loop->nested = true;
    ok = uv_poll_init(loop->uv, &loop->epoll_watch, loop->epfd) == 0;
  }
  if (!ok) {  // not expected: an epoll descriptor can be watched
    loop->nested = false;  // epoll_watch never started: wsc_loop_free closes the other handles
    wsc_loop_free(loop);
    return WSC_EIO;
  }
  if (loop->nested) {
    loop->epoll_watch.data = loop;
    ++loop->open_handles;
    uv_poll_start(&loop->epoll_watch, UV_READABLE, [](uv_poll_t *h, int status, int) {
      if (status == 0) static_cast<wsc_loop_s *>(h->data)->on_epoll();
    });
    uv_unref(reinterpret_cast<uv_handle_t *>(&loop->epoll_watch));  // until a socket opens
  }
  uv_unref(reinterpret_cast<uv_handle_t *>(&loop->async));  // posts alone do not keep a loop alive
  // libuv writes without MSG_NOSIGNAL: a vanished peer must not kill the process (wsc/loop.h).
  struct sigaction sa;
  if (sigaction(SIGPIPE, nullptr, &sa) == 0 && sa.sa_handler == SIG_DFL) std::signal(SIGPIPE, SIG_IGN);
  *out = loop;
  return 0;
}

int wsc_loop_run(wsc_loop_t *loop, uint32_t mode) {
  if (loop == nullptr || mode > WSC_RUN_NOWAIT) return WSC_EINVAL;
  if (loop->owned) return loop->drive(mode);
  uv_run_mode m = mode == WSC_RUN_ONCE ? UV_RUN_ONCE : mode == WSC_RUN_NOWAIT ? UV_RUN_NOWAIT : UV_RUN_DEFAULT;
  int more = uv_run(loop->uv, m);
  return more != 0 ? 1 : 0;
}

void wsc_loop_stop(wsc_loop_t *loop) {
  if (loop == nullptr) return;
  loop->stop_requested = loop->owned;  // drive() sees it even when uv_run clears its own flag
  uv_stop(loop->uv);
}

int wsc_loop_free(wsc_loop_t *loop) {
  if (loop == nullptr) return 0;
  if (!loop->conns.empty() || loop->servers > 0 || loop->jobs > 0) return WSC_EBUSY;
  if (loop->freeing) return WSC_ESTATE;
  loop->freeing = true;
  // Posts still queued run now, so each gets its answer (a thread-safe send's completion reports
  // WSC_ENOTFOUND); nothing can be opened on a loop being freed.
  on_async(&loop->async);
  uv_close(reinterpret_cast<uv_handle_t *>(&loop->async), on_loop_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t *>(&loop->prepare), on_loop_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t *>(&loop->check), on_loop_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t *>(&loop->timer), on_loop_handle_closed);
  if (loop->nested) uv_close(reinterpret_cast<uv_handle_t *>(&loop->epoll_watch), on_loop_handle_closed);
  if (!loop->owned) return 0;  // freed by the last close callback, when its owner runs the loop
  uv_run(&loop->own, UV_RUN_DEFAULT);
  int rc = uv_loop_close(&loop->own);
  delete loop;
  return rc == 0 ? 0 : WSC_EBUSY;
}

void *wsc_loop_uv(wsc_loop_t *loop) { return loop ? loop->uv : nullptr; }

// A driven loop's set holds libuv's backend too: it is the one descriptor to watch.
int wsc_loop_backend_fd(const wsc_loop_t *loop) {
  if (loop == nullptr) return -1;
  return loop->owned ? loop->epfd : uv_backend_fd(loop->uv);
}

int wsc_loop_backend_timeout(const wsc_loop_t *loop) { return loop ? loop->wait_timeout() : -1; }

int wsc_loop_post(wsc_loop_t *loop, wsc_loop_post_cb cb, void *user_data) {
  if (loop == nullptr || cb == nullptr) return WSC_EINVAL;
  try {
    std::lock_guard<std::mutex> lock(loop->mu);
    loop->posts.emplace_back(cb, user_data);
  } catch (...) {
    return WSC_ENOMEM;
  }
  uv_async_send(&loop->async);
  return 0;
}

void wsc_loop_keep_alive(wsc_loop_t *loop, int on) {
  if (loop == nullptr || loop->freeing) return;
  if (on)
    uv_ref(reinterpret_cast<uv_handle_t *>(&loop->async));
  else
    uv_unref(reinterpret_cast<uv_handle_t *>(&loop->async));
}

size_t wsc_loop_handle_count(const wsc_loop_t *loop) {
  return loop ? loop->conns.size() + loop->servers + loop->jobs : 0;
}

// The WebSocket server (wsc/server.h): listening, request validation (RFC 6455 §4.2.1), the
// upgrade decision and the 101 response (§4.2.2).
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "framing.h"
#include "handshake.h"
#include "net.h"
#include "last_error.h"
#include "options.h"
#include "socket.h"
#include "wsc/error.h"

struct wsc_request_s {
  wsc_conn_s *conn = nullptr;
  wsc_server_s *server = nullptr;
  const wsc::HttpMessage *msg = nullptr;
  std::string path, query;
  std::vector<std::string> protocols;
  std::vector<std::pair<std::string, std::string>> cookies;
  std::vector<std::pair<std::string, std::string>> response_headers;
  wsc_addr_t remote{};
  bool plain_http = false;
  enum { kUndecided, kAccepted, kRejected } decision = kUndecided;
  std::string protocol;  // chosen
  bool protocol_given = false;
  bool in_event = false;  // the REQUEST event is running
  bool deferred = false;  // wsc_request_defer: decided after the event
  std::string rest;       // bytes the client sent after its request, while the decision waits
  uint32_t status = 0;
  std::string reason, body;
};

namespace {

constexpr uint32_t kServerFlags = WSC_SERVER_IPV6_ONLY | WSC_SERVER_TRUST_PROXY | WSC_SERVER_HANDLE_REQUESTS |
                                  WSC_SERVER_HANDLE_HTTP | WSC_SERVER_NO_LISTEN;

std::string response_head(uint32_t status, const std::string &reason,
                          const std::vector<std::pair<std::string, std::string>> &headers) {
  std::string r;
  r.reserve(160);
  r += "HTTP/1.1 ";
  r += std::to_string(status);
  r += ' ';
  r += reason.empty() ? std::string_view(wsc::status_reason(static_cast<int>(status))) : std::string_view(reason);
  r += "\r\n";
  for (const auto &h : headers) wsc::append_header(r, h.first, h.second);
  return r;
}

void queue_text(wsc_conn_s *c, const std::string &s) {
  wsc_buf_t b{reinterpret_cast<const uint8_t *>(s.data()), s.size()};
  c->queue(&b, 1, nullptr);
}

// Sends an HTTP error response and closes the connection once it is written.
void respond_and_close(wsc_conn_s *c, uint32_t status, const std::string &reason,
                       std::vector<std::pair<std::string, std::string>> headers, const std::string &body) {
  bool has_type = false;
  for (const auto &h : headers) has_type |= wsc::iequals(h.first, "Content-Type");
  headers.emplace_back("Connection", "close");
  if (!has_type && !body.empty()) headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  headers.emplace_back("Content-Length", std::to_string(body.size()));
  queue_text(c, response_head(status, reason, headers) + "\r\n" + body);
  if (c->x) c->x->hs.reset();
  c->state = WSC_CLOSING;
  c->shutdown_after_flush = true;
  // Wait briefly for the client to close after reading the answer, then close regardless.
  c->start_timer(2000, [](wsc_conn_s *conn) { conn->finish(); });
}

void client_error(wsc_conn_s *c, wsc_request_s *req, uint32_t status, const std::string &message,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
  wsc_server_event_t ev{};
  ev.type = WSC_SERVER_CLIENT_ERROR;
  ev.error = WSC_EBAD_REQUEST;
  ev.code = status;
  ev.message = message.c_str();
  ev.request = req;
  c->server()->emit(ev);
  if (!c->finishing) respond_and_close(c, status, "", std::move(headers), message);
}

void parse_target(wsc_request_s *req) {
  const std::string &t = req->msg->target;
  size_t q = t.find('?');
  req->path = t.substr(0, q);
  req->query = q == std::string::npos ? "" : t.substr(q + 1);
}

void parse_cookies(wsc_request_s *req) {
  for (const auto &h : req->msg->headers) {
    if (!wsc::iequals(h.first, "Cookie")) continue;
    std::string_view v = h.second;
    while (!v.empty()) {
      size_t semi = v.find(';');
      std::string_view item = v.substr(0, semi);
      size_t eq = item.find('=');
      if (eq != std::string_view::npos) {
        std::string_view name = item.substr(0, eq), value = item.substr(eq + 1);
        while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
        while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
        req->cookies.emplace_back(std::string(name), std::string(value));
      }
      if (semi == std::string_view::npos) break;
      v.remove_prefix(semi + 1);
    }
  }
}

void fill_remote(wsc_request_s *req) {
  const sockaddr_storage &peer = req->conn->hs()->peer;  // from accept(): no system call
  if (peer.ss_family == AF_INET || peer.ss_family == AF_INET6)
    wsc::addr_from_sockaddr(reinterpret_cast<const sockaddr *>(&peer), &req->remote);
  else
    wsc_conn_remote_address(req->conn, &req->remote);
  if (!(req->server->opts.flags & WSC_SERVER_TRUST_PROXY)) return;
  // Behind a trusted proxy: the client is the first address of X-Forwarded-For.
  if (const std::string *xff = req->msg->find("X-Forwarded-For")) {
    auto list = wsc::split_list(*xff);
    if (!list.empty()) {
      wsc_addr_t a{};
      std::strncpy(a.address, list.front().c_str(), sizeof a.address - 1);
      a.family = list.front().find(':') != std::string::npos ? 6 : 4;
      req->remote = a;
    }
  }
}

void accept_request(wsc_conn_s *c, wsc_request_s *req, const std::string &rest) {
  if (!req->protocol_given && !req->protocols.empty()) req->protocol = req->protocols.front();  // as ws
  std::string extensions;
  wsc::PmdAgreement agreed;
  if (c->cfg->pmd_configured && wsc::negotiate_deflate_offers(*req->msg, c->cfg->pmd, &agreed, &extensions) &&
      !c->pmd_start(agreed, extensions))
    extensions.clear();
  queue_text(c, wsc::switching_protocols_head(*req->msg->find("Sec-WebSocket-Key"), req->protocol, extensions,
                                              req->response_headers));
  if (!c->strings.set(PackedStrings::kProtocol, req->protocol) || !c->strings.set(PackedStrings::kUrl, req->msg->target))
    return c->fail(WSC_ENOMEM, "out of memory");
  wsc_server_s *srv = c->server();
  c->announced = true;
  ++srv->open_count;
  wsc_server_event_t ev{};
  ev.type = WSC_SERVER_CONNECTION;
  ev.conn = c;
  srv->emit(ev);
  if (!c->finishing) c->open(rest);
}

}  // namespace

// RFC 6454 §6.2: an origin serializes as scheme "://" host [":" port]. Two name the same origin
// when they match with scheme and host lower-cased and a scheme's default port dropped.
static std::string origin_key(std::string_view origin) {
  std::string k(origin);
  for (char &ch : k) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
  auto drop = [&k](std::string_view scheme, std::string_view port) {
    if (k.size() > scheme.size() + port.size() && k.compare(0, scheme.size(), scheme) == 0 &&
        k.compare(k.size() - port.size(), port.size(), port) == 0)
      k.resize(k.size() - port.size());
  };
  drop("http://", ":80");
  drop("ws://", ":80");
  drop("https://", ":443");
  drop("wss://", ":443");
  return k;
}

static bool origin_listed(const std::string *origin, const std::vector<std::string> &keys, bool allow_none) {
  if (origin == nullptr) return allow_none;
  const std::string key = origin_key(*origin);
  for (const auto &k : keys)
    if (k == key) return true;
  return false;
}

unsigned wsc::check_upgrade_request(const HttpMessage &m, std::string_view path, std::string_view required_path,
                                    std::vector<std::string> *protocols, const char **why) {
  auto refuse = [why](unsigned status, const char *message) {
    *why = message;
    return status;
  };
  const std::string *upgrade = m.find("Upgrade");
  if (upgrade == nullptr) return refuse(426, "Upgrade Required");  // plain HTTP (see server_handle_request)
  if (m.method != "GET") return refuse(405, "Invalid HTTP method");
  if (m.major < 1 || (m.major == 1 && m.minor < 1)) return refuse(505, "Invalid HTTP version");
  // Headers that come once (RFC 7230 §5.4, RFC 6455 §11.3.1, §11.3.5): a second value must not
  // be one that something in front of the server reads while the checks below read the first.
  static const char *const kOnce[][2] = {{"Host", "Duplicate Host header"},
                                         {"Upgrade", "Duplicate Upgrade header"},
                                         {"Sec-WebSocket-Key", "Duplicate Sec-WebSocket-Key header"},
                                         {"Sec-WebSocket-Version", "Duplicate Sec-WebSocket-Version header"}};
  for (const auto &once : kOnce) {
    size_t n = 0;
    for (const auto &h : m.headers) n += iequals(h.first, once[0]) ? 1 : 0;
    if (n > 1) return refuse(400, once[1]);
  }
  if (!iequals(*upgrade, "websocket")) return refuse(400, "Invalid Upgrade header");
  // Connection is a list, which may be split over several lines (RFC 7230 §3.2.2).
  bool connection_upgrade = false;
  for (const auto &h : m.headers)
    connection_upgrade |= iequals(h.first, "Connection") && list_has_token(h.second, "upgrade");
  if (!connection_upgrade) return refuse(400, "Invalid Connection header");
  if (m.find("Host") == nullptr) return refuse(400, "Missing Host header");
  const std::string *key = m.find("Sec-WebSocket-Key");
  if (key == nullptr || !websocket_key_valid(*key)) return refuse(400, "Missing or invalid Sec-WebSocket-Key header");
  const std::string *version = m.find("Sec-WebSocket-Version");
  if (version == nullptr || *version != "13") return refuse(426, "Missing or invalid Sec-WebSocket-Version header");
  if (!required_path.empty() && path != required_path) return refuse(400, "Invalid path");
  for (const auto &h : m.headers) {
    if (!iequals(h.first, "Sec-WebSocket-Protocol")) continue;
    for (const auto &p : split_list(h.second)) {
      bool dup = false;
      for (const auto &q : *protocols) dup |= q == p;
      if (!is_token(p) || dup) return refuse(400, "Invalid Sec-WebSocket-Protocol header");
      protocols->push_back(p);
    }
  }
  return 0;
}

bool wsc::negotiate_deflate_offers(const HttpMessage &m, const wsc_deflate_options_t &pmd, PmdAgreement *agreed,
                                   std::string *answer) {
  std::vector<std::string> offers;
  for (const auto &h : m.headers)
    if (iequals(h.first, "Sec-WebSocket-Extensions")) offers.push_back(h.second);
  return !offers.empty() && pmd_server_negotiate(offers, pmd, agreed, answer);
}

void wsc::append_header(std::string &head, std::string_view name, std::string_view value) {
  head += name;
  head += ": ";
  head += value;
  head += "\r\n";
}

std::string wsc::switching_protocols_head(std::string_view key, std::string_view protocol, std::string_view extensions,
                                          const std::vector<std::pair<std::string, std::string>> &extra) {
  std::string r;
  r.reserve(200);
  r += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  append_header(r, "Sec-WebSocket-Accept", websocket_accept(key).view());
  if (!protocol.empty()) append_header(r, "Sec-WebSocket-Protocol", protocol);
  if (!extensions.empty()) append_header(r, "Sec-WebSocket-Extensions", extensions);
  for (const auto &h : extra) append_header(r, h.first, h.second);
  r += "\r\n";
  return r;
}

void server_handle_request(wsc_conn_s *c, wsc::HttpParser::Result result, const std::string &rest) {
  c->stop_timer();
  if (result == wsc::HttpParser::kTooLarge) return client_error(c, nullptr, 431, "Request header fields too large");
  if (result != wsc::HttpParser::kDone) return client_error(c, nullptr, 400, "Malformed HTTP request");
  std::unique_ptr<wsc_request_s> owner(new wsc_request_s());
  wsc_request_s *req = owner.get();
  req->conn = c;
  req->server = c->server();
  req->msg = &c->hs()->http.msg;
  const wsc::HttpMessage &m = *req->msg;
  parse_target(req);
  parse_cookies(req);
  fill_remote(req);

  const std::string *upgrade = m.find("Upgrade");
  if (upgrade == nullptr) {
    // A plain HTTP request: the user may answer it, else 426 (as ws).
    req->plain_http = true;
    if (c->server()->opts.flags & WSC_SERVER_HANDLE_HTTP) {
      wsc_server_event_t ev{};
      ev.type = WSC_SERVER_HTTP_REQUEST;
      ev.request = req;
      c->server()->emit(ev);
      if (c->finishing) return;
      if (req->decision == wsc_request_s::kRejected)
        return respond_and_close(c, req->status, req->reason, req->response_headers, req->body);
    }
    return respond_and_close(c, 426, "", {{"Upgrade", "websocket"}}, "Upgrade Required");
  }
  // RFC 6455 §4.2.1: the checks of an opening handshake request, each with its own answer.
  const char *why = nullptr;
  if (unsigned status = wsc::check_upgrade_request(m, req->path, c->server()->path, &req->protocols, &why)) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (status == 405) headers.emplace_back("Allow", "GET");  // RFC 7231 §6.5.5
    if (status == 426) {  // RFC 6455 §4.4; RFC 7231 §6.5.15: a 426 names the protocol to upgrade to
      headers.emplace_back("Upgrade", "websocket");
      headers.emplace_back("Sec-WebSocket-Version", "13");
    }
    return client_error(c, req, status, why, std::move(headers));
  }

  // RFC 6455 §10.2: a server that only browsers of some sites may use checks their Origin.
  const wsc_server_s *srv = c->server();
  if (srv->check_origin && !origin_listed(m.find("Origin"), srv->origins, srv->allow_no_origin))
    return client_error(c, req, 403, "Origin not allowed");

  if (c->server()->opts.flags & WSC_SERVER_HANDLE_REQUESTS) {
    wsc_server_event_t ev{};
    ev.type = WSC_SERVER_REQUEST;
    ev.request = req;
    req->in_event = true;
    c->server()->emit(ev);
    req->in_event = false;
    if (c->finishing) return;
    if (req->decision == wsc_request_s::kRejected)
      return respond_and_close(c, req->status, req->reason, req->response_headers, req->body);
    if (req->decision == wsc_request_s::kUndecided && req->deferred) {
      // Decided later (wsc_request_accept / _reject): the connection waits, keeping what the
      // client sends meanwhile.
      req->rest = rest;
      req->in_event = false;
      c->hs()->deferred_request = owner.release();
      return;
    }
  }
  accept_request(c, req, rest);
}

// ---- server lifecycle -----------------------------------------------------------------------

void wsc_server_s::conn_gone(wsc_conn_s *c) {
  --conn_count;
  if (c->announced) --open_count;
}

void wsc_server_s::maybe_final() {
  if (!closing || !listen_closed || conn_count > 0 || notify_closing) return;
  notify_closing = true;  // the timer is the last handle: its close callback ends the server
  uv_close(reinterpret_cast<uv_handle_t *>(&notify), [](uv_handle_t *h) {
    auto *s = static_cast<wsc_server_s *>(h->data);
    --s->loop->servers;
    wsc_server_event_t ev{};
    ev.type = WSC_SERVER_CLOSE;
    s->emit(ev);
    delete s;
  });
}

namespace {

// Stops listening: the socket closes now (a Unix one's path goes with it, as libuv does).
void close_listener(wsc_server_s *s) {
  s->loop->unwatch_close(s);
  if (s->is_pipe) ::unlink(s->unix_path.c_str());
  s->listen_closed = true;
}

// A server connection starts reading its request (or, adopted with one, handles it at once).
void start_server_conn(wsc_server_s *srv, wsc_conn_s *c, const wsc_adopt_request_t *adopted) {
  uint32_t max_headers = srv->opts.max_headers ? srv->opts.max_headers : 100;
  uint32_t max_bytes = srv->opts.max_header_bytes ? srv->opts.max_header_bytes : 16 * 1024;
  if (c->extra() != nullptr) c->x->hs.reset(new (std::nothrow) Handshake(wsc::HttpParser::kRequest, max_headers, max_bytes));
  if (!c->hs() || (c->fd >= 0 && !c->start_reading())) return c->finish();
  if (adopted != nullptr) {
    wsc::HttpMessage &m = c->hs()->http.msg;
    m.method = adopted->method;
    m.target = adopted->target;
    m.major = 1;
    m.minor = adopted->http_minor;
    for (size_t i = 0; i < adopted->nheaders; ++i) {
      const wsc_header_t &h = adopted->headers[i];
      m.headers.emplace_back(std::string(h.name, h.name_len), std::string(h.value ? h.value : "", h.value_len));
    }
    std::string head(static_cast<const char *>(adopted->head ? adopted->head : ""), adopted->head_len);
    return server_handle_request(c, wsc::HttpParser::kDone, head);
  }
  uint32_t timeout = srv->opts.handshake_timeout_ms ? srv->opts.handshake_timeout_ms : 10000;
  c->start_timer(timeout, [](wsc_conn_s *conn) {
    if (conn->tls() && !conn->tls()->handshake_done())  // no HTTP answer without TLS
      return server_tls_failed(conn, WSC_EHANDSHAKE_TIMEOUT, "TLS handshake timed out");
    wsc_server_event_t ev{};  // a request that did not arrive in time failed too: CLIENT_ERROR
    ev.type = WSC_SERVER_CLIENT_ERROR;
    ev.error = WSC_EHANDSHAKE_TIMEOUT;
    ev.code = 408;
    ev.message = "Request Timeout";
    conn->server()->emit(ev);
    if (!conn->finishing) respond_and_close(conn, 408, "", {}, "Request Timeout");
  });
}

// A connection on an open socket, reading its request (or closed if it cannot).
void start_socket_conn(wsc_server_s *srv, int fd, bool is_pipe, const wsc_adopt_request_t *adopted,
                       const sockaddr_storage *peer) {
  auto *c = wsc_conn_s::create(srv->conn_cfg.get());
  if (c == nullptr) {
    ::close(fd);
    return;
  }
  srv->loop->adopt_socket(c, fd);
  c->is_pipe = is_pipe;
  if (srv->tls && adopted == nullptr) {  // a request already read came over someone else's TLS
    if (c->extra() != nullptr) c->x->tls.reset(wsc::TlsSession::create(srv->tls, "", false, &srv->loop->pool));
    if (!c->tls()) return c->finish();
  }
  if (!is_pipe && !(c->cfg->flags & WSC_CONN_NAGLE)) wsc::sock::set_nodelay(fd, true);
  start_server_conn(srv, c, adopted);
  if (peer != nullptr && c->hs() != nullptr) c->hs()->peer = *peer;
}

}  // namespace

void server_on_accept(wsc_server_s *srv) {
  // A burst of connections is taken in one pass, up to a bound that keeps the loop fair.
  for (int i = 0; i < 128 && !srv->closing && srv->fd >= 0; ++i) {
    sockaddr_storage peer;
    int fd = wsc::sock::accept(srv->fd, &peer);
    if (fd >= 0) {
      start_socket_conn(srv, fd, srv->is_pipe, nullptr, &peer);
      continue;
    }
    if (fd == -EAGAIN) return;
    // E.g. out of file descriptors: report it, and pause accepting for a moment instead of
    // spinning on the connection that waits; the server keeps listening.
    std::string message = std::string("accept failed: ") + uv_strerror(fd);
    srv->loop->watch(srv, 0);
    uv_timer_start(&srv->notify, [](uv_timer_t *t) {
      auto *s = static_cast<wsc_server_s *>(t->data);
      if (!s->closing) s->loop->watch(s, EPOLLIN);
    }, 100, 0);
    wsc_server_event_t ev{};
    ev.type = WSC_SERVER_ERROR;
    ev.error = wsc::from_uv(fd);
    ev.message = message.c_str();
    srv->emit(ev);
    return;
  }
}

namespace {

int listen_tcp(wsc_server_s *srv, int backlog) {
  sockaddr_storage ss{};
  const char *host = srv->host.empty() ? nullptr : srv->host.c_str();
  int port = static_cast<int>(srv->opts.port);
  int rc, fd = -1;
  bool v6_only = (srv->opts.flags & WSC_SERVER_IPV6_ONLY) != 0;
  if (host == nullptr) {
    uv_ip6_addr("::", port, reinterpret_cast<sockaddr_in6 *>(&ss));
    rc = wsc::sock::listen_tcp(reinterpret_cast<sockaddr *>(&ss), v6_only, backlog, &fd);
    if (rc == UV_EAFNOSUPPORT || rc == UV_EADDRNOTAVAIL) {  // no IPv6 here: IPv4 alone
      uv_ip4_addr("0.0.0.0", port, reinterpret_cast<sockaddr_in *>(&ss));
      rc = wsc::sock::listen_tcp(reinterpret_cast<sockaddr *>(&ss), false, backlog, &fd);
    }
  } else if (wsc::sock::numeric_address(host, port, &ss)) {
    rc = wsc::sock::listen_tcp(reinterpret_cast<sockaddr *>(&ss), v6_only, backlog, &fd);
  } else {  // a host name: resolve it now (synchronously, once, at start-up)
    uv_getaddrinfo_t req;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = uv_getaddrinfo(srv->loop->uv, &req, nullptr, host, std::to_string(port).c_str(), &hints);
    if (rc == 0) {
      rc = wsc::sock::listen_tcp(req.addrinfo->ai_addr, v6_only, backlog, &fd);
      uv_freeaddrinfo(req.addrinfo);
    }
  }
  if (rc == 0) srv->loop->adopt_socket(srv, fd);
  return rc;
}

}  // namespace

int wsc_server_options_init(wsc_server_options_t *opts, size_t size) {
  static const wsc_server_options_t defaults = WSC_SERVER_OPTIONS_INIT;
  return wsc::options_init(opts, size, defaults);
}

int wsc_server_new(wsc_server_t **out, wsc_loop_t *loop, const wsc_server_options_t *opts, wsc_server_cb cb,
                   void *user_data) {
  wsc::set_last_error(0, "");  // what this call reports, not an earlier one's
  if (out == nullptr) return WSC_EINVAL;
  *out = nullptr;
  if (loop == nullptr || loop->freeing) return WSC_EINVAL;
  wsc_server_options_t o = WSC_SERVER_OPTIONS_INIT;
  if (wsc::options_read(&o, opts, offsetof(wsc_server_options_t, tls)) != 0 || (o.flags & ~kServerFlags) != 0 ||
      o.port > 65535)
    return WSC_EINVAL;
  wsc_tls_options_t tls_opts = WSC_TLS_OPTIONS_INIT;
  if (wsc::options_read(&tls_opts, o.tls) != 0) return WSC_EINVAL;
  std::shared_ptr<wsc::TlsContext> tls;
  if (o.tls) {  // certificates and keys are read now: a bad one fails the call
    int err = 0;
    std::string why;
    tls = wsc::TlsContext::create(tls_opts, true, &err, &why);
    if (!tls) return wsc::set_last_error(err, why);
  }
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  if (wsc::options_read(&co, o.conn) != 0) return WSC_EINVAL;
  wsc_deflate_options_t deflate = WSC_DEFLATE_OPTIONS_INIT;
  if (co.deflate) {
    int rc = wsc::deflate_options_read(&deflate, co.deflate);
    if (rc != 0) return rc;
  }
  auto *srv = new (std::nothrow) wsc_server_s();
  if (srv == nullptr) return WSC_ENOMEM;
  srv->loop = loop;
  srv->cb = cb;
  srv->user_data = user_data;
  srv->opts = o;
  srv->conn_cfg.reset(new (std::nothrow) ConnConfig(co, loop, srv));
  if (!srv->conn_cfg) {
    delete srv;
    return WSC_ENOMEM;
  }
  if (o.host) srv->host = o.host;
  if (o.unix_path) srv->unix_path = o.unix_path;
  if (o.path) srv->path = o.path;
  if (o.origin_count > 0 && o.origins == nullptr) {
    delete srv;
    return wsc::set_last_error(WSC_EINVAL, "origin_count without origins");
  }
  srv->check_origin = o.origin_count > 0;
  for (size_t i = 0; i < o.origin_count; ++i) {
    if (o.origins[i] == nullptr) srv->allow_no_origin = true;
    else srv->origins.push_back(origin_key(o.origins[i]));
  }
  srv->opts.host = srv->opts.unix_path = srv->opts.path = nullptr;
  srv->opts.origins = nullptr;
  srv->opts.conn = nullptr;
  srv->opts.tls = nullptr;
  srv->tls = std::move(tls);
  int rc;
  uv_timer_init(loop->uv, &srv->notify);
  srv->notify.data = srv;
  if (o.flags & WSC_SERVER_NO_LISTEN) {  // connections only come by adoption
    srv->listen_closed = true;
    ++loop->servers;
    *out = srv;
    return 0;
  }
  int backlog = o.backlog > 0 ? static_cast<int>(o.backlog) : 511;
  if (!srv->unix_path.empty()) {
    srv->is_pipe = true;
    int fd = -1;
    rc = wsc::sock::listen_unix(srv->unix_path.c_str(), backlog, &fd);
    if (rc == 0) loop->adopt_socket(srv, fd);
  } else {
    rc = listen_tcp(srv, backlog);
  }
  if (rc == 0) rc = loop->watch(srv, EPOLLIN);
  ++loop->servers;
  if (rc != 0) {
    // Undo: close what was opened; no events are delivered for a server that never started.
    srv->cb = nullptr;
    srv->closing = true;
    if (srv->fd >= 0) close_listener(srv);
    srv->listen_closed = true;
    srv->maybe_final();
    return wsc::from_uv(rc);
  }
  uv_timer_start(&srv->notify, [](uv_timer_t *t) {
    auto *s = static_cast<wsc_server_s *>(t->data);
    wsc_server_event_t ev{};
    ev.type = WSC_SERVER_LISTENING;
    if (!s->closing) s->emit(ev);
  }, 0, 0);
  *out = srv;
  return 0;
}

int wsc_server_address(const wsc_server_t *server, wsc_addr_t *out) {
  if (server == nullptr || out == nullptr) return WSC_EINVAL;
  *out = wsc_addr_t{};
  if (server->opts.flags & WSC_SERVER_NO_LISTEN) return WSC_ESTATE;
  if (server->is_pipe) {
    std::strncpy(out->address, server->unix_path.c_str(), sizeof out->address - 1);
    return 0;
  }
  if (server->fd < 0) return WSC_ESTATE;
  return wsc::from_uv(wsc::sock::name(server->fd, false, false, out));
}

size_t wsc_server_connection_count(const wsc_server_t *server) { return server ? server->open_count : 0; }

namespace {

// Calls f(c) on each of the server's connections until it returns false. Connections that come
// or go meanwhile are seen or skipped safely (the loop table's walk).
template <typename F>
void each_conn(wsc_server_s *srv, F f) {
  const auto &t = srv->loop->conns;
  for (size_t i = 0; i < t.slots(); ++i) {
    wsc_conn_s *c = t.at(i);
    if (c != nullptr && c->server() == srv && !f(c)) return;
  }
}

}  // namespace

void wsc_server_walk(wsc_server_t *server, wsc_server_conn_walk_cb cb, void *user_data) {
  if (server == nullptr || cb == nullptr) return;
  each_conn(server, [&](wsc_conn_s *c) { return !c->announced || c->finishing || cb(c, user_data) == 0; });
}

int wsc_server_broadcast(wsc_server_t *server, uint32_t opcode, const void *data, size_t len,
                         wsc_server_conn_walk_cb filter, void *user_data, size_t *sent) {
  if (sent) *sent = 0;
  if (server == nullptr || (data == nullptr && len > 0)) return WSC_EINVAL;
  if (opcode != WSC_OP_TEXT && opcode != WSC_OP_BINARY) return WSC_EINVAL;
  // A server's frames are unmasked: one frame serves every connection.
  const size_t hl = wsc::header_size(len, false);
  wsc::SharedFrame *frame = wsc::SharedFrame::make(hl + len);
  if (frame == nullptr) return WSC_ENOMEM;
  wsc::build_frame(frame->data, WSC_FRAME_FIN, opcode, static_cast<const uint8_t *>(data), len, nullptr);
  size_t count = 0;
  each_conn(server, [&](wsc_conn_s *c) {
    auto usable = [c] { return c->announced && c->state == WSC_OPEN && !c->finishing && !c->tx.in_message(); };
    if (!usable() || (filter && filter(c, user_data) == 0) || !usable()) return true;
    if (c->admit_send() != 0) return true;
    c->queue_shared(frame);
    ++c->messages_out;
    if (c->cfg->high_water != 0 && c->buffered() >= c->cfg->high_water) c->backpressure = true;
    ++count;
    return true;
  });
  frame->unref();
  if (sent) *sent = count;
  return 0;
}

void wsc_server_close_all(wsc_server_t *server, uint32_t code) {
  if (server == nullptr) return;
  each_conn(server, [&](wsc_conn_s *c) {
    if (c->announced && c->state == WSC_OPEN && !c->finishing) wsc_conn_close(c, code ? code : 1001, nullptr, 0);
    return true;
  });
}

void wsc_server_shutdown(wsc_server_t *server, uint32_t code, uint32_t timeout_ms, uint32_t flags) {
  if (server == nullptr || server->closing) return;
  server->closing = true;
  uv_timer_stop(&server->notify);
  if (!server->listen_closed) close_listener(server);
  server->maybe_final();
  each_conn(server, [](wsc_conn_s *c) {
    if (!c->announced) c->finish();  // still in its handshake
    return true;
  });
  if (!(flags & WSC_SHUTDOWN_KEEP_CONNECTIONS)) wsc_server_close_all(server, code);
  if (timeout_ms > 0) {
    uv_timer_start(&server->notify, [](uv_timer_t *t) {
      each_conn(static_cast<wsc_server_s *>(t->data), [](wsc_conn_s *c) {
        c->finish();  // out of time: terminate
        return true;
      });
    }, timeout_ms, 0);
  }
}

void wsc_server_close(wsc_server_t *server, uint32_t code) { wsc_server_shutdown(server, code, 0, 0); }

void *wsc_server_user_data(const wsc_server_t *server) { return server ? server->user_data : nullptr; }

// ---- requests --------------------------------------------------------------------------------

const char *wsc_request_method(const wsc_request_t *req) { return req ? req->msg->method.c_str() : ""; }
const char *wsc_request_target(const wsc_request_t *req) { return req ? req->msg->target.c_str() : ""; }
const char *wsc_request_path(const wsc_request_t *req) { return req ? req->path.c_str() : ""; }
const char *wsc_request_query(const wsc_request_t *req) { return req ? req->query.c_str() : ""; }
size_t wsc_request_header_count(const wsc_request_t *req) { return req ? req->msg->headers.size() : 0; }

int wsc_request_header(const wsc_request_t *req, size_t index, wsc_header_t *out) {
  if (req == nullptr || out == nullptr || index >= req->msg->headers.size()) return WSC_EINVAL;
  const auto &h = req->msg->headers[index];
  *out = wsc_header_t{h.first.data(), h.first.size(), h.second.data(), h.second.size()};
  return 0;
}

const char *wsc_request_header_value(const wsc_request_t *req, const char *name) {
  if (req == nullptr || name == nullptr) return nullptr;
  const std::string *v = req->msg->find(name);
  return v ? v->c_str() : nullptr;
}

const char *wsc_request_origin(const wsc_request_t *req) { return wsc_request_header_value(req, "Origin"); }
int wsc_request_origin_allowed(const wsc_request_t *req, const char *const *origins, size_t count) {
  if (req == nullptr || (origins == nullptr && count > 0)) return 0;
  std::vector<std::string> keys;
  bool allow_none = false;
  for (size_t i = 0; i < count; ++i) {
    if (origins[i] == nullptr) allow_none = true;
    else keys.push_back(origin_key(origins[i]));
  }
  return origin_listed(req->msg->find("Origin"), keys, allow_none) ? 1 : 0;
}
size_t wsc_request_protocol_count(const wsc_request_t *req) { return req ? req->protocols.size() : 0; }
const char *wsc_request_protocol(const wsc_request_t *req, size_t index) {
  return req && index < req->protocols.size() ? req->protocols[index].c_str() : nullptr;
}
const char *wsc_request_extensions(const wsc_request_t *req) {
  return wsc_request_header_value(req, "Sec-WebSocket-Extensions");
}
size_t wsc_request_cookie_count(const wsc_request_t *req) { return req ? req->cookies.size() : 0; }
int wsc_request_cookie(const wsc_request_t *req, size_t index, const char **name, const char **value) {
  if (req == nullptr || index >= req->cookies.size()) return WSC_EINVAL;
  if (name) *name = req->cookies[index].first.c_str();
  if (value) *value = req->cookies[index].second.c_str();
  return 0;
}
int wsc_request_remote_address(const wsc_request_t *req, wsc_addr_t *out) {
  if (req == nullptr || out == nullptr) return WSC_EINVAL;
  *out = req->remote;
  return 0;
}
int wsc_request_is_secure(const wsc_request_t *req) { return req && req->conn->tls() ? 1 : 0; }

int wsc_request_tls_info(const wsc_request_t *req, wsc_tls_info_t *out) {
  return req ? wsc_conn_tls_info(req->conn, out) : WSC_EINVAL;
}

void server_tls_failed(wsc_conn_s *c, int err, const std::string &message) {
  wsc_server_event_t ev{};
  ev.type = WSC_SERVER_CLIENT_ERROR;
  ev.error = err;
  ev.message = message.c_str();
  c->server()->emit(ev);
  c->finish();
}

int wsc_request_add_header(wsc_request_t *req, const char *name, const char *value) {
  if (req == nullptr || name == nullptr || value == nullptr) return WSC_EINVAL;
  if (req->decision != wsc_request_s::kUndecided) return WSC_ESTATE;
  if (!wsc::header_name_valid(name) || !wsc::header_value_valid(value)) return WSC_EINVAL;
  req->response_headers.emplace_back(name, value);
  return 0;
}

int wsc_request_add_cookie(wsc_request_t *req, const char *name, const char *value, const char *attributes) {
  if (req == nullptr || name == nullptr || value == nullptr) return WSC_EINVAL;
  // RFC 6265 §4.1.1: a cookie name is a token; its value has no CTLs, whitespace, DQUOTE, comma,
  // semicolon or backslash.
  if (!wsc::is_token(name)) return WSC_EINVAL;
  for (const char *p = value; *p; ++p) {
    unsigned char ch = static_cast<unsigned char>(*p);
    if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == ',' || ch == ';' || ch == '\\') return WSC_EINVAL;
  }
  std::string v = std::string(name) + "=" + value;
  if (attributes && *attributes) {
    if (!wsc::header_value_valid(attributes)) return WSC_EINVAL;
    v += "; ";
    v += attributes;
  }
  return wsc_request_add_header(req, "Set-Cookie", v.c_str());
}

int wsc_request_accept(wsc_request_t *req, const char *protocol) {
  if (req == nullptr) return WSC_EINVAL;
  if (req->decision != wsc_request_s::kUndecided || req->plain_http) return WSC_ESTATE;
  if (protocol != nullptr) {
    bool offered = *protocol == '\0';
    for (const auto &p : req->protocols) offered |= p == protocol;
    if (!offered) return WSC_EINVAL;  // RFC 6455 §4.2.2: one of the client's values
    req->protocol = protocol;
    req->protocol_given = true;
  }
  req->decision = wsc_request_s::kAccepted;
  if (!req->in_event && req->deferred) {  // a deferred decision: carry it out now
    wsc_conn_s *c = req->conn;
    std::unique_ptr<wsc_request_s> owner(req);
    c->hs()->deferred_request = nullptr;
    accept_request(c, req, req->rest);
  }
  return 0;
}

int wsc_request_reject(wsc_request_t *req, uint32_t status, const char *reason, const void *body, size_t body_len) {
  if (req == nullptr || (body == nullptr && body_len > 0)) return WSC_EINVAL;
  if (req->decision != wsc_request_s::kUndecided) return WSC_ESTATE;
  uint32_t lowest = req->plain_http ? 100 : 300;  // 3xx: a redirect
  if (status < lowest || status > 599 || (reason && !wsc::header_value_valid(reason))) return WSC_EINVAL;
  req->decision = wsc_request_s::kRejected;
  req->status = status;
  req->reason = reason ? reason : "";
  if (body_len) req->body.assign(static_cast<const char *>(body), body_len);
  if (!req->in_event && req->deferred) {
    wsc_conn_s *c = req->conn;
    std::unique_ptr<wsc_request_s> owner(req);
    c->hs()->deferred_request = nullptr;
    respond_and_close(c, req->status, req->reason, req->response_headers, req->body);
  }
  return 0;
}

int wsc_request_defer(wsc_request_t *req) {
  if (req == nullptr) return WSC_EINVAL;
  if (!req->in_event || req->plain_http || req->decision != wsc_request_s::kUndecided) return WSC_ESTATE;
  req->deferred = true;
  return 0;
}

void server_request_gone(wsc_conn_s *c) {
  std::unique_ptr<wsc_request_s> req(c->hs()->deferred_request);
  c->hs()->deferred_request = nullptr;
  if (!req->deferred || c->server() == nullptr) return;
  // The client went away (or the server shut down) before the decision.
  wsc_server_event_t ev{};
  ev.type = WSC_SERVER_REQUEST_CANCELLED;
  ev.request = req.get();
  c->server()->emit(ev);
}

std::string *server_request_rest(wsc_conn_s *c) { return &c->hs()->deferred_request->rest; }

// ---- adoption -------------------------------------------------------------------------------

static bool adopt_request_valid(const wsc_adopt_request_t *r) {
  if (r == nullptr) return true;
  if (r->size < sizeof(wsc_adopt_request_t) || r->method == nullptr || r->target == nullptr) return false;
  if ((r->nheaders > 0 && r->headers == nullptr) || (r->head == nullptr && r->head_len > 0)) return false;
  for (size_t i = 0; i < r->nheaders; ++i)
    if (r->headers[i].name == nullptr || (r->headers[i].value == nullptr && r->headers[i].value_len > 0)) return false;
  return true;
}

int wsc_server_adopt(wsc_server_t *server, int fd, const wsc_adopt_request_t *request) {
  if (server == nullptr || server->closing || fd < 0 || !adopt_request_valid(request)) {
    if (fd >= 0) close(fd);
    return WSC_EINVAL;
  }
  bool is_unix = false;
  int rc = wsc::sock::adopt(fd, &is_unix);
  if (rc != 0) {
    ::close(fd);
    return rc == -EINVAL ? WSC_EINVAL : wsc::from_uv(rc);
  }
  start_socket_conn(server, fd, is_unix, request, nullptr);
  return 0;
}

int wsc_server_adopt_transport(wsc_server_t *server, wsc_conn_t **out, const wsc_transport_t *transport,
                               const wsc_adopt_request_t *request) {
  if (out) *out = nullptr;
  if (server == nullptr || out == nullptr || server->closing || !adopt_request_valid(request)) return WSC_EINVAL;
  auto *c = wsc_conn_s::create(server->conn_cfg.get());
  if (c == nullptr) return WSC_ENOMEM;
  if (!conn_set_transport(c, transport)) {
    c->finish();  // it counts as the server's until its final event
    return WSC_EINVAL;
  }
  *out = c;
  start_server_conn(server, c, request);
  return 0;
}

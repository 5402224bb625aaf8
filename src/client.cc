// The WebSocket client (wsc/client.h): URL, name resolution, connect, the opening handshake
// (RFC 6455 §4.1) and its validation.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "net.h"
#include "deflate.h"
#include "handshake.h"
#include "last_error.h"
#include "options.h"
#include "random.h"
#include "socket.h"
#include "wsc/close.h"
#include "wsc/error.h"

namespace {

struct Url {
  bool unix_socket = false;
  bool secure = false;  // wss://
  std::string host;  // without brackets
  int port = 80;
  std::string target;  // path?query
  std::string socket_path;
  std::string host_header;
};

// ws[s]://host[:port][/path][?query], ws+unix:///socket/path[:/request/path] (ws' syntax);
// http[s]:// stand for ws[s]://.
int parse_url(const std::string &url, Url *u) {
  std::string rest;
  if (url.rfind("ws://", 0) == 0) {
    rest = url.substr(5);
  } else if (url.rfind("wss://", 0) == 0) {
    rest = url.substr(6);
    u->secure = true;
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
    u->secure = true;
  } else if (url.rfind("ws+unix://", 0) == 0) {
    u->unix_socket = true;
    rest = url.substr(10);
  } else {
    return WSC_EURL;
  }
  if (u->secure) u->port = 443;
  if (url.find('#') != std::string::npos) return WSC_EURL;  // RFC 6455 §3: no fragment
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return WSC_EURL;
  if (u->unix_socket) {
    size_t colon = rest.find(':');
    u->socket_path = rest.substr(0, colon);
    u->target = colon == std::string::npos ? "/" : rest.substr(colon + 1);
    if (u->socket_path.empty() || u->target.empty() || u->target[0] != '/') return WSC_EURL;
    u->host_header = "localhost";
    return 0;
  }
  size_t slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  u->target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (u->target[0] == '?') u->target = "/" + u->target;
  if (authority.empty() || authority.find('@') != std::string::npos) return WSC_EURL;
  std::string port_text;
  if (authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return WSC_EURL;
    u->host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return WSC_EURL;
      port_text = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.find(':');
    u->host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  if (u->host.empty()) return WSC_EURL;
  if (!port_text.empty() || authority.back() == ':') {
    if (port_text.empty() || port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos)
      return WSC_EURL;
    u->port = std::stoi(port_text);
    if (u->port < 1 || u->port > 65535) return WSC_EURL;
  }
  bool v6 = u->host.find(':') != std::string::npos;
  u->host_header = v6 ? "[" + u->host + "]" : u->host;
  if (u->port != (u->secure ? 443 : 80)) u->host_header += ":" + std::to_string(u->port);
  return 0;
}

void connect_next(wsc_conn_s *c);

// Opens the connection's socket with connect(fd): a connect in progress is watched until the
// socket turns writable; one that finished at once (or failed to start) is reported on the
// loop pass's flush, so that no event comes from inside the call that began it.
template <typename Connect>
void start_socket(wsc_conn_s *c, Connect connect) {
  int fd = -1;
  int rc = connect(&fd);
  if (fd >= 0) c->loop()->adopt_socket(c, fd);
  if (rc == -EINPROGRESS) {
    c->connecting = true;
    if ((rc = c->update_interest()) == 0) return;
    c->connecting = false;
  }
  c->hs()->connect_reported = false;
  c->hs()->connect_status = rc;
  c->loop()->mark_dirty(c);
}

// Connected: send the request and give the server handshake_timeout_ms to answer.
void send_request(wsc_conn_s *c) {
  c->start_timer(c->hs()->handshake_timeout_ms, [](wsc_conn_s *conn) {
    conn->fail(WSC_EHANDSHAKE_TIMEOUT, "Opening handshake has timed out");
  });
  wsc_buf_t b{reinterpret_cast<const uint8_t *>(c->hs()->request.data()), c->hs()->request.size()};
  c->queue(&b, 1, nullptr);
}

// Starts connecting to the next resolved address.
void connect_next(wsc_conn_s *c) {
  addrinfo *ai = c->hs()->next_addr;
  c->hs()->next_addr = ai->ai_next;
  c->is_pipe = false;
  start_socket(c, [&](int *fd) { return wsc::sock::connect_tcp(ai->ai_addr, fd); });
}

}  // namespace

namespace {

// wss://: a TLS session on the connected socket. The request queued next goes out once the
// handshake is done (flush_tls).
bool start_tls(wsc_conn_s *c) {
  ClientConfig &cfg = *c->client();
  Handshake &h = *c->hs();
  if (!cfg.tls) {  // a redirect from ws:// to wss://: the default settings
    int err = 0;
    std::string why;
    wsc_tls_options_t defaults = WSC_TLS_OPTIONS_INIT;
    cfg.tls = c->loop()->client_tls_context(defaults, &err, &why);
    if (!cfg.tls) {
      c->fail(err, why);
      return false;
    }
  }
  // The servername option names the URL's own host; a redirect to another host verifies that one.
  const std::string &name = !cfg.servername.empty() && h.host == cfg.servername_for ? cfg.servername : h.host;
  c->x->tls.reset(wsc::TlsSession::create(cfg.tls, name, cfg.no_sni, &c->loop()->pool));
  if (!c->x->tls) {
    c->fail(WSC_ENOMEM, "out of memory");
    return false;
  }
  return true;
}

}  // namespace

void client_on_connected(wsc_conn_s *c, int status) {
  if (c->finishing) return;
  if (status < 0) {
    c->loop()->unwatch_close(c);
    if (!c->is_pipe && c->hs()->next_addr != nullptr) return connect_next(c);  // the name's next address
    c->fail(wsc::from_uv(status), std::string("connect failed: ") + uv_strerror(status));
    return;
  }
  if (!c->is_pipe && !(c->cfg->flags & WSC_CONN_NAGLE)) wsc::sock::set_nodelay(c->fd, true);
  if (c->hs()->secure && !start_tls(c)) return;
  send_request(c);
  if (!c->finishing && !c->start_reading()) c->fail(WSC_EIO, "cannot read from the socket");
}

namespace {

void on_resolved(uv_getaddrinfo_t *req, int status, addrinfo *res) {
  auto *c = static_cast<wsc_conn_s *>(req->data);
  c->hs()->resolving = false;
  c->hs()->addrs = res;
  if (c->finishing) {
    if (c->open_handles == 0) c->final_event();
    return;
  }
  if (status < 0 || res == nullptr) {
    c->fail(WSC_ENAME, "getaddrinfo " + c->hs()->host + ": " + uv_strerror(status));
    return;
  }
  c->hs()->next_addr = res;
  connect_next(c);
}

std::vector<wsc_header_t> header_views(const wsc::HttpMessage &m) {
  std::vector<wsc_header_t> v;
  for (const auto &h : m.headers) v.push_back({h.first.data(), h.first.size(), h.second.data(), h.second.size()});
  return v;
}

}  // namespace

namespace {

// The GET request of the current hop (RFC 6455 §4.1), with a fresh key.
bool build_request(wsc_conn_s *c) {
  Handshake &h = *c->hs();
  uint8_t nonce[16];
  if (wsc::random_bytes(nonce, sizeof nonce) != 0) return false;
  h.key = wsc::base64_encode(nonce, sizeof nonce);
  std::string req = "GET " + h.target + " HTTP/1.1\r\nHost: " + h.host_header +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + h.key +
                    "\r\nSec-WebSocket-Version: 13\r\n";
  if (!h.protocols.empty()) {
    req += "Sec-WebSocket-Protocol: ";
    for (size_t i = 0; i < h.protocols.size(); ++i) req += (i ? ", " : "") + h.protocols[i];
    req += "\r\n";
  }
  if (c->cfg->pmd_configured) req += "Sec-WebSocket-Extensions: " + wsc::pmd_client_offer(c->cfg->pmd) + "\r\n";
  for (const auto &kv : h.headers) req += kv.first + ": " + kv.second + "\r\n";
  h.request = req + "\r\n";
  return true;
}

void apply_url(Handshake &h, const Url &u) {
  h.host = u.host;
  h.port = u.port;
  h.host_header = u.host_header;
  h.target = u.target;
  h.unix_path = u.unix_socket ? u.socket_path : "";
  h.secure = u.secure;
}

// Resolves and connects the current hop (a Unix socket needs neither).
void start_connect(wsc_conn_s *c) {
  Handshake &h = *c->hs();
  if (c->transport()) return send_request(c);  // the caller's transport is connected already
  if (!h.unix_path.empty()) {
    c->is_pipe = true;
    return start_socket(c, [&](int *fd) { return wsc::sock::connect_unix(h.unix_path.c_str(), fd); });
  }
  c->is_pipe = false;
  if (h.addrs) {
    uv_freeaddrinfo(h.addrs);
    h.addrs = h.next_addr = nullptr;
  }
  // An address written as numbers needs no resolver, nor a trip through its thread pool.
  sockaddr_storage ss;
  if (wsc::sock::numeric_address(h.host.c_str(), h.port, &ss))
    return start_socket(c, [&](int *fd) { return wsc::sock::connect_tcp(reinterpret_cast<sockaddr *>(&ss), fd); });
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  h.gai.data = c;
  h.resolving = true;
  int rc = uv_getaddrinfo(c->loop()->uv, &h.gai, on_resolved, h.host.c_str(), std::to_string(h.port).c_str(), &hints);
  if (rc != 0) {
    h.resolving = false;
    c->fail(WSC_ENAME, std::string("getaddrinfo: ") + uv_strerror(rc));
  }
}

// The URL a Location header points to, from the current one (RFC 3986 §5.2, the common forms).
std::string resolve_location(const std::string &base, const std::string &loc) {
  for (const char *scheme : {"ws://", "wss://", "http://", "https://", "ws+unix://"})
    if (loc.rfind(scheme, 0) == 0) return loc.rfind("http", 0) == 0 ? "ws" + loc.substr(4) : loc;
  size_t scheme_end = base.find("://");
  std::string scheme = base.substr(0, scheme_end + 3);
  if (loc.rfind("//", 0) == 0) return scheme.substr(0, scheme.size() - 2) + loc;
  size_t path_start = base.find_first_of("/?", scheme_end + 3);
  std::string origin = base.substr(0, path_start);
  if (scheme == "ws+unix://") {  // the request path follows the socket path's ':'
    size_t colon = base.find(':', scheme_end + 3);
    origin = base.substr(0, colon) + ":";
  }
  if (!loc.empty() && loc[0] == '/') return origin + loc;
  std::string path = path_start == std::string::npos ? "/" : base.substr(path_start);
  path = path.substr(0, path.find('?'));
  return origin + path.substr(0, path.rfind('/') + 1) + loc;
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Follows a 3xx: checks the limit, loops and schemes; lets the user see it; starts the next hop.
void follow_redirect(wsc_conn_s *c, const std::string &location, const std::vector<wsc_header_t> &headers) {
  Handshake &h = *c->hs();
  if (c->transport()) return c->fail(WSC_EREDIRECT, "A transport connection cannot follow a redirect");
  std::string next = resolve_location(c->url(), location);
  if (++h.redirects > h.max_redirects) return c->fail(WSC_EREDIRECT, "Maximum redirects exceeded");
  for (const auto &v : h.visited)
    if (v == next) return c->fail(WSC_EREDIRECT, "Redirect loop: " + next);
  if (c->url().rfind("wss://", 0) == 0 && next.rfind("ws://", 0) == 0)
    return c->fail(WSC_EREDIRECT, "Refusing a redirect from wss:// to ws://");
  Url u;
  if (parse_url(next, &u) != 0) return c->fail(WSC_EREDIRECT, "Unsupported redirect URL: " + next);
  if (u.host_header != h.host_header || u.socket_path != h.unix_path) {
    // Credentials meant for one host are not sent to another.
    auto &hd = h.headers;
    for (size_t i = hd.size(); i-- > 0;)
      if (wsc::iequals(hd[i].first, "Authorization") || wsc::iequals(hd[i].first, "Cookie")) hd.erase(hd.begin() + i);
  }
  h.visited.push_back(next);
  if (!c->strings.set(PackedStrings::kUrl, next)) return c->fail(WSC_ENOMEM, "out of memory");
  apply_url(h, u);
  wsc_conn_event_t ev{};
  ev.type = WSC_EV_REDIRECT;
  ev.code = static_cast<uint32_t>(h.http.msg.status);
  ev.data = reinterpret_cast<const uint8_t *>(next.data());
  ev.len = next.size();
  ev.headers = headers.data();
  ev.nheaders = headers.size();
  c->emit(ev);
  if (c->finishing) return;
  if (!build_request(c)) return c->fail(WSC_ERANDOM, "no random key");
  h.http.reset();
  c->stop_timer();
  c->reading = c->blocked = false;
  c->loop()->unwatch_close(c);  // this hop's socket; the next hop gets its own
  c->x->tls.reset();
  start_connect(c);
}

// A new attempt from the client's configuration: a fresh handshake, then resolve and connect.
void begin_attempt(wsc_conn_s *c) {
  const ClientConfig &cfg = *c->client();
  c->x->hs.reset(new (std::nothrow) Handshake(wsc::HttpParser::kResponse, 256, 64 * 1024));
  if (!c->hs()) return c->fail(WSC_ENOMEM, "out of memory");
  Handshake &h = *c->hs();
  h.protocols = cfg.protocols;
  h.headers = cfg.headers;
  h.follow_redirects = cfg.follow_redirects;
  h.max_redirects = cfg.max_redirects;
  h.visited.push_back(cfg.url);
  h.handshake_timeout_ms = cfg.handshake_timeout_ms;
  if (!c->strings.set(PackedStrings::kUrl, cfg.url)) return c->fail(WSC_ENOMEM, "out of memory");
  Url u;
  parse_url(cfg.url, &u);  // validated by wsc_connect
  apply_url(h, u);
  if (!build_request(c)) return c->fail(WSC_ERANDOM, "no random key");
  if (cfg.connect_timeout_ms)
    c->start_timer(cfg.connect_timeout_ms, [](wsc_conn_s *conn) {
      conn->fail(WSC_ETIMEDOUT, "connect timed out");
    });
  start_connect(c);
}

}  // namespace

int wsc::check_upgrade_response(const HttpMessage &m, const std::string &key, const std::vector<std::string> &protocols,
                                const wsc_deflate_options_t *pmd, const std::string **protocol,
                                const std::string **extensions, PmdAgreement *agreed, std::string *why) {
  auto fail = [why](int err, const char *message) {
    *why = message;
    return err;
  };
  *protocol = *extensions = nullptr;
  const std::string *upgrade = m.find("Upgrade");
  if (upgrade == nullptr || !iequals(*upgrade, "websocket")) return fail(WSC_EBAD_RESPONSE, "Invalid Upgrade header");
  const std::string *connection = m.find("Connection");
  if (connection == nullptr || !list_has_token(*connection, "upgrade"))
    return fail(WSC_EBAD_RESPONSE, "Invalid Connection header");
  const std::string *accept = m.find("Sec-WebSocket-Accept");
  if (accept == nullptr || *accept != websocket_accept(key).view())
    return fail(WSC_EBAD_ACCEPT, "Invalid Sec-WebSocket-Accept header");
  if (const std::string *chosen = m.find("Sec-WebSocket-Protocol")) {
    bool offered = false;
    for (const auto &p : protocols) offered |= p == *chosen;
    if (!offered)
      return fail(WSC_EBAD_PROTOCOL, protocols.empty() ? "Server sent a subprotocol but none was requested"
                                                       : "Server sent an invalid subprotocol");
    *protocol = chosen;
  } else if (!protocols.empty()) {
    return fail(WSC_EBAD_PROTOCOL, "Server sent no subprotocol");
  }
  // The extensions in use are one list, whichever lines carry it (RFC 6455 §9.1, erratum 3433):
  // a second line names another one, and this client takes only one.
  const std::string *ext = nullptr;
  for (const auto &h : m.headers) {
    if (!iequals(h.first, "Sec-WebSocket-Extensions")) continue;
    if (ext != nullptr) return fail(WSC_EBAD_EXTENSION, "Server indicated more than one extension");
    ext = &h.second;
  }
  if (ext != nullptr) {
    if (pmd == nullptr) return fail(WSC_EBAD_EXTENSION, "Server indicated an extension that was not requested");
    int rc = pmd_client_accept(*ext, *pmd, agreed, why);
    if (rc != 0) return rc;
    *extensions = ext;
  }
  return 0;
}

void client_handle_response(wsc_conn_s *c, wsc::HttpParser::Result result, const std::string &rest) {
  const wsc::HttpMessage &m = c->hs()->http.msg;
  if (result != wsc::HttpParser::kDone && m.status == 0)
    return c->fail(WSC_EBAD_RESPONSE, std::string("Invalid HTTP response: ") + (c->hs()->http.error() ? c->hs()->http.error() : "truncated"));
  std::vector<wsc_header_t> headers = header_views(m);
  const std::string *location = m.find("Location");
  if (is_redirect(m.status) && location != nullptr && c->hs()->follow_redirects)
    return follow_redirect(c, *location, headers);
  if (m.status != 101) {
    // ws' 'unexpected-response': the answer, then the error.
    wsc_conn_event_t ev{};
    ev.type = WSC_EV_UNEXPECTED_RESPONSE;
    ev.code = static_cast<uint32_t>(m.status);
    ev.headers = headers.data();
    ev.nheaders = headers.size();
    ev.data = reinterpret_cast<const uint8_t *>(m.body.data());
    ev.len = m.body.size();
    c->emit(ev);
    return c->fail(WSC_EUNEXPECTED_RESPONSE, "Unexpected server response: " + std::to_string(m.status));
  }
  // RFC 6455 §4.1: the checks a client makes of the server's handshake.
  const std::string *protocol = nullptr, *ext = nullptr;
  wsc::PmdAgreement agreed;
  std::string why;
  const wsc_deflate_options_t *offer = c->cfg->pmd_configured ? &c->cfg->pmd : nullptr;
  int rc = wsc::check_upgrade_response(m, c->hs()->key, c->hs()->protocols, offer, &protocol, &ext, &agreed, &why);
  if (rc != 0) return c->fail(rc, why);
  if (protocol != nullptr && !c->strings.set(PackedStrings::kProtocol, *protocol))
    return c->fail(WSC_ENOMEM, "out of memory");
  if (ext != nullptr && !c->pmd_start(agreed, *ext)) return c->fail(WSC_ENOMEM, "out of memory");
  wsc_conn_event_t ev{};
  ev.type = WSC_EV_UPGRADE;
  ev.code = 101;
  ev.headers = headers.data();
  ev.nheaders = headers.size();
  c->emit(ev);
  if (!c->finishing) c->open(rest);
}

int wsc_client_options_init(wsc_client_options_t *opts, size_t size) {
  static const wsc_client_options_t defaults = WSC_CLIENT_OPTIONS_INIT;
  return wsc::options_init(opts, size, defaults);
}

static int connect_common(wsc_conn_t **out, wsc_loop_t *loop, const char *url, const wsc_client_options_t *opts,
                          const wsc_transport_t *transport, wsc_conn_cb cb, void *user_data) {
  wsc::set_last_error(0, "");  // what this call reports, not an earlier one's
  if (out == nullptr) return WSC_EINVAL;
  *out = nullptr;
  if (loop == nullptr || url == nullptr || loop->freeing) return WSC_EINVAL;
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  if (wsc::options_read(&o, opts, offsetof(wsc_client_options_t, tls)) != 0 ||
      (o.flags & ~(WSC_CLIENT_FOLLOW_REDIRECTS | WSC_CLIENT_RECONNECT_ALWAYS)) != 0)
    return WSC_EINVAL;
  wsc_tls_options_t tls = WSC_TLS_OPTIONS_INIT;
  if (wsc::options_read(&tls, o.tls) != 0) return WSC_EINVAL;
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  if (wsc::options_read(&co, o.conn) != 0) return WSC_EINVAL;
  wsc_deflate_options_t deflate = WSC_DEFLATE_OPTIONS_INIT;
  int rc = co.deflate ? wsc::deflate_options_read(&deflate, co.deflate) : 0;
  if (rc != 0) return rc;
  Url u;
  rc = parse_url(url, &u);
  if (rc != 0) return rc;

  // Everything the request carries is validated before anything starts.
  std::vector<std::string> protocols;
  if (o.nprotocols > 0 && o.protocols == nullptr) return WSC_EINVAL;
  for (size_t i = 0; i < o.nprotocols; ++i) {
    if (o.protocols[i] == nullptr || !wsc::is_token(o.protocols[i])) return WSC_EINVAL;
    for (const auto &p : protocols)
      if (p == o.protocols[i]) return WSC_EINVAL;  // duplicates are refused, as ws does
    protocols.emplace_back(o.protocols[i]);
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (o.origin) {
    if (!wsc::header_value_valid(o.origin)) return WSC_EINVAL;
    headers.emplace_back("Origin", o.origin);
  }
  if (o.nheaders > 0 && o.headers == nullptr) return WSC_EINVAL;
  for (size_t i = 0; i < o.nheaders; ++i) {
    const wsc_header_t &h = o.headers[i];
    if (h.name == nullptr || (h.value == nullptr && h.value_len > 0)) return WSC_EINVAL;
    std::string name(h.name, h.name_len), value(h.value ? h.value : "", h.value_len);
    if (!wsc::header_name_valid(name) || !wsc::header_value_valid(value)) return WSC_EINVAL;
    headers.emplace_back(name, value);
  }

  std::unique_ptr<ClientConfig> client(new (std::nothrow) ClientConfig(co, loop));
  if (!client) return WSC_ENOMEM;
  if (u.secure || o.tls) {  // the settings are read now: a bad file fails the call
    std::string why;
    client->tls = loop->client_tls_context(tls, &rc, &why);
    if (!client->tls) return wsc::set_last_error(rc, why);
    if (tls.servername) client->servername = tls.servername;
    client->servername_for = u.host;
    client->no_sni = (tls.flags & WSC_TLS_NO_SNI) != 0;
  }
  auto *c = wsc_conn_s::create(&client->conn);
  if (c == nullptr) return WSC_ENOMEM;
  if (c->extra() == nullptr) {
    delete c;
    return WSC_ENOMEM;
  }
  c->x->client = std::move(client);
  if (transport && !conn_set_transport(c, transport)) {
    c->finish();
    return WSC_EINVAL;
  }
  c->cb = cb;
  c->user_data = user_data;
  ClientConfig &cfg = *c->client();
  cfg.url = url;
  cfg.protocols = std::move(protocols);
  cfg.headers = std::move(headers);
  cfg.follow_redirects = (o.flags & WSC_CLIENT_FOLLOW_REDIRECTS) != 0;
  cfg.max_redirects = o.max_redirects ? o.max_redirects : 10;
  cfg.connect_timeout_ms = o.connect_timeout_ms;
  cfg.handshake_timeout_ms = o.handshake_timeout_ms ? o.handshake_timeout_ms : 30000;
  cfg.reconnect_min_ms = o.reconnect_min_ms;
  cfg.reconnect_max_ms = o.reconnect_max_ms ? o.reconnect_max_ms : 30000;
  cfg.reconnect_max_attempts = o.reconnect_max_attempts;
  cfg.reconnect_always = (o.flags & WSC_CLIENT_RECONNECT_ALWAYS) != 0;
  cfg.offline_queue_bytes = o.offline_queue_bytes;
  *out = c;
  begin_attempt(c);
  return 0;
}

int wsc_connect(wsc_conn_t **out, wsc_loop_t *loop, const char *url, const wsc_client_options_t *opts, wsc_conn_cb cb,
                void *user_data) {
  return connect_common(out, loop, url, opts, nullptr, cb, user_data);
}

int wsc_connect_transport(wsc_conn_t **out, wsc_loop_t *loop, const char *url, const wsc_client_options_t *opts,
                          const wsc_transport_t *transport, wsc_conn_cb cb, void *user_data) {
  if (transport == nullptr) return WSC_EINVAL;
  return connect_common(out, loop, url, opts, transport, cb, user_data);
}

int wsc_conn_set_request_header(wsc_conn_t *conn, const char *name, const char *value) {
  if (conn == nullptr || name == nullptr) return WSC_EINVAL;
  if (conn->is_server() || conn->state != WSC_CONNECTING || !conn->hs() || conn->finishing) return WSC_ESTATE;
  if (!wsc::header_name_valid(name) || (value && !wsc::header_value_valid(value))) return WSC_EINVAL;
  auto &hd = conn->hs()->headers;
  for (size_t i = hd.size(); i-- > 0;)
    if (wsc::iequals(hd[i].first, name)) hd.erase(hd.begin() + i);
  if (value) hd.emplace_back(name, value);
  return build_request(conn) ? 0 : WSC_ERANDOM;
}

bool client_reconnect(wsc_conn_s *c) {
  ClientConfig &cfg = *c->client();
  if (cfg.reconnect_min_ms == 0 || cfg.user_closed || c->transport()) return false;
  if (c->close_received && c->peer_code == WSC_CLOSE_NORMAL && !cfg.reconnect_always) return false;
  if (cfg.reconnect_max_attempts != 0 && cfg.attempt >= cfg.reconnect_max_attempts) return false;
  ++cfg.attempt;
  // Exponential backoff with jitter (0.5x to 1.5x), capped.
  uint64_t delay = uint64_t{cfg.reconnect_min_ms} << std::min<uint32_t>(cfg.attempt - 1, 20);
  uint8_t r[2];
  uint32_t noise = wsc::random_bytes(r, 2) == 0 ? (uint32_t{r[0]} << 8 | r[1]) : 32768;
  delay = delay / 2 + delay * noise / 65536;
  if (delay > cfg.reconnect_max_ms) delay = cfg.reconnect_max_ms;
  if (delay == 0) delay = 1;
  std::string reason = c->close_received ? c->peer_reason() : std::string();
  wsc_conn_event_t ev{};
  ev.type = WSC_EV_RECONNECTING;
  ev.code = c->close_received ? c->peer_code : wsc::abnormal_close_code(c->end_error);
  ev.was_clean = c->was_clean ? 1 : 0;
  ev.data = reinterpret_cast<const uint8_t *>(reason.data());
  ev.len = reason.size();
  ev.error = c->end_error;
  ev.attempt = cfg.attempt;
  ev.delay_ms = static_cast<uint32_t>(delay);
  c->emit(ev);
  if (cfg.user_closed) return false;  // closed from inside the event
  c->reset_for_reconnect();
  c->start_timer(delay, [](wsc_conn_s *conn) { begin_attempt(conn); });
  return true;
}

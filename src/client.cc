// The WebSocket client (wsc/client.h): URL, name resolution, connect, the opening handshake
// (RFC 6455 §4.1) and its validation.
#include <cstring>
#include <new>

#include "net.h"
#include "options.h"
#include "random.h"
#include "wsc/error.h"

namespace {

struct Url {
  bool unix_socket = false;
  std::string host;  // without brackets
  int port = 80;
  std::string target;  // path?query
  std::string socket_path;
  std::string host_header;
};

// ws://host[:port][/path][?query], ws+unix:///socket/path[:/request/path] (ws' syntax).
int parse_url(const std::string &url, Url *u) {
  std::string rest;
  if (url.rfind("ws://", 0) == 0) {
    rest = url.substr(5);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("ws+unix://", 0) == 0) {
    u->unix_socket = true;
    rest = url.substr(10);
  } else {
    return WSC_EURL;  // wss:// arrives with TLS
  }
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
  if (u->port != 80) u->host_header += ":" + std::to_string(u->port);
  return 0;
}

void connect_next(wsc_conn_s *c);

void on_connected(uv_connect_t *req, int status) {
  auto *c = static_cast<wsc_conn_s *>(req->data);
  if (status == UV_ECANCELED || c->finishing) return;
  if (status < 0) {
    if (c->hs->next_addr != nullptr) {  // try the next address of the name
      c->io_init = false;
      ++c->open_handles;
      uv_close(&c->io.handle, [](uv_handle_t *h) {
        auto *conn = static_cast<wsc_conn_s *>(h->data);
        if (--conn->open_handles == 0) {
          conn->final_event();
        } else if (!conn->finishing) {
          connect_next(conn);
        }
      });
      return;
    }
    c->fail(wsc::from_uv(status), std::string("connect failed: ") + uv_strerror(status));
    return;
  }
  if (!c->is_pipe && !(c->flags & WSC_CONN_NAGLE)) uv_tcp_nodelay(&c->io.tcp, 1);
  c->start_timer(c->hs->handshake_timeout_ms, [](uv_timer_t *t) {
    static_cast<wsc_conn_s *>(t->data)->fail(WSC_EHANDSHAKE_TIMEOUT, "Opening handshake has timed out");
  });
  wsc_buf_t b{reinterpret_cast<const uint8_t *>(c->hs->request.data()), c->hs->request.size()};
  c->queue(&b, 1);
  if (!c->start_reading()) c->fail(WSC_EIO, "cannot read from the socket");
}

void connect_next(wsc_conn_s *c) {
  addrinfo *ai = c->hs->next_addr;
  c->hs->next_addr = ai->ai_next;
  uv_tcp_init(c->loop->uv, &c->io.tcp);
  c->io.handle.data = c;
  c->io_init = true;
  c->hs->connect_req.data = c;
  int rc = uv_tcp_connect(&c->hs->connect_req, &c->io.tcp, ai->ai_addr, on_connected);
  if (rc != 0) c->fail(wsc::from_uv(rc), std::string("connect failed: ") + uv_strerror(rc));
}

void on_resolved(uv_getaddrinfo_t *req, int status, addrinfo *res) {
  auto *c = static_cast<wsc_conn_s *>(req->data);
  c->hs->resolving = false;
  c->hs->addrs = res;
  if (c->finishing) {
    if (c->open_handles == 0) c->final_event();
    return;
  }
  if (status < 0 || res == nullptr) {
    c->fail(WSC_ENAME, "getaddrinfo " + c->hs->host + ": " + uv_strerror(status));
    return;
  }
  c->hs->next_addr = res;
  connect_next(c);
}

std::vector<wsc_header_t> header_views(const wsc::HttpMessage &m) {
  std::vector<wsc_header_t> v;
  for (const auto &h : m.headers) v.push_back({h.first.data(), h.first.size(), h.second.data(), h.second.size()});
  return v;
}

}  // namespace

void client_handle_response(wsc_conn_s *c, wsc::HttpParser::Result result, const std::string &rest) {
  const wsc::HttpMessage &m = c->hs->http.msg;
  if (result != wsc::HttpParser::kDone && m.status == 0)
    return c->fail(WSC_EBAD_RESPONSE, std::string("Invalid HTTP response: ") + (c->hs->http.error() ? c->hs->http.error() : "truncated"));
  std::vector<wsc_header_t> headers = header_views(m);
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
  const std::string *upgrade = m.find("Upgrade");
  if (upgrade == nullptr || !wsc::iequals(*upgrade, "websocket"))
    return c->fail(WSC_EBAD_RESPONSE, "Invalid Upgrade header");
  const std::string *connection = m.find("Connection");
  if (connection == nullptr || !wsc::list_has_token(*connection, "upgrade"))
    return c->fail(WSC_EBAD_RESPONSE, "Invalid Connection header");
  const std::string *accept = m.find("Sec-WebSocket-Accept");
  if (accept == nullptr || *accept != wsc::websocket_accept(c->hs->key))
    return c->fail(WSC_EBAD_ACCEPT, "Invalid Sec-WebSocket-Accept header");
  const std::string *protocol = m.find("Sec-WebSocket-Protocol");
  if (protocol != nullptr) {
    bool offered = false;
    for (const auto &p : c->hs->protocols) offered |= p == *protocol;
    if (!offered)
      return c->fail(WSC_EBAD_PROTOCOL, c->hs->protocols.empty() ? "Server sent a subprotocol but none was requested"
                                                                  : "Server sent an invalid subprotocol");
    c->protocol = *protocol;
  } else if (!c->hs->protocols.empty()) {
    return c->fail(WSC_EBAD_PROTOCOL, "Server sent no subprotocol");
  }
  if (m.find("Sec-WebSocket-Extensions") != nullptr)
    return c->fail(WSC_EBAD_EXTENSION, "Server indicated an extension that was not requested");
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

int wsc_connect(wsc_conn_t **out, wsc_loop_t *loop, const char *url, const wsc_client_options_t *opts, wsc_conn_cb cb,
                void *user_data) {
  if (out == nullptr) return WSC_EINVAL;
  *out = nullptr;
  if (loop == nullptr || url == nullptr || loop->freeing) return WSC_EINVAL;
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  if (wsc::options_read(&o, opts) != 0 || o.flags != 0) return WSC_EINVAL;
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  if (wsc::options_read(&co, o.conn) != 0) return WSC_EINVAL;
  Url u;
  int rc = parse_url(url, &u);
  if (rc != 0) return rc;

  // The request (RFC 6455 §4.1), validated before anything starts.
  uint8_t nonce[16];
  if (wsc::random_bytes(nonce, sizeof nonce) != 0) return WSC_ERANDOM;
  std::string key = wsc::base64_encode(nonce, sizeof nonce);
  std::string req = "GET " + u.target + " HTTP/1.1\r\nHost: " + u.host_header +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                    "\r\nSec-WebSocket-Version: 13\r\n";
  std::vector<std::string> protocols;
  if (o.nprotocols > 0 && o.protocols == nullptr) return WSC_EINVAL;
  for (size_t i = 0; i < o.nprotocols; ++i) {
    if (o.protocols[i] == nullptr || !wsc::is_token(o.protocols[i])) return WSC_EINVAL;
    for (const auto &p : protocols)
      if (p == o.protocols[i]) return WSC_EINVAL;  // duplicates are refused, as ws does
    protocols.emplace_back(o.protocols[i]);
  }
  if (!protocols.empty()) {
    req += "Sec-WebSocket-Protocol: ";
    for (size_t i = 0; i < protocols.size(); ++i) req += (i ? ", " : "") + protocols[i];
    req += "\r\n";
  }
  if (o.origin) {
    if (!wsc::header_value_valid(o.origin)) return WSC_EINVAL;
    req += std::string("Origin: ") + o.origin + "\r\n";
  }
  if (o.nheaders > 0 && o.headers == nullptr) return WSC_EINVAL;
  for (size_t i = 0; i < o.nheaders; ++i) {
    const wsc_header_t &h = o.headers[i];
    if (h.name == nullptr || (h.value == nullptr && h.value_len > 0)) return WSC_EINVAL;
    std::string name(h.name, h.name_len), value(h.value ? h.value : "", h.value_len);
    if (!wsc::header_name_valid(name) || !wsc::header_value_valid(value)) return WSC_EINVAL;
    req += name + ": " + value + "\r\n";
  }
  req += "\r\n";

  auto *c = new (std::nothrow) wsc_conn_s(loop, false, co);
  if (c == nullptr) return WSC_ENOMEM;
  c->cb = cb;
  c->user_data = user_data;
  c->url = url;
  c->hs.reset(new (std::nothrow) Handshake(wsc::HttpParser::kResponse, 256, 64 * 1024));
  if (!c->hs) {
    c->finish();
    return WSC_ENOMEM;
  }
  c->hs->request = std::move(req);
  c->hs->key = key;
  c->hs->protocols = std::move(protocols);
  c->hs->host = u.host;
  c->hs->port = u.port;
  c->hs->handshake_timeout_ms = o.handshake_timeout_ms ? o.handshake_timeout_ms : 30000;
  if (o.connect_timeout_ms)
    c->start_timer(o.connect_timeout_ms, [](uv_timer_t *t) {
      static_cast<wsc_conn_s *>(t->data)->fail(WSC_ETIMEDOUT, "connect timed out");
    });
  *out = c;

  if (u.unix_socket) {
    c->is_pipe = true;
    uv_pipe_init(loop->uv, &c->io.pipe, 0);
    c->io.handle.data = c;
    c->io_init = true;
    c->hs->connect_req.data = c;
    uv_pipe_connect(&c->hs->connect_req, &c->io.pipe, u.socket_path.c_str(), on_connected);
    return 0;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  c->hs->gai.data = c;
  c->hs->resolving = true;
  rc = uv_getaddrinfo(loop->uv, &c->hs->gai, on_resolved, u.host.c_str(), std::to_string(u.port).c_str(), &hints);
  if (rc != 0) {
    c->hs->resolving = false;
    c->fail(WSC_ENAME, std::string("getaddrinfo: ") + uv_strerror(rc));
  }
  return 0;
}

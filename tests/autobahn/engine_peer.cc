// A conformance peer for Autobahn|Testsuite built on the sans-I/O engine's public C API only
// (wsc_parser_*, wsc_sender_*), with a deliberately plain socket layer and a minimal handshake:
// it checks the engine, not the networking, which comes with the libuv server and client.
//
//   engine_peer server PORT            echo server on 127.0.0.1:PORT (wstest fuzzingclient)
//   engine_peer client                 testee client for wstest fuzzingserver; reads
//                                      AUTOBAHN_URL (ws://127.0.0.1:PORT) and AUTOBAHN_AGENT
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "wsc/wsc.h"

namespace {

std::string accept_key(const std::string &key) {
  std::string s = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 §1.3
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char *>(s.data()), s.size(), digest);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char *>(out), static_cast<size_t>(n));
}

std::string header_value(const std::string &head, const std::string &name) {
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  size_t p = lower.find("\r\n" + name + ":");
  if (p == std::string::npos) return "";
  p += name.size() + 3;
  size_t e = head.find("\r\n", p);
  std::string v = head.substr(p, e - p);
  v.erase(0, v.find_first_not_of(" \t"));
  v.erase(v.find_last_not_of(" \t") + 1);
  return v;
}

// One WebSocket connection: bytes in through the parser, frames out through the sender.
struct Conn {
  int fd = -1;
  bool upgraded = false;
  bool closing = false;   // our close frame is queued: shut down once it is written
  bool done = false;
  std::string head;
  std::vector<uint8_t> out;
  wsc_parser_t *parser = nullptr;
  wsc_sender_t *sender = nullptr;

  ~Conn() {
    wsc_parser_free(parser);
    wsc_sender_free(sender);
    if (fd >= 0) close(fd);
  }

  static void on_write(wsc_sender_t *, const wsc_buf_t *bufs, uint32_t n, void *ud) {
    auto *c = static_cast<Conn *>(ud);
    for (uint32_t i = 0; i < n; ++i) c->out.insert(c->out.end(), bufs[i].base, bufs[i].base + bufs[i].len);
  }

  static void on_event(wsc_parser_t *, const wsc_parser_event_t *ev, void *ud) {
    auto *c = static_cast<Conn *>(ud);
    switch (ev->type) {
      case WSC_PARSER_MESSAGE: wsc_sender_send(c->sender, ev->opcode, ev->data, ev->len, 0); break;
      case WSC_PARSER_PING: wsc_sender_pong(c->sender, ev->data, ev->len); break;
      case WSC_PARSER_CLOSE:
        wsc_sender_close(c->sender, ev->close_code == WSC_CLOSE_NO_STATUS ? 0 : ev->close_code, nullptr, 0);
        c->closing = true;
        break;
      case WSC_PARSER_ERROR:
        wsc_sender_close(c->sender, ev->close_code, nullptr, 0);
        c->closing = true;
        break;
      default: break;
    }
  }

  bool start(wsc_role_t role) {
    wsc_parser_options_t po = WSC_PARSER_OPTIONS_INIT;
    po.role = role;
    wsc_sender_options_t so = WSC_SENDER_OPTIONS_INIT;
    so.role = role;
    upgraded = true;
    return wsc_parser_new(&parser, &po, on_event, this) == 0 && wsc_sender_new(&sender, &so, on_write, this) == 0;
  }

  // Feeds received bytes; returns false when the connection is over.
  bool feed(uint8_t *p, size_t n) {
    size_t used = 0;
    wsc_parser_feed(parser, &used, p, n);
    return true;
  }

  bool flush() {
    while (!out.empty()) {
      ssize_t w = send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (w < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
      out.erase(out.begin(), out.begin() + w);
    }
    if (closing) {
      shutdown(fd, SHUT_WR);
      done = true;
    }
    return true;
  }
};

int run_server(int port) {
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 || listen(lfd, 64) != 0) {
    perror("listen");
    return 1;
  }
  std::fprintf(stderr, "engine_peer: echo server on ws://127.0.0.1:%d\n", port);
  std::map<int, std::unique_ptr<Conn>> conns;
  std::vector<uint8_t> buf(1 << 16);
  for (;;) {
    std::vector<pollfd> fds{{lfd, POLLIN, 0}};
    for (auto &kv : conns) fds.push_back({kv.first, static_cast<short>(POLLIN | (kv.second->out.empty() ? 0 : POLLOUT)), 0});
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return 1;
    if (fds[0].revents & POLLIN) {
      int cfd = accept(lfd, nullptr, nullptr);
      if (cfd >= 0) {
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto c = std::make_unique<Conn>();
        c->fd = cfd;
        conns[cfd] = std::move(c);
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      auto it = conns.find(fds[i].fd);
      if (it == conns.end()) continue;
      Conn &c = *it->second;
      bool alive = true;
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t r = recv(c.fd, buf.data(), buf.size(), 0);
        if (r <= 0) {
          alive = false;
        } else if (!c.upgraded) {
          c.head.append(reinterpret_cast<char *>(buf.data()), static_cast<size_t>(r));
          size_t end = c.head.find("\r\n\r\n");
          if (end != std::string::npos) {
            std::string key = header_value(c.head.substr(0, end + 2), "sec-websocket-key");
            std::string resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Accept: " + accept_key(key) + "\r\n\r\n";
            c.out.assign(resp.begin(), resp.end());
            std::string rest = c.head.substr(end + 4);
            alive = c.start(WSC_ROLE_SERVER);
            if (alive && !rest.empty()) c.feed(reinterpret_cast<uint8_t *>(&rest[0]), rest.size());
          }
        } else if (!c.closing) {
          c.feed(buf.data(), static_cast<size_t>(r));
        }
      }
      if (alive) alive = c.flush();
      if (!alive) conns.erase(it);
    }
  }
}

// ---- client testee ----

int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Opens `path` as a WebSocket client and echoes until the connection ends. Returns the text of
// the last text message (for /getCaseCount).
std::string client_session(int port, const std::string &path) {
  std::string last_text;
  int fd = connect_to(port);
  if (fd < 0) return "";
  Conn c;
  c.fd = fd;
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\n\r\n";
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return "";
  std::vector<uint8_t> buf(1 << 16);
  struct Tap {
    Conn *c;
    std::string *text;
  } tap{&c, &last_text};
  for (;;) {
    ssize_t r = recv(fd, buf.data(), buf.size(), 0);
    if (r <= 0) break;
    if (!c.upgraded) {
      c.head.append(reinterpret_cast<char *>(buf.data()), static_cast<size_t>(r));
      size_t end = c.head.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      if (c.head.compare(0, 12, "HTTP/1.1 101") != 0 ||
          header_value(c.head.substr(0, end + 2), "sec-websocket-accept") != accept_key("dGhlIHNhbXBsZSBub25jZQ=="))
        break;
      wsc_parser_options_t po = WSC_PARSER_OPTIONS_INIT;
      po.role = WSC_ROLE_CLIENT;
      wsc_sender_options_t so = WSC_SENDER_OPTIONS_INIT;
      so.role = WSC_ROLE_CLIENT;
      c.upgraded = true;
      wsc_sender_new(&c.sender, &so, Conn::on_write, &c);
      wsc_parser_new(&c.parser, &po,
                     [](wsc_parser_t *p, const wsc_parser_event_t *ev, void *ud) {
                       auto *t = static_cast<Tap *>(ud);
                       if (ev->type == WSC_PARSER_MESSAGE && ev->opcode == WSC_OP_TEXT)
                         t->text->assign(reinterpret_cast<const char *>(ev->data), ev->len);
                       Conn::on_event(p, ev, t->c);
                     },
                     &tap);
      std::string rest = c.head.substr(end + 4);
      if (!rest.empty()) c.feed(reinterpret_cast<uint8_t *>(&rest[0]), rest.size());
    } else if (!c.closing) {
      c.feed(buf.data(), static_cast<size_t>(r));
    }
    // Blocking writes are fine for a testee that talks to one peer at a time.
    while (!c.out.empty()) {
      ssize_t w = send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (w <= 0) break;
      c.out.erase(c.out.begin(), c.out.begin() + w);
    }
    if (c.closing) {
      shutdown(fd, SHUT_WR);
      c.closing = false;  // keep reading until the server closes
      c.done = true;
    }
  }
  return last_text;
}

int run_client() {
  const char *url = std::getenv("AUTOBAHN_URL");
  const char *agent = std::getenv("AUTOBAHN_AGENT");
  if (!url || !agent) return std::fprintf(stderr, "AUTOBAHN_URL and AUTOBAHN_AGENT must be set\n"), 2;
  int port = std::atoi(std::strrchr(url, ':') + 1);
  int count = std::atoi(client_session(port, "/getCaseCount").c_str());
  std::fprintf(stderr, "engine_peer: %d cases\n", count);
  for (int i = 1; i <= count; ++i) client_session(port, "/runCase?case=" + std::to_string(i) + "&agent=" + agent);
  client_session(port, std::string("/updateReports?agent=") + agent);
  return count > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (argc == 3 && std::strcmp(argv[1], "server") == 0) return run_server(std::atoi(argv[2]));
  if (argc == 2 && std::strcmp(argv[1], "client") == 0) return run_client();
  std::fprintf(stderr, "usage: engine_peer server PORT | engine_peer client\n");
  return 2;
}

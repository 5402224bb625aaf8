// The client (src/client.cc): URLs, request options, and every way a server's answer can fail
// the handshake, against raw servers that misbehave on purpose.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "fuzz/replay.h"
#include "http.h"
#include "net_support.h"

using namespace wsc_test;

namespace {

struct Client {
  Events events;
  bool closed = false;
  std::vector<std::string> headers;  // of UPGRADE / UNEXPECTED_RESPONSE
  static void on(wsc_conn_t *, const wsc_conn_event_t *ev, void *ud) {
    auto *c = static_cast<Client *>(ud);
    c->events.log.push_back(describe_conn_event(*ev));
    for (size_t i = 0; i < ev->nheaders; ++i)
      c->headers.push_back(std::string(ev->headers[i].name, ev->headers[i].name_len) + ": " +
                           std::string(ev->headers[i].value, ev->headers[i].value_len));
    if (ev->type == WSC_EV_CLOSE) c->closed = true;
  }
};

// A raw server that reads the request and answers with `answer(key)`.
std::string key_of(const std::string &request) {
  size_t p = request.find("Sec-WebSocket-Key: ");
  return p == std::string::npos ? "" : request.substr(p + 19, 24);
}

std::string good_101(const std::string &key, const std::string &extra = "") {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
         std::string(wsc::websocket_accept(key).view()) + "\r\n" + extra + "\r\n";
}

std::vector<std::string> run_against(TestLoop &t, std::function<std::string(const std::string &request)> answer,
                                     const wsc_client_options_t *opts = nullptr, std::string *request_seen = nullptr) {
  RawServer server([&](int fd) {
    std::string req = read_until(fd, "\r\n\r\n");
    if (request_seen) *request_seen = req;
    send_all(fd, answer(req));
    read_all(fd);  // until the client closes
  });
  Client c;
  wsc_conn_t *conn;
  EXPECT_EQ(wsc_connect(&conn, t.loop, ("ws://127.0.0.1:" + std::to_string(server.port) + "/x").c_str(), opts, Client::on, &c),
            0);
  EXPECT_EQ(wsc_conn_ready_state(conn), (uint32_t)WSC_CONNECTING);
  t.run_until([&] { return c.closed; });
  return c.events.log;
}

}  // namespace

TEST(Client, RejectsBadUrlsAtOnce) {
  TestLoop t;
  wsc_conn_t *c = reinterpret_cast<wsc_conn_t *>(0x1);
  for (const char *url : {"", "ftp://host/", "ws://", "ws://host:0/", "ws://host:65536/", "ws://host:x/",
                          "ws://host/#fragment", "ws://[::1/", "ws://user@host/", "ws://ho st/", "ws+unix://", "wss://"}) {
    EXPECT_EQ(wsc_connect(&c, t.loop, url, nullptr, Client::on, nullptr), WSC_EURL) << url;
    EXPECT_EQ(c, nullptr);
  }
  EXPECT_EQ(wsc_connect(&c, nullptr, "ws://host/", nullptr, Client::on, nullptr), WSC_EINVAL);
  t.close_clean();
}

TEST(Client, RejectsBadRequestOptionsAtOnce) {
  TestLoop t;
  wsc_conn_t *c;
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  const char *bad_protocols[] = {"chat", "bad protocol"};
  o.protocols = bad_protocols;
  o.nprotocols = 2;
  EXPECT_EQ(wsc_connect(&c, t.loop, "ws://127.0.0.1:1/", &o, Client::on, nullptr), WSC_EINVAL);
  const char *dup[] = {"chat", "chat"};
  o.protocols = dup;
  EXPECT_EQ(wsc_connect(&c, t.loop, "ws://127.0.0.1:1/", &o, Client::on, nullptr), WSC_EINVAL);
  o = wsc_client_options_t WSC_CLIENT_OPTIONS_INIT;
  wsc_header_t h = {"X-Evil", 6, "a\r\nInjected: 1", 15};
  o.headers = &h;
  o.nheaders = 1;
  EXPECT_EQ(wsc_connect(&c, t.loop, "ws://127.0.0.1:1/", &o, Client::on, nullptr), WSC_EINVAL);
  o = wsc_client_options_t WSC_CLIENT_OPTIONS_INIT;
  o.origin = "http://x\r\n";
  EXPECT_EQ(wsc_connect(&c, t.loop, "ws://127.0.0.1:1/", &o, Client::on, nullptr), WSC_EINVAL);
  t.close_clean();
}

TEST(Client, SendsItsRequestAndSeesTheUpgradeHeaders) {
  TestLoop t;
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  const char *protocols[] = {"chat", "superchat"};
  o.protocols = protocols;
  o.nprotocols = 2;
  o.origin = "https://example.org";
  wsc_header_t h = {"X-Token", 7, "abc", 3};
  o.headers = &h;
  o.nheaders = 1;
  std::string request;
  Client c;
  RawServer server([&](int fd) {
    request = read_until(fd, "\r\n\r\n");
    send_all(fd, good_101(key_of(request), "Sec-WebSocket-Protocol: superchat\r\nX-Hello: there\r\n"));
    send_all(fd, std::string("\x88\x02\x03\xe8", 4));  // close at once
    read_until(fd, "\x88");  // the client's answer (masked), then the server closes TCP first
  });
  wsc_conn_t *conn;
  ASSERT_EQ(wsc_connect(&conn, t.loop, ("ws://127.0.0.1:" + std::to_string(server.port) + "/chat?x=1").c_str(), &o,
                        [](wsc_conn_t *cn, const wsc_conn_event_t *ev, void *ud) {
                          if (ev->type == WSC_EV_OPEN) {
                            EXPECT_STREQ(wsc_conn_protocol(cn), "superchat");
                          }
                          Client::on(cn, ev, ud);
                        },
                        &c),
            0);
  t.run_until([&] { return c.closed; });
  EXPECT_EQ(request.substr(0, request.find("\r\n")), "GET /chat?x=1 HTTP/1.1");
  EXPECT_NE(request.find("Host: 127.0.0.1:" + std::to_string(server.port) + "\r\n"), std::string::npos);
  EXPECT_NE(request.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
  EXPECT_NE(request.find("Sec-WebSocket-Protocol: chat, superchat\r\n"), std::string::npos);
  EXPECT_NE(request.find("Origin: https://example.org\r\n"), std::string::npos);
  EXPECT_NE(request.find("X-Token: abc\r\n"), std::string::npos);
  EXPECT_TRUE(wsc::websocket_key_valid(key_of(request)));
  EXPECT_EQ(c.events.log, (std::vector<std::string>{"upgrade 101", "open", "close 1000  clean"}));
  bool saw = false;
  for (const auto &line : c.headers) saw |= line == "X-Hello: there";
  EXPECT_TRUE(saw);
  t.close_clean();
}

TEST(Client, ConnectionRefused) {
  TestLoop t;
  int port;
  {
    RawServer s([](int) {});  // find a free port, then close it
    port = s.port;
  }
  Client c;
  wsc_conn_t *conn;
  ASSERT_EQ(wsc_connect(&conn, t.loop, ("ws://127.0.0.1:" + std::to_string(port) + "/").c_str(), nullptr, Client::on, &c), 0);
  t.run_until([&] { return c.closed; });
  ASSERT_EQ(c.events.log.size(), 2u);
  EXPECT_EQ(c.events.log[0].rfind("error WSC_ECONNREFUSED", 0), 0u) << c.events.log[0];
  EXPECT_EQ(c.events.log[1], "close 1006  unclean");
  t.close_clean();
}

TEST(Client, UnexpectedResponseDeliversStatusHeadersAndBody) {
  TestLoop t;
  Client c;
  RawServer server([&](int fd) {
    read_until(fd, "\r\n\r\n");
    send_all(fd, "HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nX-Why: policy\r\n\r\nforbidden");
    read_all(fd);
  });
  wsc_conn_t *conn;
  ASSERT_EQ(wsc_connect(&conn, t.loop, ("ws://127.0.0.1:" + std::to_string(server.port) + "/").c_str(), nullptr,
                        Client::on, &c),
            0);
  t.run_until([&] { return c.closed; });
  ASSERT_EQ(c.events.log.size(), 3u);
  EXPECT_EQ(c.events.log[0], "unexpected-response 403 forbidden");
  EXPECT_EQ(c.events.log[1], "error WSC_EUNEXPECTED_RESPONSE Unexpected server response: 403");
  EXPECT_EQ(c.events.log[2], "close 1006  unclean");
  bool saw = false;
  for (const auto &line : c.headers) saw |= line == "X-Why: policy";
  EXPECT_TRUE(saw);
  t.close_clean();
}

TEST(Client, EveryInvalidHandshakeAnswerFails) {
  struct Case {
    const char *name;
    std::function<std::string(const std::string &)> answer;
    const char *error;
    bool offer_protocol;
    bool no_deflate = false;
  } cases[] = {
      {"wrong accept", [](const std::string &) { return good_101("AAAAAAAAAAAAAAAAAAAAAA=="); }, "error WSC_EBAD_ACCEPT", false},
      {"no upgrade header",
       [](const std::string &r) {
         std::string a = good_101(key_of(r));
         return a.replace(a.find("Upgrade: websocket\r\n"), 20, "");
       },
       "error WSC_EBAD_RESPONSE", false},
      {"unrequested protocol",
       [](const std::string &r) { return good_101(key_of(r), "Sec-WebSocket-Protocol: chat\r\n"); },
       "error WSC_EBAD_PROTOCOL", false},
      {"protocol not offered",
       [](const std::string &r) { return good_101(key_of(r), "Sec-WebSocket-Protocol: other\r\n"); },
       "error WSC_EBAD_PROTOCOL", true},
      {"no protocol chosen", [](const std::string &r) { return good_101(key_of(r)); }, "error WSC_EBAD_PROTOCOL", true},
      {"unrequested extension (offer disabled)",
       [](const std::string &r) { return good_101(key_of(r), "Sec-WebSocket-Extensions: permessage-deflate\r\n"); },
       "error WSC_EBAD_EXTENSION", false, true},
      {"unknown extension",
       [](const std::string &r) { return good_101(key_of(r), "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n"); },
       "error WSC_EBAD_EXTENSION", false},
      {"deflate window out of range",
       [](const std::string &r) {
         return good_101(key_of(r), "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=16\r\n");
       },
       "error WSC_EBAD_EXTENSION", false},
      {"deflate parameter unknown",
       [](const std::string &r) { return good_101(key_of(r), "Sec-WebSocket-Extensions: permessage-deflate; x=1\r\n"); },
       "error WSC_EBAD_EXTENSION", false},
      {"deflate parameter twice",
       [](const std::string &r) {
         return good_101(key_of(r),
                         "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
                         "server_no_context_takeover\r\n");
       },
       "error WSC_EBAD_EXTENSION", false},
      {"not HTTP", [](const std::string &) { return std::string("SSH-2.0-OpenSSH\r\n\r\n"); }, "error WSC_EBAD_RESPONSE",
       false},
  };
  for (const auto &c : cases) {
    TestLoop t;
    HandshakeOptions o(c.offer_protocol, c.no_deflate);
    auto log = run_against(t, c.answer, &o.options);
    ASSERT_EQ(log.size(), 2u) << c.name;
    EXPECT_EQ(log[0].rfind(c.error, 0), 0u) << c.name << ": " << log[0];
    EXPECT_EQ(log[1], "close 1006  unclean") << c.name;
    t.close_clean();
  }
}

TEST(Client, HandshakeTimeout) {
  TestLoop t;
  std::atomic<bool> stop{false};
  RawServer server([&](int fd) {
    read_until(fd, "\r\n\r\n");
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // never answers
  });
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  o.handshake_timeout_ms = 100;
  Client c;
  wsc_conn_t *conn;
  ASSERT_EQ(wsc_connect(&conn, t.loop, ("ws://127.0.0.1:" + std::to_string(server.port) + "/").c_str(), &o, Client::on, &c),
            0);
  t.run_until([&] { return c.closed; });
  stop = true;
  ASSERT_EQ(c.events.log.size(), 2u);
  EXPECT_EQ(c.events.log[0], "error WSC_EHANDSHAKE_TIMEOUT Opening handshake has timed out");
  t.close_clean();
}

TEST(Client, CloseWhileConnectingFailsTheConnection) {
  TestLoop t;
  RawServer server([&](int fd) { read_all(fd); });
  Client c;
  wsc_conn_t *conn;
  ASSERT_EQ(wsc_connect(&conn, t.loop, ("ws://localhost:" + std::to_string(server.port) + "/").c_str(), nullptr,
                        Client::on, &c),
            0);
  EXPECT_EQ(wsc_conn_close(conn, 1000, nullptr, 0), 0);  // still resolving "localhost"
  t.run_until([&] { return c.closed; });
  EXPECT_EQ(c.events.log.size(), 2u);
  EXPECT_EQ(c.events.log.back(), "close 1006  unclean");
  t.close_clean();
}

TEST(Client, ConnectTimeout) {
  // A listener that never accepts, with its accept queue full: further SYNs go unanswered.
  int port;
  int lfd = listen_loopback(&port, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
    fillers.push_back(fd);
  }
  usleep(50000);
  TestLoop t;
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  o.connect_timeout_ms = 200;
  Client c;
  wsc_conn_t *conn;
  ASSERT_EQ(wsc_connect(&conn, t.loop, ("ws://127.0.0.1:" + std::to_string(port) + "/").c_str(), &o,
                        Client::on, &c),
            0);
  t.run_until([&] { return c.closed; });
  ASSERT_EQ(c.events.log.size(), 2u);
  EXPECT_EQ(c.events.log[0], "error WSC_ETIMEDOUT connect timed out");
  t.close_clean();
  for (int fd : fillers) close(fd);
  close(lfd);
}

namespace {

// A wsc server that redirects requests by path (/from -> Location) and accepts the rest,
// recording the headers each accepted request carried.
struct RedirectingServer {
  explicit RedirectingServer(TestLoop &t) : loop(t) {
    wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
    so.host = "127.0.0.1";
    so.flags = WSC_SERVER_HANDLE_REQUESTS;
    EXPECT_EQ(wsc_server_new(&srv, t.loop, &so, on_event, this), 0);
    wsc_addr_t a;
    wsc_server_address(srv, &a);
    port = static_cast<int>(a.port);
  }
  static void on_event(wsc_server_t *, const wsc_server_event_t *ev, void *ud) {
    auto *s = static_cast<RedirectingServer *>(ud);
    if (ev->type == WSC_SERVER_CLOSE) s->closed = true;
    if (ev->type != WSC_SERVER_REQUEST) return;
    std::string path = wsc_request_path(ev->request);
    auto it = s->routes.find(path);
    if (it != s->routes.end()) {
      wsc_request_add_header(ev->request, "Location", it->second.c_str());
      wsc_request_reject(ev->request, 302, nullptr, nullptr, 0);
      return;
    }
    std::string seen = path;
    for (const char *h : {"Authorization", "Cookie", "X-Keep", "X-Added"}) {
      const char *v = wsc_request_header_value(ev->request, h);
      if (v) seen += std::string(" ") + h + "=" + v;
    }
    s->accepted.push_back(seen);
  }
  void close() {
    wsc_server_close(srv, 0);
    loop.run_until([&] { return closed; });
  }
  std::string url(const std::string &path) const { return "ws://127.0.0.1:" + std::to_string(port) + path; }
  TestLoop &loop;
  wsc_server_t *srv = nullptr;
  int port = 0;
  bool closed = false;
  std::map<std::string, std::string> routes;
  std::vector<std::string> accepted;
};

}  // namespace

TEST(Client, FollowsRedirectsAndStripsCredentialsAcrossHosts) {
  TestLoop t;
  RedirectingServer a(t), b(t);
  a.routes["/start"] = "/same-host";                 // relative: same host keeps credentials
  a.routes["/same-host"] = b.url("/other-host");     // another port: another host
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  o.flags = WSC_CLIENT_FOLLOW_REDIRECTS;
  wsc_header_t hs[] = {{"Authorization", 13, "Bearer x", 8}, {"Cookie", 6, "s=1", 3}, {"X-Keep", 6, "yes", 3}};
  o.headers = hs;
  o.nheaders = 3;
  Client c;
  wsc_conn_t *conn;
  std::vector<std::string> hops;
  struct Ctx {
    Client *c;
    std::vector<std::string> *hops;
  } ctx{&c, &hops};
  ASSERT_EQ(wsc_connect(&conn, t.loop, a.url("/start").c_str(), &o,
                        [](wsc_conn_t *cn, const wsc_conn_event_t *ev, void *ud) {
                          auto *x = static_cast<Ctx *>(ud);
                          if (ev->type == WSC_EV_REDIRECT) {
                            x->hops->push_back(std::to_string(ev->code) + " " +
                                               std::string(reinterpret_cast<const char *>(ev->data), ev->len));
                            EXPECT_EQ(wsc_conn_set_request_header(cn, "X-Added", "by-redirect-event"), 0);
                            EXPECT_EQ(wsc_conn_set_request_header(cn, "Bad Name", "x"), WSC_EINVAL);
                          }
                          if (ev->type == WSC_EV_OPEN) wsc_conn_close(cn, 1000, nullptr, 0);
                          Client::on(cn, ev, x->c);
                        },
                        &ctx),
            0);
  t.run_until([&] { return c.closed; });
  ASSERT_EQ(hops.size(), 2u);
  EXPECT_EQ(hops[0], "302 " + a.url("/same-host"));
  EXPECT_EQ(hops[1], "302 " + b.url("/other-host"));
  EXPECT_TRUE(c.events.has("open"));
  ASSERT_EQ(b.accepted.size(), 1u);
  EXPECT_EQ(b.accepted[0], "/other-host X-Keep=yes X-Added=by-redirect-event")
      << "Authorization and Cookie are not sent to another host";
  a.close();
  b.close();
  t.close_clean();
}

TEST(Client, RedirectLimitsLoopsAndSchemes) {
  struct Case {
    const char *name;
    std::function<void(RedirectingServer &, RedirectingServer &)> routes;
    uint32_t max;
    const char *error;
  } cases[] = {
      {"limit",
       [](RedirectingServer &a, RedirectingServer &) {
         a.routes["/start"] = "/1";
         a.routes["/1"] = "/2";
         a.routes["/2"] = "/3";
       },
       2, "error WSC_EREDIRECT Maximum redirects exceeded"},
      {"loop",
       [](RedirectingServer &a, RedirectingServer &b) {
         a.routes["/start"] = b.url("/back");
         b.routes["/back"] = a.url("/start");
       },
       10, "error WSC_EREDIRECT Redirect loop"},
      {"to an invalid URL",
       [](RedirectingServer &a, RedirectingServer &) { a.routes["/start"] = "ws://user@127.0.0.1:1/"; }, 10,
       "error WSC_EREDIRECT Unsupported redirect URL"},
  };
  for (const auto &tc : cases) {
    TestLoop t;
    RedirectingServer a(t), b(t);
    tc.routes(a, b);
    wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
    o.flags = WSC_CLIENT_FOLLOW_REDIRECTS;
    o.max_redirects = tc.max;
    Client c;
    wsc_conn_t *conn;
    ASSERT_EQ(wsc_connect(&conn, t.loop, a.url("/start").c_str(), &o, Client::on, &c), 0);
    t.run_until([&] { return c.closed; });
    ASSERT_GE(c.events.log.size(), 2u) << tc.name;
    EXPECT_EQ(c.events.log[c.events.log.size() - 2].rfind(tc.error, 0), 0u) << tc.name << ": " << c.events.log[c.events.log.size() - 2];
    a.close();
    b.close();
    t.close_clean();
  }
}

TEST(Client, RedirectsAreNotFollowedByDefault) {
  TestLoop t;
  RedirectingServer a(t);
  a.routes["/start"] = "/elsewhere";
  Client c;
  wsc_conn_t *conn;
  ASSERT_EQ(wsc_connect(&conn, t.loop, a.url("/start").c_str(), nullptr, Client::on, &c), 0);
  t.run_until([&] { return c.closed; });
  EXPECT_EQ(c.events.log[0], "unexpected-response 302 ");
  bool location = false;
  for (const auto &h : c.headers) location |= h == "Location: /elsewhere";
  EXPECT_TRUE(location);
  a.close();
  t.close_clean();
}

namespace {

// An echo server on a given port (0: any), for reconnection tests.
struct EchoServer {
  EchoServer(TestLoop &t, int want_port) : loop(t) {
    wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
    so.host = "127.0.0.1";
    so.port = static_cast<uint32_t>(want_port);
    EXPECT_EQ(wsc_server_new(&srv, t.loop, &so, on_event, this), 0);
    wsc_addr_t a;
    wsc_server_address(srv, &a);
    port = static_cast<int>(a.port);
  }
  static void on_event(wsc_server_t *, const wsc_server_event_t *ev, void *ud) {
    auto *s = static_cast<EchoServer *>(ud);
    if (ev->type == WSC_SERVER_CLOSE) s->closed = true;
    if (ev->type == WSC_SERVER_CONNECTION)
      wsc_conn_set_callback(ev->conn, [](wsc_conn_t *c, const wsc_conn_event_t *e, void *) {
        if (e->type == WSC_EV_MESSAGE) wsc_conn_send(c, e->opcode, e->data, e->len, 0, nullptr, nullptr);
      }, nullptr);
  }
  void shutdown(uint32_t code) {
    wsc_server_shutdown(srv, code, 0, 0);
    loop.run_until([&] { return closed; });
  }
  TestLoop &loop;
  wsc_server_t *srv = nullptr;
  int port = 0;
  bool closed = false;
};

}  // namespace

TEST(Client, ReconnectsToAServerThatRestartsAndSendsWhatWaited) {
  TestLoop t;
  auto first = std::make_unique<EchoServer>(t, 0);
  int port = first->port;
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  o.reconnect_min_ms = 20;
  o.reconnect_max_ms = 100;
  o.offline_queue_bytes = 1024;
  Client c;
  wsc_conn_t *conn;
  ASSERT_EQ(wsc_connect(&conn, t.loop, ("ws://127.0.0.1:" + std::to_string(port) + "/").c_str(), &o, Client::on, &c), 0);
  t.run_until([&] { return c.events.has("open"); });
  first->shutdown(1012);  // "service restart": not a normal close, so the client comes back
  first.reset();
  t.run_until([&] { return c.events.count("reconnecting") >= 2; });  // it keeps trying while the server is down
  EXPECT_EQ(wsc_conn_ready_state(conn), (uint32_t)WSC_CONNECTING);
  int done = 99;
  EXPECT_EQ(wsc_conn_send(conn, WSC_OP_TEXT, "queued while down", 17, 0,
                          [](wsc_conn_t *, int st, void *ud) { *static_cast<int *>(ud) = st; }, &done),
            0);
  std::string big(2000, 'b');
  EXPECT_EQ(wsc_conn_send(conn, WSC_OP_TEXT, big.data(), big.size(), 0, nullptr, nullptr), WSC_EQUEUEFULL);
  EchoServer second(t, port);  // the server is back on the same port
  t.run_until([&] { return c.events.has("text queued while down"); }, 10000);
  EXPECT_EQ(done, 0);
  EXPECT_EQ(c.events.count("open"), 2u);
  auto first_drop = std::find_if(c.events.log.begin(), c.events.log.end(),
                                 [](const std::string &l) { return l.rfind("reconnecting", 0) == 0; });
  ASSERT_NE(first_drop, c.events.log.end());
  EXPECT_EQ(*first_drop, "reconnecting 1012 attempt 1") << "the drop reports the server's close code";
  wsc_conn_close(conn, 1000, nullptr, 0);  // the user's close: no reconnection after it
  t.run_until([&] { return c.closed; });
  EXPECT_EQ(c.events.log.back(), "close 1000  clean");
  second.shutdown(0);
  t.close_clean();
}

TEST(Client, NoReconnectAfterANormalCloseOrOnceAttemptsRunOut) {
  TestLoop t;
  EchoServer s(t, 0);
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  o.reconnect_min_ms = 10;
  Client normal;
  wsc_conn_t *conn;
  ASSERT_EQ(wsc_connect(&conn, t.loop, ("ws://127.0.0.1:" + std::to_string(s.port) + "/").c_str(), &o, Client::on, &normal), 0);
  t.run_until([&] { return normal.events.has("open"); });
  s.shutdown(1000);
  t.run_until([&] { return normal.closed; });
  EXPECT_FALSE(normal.events.has("reconnecting"));
  EXPECT_EQ(normal.events.log.back(), "close 1000  clean");

  o.reconnect_max_attempts = 3;  // to a port where nothing listens
  Client refused;
  ASSERT_EQ(wsc_connect(&conn, t.loop, ("ws://127.0.0.1:" + std::to_string(s.port) + "/").c_str(), &o, Client::on, &refused), 0);
  t.run_until([&] { return refused.closed; });
  EXPECT_EQ(refused.events.count("reconnecting"), 3u);
  EXPECT_EQ(refused.events.count("error WSC_ECONNREFUSED"), 4u) << "the first attempt and three more";
  t.close_clean();
}

// tests/fuzz: the `response` target (response parsing and the 101 checks) over its seed corpus and
// the inputs of the crashes it found, checked as libFuzzer checks them.
TEST(Client, FuzzCorpusAndRegressionsReplay) { EXPECT_GT(wsc_fuzz::replay("response", wsc_fuzz::response), 0u); }

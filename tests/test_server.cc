// The server (src/server.cc): listening, every handshake rejection with its status, the upgrade
// decision and what it sees, client tracking, closing, and 1000 open connections.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/resource.h>

#include <map>

#include "fuzz/replay.h"
#include "net_support.h"

using namespace wsc_test;

namespace {

const char kKey[] = "dGhlIHNhbXBsZSBub25jZQ==";

std::string request(const std::string &first_line, const std::map<std::string, std::string> &overrides = {},
                    const std::string &extra = "") {
  std::map<std::string, std::string> h = {{"Host", "localhost"},
                                          {"Upgrade", "websocket"},
                                          {"Connection", "Upgrade"},
                                          {"Sec-WebSocket-Key", kKey},
                                          {"Sec-WebSocket-Version", "13"}};
  for (const auto &kv : overrides) {
    if (kv.second == "<none>")
      h.erase(kv.first);
    else
      h[kv.first] = kv.second;
  }
  std::string r = first_line + "\r\n";
  for (const auto &kv : h) r += kv.first + ": " + kv.second + "\r\n";
  return r + extra + "\r\n";
}

struct Server {
  explicit Server(TestLoop &t, wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT) : loop(t) {
    if (so.host == nullptr && so.unix_path == nullptr) so.host = "127.0.0.1";
    EXPECT_EQ(wsc_server_new(&srv, t.loop, &so, on_event, this), 0);
    if (so.flags & WSC_SERVER_NO_LISTEN) return;  // nothing to wait for
    t.run_until([&] { return listening; });
    wsc_addr_t a;
    EXPECT_EQ(wsc_server_address(srv, &a), 0);
    port = static_cast<int>(a.port);
  }
  void close() {
    wsc_server_close(srv, 0);
    loop.run_until([&] { return closed; });
  }
  static void on_event(wsc_server_t *, const wsc_server_event_t *ev, void *ud) {
    auto *s = static_cast<Server *>(ud);
    switch (ev->type) {
      case WSC_SERVER_LISTENING: s->listening = true; break;
      case WSC_SERVER_CLOSE: s->closed = true; break;
      case WSC_SERVER_CONNECTION:
        s->conns.push_back(ev->conn);
        wsc_conn_set_callback(ev->conn, on_conn, s);
        break;
      case WSC_SERVER_CLIENT_ERROR:
        s->client_errors.push_back(std::to_string(ev->code) + " " + ev->message);
        break;
      case WSC_SERVER_REQUEST:
      case WSC_SERVER_HTTP_REQUEST:
        if (s->on_request) s->on_request(ev->request);
        break;
      case WSC_SERVER_REQUEST_CANCELLED: s->cancelled.push_back(ev->request); break;
      default: break;
    }
  }
  static void on_conn(wsc_conn_t *c, const wsc_conn_event_t *ev, void *ud) {
    auto *s = static_cast<Server *>(ud);
    s->events.log.push_back(describe_conn_event(*ev));
    if (ev->type == WSC_EV_MESSAGE) wsc_conn_send(c, ev->opcode, ev->data, ev->len, 0, nullptr, nullptr);
  }
  // Sends raw bytes from a client thread; returns everything the server answered.
  std::string exchange(const std::string &bytes) {
    std::string answer;
    RawPeer peer(port, [&](int fd) {
      send_all(fd, bytes);
      answer = read_all(fd);
    });
    loop.run_until([&] { return peer.done.load(); }, 10000);
    return answer;
  }

  TestLoop &loop;
  wsc_server_t *srv = nullptr;
  int port = 0;
  bool listening = false, closed = false;
  std::vector<wsc_conn_t *> conns;
  std::vector<std::string> client_errors;
  Events events;
  std::function<void(wsc_request_t *)> on_request;
  std::vector<wsc_request_t *> cancelled;
};

std::string status_line(const std::string &answer) { return answer.substr(0, answer.find("\r\n")); }

}  // namespace

TEST(Server, ListensOnAnEphemeralPortAndReportsItsAddress) {
  TestLoop t;
  Server s(t);
  EXPECT_GT(s.port, 0);
  wsc_addr_t a;
  ASSERT_EQ(wsc_server_address(s.srv, &a), 0);
  EXPECT_STREQ(a.address, "127.0.0.1");
  EXPECT_EQ(a.family, 4u);
  s.close();
  t.close_clean();
}

TEST(Server, EveryHandshakeRejectionHasItsStatus) {
  TestLoop t;
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.path = "/ws";
  so.max_headers = 20;
  so.max_header_bytes = 2048;
  Server s(t, so);
  struct Case {
    std::string name, bytes, status;
  } cases[] = {
      {"POST", request("POST /ws HTTP/1.1"), "HTTP/1.1 405 Method Not Allowed"},
      {"HTTP/1.0", request("GET /ws HTTP/1.0"), "HTTP/1.1 505 HTTP Version Not Supported"},
      {"Upgrade: h2c", request("GET /ws HTTP/1.1", {{"Upgrade", "h2c"}}), "HTTP/1.1 400 Bad Request"},
      {"no Connection upgrade", request("GET /ws HTTP/1.1", {{"Connection", "keep-alive"}}), "HTTP/1.1 400 Bad Request"},
      {"no Host", request("GET /ws HTTP/1.1", {{"Host", "<none>"}}), "HTTP/1.1 400 Bad Request"},
      {"no key", request("GET /ws HTTP/1.1", {{"Sec-WebSocket-Key", "<none>"}}), "HTTP/1.1 400 Bad Request"},
      {"short key", request("GET /ws HTTP/1.1", {{"Sec-WebSocket-Key", "c2hvcnQ="}}), "HTTP/1.1 400 Bad Request"},
      {"version 8", request("GET /ws HTTP/1.1", {{"Sec-WebSocket-Version", "8"}}), "HTTP/1.1 426 Upgrade Required"},
      {"other path", request("GET /other HTTP/1.1"), "HTTP/1.1 400 Bad Request"},
      {"bad subprotocol", request("GET /ws HTTP/1.1", {{"Sec-WebSocket-Protocol", "a b"}}), "HTTP/1.1 400 Bad Request"},
      {"duplicate subprotocol", request("GET /ws HTTP/1.1", {{"Sec-WebSocket-Protocol", "a, a"}}),
       "HTTP/1.1 400 Bad Request"},
      {"too many headers", request("GET /ws HTTP/1.1", {}, [] {
         std::string x;
         for (int i = 0; i < 30; ++i) x += "X-H" + std::to_string(i) + ": v\r\n";
         return x;
       }()),
       "HTTP/1.1 431 Request Header Fields Too Large"},
      {"headers too large", request("GET /ws HTTP/1.1", {{"X-Big", std::string(3000, 'b')}}),
       "HTTP/1.1 431 Request Header Fields Too Large"},
      {"malformed", "GET /ws HTTP/1.1\r\nNo colon here\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"plain HTTP", "GET /ws HTTP/1.1\r\nHost: localhost\r\n\r\n", "HTTP/1.1 426 Upgrade Required"},
  };
  for (const auto &c : cases) {
    std::string answer = s.exchange(c.bytes);
    EXPECT_EQ(status_line(answer), c.status) << c.name << ": " << answer;
    EXPECT_NE(answer.find("Content-Length: "), std::string::npos) << c.name;
    if (c.name == "version 8") {
      EXPECT_NE(answer.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
    }
  }
  EXPECT_EQ(s.client_errors.size(), sizeof cases / sizeof cases[0] - 1) << "every failure but plain HTTP is a client error";
  EXPECT_TRUE(s.conns.empty());
  s.close();
  t.close_clean();
}

TEST(Server, OriginsOutsideTheListGet403BeforeAnyCallback) {
  TestLoop t;
  const char *allowed[] = {"https://App.Example.com", nullptr};  // NULL: clients without Origin
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.flags = WSC_SERVER_HANDLE_REQUESTS;
  so.origins = allowed;
  so.origin_count = 2;
  Server s(t, so);
  int requests = 0;
  const char *other_list[] = {"http://localhost:8080"};
  s.on_request = [&](wsc_request_t *req) {
    ++requests;
    // The helper for a callback's own check: the same comparison, on another list.
    EXPECT_EQ(wsc_request_origin_allowed(req, other_list, 1), 0);
    EXPECT_EQ(wsc_request_origin_allowed(req, allowed, 2), 1);
  };
  auto status_of = [&](const std::string &bytes) {  // the status line, then the client leaves
    std::string head;
    RawPeer peer(s.port, [&](int fd) {
      send_all(fd, bytes);
      head = read_until(fd, "\r\n\r\n");
    });
    t.run_until([&] { return peer.done.load(); }, 10000);
    return status_line(head);
  };
  EXPECT_EQ(status_of(request("GET / HTTP/1.1", {{"Origin", "https://app.example.com"}})), "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(status_of(request("GET / HTTP/1.1", {{"Origin", "HTTPS://APP.EXAMPLE.COM:443"}})), "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(status_of(request("GET / HTTP/1.1")), "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(requests, 3);
  for (const char *o : {"https://evil.example", "http://app.example.com", "https://app.example.com:8443", "null",
                        "https://app.example.com.evil.example"})
    EXPECT_EQ(status_of(request("GET / HTTP/1.1", {{"Origin", o}})), "HTTP/1.1 403 Forbidden") << o;
  EXPECT_EQ(requests, 3) << "a refused origin never reaches the callback";
  EXPECT_EQ(s.client_errors.size(), 5u);
  EXPECT_EQ(s.client_errors.back(), "403 Origin not allowed");
  s.close();

  // Without a NULL entry, a request without Origin is refused too; a default port may be named.
  const char *strict[] = {"http://localhost"};
  so.flags = 0;
  so.origins = strict;
  so.origin_count = 1;
  Server s2(t, so);
  EXPECT_EQ(s2.exchange(request("GET / HTTP/1.1")).substr(0, 22), "HTTP/1.1 403 Forbidden");
  std::string head;
  RawPeer peer(s2.port, [&](int fd) {
    send_all(fd, request("GET / HTTP/1.1", {{"Origin", "http://localhost:80"}}));
    head = read_until(fd, "\r\n\r\n");
  });
  t.run_until([&] { return peer.done.load(); }, 10000);
  EXPECT_EQ(status_line(head), "HTTP/1.1 101 Switching Protocols");
  s2.close();
  so.origins = nullptr;  // a count without a list
  wsc_server_t *bad = nullptr;
  EXPECT_EQ(wsc_server_new(&bad, t.loop, &so, Server::on_event, nullptr), WSC_EINVAL);
  t.close_clean();
}

TEST(Server, SlowClientsGet408AfterTheHandshakeTimeout) {
  TestLoop t;
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.handshake_timeout_ms = 150;
  Server s(t, so);
  std::string answer = s.exchange("GET / HTTP/1.1\r\nHost: x\r\n");  // never finishes its head
  EXPECT_EQ(status_line(answer), "HTTP/1.1 408 Request Timeout");
  s.close();
  t.close_clean();
}

TEST(Server, TheDecisionHookSeesTheRequestAndMayReject) {
  TestLoop t;
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.flags = WSC_SERVER_HANDLE_REQUESTS | WSC_SERVER_TRUST_PROXY;
  Server s(t, so);
  std::map<std::string, std::string> seen;
  s.on_request = [&](wsc_request_t *req) {
    seen["method"] = wsc_request_method(req);
    seen["path"] = wsc_request_path(req);
    seen["query"] = wsc_request_query(req);
    seen["origin"] = wsc_request_origin(req) ? wsc_request_origin(req) : "";
    seen["protocols"] = std::to_string(wsc_request_protocol_count(req)) + ":" + wsc_request_protocol(req, 1);
    const char *name, *value;
    ASSERT_EQ(wsc_request_cookie_count(req), 2u);
    wsc_request_cookie(req, 1, &name, &value);
    seen["cookie"] = std::string(name) + "=" + value;
    wsc_addr_t a;
    wsc_request_remote_address(req, &a);
    seen["remote"] = a.address;
    seen["x-custom"] = wsc_request_header_value(req, "x-custom");
    wsc_header_t h;
    ASSERT_EQ(wsc_request_header(req, 0, &h), 0);
    seen["header0"] = std::string(h.name, h.name_len);
    EXPECT_EQ(wsc_request_add_header(req, "X-Reason", "because"), 0);
    EXPECT_EQ(wsc_request_add_header(req, "X-Bad", "a\r\nInjected: 1"), WSC_EINVAL);
    EXPECT_EQ(wsc_request_reject(req, 200, nullptr, nullptr, 0), WSC_EINVAL) << "a rejection is 3xx to 5xx";
    EXPECT_EQ(wsc_request_reject(req, 403, "Go Away", "no entry", 8), 0);
    EXPECT_EQ(wsc_request_accept(req, nullptr), WSC_ESTATE);
  };
  std::string answer = s.exchange(request("GET /room/1?user=ann HTTP/1.1",
                                          {{"Origin", "https://example.org"},
                                           {"Sec-WebSocket-Protocol", "chat, superchat"},
                                           {"Cookie", "a=1; session=xyz"},
                                           {"X-Forwarded-For", "203.0.113.7, 10.0.0.1"},
                                           {"X-Custom", "yes"}}));
  EXPECT_EQ(status_line(answer), "HTTP/1.1 403 Go Away");
  EXPECT_NE(answer.find("X-Reason: because\r\n"), std::string::npos);
  EXPECT_EQ(answer.substr(answer.size() - 8), "no entry");
  EXPECT_EQ(seen["method"], "GET");
  EXPECT_EQ(seen["path"], "/room/1");
  EXPECT_EQ(seen["query"], "user=ann");
  EXPECT_EQ(seen["origin"], "https://example.org");
  EXPECT_EQ(seen["protocols"], "2:superchat");
  EXPECT_EQ(seen["cookie"], "session=xyz");
  EXPECT_EQ(seen["remote"], "203.0.113.7") << "X-Forwarded-For is trusted when enabled";
  EXPECT_EQ(seen["x-custom"], "yes");
  EXPECT_FALSE(seen["header0"].empty());
  s.close();
  t.close_clean();
}

TEST(Server, AcceptChoosesTheSubprotocolAndAddsHeadersAndCookies) {
  TestLoop t;
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.flags = WSC_SERVER_HANDLE_REQUESTS;
  Server s(t, so);
  s.on_request = [&](wsc_request_t *req) {
    wsc_addr_t a;
    wsc_request_remote_address(req, &a);
    EXPECT_STREQ(a.address, "127.0.0.1") << "X-Forwarded-For is ignored unless trusted";
    EXPECT_EQ(wsc_request_accept(req, "nope"), WSC_EINVAL) << "only an offered protocol";
    EXPECT_EQ(wsc_request_add_cookie(req, "sid", "a;b", nullptr), WSC_EINVAL);
    EXPECT_EQ(wsc_request_add_cookie(req, "sid", "42", "Path=/; HttpOnly"), 0);
    EXPECT_EQ(wsc_request_add_header(req, "X-Server", "wsc"), 0);
    EXPECT_EQ(wsc_request_accept(req, "superchat"), 0);
  };
  std::string answer;
  RawPeer peer(s.port, [&](int fd) {
    send_all(fd, request("GET / HTTP/1.1", {{"Sec-WebSocket-Protocol", "chat, superchat"}, {"X-Forwarded-For", "1.2.3.4"}}));
    answer = read_until(fd, "\r\n\r\n");
  });
  t.run_until([&] { return peer.done.load(); });
  EXPECT_EQ(status_line(answer), "HTTP/1.1 101 Switching Protocols");
  EXPECT_NE(answer.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
  EXPECT_NE(answer.find("Sec-WebSocket-Protocol: superchat\r\n"), std::string::npos);
  EXPECT_NE(answer.find("Set-Cookie: sid=42; Path=/; HttpOnly\r\n"), std::string::npos);
  EXPECT_NE(answer.find("X-Server: wsc\r\n"), std::string::npos);
  t.run_until([&] { return s.events.has("close"); });
  EXPECT_EQ(s.events.log.front(), "open");
  EXPECT_EQ(s.events.log.back(), "close 1006  unclean") << "the peer vanished without a close frame";
  s.close();
  t.close_clean();
}

TEST(Server, WithoutAHookTheFirstProtocolIsChosen) {
  TestLoop t;
  Server s(t);
  std::string answer;
  RawPeer peer(s.port, [&](int fd) {
    send_all(fd, request("GET / HTTP/1.1", {{"Sec-WebSocket-Protocol", "first, second"}}));
    answer = read_until(fd, "\r\n\r\n");
  });
  t.run_until([&] { return peer.done.load(); });
  EXPECT_NE(answer.find("Sec-WebSocket-Protocol: first\r\n"), std::string::npos);
  t.run_until([&] { return s.events.has("close"); });
  s.close();
  t.close_clean();
}

TEST(Server, PlainHttpCanBeAnsweredByTheUser) {
  TestLoop t;
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.flags = WSC_SERVER_HANDLE_HTTP;
  Server s(t, so);
  s.on_request = [&](wsc_request_t *req) {
    EXPECT_EQ(wsc_request_add_header(req, "Content-Type", "text/html"), 0);
    EXPECT_EQ(wsc_request_reject(req, 200, nullptr, "<h1>hi</h1>", 11), 0);
  };
  std::string answer = s.exchange("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_line(answer), "HTTP/1.1 200 OK");
  EXPECT_NE(answer.find("Content-Type: text/html\r\n"), std::string::npos);
  EXPECT_EQ(answer.substr(answer.size() - 11), "<h1>hi</h1>");
  s.close();
  t.close_clean();
}

TEST(Server, UnixSocketAndIpv6) {
  TestLoop t;
  std::string path = "/tmp/wsc-test-" + std::to_string(getpid()) + ".sock";
  unlink(path.c_str());
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.unix_path = path.c_str();
  Server unix_server(t, so);
  wsc_addr_t a;
  ASSERT_EQ(wsc_server_address(unix_server.srv, &a), 0);
  EXPECT_EQ(path, a.address);
  EXPECT_EQ(a.family, 0u);
  Events client;
  wsc_conn_t *c = nullptr;
  auto on_client = [](wsc_conn_t *conn, const wsc_conn_event_t *ev, void *ud) {
    static_cast<Events *>(ud)->log.push_back(describe_conn_event(*ev));
    if (ev->type == WSC_EV_OPEN) wsc_conn_send(conn, WSC_OP_TEXT, "via unix", 8, 0, nullptr, nullptr);
    if (ev->type == WSC_EV_MESSAGE) wsc_conn_close(conn, 1000, "bye", 3);
  };
  ASSERT_EQ(wsc_connect(&c, t.loop, ("ws+unix://" + path + ":/chat").c_str(), nullptr, on_client, &client), 0);
  t.run_until([&] { return client.has("close"); });
  // The server answers with the code and the reason it received (as ws does).
  EXPECT_EQ(client.log, (std::vector<std::string>{"upgrade 101", "open", "text via unix", "close 1000 bye clean"}));
  unix_server.close();
  unlink(path.c_str());

  wsc_server_options_t so6 = WSC_SERVER_OPTIONS_INIT;
  so6.host = "::1";
  Server v6(t, so6);
  ASSERT_EQ(wsc_server_address(v6.srv, &a), 0);
  EXPECT_EQ(a.family, 6u);
  EXPECT_STREQ(a.address, "::1");
  Events client6;
  ASSERT_EQ(wsc_connect(&c, t.loop, ("ws://[::1]:" + std::to_string(v6.port) + "/").c_str(), nullptr, on_client,
                        &client6),
            0);
  t.run_until([&] { return client6.has("close"); });
  EXPECT_TRUE(client6.has("text via unix"));
  v6.close();
  t.close_clean();
}

TEST(Server, TracksClientsAndClosesThemWhenItCloses) {
  TestLoop t;
  Server s(t);
  std::vector<Events> clients(3);
  auto on_client = [](wsc_conn_t *, const wsc_conn_event_t *ev, void *ud) {
    static_cast<Events *>(ud)->log.push_back(describe_conn_event(*ev));
  };
  std::string url = "ws://127.0.0.1:" + std::to_string(s.port) + "/";
  for (auto &e : clients) {
    wsc_conn_t *c;
    ASSERT_EQ(wsc_connect(&c, t.loop, url.c_str(), nullptr, on_client, &e), 0);
  }
  t.run_until([&] { return wsc_server_connection_count(s.srv) == 3; });
  int walked = 0;
  wsc_server_walk(s.srv, [](wsc_conn_t *c, void *ud) {
    EXPECT_EQ(wsc_conn_ready_state(c), (uint32_t)WSC_OPEN);
    ++*static_cast<int *>(ud);
    return 0;
  }, &walked);
  EXPECT_EQ(walked, 3);
  s.close();
  for (auto &e : clients) EXPECT_EQ(e.log.back(), "close 1001  clean");
  EXPECT_EQ(s.events.count("close 1001"), 3u);
  t.close_clean();
}

TEST(Server, AThousandOpenConnections) {
  rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 2100 && rl.rlim_max >= 2100) {
    rl.rlim_cur = 2100;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  TestLoop t;
  Server s(t);
  struct Client {
    int opened = 0, echoed = 0, closed = 0;
  } counts;
  auto on_client = [](wsc_conn_t *c, const wsc_conn_event_t *ev, void *ud) {
    auto *n = static_cast<Client *>(ud);
    if (ev->type == WSC_EV_OPEN) {
      ++n->opened;
      wsc_conn_send(c, WSC_OP_TEXT, "ping?", 5, 0, nullptr, nullptr);
    } else if (ev->type == WSC_EV_MESSAGE) {
      ++n->echoed;
    } else if (ev->type == WSC_EV_CLOSE) {
      ++n->closed;
    }
  };
  std::string url = "ws://127.0.0.1:" + std::to_string(s.port) + "/";
  std::vector<wsc_conn_t *> conns(1000);
  for (auto &c : conns) ASSERT_EQ(wsc_connect(&c, t.loop, url.c_str(), nullptr, on_client, &counts), 0);
  t.run_until([&] { return counts.echoed == 1000; }, 60000);
  EXPECT_EQ(counts.opened, 1000);
  EXPECT_EQ(wsc_server_connection_count(s.srv), 1000u);
  for (auto &c : conns) EXPECT_EQ(wsc_conn_close(c, 1000, nullptr, 0), 0);
  t.run_until([&] { return counts.closed == 1000; }, 60000);
  t.run_until([&] { return wsc_server_connection_count(s.srv) == 0; }, 10000);
  EXPECT_EQ(wsc_server_connection_count(s.srv), 0u);
  s.close();
  t.close_clean();
}

TEST(Server, BroadcastToAThousandConnectionsSharesOneFrame) {
  TestLoop t;
  Server s(t);
  struct Counts {
    int opened = 0, closed = 0;
    std::vector<std::string> got[3];  // per message kind
    int bad = 0;
  } counts;
  auto on_client = [](wsc_conn_t *, const wsc_conn_event_t *ev, void *ud) {
    auto *n = static_cast<Counts *>(ud);
    if (ev->type == WSC_EV_OPEN) ++n->opened;
    if (ev->type == WSC_EV_CLOSE) ++n->closed;
    if (ev->type == WSC_EV_MESSAGE) {
      std::string m(reinterpret_cast<const char *>(ev->data), ev->len);
      if (ev->opcode == WSC_OP_TEXT && m == "hello everyone") n->got[0].push_back(m);
      else if (ev->opcode == WSC_OP_BINARY && m == std::string(100000, '\x7f')) n->got[1].push_back("big");
      else if (ev->opcode == WSC_OP_TEXT && m == "odd ids only") n->got[2].push_back(m);
      else ++n->bad;
    }
  };
  std::string url = "ws://127.0.0.1:" + std::to_string(s.port) + "/";
  std::vector<wsc_conn_t *> conns(1000);
  for (auto &c : conns) ASSERT_EQ(wsc_connect(&c, t.loop, url.c_str(), nullptr, on_client, &counts), 0);
  t.run_until([&] { return counts.opened == 1000 && wsc_server_connection_count(s.srv) == 1000; }, 60000);
  size_t sent = 0;
  ASSERT_EQ(wsc_server_broadcast(s.srv, WSC_OP_TEXT, "hello everyone", 14, nullptr, nullptr, &sent), 0);
  EXPECT_EQ(sent, 1000u);
  std::string big(100000, '\x7f');
  ASSERT_EQ(wsc_server_broadcast(s.srv, WSC_OP_BINARY, big.data(), big.size(), nullptr, nullptr, &sent), 0);
  EXPECT_EQ(sent, 1000u);
  ASSERT_EQ(wsc_server_broadcast(s.srv, WSC_OP_TEXT, "odd ids only", 12,
                                 [](wsc_conn_t *c, void *) { return static_cast<int>(wsc_conn_id(c) % 2); }, nullptr,
                                 &sent),
            0);
  EXPECT_GT(sent, 400u);
  EXPECT_LT(sent, 600u);
  size_t odd = sent;
  t.run_until([&] { return counts.got[0].size() == 1000 && counts.got[1].size() == 1000 && counts.got[2].size() == odd; },
              60000);
  EXPECT_EQ(counts.bad, 0) << "every broadcast message arrived intact";
  EXPECT_EQ(wsc_server_broadcast(s.srv, WSC_OP_PING, "x", 1, nullptr, nullptr, &sent), WSC_EINVAL);
  s.close();
  t.run_until([&] { return counts.closed == 1000; }, 60000);
  t.close_clean();
}

TEST(Server, GracefulShutdownMidSendLosesNothing) {
  TestLoop t;
  Server s(t);
  int completed = 0, failed = 0, closed = 0;
  std::vector<wsc_conn_t *> clients(20);
  auto on_client = [](wsc_conn_t *, const wsc_conn_event_t *ev, void *ud) {
    if (ev->type == WSC_EV_CLOSE) ++*static_cast<int *>(ud);
  };
  std::string url = "ws://127.0.0.1:" + std::to_string(s.port) + "/";
  for (auto &c : clients) ASSERT_EQ(wsc_connect(&c, t.loop, url.c_str(), nullptr, on_client, &closed), 0);
  t.run_until([&] { return wsc_server_connection_count(s.srv) == 20; });
  // Every server connection has 2 MiB in flight when the shutdown starts.
  std::string chunk(256 * 1024, 's');
  int sends = 0;
  std::tuple<std::string *, int *, int *, int *> ctx(&chunk, &completed, &failed, &sends);
  wsc_server_walk(s.srv, [](wsc_conn_t *c, void *ud) {
    auto *ctx = static_cast<std::tuple<std::string *, int *, int *, int *> *>(ud);
    for (int i = 0; i < 8; ++i) {
      int rc = wsc_conn_send(c, WSC_OP_BINARY, std::get<0>(*ctx)->data(), std::get<0>(*ctx)->size(), 0,
                             [](wsc_conn_t *, int st, void *u) {
                               auto *x = static_cast<std::tuple<std::string *, int *, int *, int *> *>(u);
                               ++*(st == 0 ? std::get<1>(*x) : std::get<2>(*x));
                             },
                             ud);
      if (rc >= 0) ++*std::get<3>(*ctx);
    }
    return 0;
  }, &ctx);
  wsc_server_shutdown(s.srv, 1001, 5000, 0);
  t.run_until([&] { return s.closed && closed == 20; }, 20000);
  EXPECT_EQ(sends, 160);
  EXPECT_EQ(completed + failed, sends) << "every send completed or failed with an error";
  EXPECT_EQ(completed, sends) << "a graceful close delivers what was queued before its close frame";
  EXPECT_EQ(s.events.count("close 1001"), 20u);
  t.close_clean();
}

TEST(Server, ShutdownCanKeepConnectionsAndTerminatesAtItsTimeout) {
  TestLoop t;
  Server s(t);
  int closed = 0;
  std::vector<std::string> codes;
  auto on_client = [](wsc_conn_t *, const wsc_conn_event_t *ev, void *ud) {
    if (ev->type == WSC_EV_CLOSE) ++*static_cast<int *>(ud);
  };
  std::string url = "ws://127.0.0.1:" + std::to_string(s.port) + "/";
  wsc_conn_t *c1, *c2;
  ASSERT_EQ(wsc_connect(&c1, t.loop, url.c_str(), nullptr, on_client, &closed), 0);
  ASSERT_EQ(wsc_connect(&c2, t.loop, url.c_str(), nullptr, on_client, &closed), 0);
  t.run_until([&] { return wsc_server_connection_count(s.srv) == 2; });
  wsc_server_shutdown(s.srv, 0, 300, WSC_SHUTDOWN_KEEP_CONNECTIONS);
  t.run_for(100);
  EXPECT_EQ(wsc_conn_ready_state(c1), (uint32_t)WSC_OPEN) << "kept open";
  EXPECT_GE(wsc_conn_send(c1, WSC_OP_TEXT, "still here", 10, 0, nullptr, nullptr), 0);
  t.run_until([&] { return s.events.has("text still here"); });
  // A new connection is refused: the server no longer listens.
  wsc_conn_t *late;
  ASSERT_EQ(wsc_connect(&late, t.loop, url.c_str(), nullptr, on_client, &closed), 0);
  t.run_until([&] { return closed >= 1; });
  EXPECT_FALSE(s.closed);
  t.run_until([&] { return s.closed && closed == 3; }, 5000);  // the timeout terminated the rest
  EXPECT_EQ(s.events.count("close 1006"), 2u);
  t.close_clean();
}

TEST(Server, DeferredDecisionsAcceptRejectOrSeeTheClientLeave) {
  TestLoop t;
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.flags = WSC_SERVER_HANDLE_REQUESTS;
  Server s(t, so);
  std::vector<wsc_request_t *> pending;
  s.on_request = [&](wsc_request_t *req) {
    EXPECT_EQ(wsc_request_defer(req), 0);
    pending.push_back(req);
  };
  std::string accepted_answer, rejected_answer;
  // 1: accepted later; it sent a frame right after its request, which must arrive after OPEN.
  RawPeer a(s.port, [&](int fd) {
    send_all(fd, request("GET /a HTTP/1.1") + std::string("\x81\x82\x00\x00\x00\x00hi", 8));
    accepted_answer = read_until(fd, std::string("\x81\x02hi", 4));
  });
  t.run_until([&] { return pending.size() == 1; });
  t.run_for(100);  // the decision takes its time; the client waits
  EXPECT_TRUE(s.conns.empty());
  EXPECT_EQ(wsc_request_accept(pending[0], nullptr), 0);
  t.run_until([&] { return a.done.load(); });
  EXPECT_EQ(status_line(accepted_answer), "HTTP/1.1 101 Switching Protocols");
  EXPECT_NE(accepted_answer.find(std::string("\x81\x02hi", 4)), std::string::npos) << "its early frame was echoed";
  // 2: rejected later, with a status, a header and a body (ws' verifyClient(info, cb)).
  RawPeer b(s.port, [&](int fd) {
    send_all(fd, request("GET /b HTTP/1.1"));
    rejected_answer = read_all(fd);
  });
  t.run_until([&] { return pending.size() == 2; });
  EXPECT_STREQ(wsc_request_path(pending[1]), "/b") << "the request stays readable while deferred";
  EXPECT_EQ(wsc_request_add_header(pending[1], "Retry-After", "5"), 0);
  EXPECT_EQ(wsc_request_reject(pending[1], 503, "Busy", "try later", 9), 0);
  t.run_until([&] { return b.done.load(); });
  EXPECT_EQ(status_line(rejected_answer), "HTTP/1.1 503 Busy");
  EXPECT_NE(rejected_answer.find("Retry-After: 5\r\n"), std::string::npos);
  // 3: the client leaves before the decision: the request is cancelled, never decided.
  RawPeer c(s.port, [&](int fd) { send_all(fd, request("GET /c HTTP/1.1")); });
  t.run_until([&] { return pending.size() == 3 && c.done.load(); });
  t.run_until([&] { return s.cancelled.size() == 1; });
  EXPECT_EQ(s.cancelled[0], pending[2]);
  EXPECT_EQ(s.conns.size(), 1u) << "only the accepted request became a connection";
  s.close();
  t.close_clean();
}

TEST(Server, AdoptsSocketsAcceptedElsewhereWithOrWithoutTheirRequest) {
  TestLoop t;
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.flags = WSC_SERVER_NO_LISTEN;  // ws' noServer: connections come by adoption only
  Server s(t, so);
  wsc_addr_t a;
  EXPECT_EQ(wsc_server_address(s.srv, &a), WSC_ESTATE);
  // Another listener accepts; the first socket is handed over untouched, the second after its
  // request head was read here (ws' handleUpgrade(req, socket, head)).
  int port;
  int lfd = listen_loopback(&port);
  Events c1, c2;
  auto on_client = [](wsc_conn_t *c, const wsc_conn_event_t *ev, void *ud) {
    static_cast<Events *>(ud)->log.push_back(describe_conn_event(*ev));
    if (ev->type == WSC_EV_OPEN) wsc_conn_send(c, WSC_OP_TEXT, "adopted?", 8, 0, nullptr, nullptr);
    if (ev->type == WSC_EV_MESSAGE) wsc_conn_close(c, 1000, nullptr, 0);
  };
  std::string url = "ws://127.0.0.1:" + std::to_string(port) + "/adopted?x=1";
  wsc_conn_t *conn;
  ASSERT_EQ(wsc_connect(&conn, t.loop, url.c_str(), nullptr, on_client, &c1), 0);
  int fd1 = -1;
  t.run_until([&] {
    fd1 = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
    return fd1 >= 0;
  });
  ASSERT_EQ(wsc_server_adopt(s.srv, fd1, nullptr), 0);
  t.run_until([&] { return c1.has("close"); });
  EXPECT_TRUE(c1.has("text adopted?"));
  EXPECT_EQ(c1.log.back(), "close 1000  clean");

  ASSERT_EQ(wsc_connect(&conn, t.loop, url.c_str(), nullptr, on_client, &c2), 0);
  int fd2 = -1;
  t.run_until([&] {
    fd2 = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
    return fd2 >= 0;
  });
  // This program reads the request itself, while the loop runs the client that sends it.
  std::string head;
  t.run_until([&] {
    char buf[4096];
    ssize_t n = recv(fd2, buf, sizeof buf, MSG_PEEK);
    if (n <= 0) return false;
    std::string peek(buf, static_cast<size_t>(n));
    size_t end = peek.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    head.resize(end + 4);
    return recv(fd2, &head[0], head.size(), 0) == static_cast<ssize_t>(head.size());
  });
  ASSERT_FALSE(head.empty());
  std::vector<std::pair<std::string, std::string>> parsed;
  size_t pos = head.find("\r\n") + 2;
  while (pos < head.size() - 2) {
    size_t end = head.find("\r\n", pos), colon = head.find(':', pos);
    parsed.emplace_back(head.substr(pos, colon - pos), head.substr(colon + 2, end - colon - 2));
    pos = end + 2;
  }
  std::vector<wsc_header_t> hv;
  for (auto &p : parsed) hv.push_back({p.first.data(), p.first.size(), p.second.data(), p.second.size()});
  wsc_adopt_request_t req = WSC_ADOPT_REQUEST_INIT;
  req.target = "/adopted?x=1";
  req.headers = hv.data();
  req.nheaders = hv.size();
  ASSERT_EQ(wsc_server_adopt(s.srv, fd2, &req), 0);
  t.run_until([&] { return c2.has("close"); });
  EXPECT_EQ(c2.log, (std::vector<std::string>{"upgrade 101", "open", "text adopted?", "close 1000  clean"}));
  EXPECT_EQ(s.events.count("text adopted?"), 2u);
  EXPECT_EQ(wsc_server_adopt(s.srv, -1, nullptr), WSC_EINVAL);
  close(lfd);
  s.close();
  t.close_clean();
}

TEST(Server, NativeTcpKeepaliveIsSetOnTheSocket) {
  TestLoop t;
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  co.tcp_keepalive_ms = 7000;
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.flags = WSC_SERVER_NO_LISTEN;
  so.conn = &co;
  Server s(t, so);
  int port;
  int lfd = listen_loopback(&port);
  Events client;
  wsc_conn_t *conn;
  ASSERT_EQ(wsc_connect(&conn, t.loop, ("ws://127.0.0.1:" + std::to_string(port) + "/").c_str(),
                        nullptr, [](wsc_conn_t *, const wsc_conn_event_t *ev, void *ud) {
                          static_cast<Events *>(ud)->log.push_back(describe_conn_event(*ev));
                        }, &client),
            0);
  int fd = -1;
  t.run_until([&] { return (fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0; });
  int watch = dup(fd);  // the same socket, to look at its options
  ASSERT_EQ(wsc_server_adopt(s.srv, fd, nullptr), 0);
  t.run_until([&] { return client.has("open") && s.events.has("open"); });
  int on = 0, idle = 0;
  socklen_t l = sizeof on;
  getsockopt(watch, SOL_SOCKET, SO_KEEPALIVE, &on, &l);
  l = sizeof idle;
  getsockopt(watch, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &l);
  EXPECT_EQ(on, 1);
  EXPECT_EQ(idle, 7);
  close(watch);
  close(lfd);
  wsc_conn_close(conn, 1000, nullptr, 0);
  t.run_until([&] { return client.has("close"); });
  s.close();
  t.close_clean();
}

// tests/fuzz: the `request` target (request parsing and validation) over its seed corpus and the
// inputs of the crashes it found, checked as libFuzzer checks them.
TEST(Server, FuzzCorpusAndRegressionsReplay) { EXPECT_GT(wsc_fuzz::replay("request", wsc_fuzz::request), 0u); }

// A live wsc client against hostile raw servers: answers that break RFC 6455 §4.1 (no 101, a
// wrong accept key, missing headers, a subprotocol or an extension not offered), oversized or
// endless answers, a server that never answers or sends garbage; the API's refusals of bad
// request headers, subprotocols and close reasons; and every framing violation a server can
// commit, with its close code. The wsc server of the scene keeps a well-behaved client whose
// echoes are checked before and after.
#include "deflate.h"
#include "hostile_support.h"

using namespace hostile;

namespace {

// A raw server's answer to a request, and whether it then waits for the client to go.
struct Answer {
  std::string name;
  std::function<std::string(const std::string &request)> bytes;
  std::string error;    // the error event's start: "error WSC_E... message"
  bool offer_protocol;  // the client offers the subprotocol "chat"
  bool no_deflate;      // the client does not offer permessage-deflate
  int unexpected;       // the status of an UNEXPECTED_RESPONSE event first, or 0
};

std::vector<Answer> answers() {
  auto with = [](const std::string &extra) {
    return [extra](const std::string &r) { return accept_response(r, extra); };
  };
  auto without = [](const std::string &header) {
    return [header](const std::string &r) {
      std::string a = accept_response(r);
      size_t p = a.find(header + ": ");
      return a.erase(p, a.find("\r\n", p) + 2 - p);
    };
  };
  return {
      {"NoSwitchingProtocols200", [](const std::string &) { return std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"); },
       "error WSC_EUNEXPECTED_RESPONSE Unexpected server response: 200", false, false, 200},
      {"NoSwitchingProtocols403",
       [](const std::string &) { return std::string("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"); },
       "error WSC_EUNEXPECTED_RESPONSE Unexpected server response: 403", false, false, 403},
      {"WrongAccept", [](const std::string &r) {
         std::string a = accept_response(r);
         size_t p = a.find("Sec-WebSocket-Accept: ") + 22;
         a[p] = a[p] == 'A' ? 'B' : 'A';
         return a;
       },
       "error WSC_EBAD_ACCEPT", false, false, 0},
      {"AcceptOfAnotherKey",
       [](const std::string &) {
         return std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
       },
       "error WSC_EBAD_ACCEPT", false, false, 0},
      {"NoAccept", without("Sec-WebSocket-Accept"), "error WSC_EBAD_ACCEPT", false, false, 0},
      {"NoUpgrade", without("Upgrade"), "error WSC_EBAD_RESPONSE Invalid Upgrade header", false, false, 0},
      {"UpgradeH2c",
       [](const std::string &r) {
         std::string a = accept_response(r);
         return a.replace(a.find("Upgrade: websocket"), 18, "Upgrade: h2c");
       },
       "error WSC_EBAD_RESPONSE Invalid Upgrade header", false, false, 0},
      {"NoConnection", without("Connection"), "error WSC_EBAD_RESPONSE Invalid Connection header", false, false, 0},
      {"SubprotocolNotOffered", with("Sec-WebSocket-Protocol: chat\r\n"), "error WSC_EBAD_PROTOCOL", false, false, 0},
      {"SubprotocolOtherThanOffered", with("Sec-WebSocket-Protocol: superchat\r\n"), "error WSC_EBAD_PROTOCOL", true, false,
       0},
      {"NoSubprotocolChosen", with(""), "error WSC_EBAD_PROTOCOL", true, false, 0},
      {"ExtensionNotOffered", with("Sec-WebSocket-Extensions: permessage-deflate\r\n"), "error WSC_EBAD_EXTENSION", false,
       true, 0},
      {"UnknownExtension", with("Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n"), "error WSC_EBAD_EXTENSION", false,
       false, 0},
      {"DeflateWindowBits16", with("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=16\r\n"),
       "error WSC_EBAD_EXTENSION", false, false, 0},
      {"DeflateWindowBits7", with("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7\r\n"),
       "error WSC_EBAD_EXTENSION", false, false, 0},
      {"DeflateUnknownParameter", with("Sec-WebSocket-Extensions: permessage-deflate; x=1\r\n"), "error WSC_EBAD_EXTENSION",
       false, false, 0},
      {"DeflateParameterTwice",
       with("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; server_no_context_takeover\r\n"),
       "error WSC_EBAD_EXTENSION", false, false, 0},
      {"DeflateTwice", with("Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n"),
       "error WSC_EBAD_EXTENSION", false, false, 0},
      {"ExtensionInASecondHeader",
       with("Sec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Extensions: x-unknown\r\n"),
       "error WSC_EBAD_EXTENSION", false, false, 0},
      {"AThousandHeaders",
       [](const std::string &r) {
         std::string x;
         for (int i = 0; i < 1000; ++i) x += "X-H" + std::to_string(i) + ": v\r\n";
         return accept_response(r, x);
       },
       "error WSC_EBAD_RESPONSE Invalid HTTP response", false, false, 0},
      {"NotHttp", [](const std::string &) { return std::string("SSH-2.0-OpenSSH_9.2\r\n\r\n"); },
       "error WSC_EBAD_RESPONSE Invalid HTTP response", false, false, 0},
      {"BinaryGarbage", [](const std::string &) { return std::string("\x16\x03\x03\x00\x02\x02\x28\0\xff\r\n\r\n", 13); },
       "error WSC_EBAD_RESPONSE Invalid HTTP response", false, false, 0},
      {"HeaderWithoutColon", with("No colon here\r\n"), "error WSC_EBAD_RESPONSE Invalid HTTP response", false, false, 0},
      {"SpaceBeforeColon",
       [](const std::string &r) {
         std::string a = accept_response(r);
         return a.replace(a.find("Upgrade: websocket"), 18, "Upgrade : websocket");
       },
       "error WSC_EBAD_RESPONSE Invalid HTTP response", false, false, 0},
      {"EndsBeforeTheHeadIsComplete",
       [](const std::string &) { return std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"); },
       "error WSC_EBAD_RESPONSE Invalid HTTP response", false, false, 0},
      {"EndsWithoutAnswering", [](const std::string &) { return std::string(); },
       "error WSC_EBAD_RESPONSE Invalid HTTP response", false, false, 0},
  };
}

void PrintTo(const Answer &a, std::ostream *os) { *os << a.name; }

class ClientHandshake : public testing::TestWithParam<Answer> {};

}  // namespace

TEST_P(ClientHandshake, FailsWithItsErrorAndCloses1006) {
  const Answer &c = GetParam();
  Scene s;
  bool client_went = false;
  RawServer raw([&](int fd) {
    Wire w(fd);
    std::string req = w.head();
    send_all(fd, c.bytes(req));
    shutdown(fd, SHUT_WR);  // everything is said; the client must not wait for more
    client_went = w.ends_within(5000 * kSlow);
  });
  wsc_test::HandshakeOptions o(c.offer_protocol, c.no_deflate);
  Client client(s.t, raw.url(), &o.options);
  s.wait_for(raw);
  s.t.run_until([&] { return client.log.closed; }, 5000 * kSlow);
  EXPECT_TRUE(client_went) << "the client closed its socket";
  const auto &l = client.log.lines;
  ASSERT_EQ(l.size(), c.unexpected ? 3u : 2u) << client.log.str();
  if (c.unexpected) {
    EXPECT_EQ(l[0].rfind("unexpected-response " + std::to_string(c.unexpected), 0), 0u) << l[0];
  }
  EXPECT_EQ(l[l.size() - 2].rfind(c.error, 0), 0u) << l[l.size() - 2];
  EXPECT_EQ(l.back(), "close 1006 unclean");
  s.end();
}

INSTANTIATE_TEST_SUITE_P(Hostile, ClientHandshake, testing::ValuesIn(answers()),
                         [](const testing::TestParamInfo<Answer> &i) { return i.param.name; });

TEST(ClientHandshake, AMegabyteHeaderLineFailsAtTheLimitWithoutReadingTheRest) {
  Scene s;
  size_t sent = 0;
  const size_t kLine = 1 << 20;
  RawServer raw([&](int fd) {
    Wire w(fd);
    std::string req = w.head();
    std::string answer = "HTTP/1.1 101 Switching Protocols\r\nX-Big: " + std::string(kLine, 'b') + "\r\n\r\n";
    // Paced, 16 KiB every 5 ms: the client must give up after its 64 KiB head limit, and the
    // sends after that fail once it has closed.
    for (size_t off = 0; off < answer.size(); off += 16 * 1024) {
      size_t n = std::min<size_t>(16 * 1024, answer.size() - off);
      size_t w2 = send_some(fd, answer.data() + off, n);
      sent += w2;
      if (w2 < n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  Client client(s.t, raw.url());
  s.wait_for(raw, 30000);
  s.t.run_until([&] { return client.log.closed; }, 5000 * kSlow);
  EXPECT_LT(sent, kLine) << "the client stopped reading long before the end of the line";
  ASSERT_EQ(client.log.lines.size(), 2u) << client.log.str();
  EXPECT_EQ(client.log.lines[0].rfind("error WSC_EBAD_RESPONSE Invalid HTTP response", 0), 0u) << client.log.lines[0];
  EXPECT_EQ(client.log.lines[1], "close 1006 unclean");
  s.end();
}

namespace {

// What a client with an 800 ms opening-handshake timeout saw of a stalling raw server.
struct Stalled {
  long ms = 0;         // from the connect to the close
  long growth_kb = 0;  // MemoryWatch's growth while it waited
};

// Runs that client against a raw server that reads the request, then runs `stall` until `stop`.
// The client must report the handshake timeout, then close 1006.
void stall_handshake(const std::function<void(int fd, Wire &w, const std::atomic<bool> &stop)> &stall, Stalled *out) {
  Scene s;
  std::atomic<bool> stop{false};
  RawServer raw([&](int fd) {
    Wire w(fd);
    w.head();
    stall(fd, w, stop);
  });
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  o.handshake_timeout_ms = 800;
  MemoryWatch mem;
  Client client(s.t, raw.url(), &o);
  s.t.run_until([&] {
    mem.sample();
    return client.log.closed;
  }, 10000 * kSlow);
  out->ms = std::chrono::duration_cast<std::chrono::milliseconds>(client.log.closed_at - client.started).count();
  stop = true;
  s.wait_for(raw);
  ASSERT_EQ(client.log.lines.size(), 2u) << client.log.str();
  EXPECT_EQ(client.log.lines[0], "error WSC_EHANDSHAKE_TIMEOUT Opening handshake has timed out");
  EXPECT_EQ(client.log.lines[1], "close 1006 unclean");
  out->growth_kb = mem.growth_kb();
  s.end();
}

}  // namespace

TEST(ClientHandshake, ARefusalWithAnEndlessBodyEndsAtTheHandshakeTimeout) {
  Stalled r;
  ASSERT_NO_FATAL_FAILURE(stall_handshake(
      [](int fd, Wire &, const std::atomic<bool> &stop) {
        send_all(fd, "HTTP/1.1 403 Forbidden\r\nContent-Length: 1000000000000\r\n\r\n");
        std::string chunk(64 * 1024, 'x');
        while (!stop && send_all(fd, chunk)) {
        }
      },
      &r));
  EXPECT_LT(r.growth_kb, 4 * 1024) << "kB: the body is not kept beyond its bound";
}

TEST(ClientHandshake, AServerThatNeverAnswersTimesOutAtTheHandshakeTimeout) {
  Stalled r;
  ASSERT_NO_FATAL_FAILURE(stall_handshake(
      [](int, Wire &w, const std::atomic<bool> &stop) {
        while (!stop && !w.eof) w.fill(10);  // reads, never answers
      },
      &r));
  EXPECT_GE(r.ms, 750) << "not before the timeout";
  EXPECT_LE(r.ms, 800 + 600 * kSlow);
}

// ---- the API refuses what would corrupt a request or a close frame ---------------------------

TEST(ClientApi, BadHeadersSubprotocolsAndOriginsAreRefusedAtConnect) {
  Scene s;
  const std::string url = s.url("/");
  wsc_conn_t *c = nullptr;
  auto refused = [&](const wsc_client_options_t &o) {
    c = reinterpret_cast<wsc_conn_t *>(1);
    int rc = wsc_connect(&c, s.t.loop, url.c_str(), &o, Client::on_event, nullptr);
    EXPECT_EQ(c, nullptr);
    return rc;
  };
  for (const char *p : {"a b", "a,b", "", "a\r\nb", "chat\n", "a;b", "\xc3\xa9", "a\"b", "(a)", "a/b", "a\tb"}) {
    wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
    const char *protocols[] = {"chat", p};
    o.protocols = protocols;
    o.nprotocols = 2;
    EXPECT_EQ(refused(o), WSC_EINVAL) << "subprotocol '" << p << "'";
  }
  struct H {
    std::string name, value;
  } bad_headers[] = {{"X-Evil", "a\r\nInjected: 1"}, {"X-Evil", "a\nInjected: 1"}, {"X-Evil", "a\rInjected: 1"},
                     {"X-Evil\r\nInjected", "1"},   {"X Evil", "1"},              {"X-Evil:", "1"},
                     {"", "1"},                     {"X-Evil", std::string("a\0b", 3)}};
  for (const auto &h : bad_headers) {
    wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
    wsc_header_t hv = {h.name.data(), h.name.size(), h.value.data(), h.value.size()};
    o.headers = &hv;
    o.nheaders = 1;
    EXPECT_EQ(refused(o), WSC_EINVAL) << "header '" << h.name << "'";
  }
  for (const char *origin : {"http://x\r\nInjected: 1", "http://x\n"}) {
    wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
    o.origin = origin;
    EXPECT_EQ(refused(o), WSC_EINVAL) << "origin";
  }
  EXPECT_EQ(wsc_connect(&c, s.t.loop, "ws://127.0.0.1:1/a\r\nInjected: 1", nullptr, Client::on_event, nullptr), WSC_EURL);
  EXPECT_EQ(wsc_connect(&c, s.t.loop, "ws://127.0.0.1:1/a b", nullptr, Client::on_event, nullptr), WSC_EURL);
  s.end();
}

TEST(ClientApi, SetRequestHeaderRefusesCrLfAndTheRequestCarriesOnlyGoodHeaders) {
  Scene s;
  std::string request;
  RawServer raw([&](int fd) {
    Wire w(fd);
    request = w.head();
    send_all(fd, accept_response(request));
    auto f = w.next();  // the client's close
    if (f) send_all(fd, frame(kFin | kClose, f->payload, false));
    shutdown(fd, SHUT_WR);  // a server closes the TCP connection first (RFC 6455 §7.1.1)
    w.ends_within(3000 * kSlow);
  });
  wsc_test::HandshakeOptions o(/*offer_protocol=*/false, /*no_deflate=*/true);
  Client client(s.t, raw.url("/x"), &o.options);
  ASSERT_NE(client.conn, nullptr);
  EXPECT_EQ(wsc_conn_set_request_header(client.conn, "X-Evil", "a\r\nInjected: 1"), WSC_EINVAL);
  EXPECT_EQ(wsc_conn_set_request_header(client.conn, "X-Evil", "a\nInjected: 1"), WSC_EINVAL);
  EXPECT_EQ(wsc_conn_set_request_header(client.conn, "X-Evil\r\nInjected", "1"), WSC_EINVAL);
  EXPECT_EQ(wsc_conn_set_request_header(client.conn, "X Evil", "1"), WSC_EINVAL);
  EXPECT_EQ(wsc_conn_set_request_header(client.conn, "X-Fine", "yes"), 0);
  s.t.run_until([&] { return client.log.has("open") || client.log.closed; }, 5000 * kSlow);
  EXPECT_EQ(wsc_conn_set_request_header(client.conn, "X-Late", "1"), WSC_ESTATE) << "only while connecting";
  ASSERT_EQ(wsc_conn_close(client.conn, 1000, nullptr, 0), 0);
  s.wait_for(raw);
  s.t.run_until([&] { return client.log.closed; }, 5000 * kSlow);
  EXPECT_EQ(request.find("Injected"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nX-Fine: yes\r\n"), std::string::npos) << request;
  EXPECT_EQ(client.log.lines, (std::vector<std::string>{"upgrade 101", "open", "close 1000 clean"}));
  s.end();
}

TEST(ConnApi, CloseRefusesLongOrInvalidReasonsAndCodesThatMayNotTravel) {
  Scene s;
  Client c(s.t, s.url("/closer"));
  s.t.run_until([&] { return c.log.has("open") && s.server.hostile() != nullptr; }, 5000 * kSlow);
  ASSERT_NE(s.server.hostile(), nullptr);
  wsc_conn_t *server_side = s.server.hostile()->conn;
  const std::string r124(124, 'r');
  const std::string r123 = std::string(119, 'r') + "\xe2\x9c\x93" + "!";  // 123 bytes, multi-byte UTF-8
  ASSERT_EQ(r123.size(), 123u);
  for (wsc_conn_t *conn : {c.conn, server_side}) {
    EXPECT_EQ(wsc_conn_close(conn, 1000, r124.data(), r124.size()), WSC_EMSGSIZE);
    EXPECT_EQ(wsc_conn_close(conn, 1000, "\xff", 1), WSC_EUTF8);
    EXPECT_EQ(wsc_conn_close(conn, 1000, "\xc0\xaf", 2), WSC_EUTF8) << "overlong";
    EXPECT_EQ(wsc_conn_close(conn, 1000, "\xed\xa0\x80", 3), WSC_EUTF8) << "surrogate";
    EXPECT_EQ(wsc_conn_close(conn, 1000, "ok\xe2\x82", 4), WSC_EUTF8) << "truncated";
    for (uint32_t code : {1u, 999u, 1004u, 1005u, 1006u, 1015u, 1016u, 2999u, 5000u, 70000u})
      EXPECT_EQ(wsc_conn_close(conn, code, nullptr, 0), WSC_ECLOSECODE) << code;
    EXPECT_EQ(wsc_conn_close(conn, 0, "reason without a code", 21), WSC_EINVAL);
    const std::string p126(126, 'p');
    EXPECT_EQ(wsc_conn_ping(conn, p126.data(), p126.size(), nullptr, nullptr), WSC_EMSGSIZE);
    EXPECT_EQ(wsc_conn_pong(conn, p126.data(), p126.size(), nullptr, nullptr), WSC_EMSGSIZE);
    EXPECT_EQ(wsc_conn_ready_state(conn), static_cast<uint32_t>(WSC_OPEN)) << "a refused close changes nothing";
  }
  ASSERT_GE(wsc_conn_send(c.conn, WSC_OP_TEXT, "still open", 10, 0, nullptr, nullptr), 0);
  s.t.run_until([&] { return c.received.size() == 1; }, 5000 * kSlow);
  EXPECT_EQ(wsc_conn_close(c.conn, 4000, r123.data(), r123.size()), 0) << "123 bytes is the most";
  s.t.run_until([&] { return c.log.closed && s.server.hostile()->log.closed; }, 5000 * kSlow);
  EXPECT_EQ(s.server.hostile()->log.lines.back(), "close 4000 " + r123 + " clean");
  EXPECT_EQ(c.log.lines.back(), "close 4000 " + r123 + " clean");
  s.end();
}

// ---- framing violations from a server -------------------------------------------------------

namespace {

std::vector<Violation> client_violations() {
  std::vector<Violation> v = violations(false);
  // §5.1: a server never masks.
  v.push_back({"MaskedText", frame(kFin | kText, "hello", true), "WSC_ERR_UNEXPECTED_MASK", 1002});
  v.push_back({"MaskedPing", frame(kFin | kPing, "", true), "WSC_ERR_UNEXPECTED_MASK", 1002});
  v.push_back({"MaskedClose", frame(kFin | kClose, close_payload(1000), true), "WSC_ERR_UNEXPECTED_MASK", 1002});
  return v;
}

class ClientFrames : public testing::TestWithParam<Violation> {};

// A raw server that upgrades, sends `bytes`, and reads the client's reply.
struct ServerExchange {
  std::optional<Frame> reply;
  long reply_ms = -1;
  bool ended = false;
  std::string after;
};

}  // namespace

TEST_P(ClientFrames, FailTheConnectionWithTheirCloseCode) {
  const Violation &v = GetParam();
  Scene s;
  ServerExchange x;
  MemoryWatch mem;
  RawServer raw([&](int fd) {
    Wire w(fd);
    std::string req = w.head();
    send_all(fd, accept_response(req));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto t0 = Clock::now();
    send_all(fd, v.bytes);
    x.reply = w.next(5000 * kSlow);
    x.reply_ms = ms_since(t0);
    x.ended = w.ends_within(5000 * kSlow);
    x.after = w.buf;
  });
  Client client(s.t, raw.url());
  s.wait_for(raw);
  s.t.run_until([&] { return client.log.closed; }, 5000 * kSlow);
  ASSERT_TRUE(x.reply.has_value()) << "no reply; client: " << client.log.str();
  EXPECT_EQ(x.reply->opcode(), kClose);
  EXPECT_TRUE(x.reply->fin());
  EXPECT_TRUE(x.reply->masked) << "a client masks its frames";
  EXPECT_EQ(x.reply->payload, close_payload(v.code)) << "close code " << x.reply->close_code();
  EXPECT_TRUE(x.ended) << "the client sent FIN after its close frame";
  EXPECT_TRUE(x.after.empty());
  EXPECT_LT(x.reply_ms, 1000 * kSlow);
  std::vector<std::string> l = client.log.lines;
  if (!v.delivered.empty() && l.size() > 2) {
    EXPECT_EQ(l[2], "text " + v.delivered);
    l.erase(l.begin() + 2);
  }
  ASSERT_EQ(l.size(), 4u) << client.log.str();
  EXPECT_EQ(l[0], "upgrade 101");
  EXPECT_EQ(l[1], "open");
  EXPECT_EQ(l[2].rfind("error " + v.error + " ", 0), 0u) << l[2];
  EXPECT_EQ(l[3], "close 1006 unclean");
  EXPECT_LT(mem.growth_kb(), 4 * 1024) << "nothing was allocated for what the server declared";
  s.end();
}

INSTANTIATE_TEST_SUITE_P(Hostile, ClientFrames, testing::ValuesIn(client_violations()), violation_name);

TEST(ClientFrames, NonMinimalLengthEncodingsAreAccepted) {
  Scene s;
  RawServer raw([&](int fd) {
    Wire w(fd);
    send_all(fd, accept_response(w.head()) + frame(kFin | kText, "hello", false, LengthForm::k16) +
                     frame(kFin | kBinary, std::string(300, 'z'), false, LengthForm::k64) +
                     frame(kFin | kClose, close_payload(1000), false));
    w.next(5000 * kSlow);  // the client's close
    shutdown(fd, SHUT_WR);  // then the server closes first (RFC 6455 §7.1.1)
    w.ends_within(5000 * kSlow);
  });
  wsc_test::HandshakeOptions o(/*offer_protocol=*/false, /*no_deflate=*/true);
  Client client(s.t, raw.url(), &o.options);
  s.wait_for(raw);
  s.t.run_until([&] { return client.log.closed; }, 5000 * kSlow);
  EXPECT_EQ(client.log.lines,
            (std::vector<std::string>{"upgrade 101", "open", "text hello", "binary [300 bytes]", "close 1000 clean"}));
  s.end();
}

TEST(ClientFrames, ADecompressionBombFromAServerStopsAtTheMessageLimit) {
  Scene s;
  // 64 MiB of one letter, compressed by wsc's own compressor: about 64 kB on the wire.
  std::string z;
  {
    wsc::Deflater d(9, 9, 15, false);
    wsc::ByteBuffer out;
    std::string mib(1 << 20, 'a');
    for (int i = 0; i < 64; ++i) ASSERT_EQ(d.compress(reinterpret_cast<const uint8_t *>(mib.data()), mib.size(), i == 63, out), 0);
    z.assign(reinterpret_cast<const char *>(out.data()), out.size());
  }
  ServerExchange x;
  MemoryWatch mem;
  RawServer raw([&](int fd) {
    Wire w(fd);
    send_all(fd, accept_response(w.head(), "Sec-WebSocket-Extensions: permessage-deflate\r\n"));
    send_all(fd, frame(kFin | kRsv1 | kText, z, false));
    x.reply = w.next(10000 * kSlow);
    x.ended = w.ends_within(5000 * kSlow);
  });
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  co.max_message_size = 1 << 20;
  wsc_client_options_t o = WSC_CLIENT_OPTIONS_INIT;
  o.conn = &co;
  Client client(s.t, raw.url(), &o);
  s.t.run_until([&] {
    mem.sample();
    return raw.done.load() && client.log.closed;
  }, 20000 * kSlow);
  ASSERT_TRUE(x.reply.has_value()) << client.log.str();
  EXPECT_EQ(x.reply->payload, close_payload(1009));
  EXPECT_TRUE(x.ended);
  ASSERT_EQ(client.log.lines.size(), 4u) << client.log.str();
  EXPECT_EQ(client.log.lines[2].rfind("error WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH ", 0), 0u) << client.log.lines[2];
  EXPECT_EQ(client.log.lines[3], "close 1006 unclean");
  EXPECT_LT(mem.growth_kb(), 8 * 1024) << "kB: not 64 MiB";
  s.end();
}

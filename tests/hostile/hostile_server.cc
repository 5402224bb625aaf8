// A live wsc server against hostile raw clients: opening handshakes that break RFC 6455 §4.2.1
// (and HTTP's own rules), a slow-loris request, oversized heads, CR/LF and other bad values at
// the API, every framing violation with its close code, lengths and fragment counts past the
// limits, a ping flood from a peer that does not read, and a decompression bomb. Each case
// asserts the exact outcome on the wire and on the wsc side, while a well-behaved client of the
// same server keeps exchanging verified echoes.
#include <zlib.h>

#include <map>

#include "hostile_support.h"

using namespace hostile;

namespace {

// The conforming request with changes: each header of `set` replaced (or removed with "<none>"),
// `extra` lines added after them, and another first line.
std::string request(const std::map<std::string, std::string> &set = {}, const std::string &extra = "",
                    const std::string &first = "GET / HTTP/1.1") {
  std::vector<std::pair<std::string, std::string>> h = {{"Host", "localhost"},
                                                        {"Upgrade", "websocket"},
                                                        {"Connection", "Upgrade"},
                                                        {"Sec-WebSocket-Key", kClientKey},
                                                        {"Sec-WebSocket-Version", "13"}};
  std::string r = first + "\r\n";
  for (auto &kv : h) {
    auto it = set.find(kv.first);
    if (it == set.end())
      r += kv.first + ": " + kv.second + "\r\n";
    else if (it->second != "<none>")
      r += kv.first + ": " + it->second + "\r\n";
  }
  return r + extra + "\r\n";
}

std::string many_headers(int n) {
  std::string x;
  for (int i = 0; i < n; ++i) x += "X-H" + std::to_string(i) + ": v\r\n";
  return x;
}

struct Refusal {
  std::string name;
  std::string bytes;   // the request
  std::string status;  // the status line answered
  std::string header;  // header lines the answer must carry, in order, or ""
  bool client_error;   // reported as WSC_SERVER_CLIENT_ERROR (a plain HTTP request is not)
};

const char k400[] = "HTTP/1.1 400 Bad Request";

std::vector<Refusal> refusals() {
  return {
      // §4.2.1 item 1: a GET of HTTP/1.1 or higher.
      {"Post", request({}, "", "POST / HTTP/1.1"), "HTTP/1.1 405 Method Not Allowed", "Allow: GET", true},
      {"Head", request({}, "", "HEAD / HTTP/1.1"), "HTTP/1.1 405 Method Not Allowed", "Allow: GET", true},
      {"LowercaseMethod", request({}, "", "get / HTTP/1.1"), k400, "", true},
      {"Http10", request({}, "", "GET / HTTP/1.0"), "HTTP/1.1 505 HTTP Version Not Supported", "", true},
      {"Http09", request({}, "", "GET /"), "HTTP/1.1 505 HTTP Version Not Supported", "", true},
      // Item 2: Host, exactly once (RFC 7230 §5.4: 400 for none or several).
      {"NoHost", request({{"Host", "<none>"}}), k400, "", true},
      {"HostTwice", request({}, "Host: evil.example\r\n"), k400, "", true},
      // Item 3: Upgrade: websocket. Without it the request is plain HTTP: 426 (RFC 7231 §6.5.15).
      {"NoUpgrade", request({{"Upgrade", "<none>"}}), "HTTP/1.1 426 Upgrade Required", "Upgrade: websocket", false},
      {"UpgradeH2c", request({{"Upgrade", "h2c"}}), k400, "", true},
      {"UpgradeList", request({{"Upgrade", "websocket, h2c"}}), k400, "", true},
      {"UpgradeTwice", request({}, "Upgrade: h2c\r\n"), k400, "", true},
      // Item 4: Connection with the token "Upgrade".
      {"NoConnection", request({{"Connection", "<none>"}}), k400, "", true},
      {"ConnectionKeepAlive", request({{"Connection", "keep-alive"}}), k400, "", true},
      {"ConnectionUpgradeAsSubstring", request({{"Connection", "Upgraded"}}), k400, "", true},
      // Item 5: Sec-WebSocket-Key, the base64 of 16 bytes, once (§11.3.1).
      {"NoKey", request({{"Sec-WebSocket-Key", "<none>"}}), k400, "", true},
      {"KeyTwice", request({}, "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"), k400, "", true},
      {"KeyOf5Bytes", request({{"Sec-WebSocket-Key", "c2hvcnQ="}}), k400, "", true},
      {"KeyOf17Bytes", request({{"Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAA="}}), k400, "", true},
      {"KeyOf15Bytes", request({{"Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA"}}), k400, "", true},
      {"KeyNotBase64", request({{"Sec-WebSocket-Key", "!!!!!!!!!!!!!!!!!!!!!!=="}}), k400, "", true},
      {"KeyWithoutPadding", request({{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ"}}), k400, "", true},
      {"KeyNotCanonical", request({{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZR=="}}), k400, "", true},
      {"KeyEmpty", request({{"Sec-WebSocket-Key", ""}}), k400, "", true},
      // Item 6 and §4.4: version 13, else 426 naming it.
      {"NoVersion", request({{"Sec-WebSocket-Version", "<none>"}}), "HTTP/1.1 426 Upgrade Required",
       "Upgrade: websocket\r\nSec-WebSocket-Version: 13", true},
      {"Version8", request({{"Sec-WebSocket-Version", "8"}}), "HTTP/1.1 426 Upgrade Required", "Upgrade: websocket\r\nSec-WebSocket-Version: 13",
       true},
      {"Version14", request({{"Sec-WebSocket-Version", "14"}}), "HTTP/1.1 426 Upgrade Required",
       "Upgrade: websocket\r\nSec-WebSocket-Version: 13", true},
      {"Version13Padded", request({{"Sec-WebSocket-Version", "013"}}), "HTTP/1.1 426 Upgrade Required",
       "Upgrade: websocket\r\nSec-WebSocket-Version: 13", true},
      {"VersionTwice", request({}, "Sec-WebSocket-Version: 13\r\n"), k400, "", true},
      // Item 8: subprotocols are tokens, each offered once.
      {"SubprotocolWithSpace", request({}, "Sec-WebSocket-Protocol: a b\r\n"), k400, "", true},
      {"SubprotocolWithSlash", request({}, "Sec-WebSocket-Protocol: chat/1\r\n"), k400, "", true},
      {"SubprotocolTwice", request({}, "Sec-WebSocket-Protocol: chat, chat\r\n"), k400, "", true},
      // Limits: max_headers (100) and max_header_bytes (16 KiB).
      {"AThousandHeaders", request({}, many_headers(1000)), "HTTP/1.1 431 Request Header Fields Too Large", "", true},
      {"A20KiBTarget", request({}, "", "GET /" + std::string(20 * 1024, 'a') + " HTTP/1.1"),
       "HTTP/1.1 431 Request Header Fields Too Large", "", true},
      // Not HTTP at all.
      {"TlsClientHello", std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11), k400, "", true},
      {"NulInAHeader", request({}, std::string("X-A: a\0b\r\n", 10)), k400, "", true},
      {"HeaderWithoutColon", request({}, "No colon here\r\n"), k400, "", true},
      {"SpaceBeforeColon", request({}, "X-A : v\r\n"), k400, "", true},
  };
}

void PrintTo(const Refusal &r, std::ostream *os) { *os << r.name; }

class ServerHandshake : public testing::TestWithParam<Refusal> {};

}  // namespace

TEST_P(ServerHandshake, IsRefusedWithItsStatusAndTheSocketClosed) {
  const Refusal &c = GetParam();
  Scene s;
  std::string head;
  bool ended = false;
  RawClient peer(s.server.port, [&](int fd) {
    Wire w(fd);
    send_all(fd, c.bytes);
    head = w.head(5000 * kSlow);
    ended = w.ends_within(3000 * kSlow);
  });
  s.wait_for(peer);
  EXPECT_EQ(status_line(head), c.status) << head;
  if (!c.header.empty()) {
    EXPECT_NE(head.find("\r\n" + c.header + "\r\n"), std::string::npos) << head;
  }
  EXPECT_NE(head.find("\r\nConnection: close\r\n"), std::string::npos) << head;
  EXPECT_TRUE(ended) << "the server closes the socket after its answer";
  if (c.client_error) {
    ASSERT_EQ(s.server.client_errors.size(), 1u);
    EXPECT_EQ(s.server.client_errors[0].substr(0, 4), c.status.substr(9, 3) + " ") << s.server.client_errors[0];
  } else {
    EXPECT_TRUE(s.server.client_errors.empty());
  }
  EXPECT_EQ(s.server.conns.size(), 1u) << "no connection but the bystander's";
  s.end();
}

INSTANTIATE_TEST_SUITE_P(Hostile, ServerHandshake, testing::ValuesIn(refusals()),
                         [](const testing::TestParamInfo<Refusal> &i) { return i.param.name; });

TEST(ServerHandshake, ConnectionTokensOverTwoHeaderLinesAreOneList) {
  // RFC 7230 §3.2.2: a list split over several lines is the same as one line joining them.
  Scene s;
  std::string head;
  RawClient peer(s.server.port, [&](int fd) {
    Wire w(fd);
    send_all(fd, request({{"Connection", "keep-alive"}}, "Connection: Upgrade\r\n"));
    head = w.head();
    send_all(fd, frame(kFin | kClose, close_payload(1000), true));
    w.next();
    w.ends_within(3000 * kSlow);
  });
  s.wait_for(peer);
  EXPECT_EQ(status_line(head), "HTTP/1.1 101 Switching Protocols");
  EXPECT_TRUE(s.server.client_errors.empty());
  s.end();
}

TEST(ServerHandshake, AMegabyteHeaderLineIsRefusedAtTheLimitWithoutWaitingForTheRest) {
  Scene s;  // max_header_bytes: the default, 16 KiB
  const std::string line = "X-Big: " + std::string(1 << 20, 'b') + "\r\n";
  const std::string start = request({}, line);
  size_t sent_before_answer = 0;
  std::string head;
  bool ended = false;
  RawClient peer(s.server.port, [&](int fd) {
    Wire w(fd);
    // 64 KiB of the request (the line's first 64 KiB) and then nothing: the answer must come
    // without the rest.
    sent_before_answer = send_some(fd, start.data(), 64 * 1024);
    head = w.head(5000 * kSlow);
    send_some(fd, start.data() + sent_before_answer, start.size() - sent_before_answer);  // ignored now
    ended = w.ends_within(3000 * kSlow);
  });
  s.wait_for(peer);
  EXPECT_EQ(sent_before_answer, 64u * 1024);
  EXPECT_EQ(status_line(head), "HTTP/1.1 431 Request Header Fields Too Large") << "answered after 64 KiB of 1 MiB";
  EXPECT_TRUE(ended);
  ASSERT_EQ(s.server.client_errors.size(), 1u);
  EXPECT_EQ(s.server.client_errors[0].substr(0, 4), "431 ");
  s.end();
}

TEST(ServerHandshake, ASlowLorisIsDroppedAtTheHandshakeTimeoutAndNotBefore) {
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.handshake_timeout_ms = 1500;
  Scene s(so);
  const std::string req = request();
  std::string answer;
  size_t sent = 0;
  long dropped_ms = -1;
  bool ended = false;
  RawClient peer(s.server.port, [&](int fd) {
    Wire w(fd);
    auto start = Clock::now();
    // One byte per second; between them, watch for the server's answer.
    while (sent < req.size() && !w.eof) {
      if (send_some(fd, req.data() + sent, 1) != 1) break;
      ++sent;
      if (w.fill(1000)) break;  // the answer began
    }
    ended = w.ends_within(3000 * kSlow);
    dropped_ms = ms_since(start);
    answer = w.buf;
  });
  s.wait_for(peer);
  EXPECT_EQ(status_line(answer), "HTTP/1.1 408 Request Timeout") << answer;
  EXPECT_TRUE(ended);
  EXPECT_GE(dropped_ms, 1400) << "not before the timeout (less the loop clock's staleness)";
  EXPECT_LE(dropped_ms, 1500 + 700 * kSlow) << "dropped at the timeout";
  EXPECT_LE(sent, 3u) << "a byte a second for 1.5 s";
  ASSERT_EQ(s.server.client_errors.size(), 1u) << "a timed-out request is a client error too";
  EXPECT_EQ(s.server.client_errors[0].substr(0, 4), "408 ");
  s.end();
}

// ---- the API refuses what would corrupt a response ------------------------------------------

TEST(ServerApi, CrLfInHeadersCookiesAndReasonsAndUnofferedSubprotocolsAreRefused) {
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.flags = WSC_SERVER_HANDLE_REQUESTS;
  Scene s(so);
  int checked = 0;
  s.server.on_request = [&](wsc_request_t *req) {
    std::string path = wsc_request_path(req);
    if (path == "/bystander") return;  // accepted as usual
    EXPECT_EQ(wsc_request_add_header(req, "X-Evil", "a\r\nInjected: 1"), WSC_EINVAL);
    EXPECT_EQ(wsc_request_add_header(req, "X-Evil", "a\nInjected: 1"), WSC_EINVAL);
    EXPECT_EQ(wsc_request_add_header(req, "X-Evil", "a\rInjected: 1"), WSC_EINVAL);
    EXPECT_EQ(wsc_request_add_header(req, "X-Evil\r\nInjected", "1"), WSC_EINVAL);
    EXPECT_EQ(wsc_request_add_header(req, "X-Evil: 1\r\nInjected", "1"), WSC_EINVAL);
    EXPECT_EQ(wsc_request_add_header(req, "X Evil", "1"), WSC_EINVAL);
    EXPECT_EQ(wsc_request_add_header(req, "", "1"), WSC_EINVAL);
    EXPECT_EQ(wsc_request_add_cookie(req, "sid", "1", "Path=/\r\nInjected: 1"), WSC_EINVAL);
    EXPECT_EQ(wsc_request_add_cookie(req, "sid\r\nInjected: 1", "1", nullptr), WSC_EINVAL);
    EXPECT_EQ(wsc_request_add_cookie(req, "sid", "1\r\nInjected: 1", nullptr), WSC_EINVAL);
    EXPECT_EQ(wsc_request_reject(req, 403, "No\r\nInjected: 1", nullptr, 0), WSC_EINVAL);
    EXPECT_EQ(wsc_request_reject(req, 403, "No\n", nullptr, 0), WSC_EINVAL);
    EXPECT_EQ(wsc_request_reject(req, 200, "OK", nullptr, 0), WSC_EINVAL) << "an upgrade is refused with 3xx-5xx";
    EXPECT_EQ(wsc_request_accept(req, "chat\r\nInjected: 1"), WSC_EINVAL);
    EXPECT_EQ(wsc_request_accept(req, "not offered"), WSC_EINVAL);
    EXPECT_EQ(wsc_request_accept(req, "ch at"), WSC_EINVAL);
    EXPECT_EQ(wsc_request_add_header(req, "X-Fine", "yes"), 0);
    ++checked;
    if (path == "/reject")
      EXPECT_EQ(wsc_request_reject(req, 403, "Go Away", "no", 2), 0);
    else
      EXPECT_EQ(wsc_request_accept(req, "chat"), 0);
  };
  std::string refused, accepted;
  RawClient first(s.server.port, [&](int fd) {
    Wire w(fd);
    send_all(fd, request({}, "Sec-WebSocket-Protocol: chat, superchat\r\n", "GET /reject HTTP/1.1"));
    refused = w.head();
    w.ends_within(3000 * kSlow);
    refused += w.buf;
  });
  s.wait_for(first);
  RawClient second(s.server.port, [&](int fd) {
    Wire w(fd);
    send_all(fd, request({}, "Sec-WebSocket-Protocol: chat, superchat\r\n", "GET /accept HTTP/1.1"));
    accepted = w.head();
    send_all(fd, frame(kFin | kClose, close_payload(1000), true));
    w.next();
    w.ends_within(3000 * kSlow);
  });
  s.wait_for(second);
  EXPECT_EQ(checked, 2);
  EXPECT_EQ(status_line(refused), "HTTP/1.1 403 Go Away");
  EXPECT_EQ(refused.substr(refused.size() - 2), "no");
  EXPECT_EQ(status_line(accepted), "HTTP/1.1 101 Switching Protocols");
  EXPECT_NE(accepted.find("\r\nSec-WebSocket-Protocol: chat\r\n"), std::string::npos);
  for (const std::string *answer : {&refused, &accepted}) {
    EXPECT_EQ(answer->find("Injected"), std::string::npos) << *answer;
    EXPECT_NE(answer->find("\r\nX-Fine: yes\r\n"), std::string::npos) << *answer;
  }
  s.end();
}

// ---- framing violations ---------------------------------------------------------------------

namespace {

// Every violation of the shared table as a client sends it (masked), and the one only a client
// can commit: an unmasked frame (§5.1).
std::vector<Violation> server_violations() {
  std::vector<Violation> v = violations(true);
  v.push_back({"UnmaskedText", frame(kFin | kText, "hello", false), "WSC_ERR_EXPECTED_MASK", 1002});
  v.push_back({"UnmaskedPing", frame(kFin | kPing, "", false), "WSC_ERR_EXPECTED_MASK", 1002});
  v.push_back({"UnmaskedClose", frame(kFin | kClose, close_payload(1000), false), "WSC_ERR_EXPECTED_MASK", 1002});
  v.push_back({"UnmaskedContinuation", frame(kText, "a", true) + frame(kFin | kCont, "b", false), "WSC_ERR_EXPECTED_MASK",
               1002});
  return v;
}

class ServerFrames : public testing::TestWithParam<Violation> {};

// A raw client's connection that sends `bytes` once open; what it read back.
struct Exchange {
  bool upgraded = false;
  std::optional<Frame> reply;
  long reply_ms = -1;
  std::vector<Frame> before;  // frames before the reply (echoes of whole messages)
  bool ended = false;         // the server closed the connection after its reply
  std::string after;          // bytes after the reply (none expected)
};

// The first close frame within timeout_ms; the frames before it go to x.before.
void read_reply(Wire &w, Exchange &x, int timeout_ms) {
  while (auto f = w.next(timeout_ms)) {
    if (f->opcode() == kClose) {
      x.reply = f;
      return;
    }
    x.before.push_back(*f);
  }
}

Exchange attack(Scene &s, const std::string &bytes, const std::string &extra_headers = "") {
  Exchange x;
  RawClient peer(s.server.port, [&](int fd) {
    Wire w(fd);
    std::string head;
    x.upgraded = raw_upgrade(fd, w, extra_headers, &head);
    if (!x.upgraded) return;
    auto t0 = Clock::now();
    send_all(fd, bytes);
    read_reply(w, x, 5000 * kSlow);
    x.reply_ms = ms_since(t0);
    x.ended = w.ends_within(5000 * kSlow);
    x.after = w.buf;
  });
  s.wait_for(peer);
  return x;
}

// The reply is a close frame with `code` and no reason, then the end of the connection; the
// server side saw open, the error, and an abnormal close.
void expect_failed(Scene &s, const Exchange &x, const std::string &error, uint32_t code, size_t index = 0,
                   const std::string &delivered = "") {
  ASSERT_TRUE(x.upgraded);
  ASSERT_TRUE(x.reply.has_value()) << "no close frame";
  ASSERT_EQ(x.before.size(), delivered.empty() ? 0u : 1u) << "only the echo of a message before the violation";
  if (!delivered.empty()) {
    EXPECT_EQ(x.before[0].payload, delivered);
  }
  EXPECT_EQ(x.reply->opcode(), kClose);
  EXPECT_TRUE(x.reply->fin());
  EXPECT_FALSE(x.reply->masked) << "a server does not mask";
  EXPECT_EQ(x.reply->payload, close_payload(code)) << "close code " << x.reply->close_code();
  EXPECT_TRUE(x.ended) << "the server ends the connection";
  EXPECT_TRUE(x.after.empty()) << "nothing after the close frame";
  Server::Conn *h = s.server.hostile(index);
  ASSERT_NE(h, nullptr);
  s.t.run_until([&] { return h->log.closed; }, 5000 * kSlow);
  std::vector<std::string> l = h->log.lines;
  if (!delivered.empty()) {
    ASSERT_GE(l.size(), 2u);
    EXPECT_EQ(l[1], "text " + delivered);
    l.erase(l.begin() + 1);
  }
  ASSERT_EQ(l.size(), 3u) << h->log.str();
  EXPECT_EQ(l[0], "open");
  EXPECT_EQ(l[1].rfind("error " + error + " ", 0), 0u) << h->log.str();
  EXPECT_EQ(l[2], "close 1006 unclean") << "no close frame came from the peer";
}

}  // namespace

TEST_P(ServerFrames, FailTheConnectionWithTheirCloseCode) {
  const Violation &v = GetParam();
  Scene s;
  MemoryWatch mem;
  Exchange x = attack(s, v.bytes);
  expect_failed(s, x, v.error, v.code, 0, v.delivered);
  EXPECT_LT(x.reply_ms, 1000 * kSlow) << "answered at once";
  EXPECT_LT(mem.growth_kb(), 4 * 1024) << "nothing was allocated for what the peer declared";
  s.end();
}

INSTANTIATE_TEST_SUITE_P(Hostile, ServerFrames, testing::ValuesIn(server_violations()), violation_name);

TEST(ServerFrames, NonMinimalLengthEncodingsAreAccepted) {
  // RFC 6455 §5.2 asks senders for the minimal length encoding; wsc accepts the longer forms, as
  // the major peers do (the length is the same number), and answers in the minimal form.
  Scene s;
  std::vector<Frame> echoes;
  RawClient peer(s.server.port, [&](int fd) {
    Wire w(fd);
    if (!raw_upgrade(fd, w)) return ADD_FAILURE() << "no 101";
    send_all(fd, frame(kFin | kText, "hello", true, LengthForm::k16) + frame(kFin | kText, "world", true, LengthForm::k64) +
                     frame(kFin | kBinary, std::string(200, 'z'), true, LengthForm::k64));
    for (int i = 0; i < 3; ++i)
      if (auto f = w.next(5000 * kSlow)) echoes.push_back(*f);
    send_all(fd, frame(kFin | kClose, close_payload(1000), true));
    w.next();
    w.ends_within(3000 * kSlow);
  });
  s.wait_for(peer);
  ASSERT_EQ(echoes.size(), 3u);
  EXPECT_EQ(echoes[0].payload, "hello");
  EXPECT_EQ(echoes[1].payload, "world");
  EXPECT_EQ(echoes[2].payload, std::string(200, 'z'));
  ASSERT_NE(s.server.hostile(), nullptr);
  EXPECT_EQ(s.server.hostile()->log.lines,
            (std::vector<std::string>{"open", "text hello", "text world", "binary [200 bytes]", "close 1000 clean"}));
  s.end();
}

TEST(ServerLimits, AConfiguredMessageLimitRefusesTheHeaderAtOnce) {
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  co.max_message_size = 1 << 20;
  Scene s(WSC_SERVER_OPTIONS_INIT, &co);
  MemoryWatch mem;
  const uint64_t lengths[] = {(1u << 20) + 1, uint64_t{1} << 40, (uint64_t{1} << 63) - 1};
  for (size_t i = 0; i < 3; ++i) {
    Exchange x = attack(s, frame_header(kFin | kBinary, lengths[i], true));
    expect_failed(s, x, "WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH", 1009, i);
    EXPECT_LT(x.reply_ms, 1000 * kSlow) << lengths[i] << ": answered without its payload";
  }
  // Exactly at the limit is allowed.
  RawClient ok(s.server.port, [&](int fd) {
    Wire w(fd);
    if (!raw_upgrade(fd, w)) return ADD_FAILURE() << "no 101";
    send_all(fd, frame(kFin | kBinary, std::string(1 << 20, 'm'), true));
    auto echo = w.next(10000 * kSlow);
    EXPECT_TRUE(echo && echo->payload.size() == (1u << 20));
    send_all(fd, frame(kFin | kClose, close_payload(1000), true));
    w.next();
    w.ends_within(3000 * kSlow);
  });
  s.wait_for(ok);
  EXPECT_LT(mem.growth_kb(), 8 * 1024);
  s.end();
}

// ---- floods ---------------------------------------------------------------------------------

TEST(ServerLimits, AMillionOneByteFragmentsEndAtTheFragmentLimitWith1008) {
  hard_deadline(90);
  Scene s;  // the defaults: WSC_DEFAULT_MAX_FRAGMENTS per message
  constexpr size_t kFragments = 1000000;
  // Built (and touched) before memory is watched: one text frame without FIN, then 999,999
  // continuations without FIN, 7 bytes each; the message never ends.
  std::string flood = frame(kText, "x", true);
  const std::string cont = frame(kCont, "x", true);
  flood.reserve(flood.size() + cont.size() * (kFragments - 1));
  for (size_t i = 1; i < kFragments; ++i) flood += cont;
  MemoryWatch mem;
  Exchange x;
  RawClient peer(s.server.port, [&](int fd) {
    Wire w(fd);
    x.upgraded = raw_upgrade(fd, w);
    if (!x.upgraded) return;
    for (size_t off = 0; off < flood.size(); off += 1 << 20)
      send_some(fd, flood.data() + off, std::min<size_t>(1 << 20, flood.size() - off));
    read_reply(w, x, 10000 * kSlow);
    x.ended = w.ends_within(10000 * kSlow);
    x.after = w.buf;
  });
  s.t.run_until([&] {
    mem.sample();
    return peer.done.load();
  }, 60000 * kSlow);
  peer.join();
  expect_failed(s, x, "WSC_ERR_TOO_MANY_FRAGMENTS", 1008);
  const long growth = mem.growth_kb();
  EXPECT_LT(growth, 4 * 1024) << "kB";
  std::printf("fragment flood: %s grew by %ld kB\n", MemoryWatch::what(), growth);
  s.end();
}

namespace {

constexpr size_t kPingPayload = 125;

// The payload of ping number i: its number, then filler, 125 bytes in all.
void ping_payload(char *out, int i) {
  char num[16];
  std::snprintf(num, sizeof num, "%010d", i);
  std::memset(out, 'p', kPingPayload);
  std::memcpy(out, num, 10);
}

}  // namespace

TEST(ServerLimits, APingFloodFromAPeerThatDoesNotReadKeepsTheQueueBounded) {
  // RFC 6455 §5.5.3: with pongs still unsent, only the latest ping needs an answer. 200,000 pings
  // of 125 bytes (26 MB) from a peer that reads nothing must not queue 25 MB of pongs.
  hard_deadline(120);
  Scene s;
  constexpr int kPings = 200000, kBatch = 1000;
  const size_t frame_size = frame_header(kFin | kPing, kPingPayload, true).size() + kPingPayload;
  std::string batch;
  for (int j = 0; j < kBatch; ++j) batch += frame_header(kFin | kPing, kPingPayload, true) + std::string(kPingPayload, 'p');
  std::string last(kPingPayload, '\0');
  ping_payload(&last[0], kPings - 1);
  std::atomic<int> phase{0};  // 1: everything was sent; 2: the peer may read
  size_t pongs = 0, out_of_order = 0;
  std::string last_pong;
  bool echoed = false, closed_clean = false;
  MemoryWatch mem;
  RawClient peer(s.server.port, [&](int fd) {
    Wire w(fd);
    if (!raw_upgrade(fd, w)) return ADD_FAILURE() << "no 101";
    for (int b = 0; b < kPings / kBatch; ++b) {
      for (int j = 0; j < kBatch; ++j) {
        char *p = &batch[j * frame_size + frame_size - kPingPayload];
        ping_payload(p, b * kBatch + j);
        mask_in_place(p, kPingPayload);
      }
      if (!send_all(fd, batch)) return ADD_FAILURE() << "the server stopped reading pings at batch " << b;
    }
    send_all(fd, frame(kFin | kText, "still there?", true));
    phase = 1;
    for (int i = 0; phase != 2 && i < 60000 * kSlow; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    long previous = -1;
    while (!(echoed && last_pong == last)) {
      auto f = w.next(10000 * kSlow);
      if (!f) break;
      if (f->opcode() == kPong) {
        ++pongs;
        long n = std::atol(f->payload.substr(0, 10).c_str());
        out_of_order += n <= previous;
        previous = n;
        last_pong = f->payload;
      } else if (f->opcode() == kText) {
        echoed = f->payload == "still there?";
      }
    }
    send_all(fd, frame(kFin | kClose, close_payload(1000), true));
    auto c = w.next(5000 * kSlow);
    closed_clean = c && c->opcode() == kClose && c->close_code() == 1000 && w.ends_within(5000 * kSlow);
  });
  Server::Conn *h = nullptr;
  s.t.run_until([&] {
    mem.sample();
    h = s.server.hostile();
    return (h && h->log.pings == static_cast<size_t>(kPings) && h->log.has("text still there?")) || peer.done;
  }, 60000 * kSlow);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->log.pings, static_cast<size_t>(kPings)) << "every ping was read";
  const uint64_t queued = h->conn ? wsc_conn_buffered_amount(h->conn) : 0;
  const long growth = mem.growth_kb();
  std::printf("ping flood: %llu bytes queued, %s grew by %ld kB\n", static_cast<unsigned long long>(queued),
              MemoryWatch::what(), growth);
  EXPECT_LE(queued, 2u * WSC_DEFAULT_HIGH_WATER_MARK) << "the send queue stays near the high-water mark";
  EXPECT_LT(growth, 4 * 1024) << "kB: 25 MB of pongs were not queued";
  EXPECT_EQ(wsc_conn_ready_state(h->conn), static_cast<uint32_t>(WSC_OPEN)) << "the connection stays usable";
  phase = 2;
  s.wait_for(peer, 60000);
  EXPECT_TRUE(echoed) << "the message sent after the flood was echoed";
  EXPECT_GT(pongs, 0u);
  EXPECT_LT(pongs, static_cast<size_t>(kPings)) << "pongs of pings superseded by later ones were not sent";
  EXPECT_EQ(out_of_order, 0u) << "pongs answer pings in order";
  EXPECT_TRUE(last_pong == last) << "the last pong answers the last ping";
  EXPECT_TRUE(closed_clean);
  std::printf("ping flood: %zu pongs for %d pings\n", pongs, kPings);
  EXPECT_EQ(h->log.without("drain"), (std::vector<std::string>{"open", "text still there?", "close 1000 clean"}))
      << "a DRAIN may come: the echo was queued behind the pongs";
  s.end();
}

namespace {

// `n` zero bytes as one permessage-deflate message (RFC 7692 §7.2.1: raw deflate, sync flush,
// without its 00 00 ff ff tail).
std::string deflated_zeros(size_t n) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<unsigned char> zeros(1 << 20, 0), out(1 << 20);
  std::string result;
  auto pump = [&](int flush) {
    do {
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      deflate(&z, flush);
      result.append(reinterpret_cast<char *>(out.data()), out.size() - z.avail_out);
    } while (z.avail_out == 0);
  };
  for (size_t done = 0; done < n; done += zeros.size()) {
    z.next_in = zeros.data();
    z.avail_in = static_cast<uInt>(std::min(zeros.size(), n - done));
    pump(Z_NO_FLUSH);
  }
  pump(Z_SYNC_FLUSH);
  deflateEnd(&z);
  EXPECT_EQ(result.substr(result.size() - 4), std::string("\x00\x00\xff\xff", 4));
  result.resize(result.size() - 4);
  return result;
}

}  // namespace

TEST(ServerLimits, ADecompressionBombStopsInflatingAtTheMessageLimit) {
  wsc_deflate_options_t deflate = WSC_DEFLATE_OPTIONS_INIT;
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  co.deflate = &deflate;
  co.max_message_size = 1 << 20;
  Scene s(WSC_SERVER_OPTIONS_INIT, &co);
  const std::string bomb = frame(kFin | kRsv1 | kBinary, deflated_zeros(size_t{100} << 20), true);  // 100 MiB of zeros
  std::printf("bomb: 100 MiB of zeros in %zu bytes\n", bomb.size());
  MemoryWatch mem;
  Exchange x;
  std::string head;
  RawClient peer(s.server.port, [&](int fd) {
    Wire w(fd);
    x.upgraded = raw_upgrade(fd, w, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n", &head);
    if (!x.upgraded) return;
    auto t0 = Clock::now();
    send_all(fd, bomb);
    read_reply(w, x, 10000 * kSlow);
    x.reply_ms = ms_since(t0);
    x.ended = w.ends_within(5000 * kSlow);
    x.after = w.buf;
  });
  s.t.run_until([&] {
    mem.sample();
    return peer.done.load();
  }, 30000 * kSlow);
  peer.join();
  EXPECT_EQ(header_value(head, "Sec-WebSocket-Extensions"), "permessage-deflate");
  expect_failed(s, x, "WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH", 1009);
  const long growth = mem.growth_kb();
  std::printf("bomb: %s grew by %ld kB\n", MemoryWatch::what(), growth);
  EXPECT_LT(growth, 8 * 1024) << "kB: inflation stopped near the 1 MiB limit, not at 100 MiB";
  s.end();
}

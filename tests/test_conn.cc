// Connections (src/conn.cc), the same on both sides: messages of every size, completions,
// ping/pong, the closing handshake from either side, close timeout, abrupt EOF, protocol errors,
// calls from inside callbacks, getters, and the thread-safe send.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "net_support.h"

using namespace wsc_test;

namespace {

struct Side {
  Events events;
  wsc_conn_t *conn = nullptr;
  std::vector<std::string> messages;  // payloads, in full
  std::function<void(wsc_conn_t *, const wsc_conn_event_t *)> hook;
  bool closed = false;
};

void on_side(wsc_conn_t *c, const wsc_conn_event_t *ev, void *ud) {
  auto *s = static_cast<Side *>(ud);
  std::string line = describe_conn_event(*ev);
  if (ev->type == WSC_EV_MESSAGE) {
    s->messages.emplace_back(reinterpret_cast<const char *>(ev->data), ev->len);
    if (line.size() > 80) line = line.substr(0, 80);
  }
  s->events.log.push_back(line);
  if (s->hook) s->hook(c, ev);
  if (ev->type == WSC_EV_CLOSE) {
    s->closed = true;
    s->conn = nullptr;
  }
}

// A wsc server and a wsc client connected to it on one loop.
struct Pair {
  explicit Pair(TestLoop &t, wsc_conn_options_t server_conn = WSC_CONN_OPTIONS_INIT,
                wsc_conn_options_t client_conn = WSC_CONN_OPTIONS_INIT)
      : loop(t), sconn(server_conn), cconn(client_conn) {
    wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
    so.host = "127.0.0.1";
    so.conn = &sconn;
    EXPECT_EQ(wsc_server_new(&srv, t.loop, &so, on_server, this), 0);
    wsc_addr_t a;
    wsc_server_address(srv, &a);
    port = static_cast<int>(a.port);
    wsc_client_options_t co = WSC_CLIENT_OPTIONS_INIT;
    co.conn = &cconn;
    EXPECT_EQ(wsc_connect(&client.conn, t.loop, ("ws://127.0.0.1:" + std::to_string(port) + "/path?q=1").c_str(), &co,
                          on_side, &client),
              0);
    t.run_until([&] { return client.events.has("open") && server.events.has("open"); });
  }
  static void on_server(wsc_server_t *, const wsc_server_event_t *ev, void *ud) {
    auto *p = static_cast<Pair *>(ud);
    if (ev->type == WSC_SERVER_CONNECTION) {
      p->server.conn = ev->conn;
      wsc_conn_set_callback(ev->conn, on_side, &p->server);
    } else if (ev->type == WSC_SERVER_CLOSE) {
      p->server_closed = true;
    }
  }
  void finish() {
    if (!server_closed) wsc_server_close(srv, 0);
    loop.run_until([&] { return server_closed && client.closed; });
  }
  TestLoop &loop;
  wsc_conn_options_t sconn, cconn;
  wsc_server_t *srv = nullptr;
  int port = 0;
  Side server, client;
  bool server_closed = false;
};

// A wsc server whose one connection is recorded in `side`, for tests with a raw client.
struct SoloServer {
  SoloServer(TestLoop &t, wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT) : loop(t), conn_opts(co) {
    wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
    so.host = "127.0.0.1";
    so.conn = &conn_opts;
    EXPECT_EQ(wsc_server_new(&srv, t.loop, &so, on_server, this), 0);
    wsc_addr_t a;
    wsc_server_address(srv, &a);
    port = static_cast<int>(a.port);
  }
  static void on_server(wsc_server_t *, const wsc_server_event_t *ev, void *ud) {
    auto *s = static_cast<SoloServer *>(ud);
    if (ev->type == WSC_SERVER_CONNECTION) {
      s->side.conn = ev->conn;
      wsc_conn_set_callback(ev->conn, on_side, &s->side);
    }
    if (ev->type == WSC_SERVER_CLOSE) s->closed = true;
  }
  void close() {
    wsc_server_close(srv, 0);
    loop.run_until([&] { return closed; });
  }
  TestLoop &loop;
  wsc_conn_options_t conn_opts;
  wsc_server_t *srv = nullptr;
  int port = 0;
  Side side;
  bool closed = false;
};

// A raw client's opening handshake; returns once the 101 has been read.
void raw_handshake(int fd) {
  send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  read_until(fd, "\r\n\r\n");
}

std::string payload(size_t n, bool text) {
  std::string s(n, 'x');
  for (size_t i = 0; i < n; ++i) s[i] = text ? static_cast<char>('a' + i % 26) : static_cast<char>(i * 7 + 3);
  return s;
}

}  // namespace

TEST(Conn, MessagesOfEverySizeBothWaysWithCompletions) {
  TestLoop t;
  wsc_conn_options_t big = WSC_CONN_OPTIONS_INIT;
  big.max_message_size = 32u << 20;
  Pair p(t, big, big);
  const size_t sizes[] = {0, 1, 125, 126, 65535, 65536, 1u << 20, 16u << 20};
  int completions = 0;
  auto done = [](wsc_conn_t *, int status, void *ud) {
    EXPECT_EQ(status, 0);
    ++*static_cast<int *>(ud);
  };
  int sent = 0;
  for (size_t n : sizes) {
    for (bool text : {true, false}) {
      std::string m = payload(n, text);
      uint32_t op = text ? WSC_OP_TEXT : WSC_OP_BINARY;
      ASSERT_GE(wsc_conn_send(p.client.conn, op, m.data(), m.size(), 0, done, &completions), 0);
      ASSERT_GE(wsc_conn_send(p.server.conn, op, m.data(), m.size(), 0, done, &completions), 0);
      sent += 2;
    }
  }
  t.run_until([&] { return p.client.messages.size() == 16 && p.server.messages.size() == 16; },
              30000);
  EXPECT_EQ(completions, sent);
  size_t i = 0;
  for (size_t n : sizes) {
    for (bool text : {true, false}) {
      ASSERT_EQ(p.server.messages[i], payload(n, text)) << n;
      ASSERT_EQ(p.client.messages[i], payload(n, text)) << n;
      ++i;
    }
  }
  wsc_conn_stats_t st{};
  st.size = sizeof st;
  ASSERT_EQ(wsc_conn_stats(p.client.conn, &st), 0);
  EXPECT_EQ(st.messages_out, 16u);
  EXPECT_EQ(st.messages_in, 16u);
  EXPECT_GT(st.bytes_out, 2u * (16u << 20));
  p.finish();
  t.close_clean();
}

TEST(Conn, ClosingHandshakeFromTheClient) {
  TestLoop t;
  Pair p(t);
  EXPECT_EQ(wsc_conn_close(p.client.conn, 4000, "done here", 9), 0);
  EXPECT_EQ(wsc_conn_ready_state(p.client.conn), (uint32_t)WSC_CLOSING);
  EXPECT_EQ(wsc_conn_send(p.client.conn, WSC_OP_TEXT, "late", 4, 0, nullptr, nullptr), WSC_ESTATE);
  EXPECT_EQ(wsc_conn_close(p.client.conn, 1000, nullptr, 0), WSC_ESTATE);
  t.run_until([&] { return p.client.closed && p.server.closed; });
  EXPECT_EQ(p.server.events.log.back(), "close 4000 done here clean");
  EXPECT_EQ(p.client.events.log.back(), "close 4000 done here clean");  // the reason is echoed
  p.finish();
  t.close_clean();
}

TEST(Conn, ClosingHandshakeFromTheServer) {
  TestLoop t;
  Pair p(t);
  EXPECT_EQ(wsc_conn_close(p.server.conn, 1001, "restart", 7), 0);
  t.run_until([&] { return p.client.closed && p.server.closed; });
  EXPECT_EQ(p.client.events.log.back(), "close 1001 restart clean");
  EXPECT_EQ(p.server.events.log.back(), "close 1001 restart clean");
  p.finish();
  t.close_clean();
}

TEST(Conn, CloseValidatesCodeAndReason) {
  TestLoop t;
  Pair p(t);
  std::string long_reason(124, 'r');
  EXPECT_EQ(wsc_conn_close(p.client.conn, 1005, nullptr, 0), WSC_ECLOSECODE);
  EXPECT_EQ(wsc_conn_close(p.client.conn, 1000, long_reason.data(), long_reason.size()), WSC_EMSGSIZE);
  EXPECT_EQ(wsc_conn_close(p.client.conn, 1000, "\xff", 1), WSC_EUTF8);
  EXPECT_EQ(wsc_conn_ready_state(p.client.conn), (uint32_t)WSC_OPEN);
  EXPECT_EQ(wsc_conn_close(p.client.conn, 0, nullptr, 0), 0);
  t.run_until([&] { return p.client.closed && p.server.closed; });
  EXPECT_EQ(p.server.events.log.back(), "close 1005  clean");
  p.finish();
  t.close_clean();
}

TEST(Conn, PingPongWithPayloadAndAutomaticPong) {
  TestLoop t;
  wsc_conn_options_t manual = WSC_CONN_OPTIONS_INIT;
  manual.flags = WSC_CONN_NO_AUTO_PONG;
  Pair p(t, WSC_CONN_OPTIONS_INIT, manual);
  ASSERT_EQ(wsc_conn_ping(p.client.conn, "are you there", 13, nullptr, nullptr), 0);
  t.run_until([&] { return p.client.events.has("pong"); });
  EXPECT_TRUE(p.server.events.has("ping are you there"));
  EXPECT_TRUE(p.client.events.has("pong are you there"));
  // The client answers no pings itself; the user does.
  ASSERT_EQ(wsc_conn_ping(p.server.conn, "1", 1, nullptr, nullptr), 0);
  t.run_until([&] { return p.client.events.has("ping 1"); });
  t.run_for(50);  // give a pong (there should be none) time to arrive
  EXPECT_FALSE(p.server.events.has("pong"));
  ASSERT_EQ(wsc_conn_pong(p.client.conn, "manual", 6, nullptr, nullptr), 0);
  t.run_until([&] { return p.server.events.has("pong manual"); });
  std::string too_long(126, 'p');
  EXPECT_EQ(wsc_conn_ping(p.client.conn, too_long.data(), too_long.size(), nullptr, nullptr), WSC_EMSGSIZE);
  p.finish();
  t.close_clean();
}

TEST(Conn, StreamedAndFragmentedMessages) {
  TestLoop t;
  wsc_conn_options_t frames = WSC_CONN_OPTIONS_INIT;
  frames.flags = WSC_CONN_NO_ASSEMBLE;
  wsc_conn_options_t split = WSC_CONN_OPTIONS_INIT;
  split.flags = WSC_CONN_FRAGMENT;
  split.fragment_threshold = 4;
  Pair p(t, frames, split);
  ASSERT_EQ(wsc_conn_send(p.client.conn, WSC_OP_TEXT, "abcdefghij", 10, 0, nullptr, nullptr), 0);
  ASSERT_EQ(wsc_conn_send(p.client.conn, WSC_OP_BINARY, "12", 2, WSC_SEND_MORE, nullptr, nullptr), 0);
  ASSERT_EQ(wsc_conn_send(p.client.conn, WSC_OP_BINARY, "34", 2, 0, nullptr, nullptr), 0);
  t.run_until([&] { return p.server.events.count("fragment fin") == 2; });
  EXPECT_EQ(p.server.events.log, (std::vector<std::string>{"open", "fragment more abcd", "fragment more efgh",
                                                             "fragment fin ij", "fragment more 12", "fragment fin 34"}));
  ASSERT_EQ(wsc_conn_send(p.server.conn, WSC_OP_TEXT, "x", 1, WSC_SEND_MORE, nullptr, nullptr), 0);
  ASSERT_EQ(wsc_conn_send(p.server.conn, WSC_OP_TEXT, "y", 1, 0, nullptr, nullptr), 0);
  t.run_until([&] { return p.client.events.has("text xy"); });
  p.finish();
  t.close_clean();
}

TEST(Conn, TerminateReports1006AndFailsPendingSends) {
  TestLoop t;
  Pair p(t);
  int status = 99;
  std::string big(8u << 20, 'b');
  ASSERT_EQ(wsc_conn_send(p.client.conn, WSC_OP_BINARY, big.data(), big.size(), 0,
                          [](wsc_conn_t *, int st, void *ud) { *static_cast<int *>(ud) = st; }, &status),
            WSC_SEND_BACKPRESSURE) << "8 MiB is over the 64 KiB high-water mark";
  wsc_conn_terminate(p.client.conn);  // before the loop wrote anything
  t.run_until([&] { return p.client.closed && p.server.closed; });
  EXPECT_EQ(status, WSC_ECLOSED) << "a send that never went out gets its error";
  EXPECT_EQ(p.client.events.log.back(), "close 1006  unclean");
  EXPECT_EQ(p.server.events.log.back(), "close 1006  unclean") << "abrupt EOF";
  p.finish();
  t.close_clean();
}

TEST(Conn, BorrowedSendsAreWrittenFromTheCallersMemory) {
  TestLoop t;
  wsc_conn_options_t big = WSC_CONN_OPTIONS_INIT;
  big.max_message_size = 32u << 20;
  Pair p(t, big, big);
  int dummy = 0;
  EXPECT_EQ(wsc_conn_send(p.server.conn, WSC_OP_BINARY, "x", 1, WSC_SEND_BORROW, nullptr, nullptr), WSC_EINVAL)
      << "a lent buffer needs the completion that gives it back";
  EXPECT_EQ(wsc_conn_send(p.server.conn, WSC_OP_BINARY, "x", 1, 0x80, [](wsc_conn_t *, int, void *) {}, &dummy),
            WSC_EINVAL);
  // 16 MiB is more than the kernel takes at once: the rest stays in the caller's memory, so a
  // change made after the send returns (as ws allows by not copying) reaches the peer, from
  // the server. A client masks, so it copies, and the change does not reach the server.
  std::string from_server = payload(16u << 20, false), from_client = from_server;
  std::string small = payload(100, false);
  std::vector<int> status;
  auto done = [](wsc_conn_t *, int st, void *ud) { static_cast<std::vector<int> *>(ud)->push_back(st); };
  ASSERT_GE(wsc_conn_send(p.server.conn, WSC_OP_BINARY, from_server.data(), from_server.size(), WSC_SEND_BORROW, done,
                          &status),
            0);
  ASSERT_GE(wsc_conn_send(p.server.conn, WSC_OP_BINARY, small.data(), small.size(), WSC_SEND_BORROW, done, &status), 0);
  ASSERT_GE(wsc_conn_send(p.client.conn, WSC_OP_BINARY, from_client.data(), from_client.size(), WSC_SEND_BORROW, done,
                          &status),
            0);
  from_server.back() = '!';
  from_client.back() = '!';
  small[0] = '!';  // under 16 KiB: copied
  t.run_until([&] { return p.client.messages.size() == 2 && p.server.messages.size() == 1; }, 30000);
  EXPECT_EQ(status, (std::vector<int>{0, 0, 0}));
  EXPECT_EQ(p.client.messages[0], from_server) << "the server wrote the changed bytes: it did not copy them";
  EXPECT_EQ(p.client.messages[1], payload(100, false));
  EXPECT_EQ(p.server.messages[0], payload(16u << 20, false)) << "the client's masked copy";
  p.finish();
  t.close_clean();
}

TEST(Conn, BorrowedSendsOfAConnectionThatEndsGetTheirErrorAndAreNotReadAfter) {
  TestLoop t;
  Pair p(t);
  struct Lent {
    std::string *bytes;
    int status = 99;
  };
  auto *buf = new std::string(8u << 20, 'b');
  Lent lent{buf};
  ASSERT_EQ(wsc_conn_send(p.server.conn, WSC_OP_BINARY, buf->data(), buf->size(), WSC_SEND_BORROW,
                          [](wsc_conn_t *, int st, void *ud) {
                            auto *l = static_cast<Lent *>(ud);
                            l->status = st;
                            delete l->bytes;  // given back: freed at once (ASan sees any later read)
                            l->bytes = nullptr;
                          },
                          &lent),
            WSC_SEND_BACKPRESSURE);
  wsc_conn_terminate(p.server.conn);
  t.run_until([&] { return p.client.closed && p.server.closed; });
  EXPECT_EQ(lent.status, WSC_ECLOSED);
  EXPECT_EQ(lent.bytes, nullptr);
  p.finish();
  t.close_clean();
}

TEST(Conn, ABorrowedSendThatIsCompressedIsNotReadAfterItsCall) {
  // A compressed message is new bytes: the change after the send does not reach the peer.
  TestLoop t;
  wsc_deflate_options_t d = WSC_DEFLATE_OPTIONS_INIT;
  wsc_conn_options_t so = WSC_CONN_OPTIONS_INIT;
  so.deflate = &d;
  Pair p(t, so);
  ASSERT_STRNE(wsc_conn_extensions(p.server.conn), "");
  std::string m = payload(200000, true);
  int status = 99;
  ASSERT_GE(wsc_conn_send(p.server.conn, WSC_OP_TEXT, m.data(), m.size(), WSC_SEND_BORROW,
                          [](wsc_conn_t *, int st, void *ud) { *static_cast<int *>(ud) = st; }, &status),
            0);
  m[0] = '!';
  t.run_until([&] { return p.client.messages.size() == 1; });
  EXPECT_EQ(status, 0);
  EXPECT_EQ(p.client.messages[0], payload(200000, true));
  p.finish();
  t.close_clean();
}

TEST(Conn, TakeMessageHandsOverAnAssembledMessageAndCopiesTheRest) {
  TestLoop t;
  wsc_conn_options_t big = WSC_CONN_OPTIONS_INIT;
  Pair p(t, big, big);
  struct Taken {
    std::vector<std::pair<void *, size_t>> bufs;
    std::vector<bool> same;  // the bytes were handed over, not copied
  } taken;
  p.client.hook = [&](wsc_conn_t *c, const wsc_conn_event_t *ev) {
    if (ev->type != WSC_EV_MESSAGE) return;
    void *mem = reinterpret_cast<void *>(1);
    EXPECT_EQ(wsc_conn_take_message(&mem, p.server.conn), WSC_ESTATE) << "not the connection being delivered";
    EXPECT_EQ(mem, nullptr);
    const uint8_t *before = ev->data;
    ASSERT_EQ(wsc_conn_take_message(&mem, c), 0);
    taken.same.push_back(mem == before);
    taken.bufs.emplace_back(mem, ev->len);
  };
  std::string small = payload(300, false), large = payload(3u << 20, false);  // 3 MiB: over several reads
  ASSERT_GE(wsc_conn_send(p.server.conn, WSC_OP_BINARY, small.data(), small.size(), 0, nullptr, nullptr), 0);
  ASSERT_GE(wsc_conn_send(p.server.conn, WSC_OP_BINARY, large.data(), large.size(), 0, nullptr, nullptr), 0);
  ASSERT_GE(wsc_conn_send(p.server.conn, WSC_OP_BINARY, "", 0, 0, nullptr, nullptr), 0);
  t.run_until([&] { return taken.bufs.size() == 3; }, 30000);
  void *outside = reinterpret_cast<void *>(1);
  EXPECT_EQ(wsc_conn_take_message(&outside, p.client.conn), WSC_ESTATE) << "outside a message event";
  EXPECT_EQ(outside, nullptr);
  EXPECT_FALSE(taken.same[0]) << "a small message is read in place: copied";
  EXPECT_TRUE(taken.same[1]) << "the assembled buffer itself";
  EXPECT_EQ(taken.bufs[2].first, nullptr) << "an empty message";
  EXPECT_EQ(std::string(static_cast<char *>(taken.bufs[0].first), taken.bufs[0].second), small);
  EXPECT_EQ(std::string(static_cast<char *>(taken.bufs[1].first), taken.bufs[1].second), large);
  for (auto &b : taken.bufs) wsc_free(b.first);
  wsc_free(nullptr);
  p.finish();
  t.close_clean();
}

TEST(Conn, CloseTimeoutWhenThePeerNeverAnswers) {
  TestLoop t;
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  co.close_timeout_ms = 200;
  SoloServer s(t, co);
  std::atomic<bool> stop{false};
  RawPeer peer(s.port, [&](int fd) {
    raw_handshake(fd);
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // silent, socket open
  });
  t.run_until([&] { return s.side.events.has("open"); });
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(wsc_conn_close(s.side.conn, 1000, nullptr, 0), 0);
  t.run_until([&] { return s.side.closed; });
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(ms, 150);
  EXPECT_EQ(s.side.events.log.back(), "close 1006  unclean");
  stop = true;
  peer.join();
  s.close();
  t.close_clean();
}

TEST(Conn, ProtocolErrorFromThePeerFailsTheConnection) {
  TestLoop t;
  SoloServer s(t);
  std::string got;
  // An unmasked frame from a client: the server fails the connection with 1002.
  RawPeer peer(s.port, [&](int fd) {
    raw_handshake(fd);
    send_all(fd, std::string("\x81\x02hi", 4));
    got = read_all(fd);
  });
  t.run_until([&] { return peer.done.load() && s.side.closed; });
  EXPECT_EQ(got, std::string("\x88\x02\x03\xea", 4)) << "a close frame with 1002, then the server's FIN";
  EXPECT_EQ(s.side.events.log, (std::vector<std::string>{"open", "error WSC_ERR_EXPECTED_MASK MASK must be set",
                                                          "close 1006  unclean"}));
  s.close();
  t.close_clean();
}

// A masked frame as a client sends it: a 64-bit length and a fixed key.
std::string masked_frame(uint8_t b0, const std::string &data) {
  const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
  std::string f;
  f += static_cast<char>(b0);
  f += static_cast<char>(0x80 | 127);
  for (int i = 7; i >= 0; --i) f += static_cast<char>((static_cast<uint64_t>(data.size()) >> (8 * i)) & 0xFF);
  f.append(reinterpret_cast<const char *>(key), 4);
  for (size_t i = 0; i < data.size(); ++i) f += static_cast<char>(data[i] ^ key[i % 4]);
  return f;
}

TEST(Conn, LargeFramesInPiecesAreUnmaskedAndChecked) {
  // Large frames arrive in pieces of odd sizes, each read on its own: unmasking keeps its phase
  // across the pieces, and UTF-8 is checked in them too (RFC 6455 §8.1: invalid text fails with
  // 1007).
  TestLoop t;
  SoloServer s(t);
  std::string got;
  const std::string bin = payload(300000, false);
  std::string text = payload(300001, true);
  text[200001] = '\xff';  // in the third piece
  RawPeer peer(s.port, [&](int fd) {
    raw_handshake(fd);
    for (const std::string &f : {masked_frame(0x82, bin), masked_frame(0x81, text)}) {
      for (size_t off = 0; off < f.size(); off += 70001) {  // odd sizes: pieces cross the key's phase
        send_all(fd, f.substr(off, 70001));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    got = read_all(fd);
  });
  t.run_until([&] { return peer.done.load() && s.side.closed; });
  ASSERT_EQ(s.side.messages.size(), 1u);
  EXPECT_TRUE(s.side.messages[0] == bin) << "the binary message arrived intact";
  EXPECT_EQ(got.substr(0, 4), std::string("\x88\x02\x03\xef", 4)) << "a close frame with 1007";
  ASSERT_GE(s.side.events.log.size(), 3u);
  EXPECT_EQ(s.side.events.log[2].substr(0, 30), "error WSC_ERR_INVALID_UTF8 inv");
  s.close();
  t.close_clean();
}

// 16 messages in one write reach the server in one read, after `warmup` messages sent one at a
// time (each echoed before the next). Returns the bytes the server had written when each of the
// 16 came, counted from the 101 response; checks that all were echoed in order.
static std::vector<uint64_t> written_before_burst_messages(int warmup) {
  TestLoop t;
  SoloServer s(t);
  std::vector<uint64_t> written_before;
  s.side.hook = [&](wsc_conn_t *c, const wsc_conn_event_t *ev) {
    if (ev->type != WSC_EV_MESSAGE) return;
    wsc_conn_stats_t st{};
    st.size = sizeof st;
    wsc_conn_stats(c, &st);
    written_before.push_back(st.bytes_out);
    wsc_conn_send(c, WSC_OP_BINARY, ev->data, ev->len, 0, nullptr, nullptr);
  };
  std::string echoed;
  std::string burst;
  for (int i = 0; i < 16; ++i) burst += masked_frame(0x82, payload(32, false).replace(0, 1, 1, static_cast<char>(i)));
  auto read_echoes = [&](int fd, size_t until) {
    while (echoed.size() < until) {
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      echoed.append(buf, static_cast<size_t>(n));
    }
  };
  RawPeer peer(s.port, [&](int fd) {
    raw_handshake(fd);
    for (int i = 0; i < warmup; ++i) {
      send_all(fd, masked_frame(0x82, payload(32, false)));
      read_echoes(fd, (i + 1) * 34u);
    }
    echoed.clear();
    send_all(fd, burst);
    read_echoes(fd, 16 * 34);
  });
  t.run_until([&] { return peer.done.load(); });
  s.close();
  t.close_clean();
  EXPECT_EQ(written_before.size(), warmup + 16u);
  EXPECT_EQ(echoed.size(), 16u * 34);
  for (size_t i = 0; i < 16 && i * 34 + 2 < echoed.size(); ++i) EXPECT_EQ(static_cast<size_t>(echoed[i * 34 + 2]), i) << "in order";
  std::vector<uint64_t> burst_written;
  for (size_t i = warmup; i < written_before.size(); ++i) burst_written.push_back(written_before[i] - written_before[0]);
  return burst_written;
}

TEST(Conn, AConnectionAloneAnswersTheFirstHalfOfAReadBeforeParsingTheRest) {
  // The socket was the only one ready for several epoll batches in a row: the replies to the
  // first half of the burst are handed to the kernel before the second half is parsed (so the
  // peer can work on them meanwhile).
  const int warmup = 6;
  std::vector<uint64_t> w = written_before_burst_messages(warmup);
  ASSERT_EQ(w.size(), 16u);
  const uint64_t before = warmup * 34u;  // the warm-up echoes
  EXPECT_EQ(w[7], before) << "the first half is answered together";
  EXPECT_EQ(w[8], before + 8 * 34) << "its replies went out before the second half was parsed";
  EXPECT_EQ(w[15], before + 8 * 34);
}

TEST(Conn, AReadOfAConnectionNotLongAloneIsAnsweredWhole) {
  // Right after its upgrade the socket has not been alone for long (other sockets may be
  // busy): the burst is parsed whole and answered in one write, no extra packet.
  std::vector<uint64_t> w = written_before_burst_messages(0);
  ASSERT_EQ(w.size(), 16u);
  EXPECT_EQ(w[15], 0u) << "nothing written before the whole read was parsed";
}

TEST(Conn, FramesSentInACallbackKeepTheirOrderAcrossSmallLargeSharedAndOverflowingSends) {
  // Small frames sent from a callback are built in the loop's cork and written from there; a
  // large frame (written directly), a broadcast's shared frame, and more small frames than the
  // cork holds all go behind them. A second connection sent to meanwhile queues as usual.
  TestLoop t;
  Pair p(t);
  Side other;
  wsc_client_options_t co = WSC_CLIENT_OPTIONS_INIT;
  wsc_conn_t *second = nullptr;
  wsc_conn_t *first = p.server.conn;
  ASSERT_EQ(wsc_connect(&second, t.loop, ("ws://127.0.0.1:" + std::to_string(p.port) + "/").c_str(), &co, on_side, &other), 0);
  t.run_until([&] { return other.events.has("open") && p.server.conn != first; });
  wsc_conn_t *server_side_of_second = p.server.conn;  // Pair records each new connection
  p.server.conn = first;
  ASSERT_NE(server_side_of_second, nullptr);
  std::vector<std::string> expected;
  std::vector<int> completed;
  auto send = [&](wsc_conn_t *c, const std::string &m) {
    static const wsc_send_cb done = [](wsc_conn_t *, int status, void *ud) {
      static_cast<std::vector<int> *>(ud)->push_back(status);
    };
    int rc = wsc_conn_send(c, WSC_OP_BINARY, m.data(), m.size(), 0, done, &completed);
    EXPECT_TRUE(rc == 0 || rc == WSC_SEND_BACKPRESSURE) << rc;
  };
  p.server.hook = [&](wsc_conn_t *c, const wsc_conn_event_t *ev) {
    if (ev->type != WSC_EV_MESSAGE) return;
    for (int i = 0; i < 3; ++i) expected.push_back("small " + std::to_string(i));
    expected.push_back(payload(20000, false));  // written directly, behind the corked frames
    expected.push_back("small 3");
    for (const std::string &m : expected) send(c, m);
    send(server_side_of_second, "to the other connection");
    expected.push_back("broadcast");
    ASSERT_EQ(wsc_server_broadcast(p.srv, WSC_OP_BINARY, "broadcast", 9, nullptr, nullptr, nullptr), 0);
    for (int i = 0; i < 10; ++i) {  // 150 KB of frames under 16 KiB: more than the cork holds
      std::string m = payload(15000, false);
      m[0] = static_cast<char>(i);
      expected.push_back(m);
      send(c, m);
    }
    expected.push_back("end");
    send(c, "end");
  };
  ASSERT_EQ(wsc_conn_send(p.client.conn, WSC_OP_TEXT, "go", 2, 0, nullptr, nullptr), 0);
  t.run_until([&] { return p.client.messages.size() == expected.size() && other.messages.size() == 2; });
  EXPECT_EQ(p.client.messages, expected);
  EXPECT_EQ(other.messages, (std::vector<std::string>{"to the other connection", "broadcast"}));
  // Every send completed: all those listed but the broadcast, and the one to the other connection.
  EXPECT_EQ(completed, std::vector<int>(expected.size() - 1 + 1, 0));
  wsc_conn_close(second, 1000, nullptr, 0);
  p.finish();
  t.run_until([&] { return other.closed; });
  t.close_clean();
}

TEST(Conn, CallsFromInsideCallbacks) {
  TestLoop t;
  Pair p(t);
  int send_in_close = 0;
  p.server.hook = [&](wsc_conn_t *c, const wsc_conn_event_t *ev) {
    if (ev->type == WSC_EV_MESSAGE) {
      EXPECT_EQ(wsc_conn_send(c, WSC_OP_TEXT, "last words", 10, 0, nullptr, nullptr), 0);
      EXPECT_EQ(wsc_conn_close(c, 1000, "from a callback", 15), 0);
    }
    if (ev->type == WSC_EV_CLOSE) send_in_close = wsc_conn_send(c, WSC_OP_TEXT, "x", 1, 0, nullptr, nullptr);
  };
  p.client.hook = [&](wsc_conn_t *c, const wsc_conn_event_t *ev) {
    if (ev->type == WSC_EV_MESSAGE) wsc_conn_terminate(c);  // terminate while the frames are parsed
  };
  ASSERT_EQ(wsc_conn_send(p.client.conn, WSC_OP_TEXT, "go", 2, 0, nullptr, nullptr), 0);
  t.run_until([&] { return p.client.closed && p.server.closed; });
  EXPECT_EQ(send_in_close, WSC_ESTATE);
  EXPECT_EQ(p.client.events.log, (std::vector<std::string>{"upgrade 101", "open", "text last words", "close 1006  unclean"}))
      << "terminate stops every event but the close";
  p.finish();
  t.close_clean();
}

TEST(Conn, Getters) {
  TestLoop t;
  Pair p(t);
  EXPECT_EQ(std::string(wsc_conn_url(p.client.conn)), "ws://127.0.0.1:" + std::to_string(p.port) + "/path?q=1");
  EXPECT_STREQ(wsc_conn_url(p.server.conn), "/path?q=1");
  EXPECT_STREQ(wsc_conn_protocol(p.client.conn), "");
  EXPECT_STREQ(wsc_conn_extensions(p.client.conn), "");
  EXPECT_EQ(wsc_conn_is_server(p.server.conn), 1);
  EXPECT_EQ(wsc_conn_is_server(p.client.conn), 0);
  EXPECT_NE(wsc_conn_id(p.client.conn), wsc_conn_id(p.server.conn));
  wsc_addr_t local, remote;
  ASSERT_EQ(wsc_conn_local_address(p.client.conn, &local), 0);
  ASSERT_EQ(wsc_conn_remote_address(p.server.conn, &remote), 0);
  EXPECT_EQ(local.port, remote.port);
  EXPECT_STREQ(remote.address, "127.0.0.1");
  ASSERT_EQ(wsc_conn_remote_address(p.client.conn, &remote), 0);
  EXPECT_EQ(remote.port, static_cast<uint32_t>(p.port));
  EXPECT_EQ(wsc_conn_set_nodelay(p.client.conn, 0), 0);
  int marker = 7;
  wsc_conn_set_user_data(p.client.conn, &marker);
  EXPECT_EQ(wsc_conn_user_data(p.client.conn), &marker);
  wsc_conn_set_user_data(p.client.conn, &p.client);
  EXPECT_EQ(wsc_conn_loop(p.client.conn), t.loop);
  p.finish();
  t.close_clean();
}

TEST(Conn, ThreadSafeSendFromAnotherThread) {
  TestLoop t;
  Pair p(t);
  uint64_t id = wsc_conn_id(p.client.conn);
  std::atomic<int> done{0};
  std::thread worker([&] {
    for (int i = 0; i < 100; ++i) {
      std::string m = "msg " + std::to_string(i);
      ASSERT_EQ(wsc_conn_send_threadsafe(t.loop, id, WSC_OP_TEXT, m.data(), m.size(),
                                         [](wsc_conn_t *, int st, void *ud) {
                                           EXPECT_EQ(st, 0);
                                           ++*static_cast<std::atomic<int> *>(ud);
                                         },
                                         &done),
                0);
    }
  });
  t.run_until([&] { return p.server.messages.size() == 100; });
  worker.join();
  t.run_until([&] { return done == 100; });
  for (int i = 0; i < 100; ++i) EXPECT_EQ(p.server.messages[i], "msg " + std::to_string(i));
  int missing = 0;
  ASSERT_EQ(wsc_conn_send_threadsafe(t.loop, 987654321, WSC_OP_TEXT, "x", 1,
                                     [](wsc_conn_t *c, int st, void *ud) {
                                       EXPECT_EQ(c, nullptr);
                                       *static_cast<int *>(ud) = st;
                                     },
                                     &missing),
            0);
  t.run_until([&] { return missing != 0; });
  EXPECT_EQ(missing, WSC_ENOTFOUND);
  p.finish();
  t.close_clean();
}

TEST(Conn, APeerThatVanishesMidWriteDoesNotKillTheProcess) {
  TestLoop t;
  SoloServer s(t);
  // The server writes 32 MiB to a raw client that reads a little and then resets the connection.
  std::atomic<bool> opened{false};
  RawPeer peer(s.port, [&](int fd) {
    raw_handshake(fd);
    while (!opened) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    char buf[1000];
    recv(fd, buf, sizeof buf, 0);
    linger l{1, 0};  // close with a reset
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  });
  t.run_until([&] { return s.side.events.has("open"); });
  std::string big(1u << 20, 'z');
  int failed = 0;
  for (int i = 0; i < 32; ++i)
    ASSERT_GE(wsc_conn_send(s.side.conn, WSC_OP_BINARY, big.data(), big.size(), 0,
                            [](wsc_conn_t *, int st, void *ud) { *static_cast<int *>(ud) += st != 0; }, &failed),
              0);
  opened = true;
  t.run_until([&] { return s.side.closed; }, 10000);
  EXPECT_GT(failed, 0) << "sends that never reached the peer report an error";
  EXPECT_EQ(s.side.events.log.back(), "close 1006  unclean");
  peer.join();
  s.close();
  t.close_clean();
}

TEST(Conn, SlowConsumerBackpressureCapAndDrain) {
  for (uint32_t policy : {WSC_OVERFLOW_DROP, WSC_OVERFLOW_CLOSE}) {
    TestLoop t;
    wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
    co.high_water_mark = 256 * 1024;
    co.low_water_mark = 64 * 1024;
    co.max_buffered = 1024 * 1024;
    co.overflow_policy = policy;
    co.close_timeout_ms = 300;
    SoloServer s(t, co);
    std::atomic<bool> start_reading{false};
    std::atomic<size_t> drained{0};
    RawPeer peer(s.port, [&](int fd) {
      raw_handshake(fd);
      while (!start_reading) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a consumer that stalls
      drained = read_all(fd).size();
    });
    t.run_until([&] { return s.side.events.has("open"); });
    std::string chunk(64 * 1024, 'q');
    int completed = 0, failed = 0, sends = 0, backpressure = 0, full = 0;
    auto done = [](wsc_conn_t *, int st, void *ud) {
      auto *counts = static_cast<std::pair<int *, int *> *>(ud);
      ++*(st == 0 ? counts->first : counts->second);
    };
    std::pair<int *, int *> counts{&completed, &failed};
    // Send until the cap refuses; let the loop write between sends so the kernel buffers fill.
    for (int i = 0; i < 2000 && full == 0; ++i) {
      int rc = wsc_conn_send(s.side.conn, WSC_OP_BINARY, chunk.data(), chunk.size(), 0, done, &counts);
      if (rc == WSC_SEND_BACKPRESSURE) ++backpressure;
      if (rc == WSC_EQUEUEFULL) ++full;
      if (rc >= 0) ++sends;
      EXPECT_LE(wsc_conn_buffered_amount(s.side.conn), co.max_buffered + chunk.size() + 16) << "the queue is bounded";
      wsc_loop_run(t.loop, WSC_RUN_NOWAIT);
    }
    EXPECT_GT(backpressure, 0) << "backpressure is reported before the cap";
    ASSERT_EQ(full, 1) << "the cap refused a send";
    if (policy == WSC_OVERFLOW_DROP) {
      EXPECT_EQ(wsc_conn_ready_state(s.side.conn), (uint32_t)WSC_OPEN) << "DROP keeps the connection";
      start_reading = true;  // the consumer wakes up: the queue drains and DRAIN fires
      t.run_until([&] { return s.side.events.has("drain"); }, 10000);
      t.run_until([&] { return completed == sends; }, 10000);
      EXPECT_EQ(wsc_conn_buffered_amount(s.side.conn), 0u);
      EXPECT_GE(wsc_conn_send(s.side.conn, WSC_OP_TEXT, "ok", 2, 0, nullptr, nullptr), 0) << "sending works again";
      wsc_conn_close(s.side.conn, 1000, nullptr, 0);
    } else {
      EXPECT_EQ(wsc_conn_ready_state(s.side.conn), (uint32_t)WSC_CLOSING) << "CLOSE closes with 1008";
      t.run_until([&] { return s.side.closed; }, 10000);  // the close frame is stuck: the timeout ends it
      start_reading = true;
      EXPECT_EQ(completed + failed, sends) << "every queued send got its completion";
    }
    t.run_until([&] { return s.side.closed; }, 10000);
    start_reading = true;
    peer.join();
    s.close();
    t.close_clean();
  }
}

TEST(Conn, APongHeldAtTheHighWaterMarkGoesOutBeforeOurClose) {
  // RFC 6455 §5.5.3: a ping read while the send queue is at the high-water mark is answered once
  // the queue drains; when we close first, its pong goes before our close frame, not never.
  TestLoop t;
  wsc_conn_options_t so = WSC_CONN_OPTIONS_INIT;
  so.high_water_mark = 64 * 1024;
  so.low_water_mark = 16 * 1024;
  Pair p(t, so);
  wsc_conn_pause(p.client.conn);  // the client reads nothing: the server's queue stays full
  std::string big(8u << 20, 'b');
  ASSERT_GE(wsc_conn_send(p.server.conn, WSC_OP_BINARY, big.data(), big.size(), 0, nullptr, nullptr), 0);
  ASSERT_GE(wsc_conn_ping(p.client.conn, "held", 4, nullptr, nullptr), 0);
  t.run_until([&] { return p.server.events.has("ping held"); });
  EXPECT_GT(wsc_conn_buffered_amount(p.server.conn), so.high_water_mark) << "the pong was held, not queued";
  ASSERT_EQ(wsc_conn_close(p.server.conn, 4002, "done", 4), 0);
  wsc_conn_resume(p.client.conn);
  t.run_until([&] { return p.client.closed; }, 10000);
  const auto &log = p.client.events.log;
  auto at = [&log](const std::string &what) { return std::find(log.begin(), log.end(), what) - log.begin(); };
  ASSERT_EQ(p.client.messages.size(), 1u);
  EXPECT_EQ(p.client.messages[0].size(), big.size());
  EXPECT_LT(at("pong held"), at("close 4002 done clean")) << "the pong came, before the close";
  EXPECT_LT(at("close 4002 done clean"), static_cast<long>(log.size()));
  p.finish();
  t.close_clean();
}

TEST(Conn, PauseStopsDeliveryAndPushesBackOnThePeer) {
  TestLoop t;
  Pair p(t);
  constexpr size_t kChunk = 64 * 1024, kCount = 160;  // 10 MiB
  bool paused_once = false;
  p.server.hook = [&](wsc_conn_t *c, const wsc_conn_event_t *ev) {
    if (ev->type == WSC_EV_MESSAGE && !paused_once) {
      paused_once = true;
      wsc_conn_pause(c);
      EXPECT_TRUE(wsc_conn_is_paused(c));
    }
  };
  for (size_t i = 0; i < kCount; ++i) {
    std::string m(kChunk, static_cast<char>('a' + i % 26));
    ASSERT_GE(wsc_conn_send(p.client.conn, WSC_OP_BINARY, m.data(), m.size(), 0, nullptr, nullptr), 0);
  }
  t.run_until([&] { return paused_once; });
  t.run_for(300);
  EXPECT_EQ(p.server.messages.size(), 1u) << "no event while paused";
  EXPECT_GT(wsc_conn_buffered_amount(p.client.conn), 2u * 1024 * 1024) << "TCP pushed back on the sender";
  wsc_conn_resume(p.server.conn);
  EXPECT_FALSE(wsc_conn_is_paused(p.server.conn));
  t.run_until([&] { return p.server.messages.size() == kCount; }, 20000);
  for (size_t i = 0; i < p.server.messages.size(); ++i) {
    ASSERT_EQ(p.server.messages[i].size(), kChunk);
    ASSERT_EQ(p.server.messages[i][0], static_cast<char>('a' + i % 26)) << "order kept at " << i;
  }
  p.finish();
  t.close_clean();
}

TEST(Conn, KeepaliveDropsAPeerThatStopsAnswering) {
  TestLoop t;
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  co.keepalive_interval_ms = 100;
  co.keepalive_grace_ms = 100;
  SoloServer s(t, co);
  std::string seen;
  std::atomic<bool> stop{false};
  RawPeer peer(s.port, [&](int fd) {
    raw_handshake(fd);
    seen = read_all(fd);  // reads, never answers
  });
  t.run_until([&] { return s.side.events.has("open"); });
  auto start = std::chrono::steady_clock::now();
  t.run_until([&] { return s.side.closed; });
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(ms, 180);
  EXPECT_EQ(s.side.events.log, (std::vector<std::string>{"open", "error WSC_ETIMEDOUT Peer not responding",
                                                          "close 1006  unclean"}));
  peer.join();
  EXPECT_EQ(seen.substr(0, 2), std::string("\x89\x00", 2)) << "a keepalive ping was sent first";
  s.close();
  t.close_clean();
}

TEST(Conn, KeepaliveKeepsAnAnsweringPeerAndMeasuresRtt) {
  TestLoop t;
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  co.keepalive_interval_ms = 50;
  co.keepalive_grace_ms = 100;
  Pair p(t, co, WSC_CONN_OPTIONS_INIT);
  EXPECT_EQ(wsc_conn_rtt_us(p.server.conn), -1);
  t.run_for(400);  // several intervals: the client's automatic pongs keep it alive
  EXPECT_EQ(wsc_conn_ready_state(p.server.conn), (uint32_t)WSC_OPEN);
  EXPECT_GE(p.client.events.count("ping"), 3u);
  EXPECT_GE(wsc_conn_rtt_us(p.server.conn), 0);
  EXPECT_LT(wsc_conn_rtt_us(p.server.conn), 1000000);
  p.finish();
  t.close_clean();
}

TEST(Conn, IdleTimeoutAndNoDropKeepaliveOnlyReport) {
  TestLoop t;
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  co.idle_timeout_ms = 80;
  co.keepalive_interval_ms = 60;
  co.keepalive_grace_ms = 60;
  co.flags = WSC_CONN_KEEPALIVE_NO_DROP;
  wsc_conn_options_t silent = WSC_CONN_OPTIONS_INIT;
  silent.flags = WSC_CONN_NO_AUTO_PONG;  // the client never answers pings
  Pair p(t, co, silent);
  t.run_until([&] { return p.server.events.has("timeout 0") && p.server.events.has("timeout 1"); });
  EXPECT_EQ(wsc_conn_ready_state(p.server.conn), (uint32_t)WSC_OPEN) << "the user decides";
  EXPECT_EQ(p.server.events.count("timeout 0"), 1u) << "one idle notification per idle period";
  ASSERT_GE(wsc_conn_send(p.client.conn, WSC_OP_TEXT, "awake", 5, 0, nullptr, nullptr), 0);
  t.run_until([&] { return p.server.events.count("timeout 0") == 2; });  // re-armed by the data
  p.finish();
  t.close_clean();
}

namespace {

// Two connections whose transports hand bytes to each other through memory.
struct MemoryLink {
  wsc_conn_t *ends[2] = {nullptr, nullptr};
  int closes[2] = {0, 0};
  size_t bytes = 0;
  static int write(wsc_conn_t *, const wsc_buf_t *bufs, uint32_t n, void *td) {
    auto *side = static_cast<std::pair<MemoryLink *, int> *>(td);
    MemoryLink *link = side->first;
    wsc_conn_t *peer = link->ends[1 - side->second];
    for (uint32_t i = 0; i < n; ++i) {
      link->bytes += bufs[i].len;
      if (peer) wsc_conn_feed(peer, bufs[i].base, bufs[i].len);
    }
    return 0;
  }
  static void shutdown(wsc_conn_t *, void *td) {
    auto *side = static_cast<std::pair<MemoryLink *, int> *>(td);
    wsc_conn_t *peer = side->first->ends[1 - side->second];
    if (peer) wsc_conn_feed_eof(peer);
  }
  static void close(wsc_conn_t *, void *td) {
    auto *side = static_cast<std::pair<MemoryLink *, int> *>(td);
    side->first->closes[side->second]++;
    side->first->ends[side->second] = nullptr;
    wsc_conn_t *peer = side->first->ends[1 - side->second];
    if (peer) wsc_conn_feed_eof(peer);
  }
};

}  // namespace

TEST(Conn, CustomTransportsLoopBytesThroughMemory) {
  TestLoop t;
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.flags = WSC_SERVER_NO_LISTEN;
  Side server_side, client_side;
  bool srv_closed = false;
  struct Ctx {
    Side *side;
    bool *closed;
  } ctx{&server_side, &srv_closed};
  wsc_server_t *srv;
  ASSERT_EQ(wsc_server_new(&srv, t.loop, &so,
                           [](wsc_server_t *, const wsc_server_event_t *ev, void *ud) {
                             auto *c = static_cast<Ctx *>(ud);
                             if (ev->type == WSC_SERVER_CONNECTION) {
                               c->side->conn = ev->conn;
                               wsc_conn_set_callback(ev->conn, on_side, c->side);
                             }
                             if (ev->type == WSC_SERVER_CLOSE) *c->closed = true;
                           },
                           &ctx),
            0);
  MemoryLink link;
  std::pair<MemoryLink *, int> s0(&link, 0), s1(&link, 1);
  wsc_transport_t server_t = {sizeof(wsc_transport_t), 0, MemoryLink::write, MemoryLink::shutdown, MemoryLink::close, &s0};
  wsc_transport_t client_t = {sizeof(wsc_transport_t), 0, MemoryLink::write, MemoryLink::shutdown, MemoryLink::close, &s1};
  ASSERT_EQ(wsc_server_adopt_transport(srv, &link.ends[0], &server_t, nullptr), 0);
  ASSERT_EQ(wsc_connect_transport(&link.ends[1], t.loop, "ws://memory/chat", nullptr, &client_t, on_side, &client_side), 0);
  client_side.conn = link.ends[1];
  t.run_until([&] { return client_side.events.has("open") && server_side.events.has("open"); });
  wsc_addr_t a;
  EXPECT_EQ(wsc_conn_remote_address(link.ends[1], &a), WSC_ESTATE) << "no socket underneath";
  std::string big(300000, 'm');
  ASSERT_GE(wsc_conn_send(client_side.conn, WSC_OP_BINARY, big.data(), big.size(), 0, nullptr, nullptr), 0);
  ASSERT_GE(wsc_conn_send(server_side.conn, WSC_OP_TEXT, "from the server", 15, 0, nullptr, nullptr), 0);
  t.run_until([&] { return server_side.messages.size() == 1 && client_side.events.has("text from the server"); });
  EXPECT_EQ(server_side.messages[0], big);
  ASSERT_EQ(wsc_conn_close(client_side.conn, 1000, "done", 4), 0);
  t.run_until([&] { return client_side.closed && server_side.closed; });
  EXPECT_EQ(server_side.events.log.back(), "close 1000 done clean");
  EXPECT_EQ(client_side.events.log.back(), "close 1000 done clean");
  EXPECT_EQ(link.closes[0], 1);
  EXPECT_EQ(link.closes[1], 1);
  EXPECT_GT(link.bytes, big.size());
  wsc_server_close(srv, 0);
  t.run_until([&] { return srv_closed; });
  t.close_clean();
}

// The thread-safe calls under load, for ThreadSanitizer (tools/sanitize.sh runs this file under
// it): the loop runs on a thread of its own while four others send to its connections and post
// to it, and one connection closes midway. Every send gets one completion; every completion
// that says written matches a message the server received.
TEST(Conn, ThreadSafeCallsFromManyThreadsWhileTheLoopRunsOnItsOwn) {
  constexpr int kConns = 4, kThreads = 4, kPerThread = 400;
  TestLoop t;
  struct State {
    wsc_server_t *srv = nullptr;
    std::vector<wsc_conn_t *> clients;
    int server_opened = 0, server_messages = 0, closed = 0;
    bool server_closed = false;
  } st;
  wsc_server_options_t so = WSC_SERVER_OPTIONS_INIT;
  so.host = "127.0.0.1";
  ASSERT_EQ(wsc_server_new(&st.srv, t.loop, &so,
                           [](wsc_server_t *, const wsc_server_event_t *ev, void *ud) {
                             auto *s = static_cast<State *>(ud);
                             if (ev->type == WSC_SERVER_CLOSE) s->server_closed = true;
                             if (ev->type != WSC_SERVER_CONNECTION) return;
                             wsc_conn_set_callback(ev->conn,
                                                   [](wsc_conn_t *, const wsc_conn_event_t *e, void *u) {
                                                     auto *s2 = static_cast<State *>(u);
                                                     if (e->type == WSC_EV_OPEN) ++s2->server_opened;
                                                     if (e->type == WSC_EV_MESSAGE) ++s2->server_messages;
                                                   },
                                                   s);
                           },
                           &st),
            0);
  wsc_addr_t a;
  ASSERT_EQ(wsc_server_address(st.srv, &a), 0);
  const std::string url = "ws://127.0.0.1:" + std::to_string(a.port) + "/";
  auto on_client = [](wsc_conn_t *, const wsc_conn_event_t *e, void *u) {
    if (e->type == WSC_EV_CLOSE) ++static_cast<State *>(u)->closed;
  };
  std::vector<uint64_t> ids;
  for (int i = 0; i < kConns; ++i) {
    wsc_conn_t *c = nullptr;
    ASSERT_EQ(wsc_connect(&c, t.loop, url.c_str(), nullptr, on_client, &st), 0);
    st.clients.push_back(c);
    ids.push_back(wsc_conn_id(c));
  }
  ASSERT_TRUE(t.run_until([&] { return st.server_opened == kConns; }));

  std::atomic<int> counts[2] = {{0}, {0}};  // completions: written, failed
  std::atomic<int> &written = counts[0], &failed = counts[1];
  std::atomic<int> posts{0};
  std::thread loop_thread([&] { wsc_loop_run(t.loop, WSC_RUN_DEFAULT); });
  std::vector<std::thread> workers;
  for (int w = 0; w < kThreads; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string m = std::to_string(w) + ":" + std::to_string(i);
        int rc = wsc_conn_send_threadsafe(t.loop, ids[(w + i) % kConns], WSC_OP_TEXT, m.data(), m.size(),
                                          [](wsc_conn_t *, int status, void *ud) {
                                            auto *counts = static_cast<std::atomic<int> *>(ud);
                                            ++counts[status == 0 ? 0 : 1];
                                          },
                                          counts);
        ASSERT_EQ(rc, 0);
        if (i % 50 == 0) {
          ASSERT_EQ(wsc_loop_post(t.loop, [](wsc_loop_t *, void *ud) { ++*static_cast<std::atomic<int> *>(ud); }, &posts), 0);
        }
        if (w == 0 && i == kPerThread / 2) {  // one connection closes while the others send to it
          ASSERT_EQ(wsc_loop_post(t.loop, [](wsc_loop_t *, void *ud) {
                      wsc_conn_close(static_cast<State *>(ud)->clients[0], 1000, "", 0);
                    }, &st), 0);
        }
      }
    });
  }
  for (auto &w : workers) w.join();
  // Everything queued so far runs before this post: then the rest closes, and the loop ends.
  ASSERT_EQ(wsc_loop_post(t.loop, [](wsc_loop_t *, void *ud) {
              auto *s = static_cast<State *>(ud);
              for (size_t i = 1; i < s->clients.size(); ++i) wsc_conn_close(s->clients[i], 1000, "", 0);
              wsc_server_close(s->srv, 0);
            }, &st), 0);
  loop_thread.join();
  EXPECT_EQ(written + failed, kThreads * kPerThread);
  EXPECT_GT(failed.load(), 0);  // the closed connection's share
  EXPECT_EQ(st.server_messages, written.load());
  EXPECT_EQ(posts.load(), kThreads * (kPerThread / 50));
  EXPECT_EQ(st.closed, kConns);
  EXPECT_TRUE(st.server_closed);
  t.close_clean();
}

// Open connections with peers that misbehave at the transport: one that stops reading while the
// server sends (the send queue's cap and its overflow policies), one that vanishes without a
// FIN (keepalive), and ones that half-close (mid-frame, mid-message, after their close frame).
// A well-behaved client of the same server exchanges verified echoes before and after.
#include "hostile_support.h"

using namespace hostile;

namespace {

constexpr size_t kChunk = 64 * 1024;

std::string chunk_of(size_t index) { return std::string(kChunk, static_cast<char>('a' + index % 26)); }

// What a raw client that starts reading late saw.
struct LateReader {
  std::atomic<bool> read_now{false};
  size_t messages = 0, bad = 0;
  std::string text;  // the last text message
  std::optional<Frame> close;
  bool ended = false;
};

// A raw client that upgrades, reads nothing until told, then reads every data frame (checking
// the binary ones against chunk_of(i)) and answers the server's close frame with the same code
// and reason; or, given text_to_stop, sends its own close once that text arrived.
void late_reader(int fd, LateReader &r, const std::string &text_to_stop = "") {
  Wire w(fd);
  if (!raw_upgrade(fd, w)) return ADD_FAILURE() << "no 101";
  for (int i = 0; !r.read_now && i < 30000 * kSlow; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (;;) {
    auto f = w.next(10000 * kSlow);
    if (!f) break;
    if (f->opcode() == kBinary) {
      r.bad += f->payload != chunk_of(r.messages);
      ++r.messages;
    } else if (f->opcode() == kText) {
      r.text = f->payload;
      if (!text_to_stop.empty() && r.text == text_to_stop) send_all(fd, frame(kFin | kClose, close_payload(1000), true));
    } else if (f->opcode() == kClose) {
      r.close = f;
      if (text_to_stop.empty()) send_all(fd, frame(kFin | kClose, f->payload, true));  // the echo RFC 6455 §5.5.1 asks for
      break;
    }
  }
  r.ended = w.ends_within(5000 * kSlow) && w.buf.empty();
}

struct Sends {
  size_t accepted = 0, backpressure = 0, full = 0, completed = 0, failed = 0;
};

// Sends 64 KiB chunks to a peer that does not read, letting the loop write between sends, until
// the cap refuses one (then `extra_full` more attempts).
void send_until_full(TestLoop &t, wsc_conn_t *conn, Sends &s, const wsc_conn_options_t &co, int extra_full = 0) {
  auto done = [](wsc_conn_t *, int status, void *ud) {
    auto *st = static_cast<Sends *>(ud);
    ++(status == 0 ? st->completed : st->failed);
  };
  for (int i = 0; i < 4000 && s.full <= static_cast<size_t>(extra_full); ++i) {
    std::string m = chunk_of(s.accepted);
    int rc = wsc_conn_send(conn, WSC_OP_BINARY, m.data(), m.size(), 0, done, &s);
    if (rc == WSC_SEND_BACKPRESSURE) ++s.backpressure;
    if (rc == WSC_EQUEUEFULL) ++s.full;
    if (rc >= 0) ++s.accepted;
    EXPECT_LE(wsc_conn_buffered_amount(conn), co.max_buffered + kChunk + 16) << "the queue is bounded";
    wsc_loop_run(t.loop, WSC_RUN_NOWAIT);
  }
}

// A queue small enough for a reader that stops to fill it: backpressure at 256 KiB, the cap at
// 1 MiB, and the overflow policy under test.
wsc_conn_options_t slow_reader_options(uint32_t policy) {
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  co.high_water_mark = 256 * 1024;
  co.low_water_mark = 64 * 1024;
  co.max_buffered = 1024 * 1024;
  co.overflow_policy = policy;
  return co;
}

}  // namespace

TEST(SlowReader, UnderOverflowCloseIsClosedWith1008OnceTheQueueIsFull) {
  wsc_conn_options_t co = slow_reader_options(WSC_OVERFLOW_CLOSE);
  Scene s(WSC_SERVER_OPTIONS_INIT, &co);
  LateReader r;
  RawClient peer(s.server.port, [&](int fd) { late_reader(fd, r); });
  s.t.run_until([&] { return s.server.hostile() != nullptr; }, 5000 * kSlow);
  Server::Conn *h = s.server.hostile();
  ASSERT_NE(h, nullptr);
  Sends sends;
  send_until_full(s.t, h->conn, sends, co);
  EXPECT_GT(sends.backpressure, 0u) << "backpressure came before the cap";
  ASSERT_EQ(sends.full, 1u) << "the cap refused a send";
  EXPECT_EQ(wsc_conn_ready_state(h->conn), static_cast<uint32_t>(WSC_CLOSING)) << "closing with 1008";
  EXPECT_EQ(wsc_conn_send(h->conn, WSC_OP_BINARY, "x", 1, 0, nullptr, nullptr), WSC_ESTATE);
  r.read_now = true;
  s.wait_for(peer, 30000);
  s.t.run_until([&] { return h->log.closed; }, 5000 * kSlow);
  EXPECT_EQ(r.messages, sends.accepted) << "everything queued before the close frame arrived";
  EXPECT_EQ(r.bad, 0u);
  ASSERT_TRUE(r.close.has_value());
  EXPECT_EQ(r.close->close_code(), 1008u);
  EXPECT_EQ(r.close->close_reason(), "send queue is full");
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(sends.completed, sends.accepted) << "every accepted send completed";
  EXPECT_EQ(sends.failed, 0u);
  EXPECT_EQ(h->log.lines, (std::vector<std::string>{"open", "drain", "close 1008 send queue is full clean"}));
  s.end();
}

TEST(SlowReader, UnderOverflowDropLosesTheRefusedMessagesOnlyAndStaysOpen) {
  wsc_conn_options_t co = slow_reader_options(WSC_OVERFLOW_DROP);
  Scene s(WSC_SERVER_OPTIONS_INIT, &co);
  LateReader r;
  RawClient peer(s.server.port, [&](int fd) { late_reader(fd, r, "after the drain"); });
  s.t.run_until([&] { return s.server.hostile() != nullptr; }, 5000 * kSlow);
  Server::Conn *h = s.server.hostile();
  ASSERT_NE(h, nullptr);
  Sends sends;
  send_until_full(s.t, h->conn, sends, co, 4);  // five refusals
  EXPECT_EQ(sends.full, 5u);
  EXPECT_EQ(wsc_conn_ready_state(h->conn), static_cast<uint32_t>(WSC_OPEN)) << "DROP keeps the connection";
  r.read_now = true;
  s.t.run_until([&] { return h->log.has("drain"); }, 10000 * kSlow);
  s.t.run_until([&] { return sends.completed == sends.accepted; }, 10000 * kSlow);
  EXPECT_EQ(wsc_conn_send(h->conn, WSC_OP_TEXT, "after the drain", 15, 0, nullptr, nullptr), 0) << "sending works again";
  s.wait_for(peer, 30000);
  s.t.run_until([&] { return h->log.closed; }, 5000 * kSlow);
  EXPECT_EQ(r.messages, sends.accepted) << "the accepted messages all arrived, the refused ones none";
  EXPECT_EQ(r.bad, 0u) << "in order, none missing in between";
  EXPECT_EQ(r.text, "after the drain");
  EXPECT_EQ(sends.completed, sends.accepted);
  EXPECT_EQ(sends.failed, 0u);
  ASSERT_TRUE(r.close.has_value());
  EXPECT_EQ(r.close->close_code(), 1000u) << "the server answered the peer's close";
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(h->log.lines, (std::vector<std::string>{"open", "drain", "close 1000 clean"}));
  s.end();
}

TEST(VanishingPeer, ASilentPeerIsDroppedByTheKeepaliveOnTime) {
  // A peer that completed its handshake and then neither reads nor writes (as one whose network
  // went away without a FIN): pinged after 300 ms of silence, dropped 300 ms later. The bystander
  // answers its pings (wsc does, automatically) and stays.
  wsc_conn_options_t co = WSC_CONN_OPTIONS_INIT;
  co.keepalive_interval_ms = 300;
  co.keepalive_grace_ms = 300;
  Scene s(WSC_SERVER_OPTIONS_INIT, &co);
  std::atomic<bool> stop{false};
  std::optional<Frame> first;
  bool ended = false;
  RawClient peer(s.server.port, [&](int fd) {
    Wire w(fd);
    if (!raw_upgrade(fd, w)) return ADD_FAILURE() << "no 101";
    for (int i = 0; !stop && i < 20000 * kSlow; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    first = w.next(1000);  // what came meanwhile
    ended = w.ends_within(1000) && w.buf.empty();
  });
  s.t.run_until([&] { return s.server.hostile() != nullptr; }, 5000 * kSlow);
  Server::Conn *h = s.server.hostile();
  ASSERT_NE(h, nullptr);
  s.t.run_until([&] { return h->log.closed; }, 5000 * kSlow);
  const long ms = std::chrono::duration_cast<std::chrono::milliseconds>(h->log.closed_at - h->opened).count();
  stop = true;
  s.wait_for(peer);
  EXPECT_EQ(h->log.lines, (std::vector<std::string>{"open", "error WSC_ETIMEDOUT Peer not responding", "close 1006 unclean"}));
  EXPECT_GE(ms, 550) << "not before interval + grace (less the loop clock's staleness)";
  EXPECT_LE(ms, 600 + 500 * kSlow) << "dropped at interval + grace";
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->opcode(), kPing) << "the keepalive ping";
  EXPECT_TRUE(ended) << "then the server closed the socket";
  s.end();
}

namespace {

// A raw client that upgrades, sends `bytes`, half-closes (SHUT_WR), and reads what comes.
struct HalfClose {
  std::vector<Frame> frames;
  bool ended = false;
  std::string rest;
};

HalfClose half_close(Scene &s, const std::string &bytes) {
  HalfClose x;
  RawClient peer(s.server.port, [&](int fd) {
    Wire w(fd);
    if (!raw_upgrade(fd, w)) return ADD_FAILURE() << "no 101";
    send_all(fd, bytes);
    shutdown(fd, SHUT_WR);
    while (auto f = w.next(3000 * kSlow)) x.frames.push_back(*f);
    x.ended = w.ends_within(3000 * kSlow);
    x.rest = w.buf;
  });
  s.wait_for(peer);
  s.t.run_until([&] { return s.server.hostile() && s.server.hostile()->log.closed; }, 5000 * kSlow);
  return x;
}

}  // namespace

TEST(HalfClose, MidFrameEndsTheConnectionAs1006) {
  Scene s;
  HalfClose x = half_close(s, frame_header(kFin | kBinary, 100, true) + std::string(50, 'h'));
  EXPECT_TRUE(x.frames.empty()) << "nothing to answer: the stream ended";
  EXPECT_TRUE(x.ended);
  EXPECT_TRUE(x.rest.empty());
  ASSERT_NE(s.server.hostile(), nullptr);
  EXPECT_EQ(s.server.hostile()->log.lines, (std::vector<std::string>{"open", "close 1006 unclean"}));
  s.end();
}

TEST(HalfClose, MidMessageEndsTheConnectionAs1006) {
  Scene s;
  HalfClose x = half_close(s, frame(kText, "first fragment, ", true) + frame(kCont, "second, ", true));
  EXPECT_TRUE(x.frames.empty());
  EXPECT_TRUE(x.ended);
  ASSERT_NE(s.server.hostile(), nullptr);
  EXPECT_EQ(s.server.hostile()->log.lines, (std::vector<std::string>{"open", "close 1006 unclean"}));
  s.end();
}

TEST(HalfClose, AfterItsCloseFrameTheCloseIsAnsweredAndTheConnectionEndsClean) {
  Scene s;
  HalfClose x = half_close(s, frame(kFin | kText, "last words", true) + frame(kFin | kClose, close_payload(1001, "going"), true));
  ASSERT_EQ(x.frames.size(), 2u);
  EXPECT_EQ(x.frames[0].payload, "last words") << "the message before the close was answered";
  EXPECT_EQ(x.frames[1].opcode(), kClose);
  EXPECT_EQ(x.frames[1].payload, close_payload(1001, "going")) << "the close echoed";
  EXPECT_TRUE(x.ended);
  ASSERT_NE(s.server.hostile(), nullptr);
  EXPECT_EQ(s.server.hostile()->log.lines, (std::vector<std::string>{"open", "text last words", "close 1001 going clean"}));
  s.end();
}

TEST(HalfClose, AfterAnEmptyCloseFrameTheCloseIsAnsweredEmpty) {
  Scene s;
  HalfClose x = half_close(s, frame(kFin | kClose, "", true));
  ASSERT_EQ(x.frames.size(), 1u);
  EXPECT_EQ(x.frames[0].opcode(), kClose);
  EXPECT_EQ(x.frames[0].payload, "") << "no code received: none sent back";
  EXPECT_TRUE(x.ended);
  ASSERT_NE(s.server.hostile(), nullptr);
  EXPECT_EQ(s.server.hostile()->log.lines, (std::vector<std::string>{"open", "close 1005 clean"}));
  s.end();
}

TEST(HalfClose, DataAfterTheCloseFrameIsIgnored) {
  // RFC 6455 §5.5.1: nothing is processed after a close frame; the peer keeps writing, then goes.
  Scene s;
  HalfClose x = half_close(s, frame(kFin | kClose, close_payload(1000), true) + frame(kFin | kText, "ignored", true) +
                                  frame(kFin | 0x3, "also ignored", true));
  ASSERT_EQ(x.frames.size(), 1u);
  EXPECT_EQ(x.frames[0].payload, close_payload(1000));
  EXPECT_TRUE(x.ended);
  ASSERT_NE(s.server.hostile(), nullptr);
  EXPECT_EQ(s.server.hostile()->log.lines, (std::vector<std::string>{"open", "close 1000 clean"}));
  s.end();
}

// The sender (src/sender.cc): framing, masking, fragmentation, streaming, close and control
// limits, re-entrancy; and a round trip through the receiver for random traffic.
#include <gtest/gtest.h>

#include <random>

#include "receiver.h"
#include "support.h"

using namespace wsc_test;

namespace {

struct Wire {
  std::vector<Bytes> frames;  // one entry per write callback
  std::function<void(wsc_sender_t *)> hook;
  Bytes all() const {
    Bytes out;
    for (const auto &f : frames) out.insert(out.end(), f.begin(), f.end());
    return out;
  }
};

void on_write(wsc_sender_t *s, const wsc_buf_t *bufs, uint32_t nbufs, void *ud) {
  auto *w = static_cast<Wire *>(ud);
  Bytes f;
  for (uint32_t i = 0; i < nbufs; ++i) f.insert(f.end(), bufs[i].base, bufs[i].base + bufs[i].len);
  w->frames.push_back(f);
  if (w->hook) {
    auto hook = w->hook;
    w->hook = nullptr;
    hook(s);
  }
}

wsc_sender_t *make_sender(Wire *w, wsc_role_t role, uint32_t flags = 0, uint64_t threshold = WSC_DEFAULT_FRAGMENT_THRESHOLD) {
  wsc_sender_options_t o = WSC_SENDER_OPTIONS_INIT;
  o.role = role;
  o.flags = flags;
  o.fragment_threshold = threshold;
  wsc_sender_t *s = nullptr;
  EXPECT_EQ(wsc_sender_new(&s, &o, on_write, w), 0);
  return s;
}

// A receiver's sink that collects the events, described, into the std::vector<std::string> ctx.
void collect(void *ctx, const wsc_parser_event_t &ev) {
  static_cast<std::vector<std::string> *>(ctx)->push_back(describe(ev));
}

std::vector<std::string> parse(const Bytes &wire, wsc_role_t receiver_role, bool assemble = true) {
  std::vector<std::string> events;
  wsc::ReceiverConfig cfg;
  cfg.sink = collect;
  cfg.role = receiver_role;
  cfg.assemble = assemble;
  cfg.allow_rsv1 = true;
  wsc::Receiver rx(cfg, &events);
  Bytes copy = wire;
  size_t used;
  EXPECT_EQ(rx.feed(copy.data(), copy.size(), &used), 0);
  EXPECT_EQ(used, copy.size());
  return events;
}

}  // namespace

TEST(Sender, ServerFramesAreUnmaskedWithHeaderAndPayloadApart) {
  Wire w;
  wsc_sender_t *s = make_sender(&w, WSC_ROLE_SERVER);
  Bytes p125(125, 1), p126(126, 2), p65535(65535, 3), p65536(65536, 4);
  ASSERT_EQ(wsc_sender_send(s, WSC_OP_TEXT, "Hello", 5, 0), 0);
  ASSERT_EQ(wsc_sender_send(s, WSC_OP_BINARY, p125.data(), p125.size(), 0), 0);
  ASSERT_EQ(wsc_sender_send(s, WSC_OP_BINARY, p126.data(), p126.size(), 0), 0);
  ASSERT_EQ(wsc_sender_send(s, WSC_OP_BINARY, p65535.data(), p65535.size(), 0), 0);
  ASSERT_EQ(wsc_sender_send(s, WSC_OP_BINARY, p65536.data(), p65536.size(), 0), 0);
  ASSERT_EQ(wsc_sender_send(s, WSC_OP_BINARY, nullptr, 0, 0), 0);
  ASSERT_EQ(w.frames.size(), 6u);
  EXPECT_EQ(hex(w.frames[0]), "810548656c6c6f");
  EXPECT_EQ(hex(Bytes(w.frames[1].begin(), w.frames[1].begin() + 2)), "827d");
  EXPECT_EQ(hex(Bytes(w.frames[2].begin(), w.frames[2].begin() + 4)), "827e007e");
  EXPECT_EQ(hex(Bytes(w.frames[3].begin(), w.frames[3].begin() + 4)), "827effff");
  EXPECT_EQ(hex(Bytes(w.frames[4].begin(), w.frames[4].begin() + 10)), "827f0000000000010000");
  EXPECT_EQ(hex(w.frames[5]), "8200");
  EXPECT_EQ(parse(w.all(), WSC_ROLE_CLIENT).size(), 6u);
  wsc_sender_free(s);
}

TEST(Sender, ServerPayloadIsNotCopied) {
  const uint8_t *seen = nullptr;
  uint32_t nbufs = 0;
  wsc_sender_options_t o = WSC_SENDER_OPTIONS_INIT;
  struct Ctx {
    const uint8_t **seen;
    uint32_t *n;
  } ctx{&seen, &nbufs};
  wsc_sender_t *s;
  ASSERT_EQ(wsc_sender_new(&s, &o,
                           [](wsc_sender_t *, const wsc_buf_t *b, uint32_t n, void *ud) {
                             auto *c = static_cast<Ctx *>(ud);
                             *c->n = n;
                             *c->seen = n > 1 ? b[1].base : nullptr;
                           },
                           &ctx),
            0);
  Bytes payload(1000, 7);
  ASSERT_EQ(wsc_sender_send(s, WSC_OP_BINARY, payload.data(), payload.size(), 0), 0);
  EXPECT_EQ(nbufs, 2u);
  EXPECT_EQ(seen, payload.data());
  wsc_sender_free(s);
}

TEST(Sender, ClientFramesAreMaskedWithAFreshKeyEach) {
  Wire w;
  wsc_sender_t *s = make_sender(&w, WSC_ROLE_CLIENT);
  Bytes zeros(32, 0);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(wsc_sender_send(s, WSC_OP_BINARY, zeros.data(), zeros.size(), 0), 0);
  ASSERT_EQ(w.frames.size(), 3u);
  std::set<Bytes> keys;
  for (const auto &f : w.frames) {
    ASSERT_EQ(f.size(), 2u + 4 + 32);
    EXPECT_EQ(f[1], 0x80 | 32);
    keys.insert(Bytes(f.begin() + 2, f.begin() + 6));
  }
  EXPECT_EQ(keys.size(), 3u);
  EXPECT_EQ(parse(w.all(), WSC_ROLE_SERVER), std::vector<std::string>(3, "message binary " + hex(zeros)));
  wsc_sender_free(s);
}

TEST(Sender, FragmentsMessagesAboveTheThreshold) {
  Wire w;
  wsc_sender_t *s = make_sender(&w, WSC_ROLE_SERVER, WSC_SENDER_FRAGMENT);
  Bytes big(40000, 'a');
  ASSERT_EQ(wsc_sender_send(s, WSC_OP_TEXT, big.data(), big.size(), WSC_SEND_COMPRESSED), 0);
  ASSERT_EQ(w.frames.size(), 3u);
  EXPECT_EQ(w.frames[0][0], 0x41) << "text, RSV1, no FIN";
  EXPECT_EQ(w.frames[1][0], 0x00) << "continuation";
  EXPECT_EQ(w.frames[2][0], 0x80) << "continuation, FIN";
  EXPECT_EQ(w.frames[0].size(), 4u + 16384);
  EXPECT_EQ(w.frames[2].size(), 4u + 40000 - 2 * 16384);
  EXPECT_EQ(parse(w.all(), WSC_ROLE_CLIENT), std::vector<std::string>{"message text rsv1 " + hex(big)});
  w.frames.clear();
  Bytes exact(16384, 'b');  // at the threshold: one frame
  ASSERT_EQ(wsc_sender_send(s, WSC_OP_TEXT, exact.data(), exact.size(), 0), 0);
  EXPECT_EQ(w.frames.size(), 1u);
  wsc_sender_free(s);

  Wire w2;  // off by default: one frame whatever the size
  s = make_sender(&w2, WSC_ROLE_SERVER);
  ASSERT_EQ(wsc_sender_send(s, WSC_OP_TEXT, big.data(), big.size(), 0), 0);
  EXPECT_EQ(w2.frames.size(), 1u);
  wsc_sender_free(s);
}

TEST(Sender, StreamingWithControlFramesInBetween) {
  Wire w;
  wsc_sender_t *s = make_sender(&w, WSC_ROLE_CLIENT);
  ASSERT_EQ(wsc_sender_send(s, WSC_OP_BINARY, "\x01", 1, WSC_SEND_MORE | WSC_SEND_COMPRESSED), 0);
  EXPECT_TRUE(wsc_sender_in_message(s));
  ASSERT_EQ(wsc_sender_ping(s, "p", 1), 0);
  ASSERT_EQ(wsc_sender_send(s, WSC_OP_TEXT, "\x02", 1, WSC_SEND_MORE | WSC_SEND_COMPRESSED), 0);  // opcode ignored
  ASSERT_EQ(wsc_sender_send(s, WSC_OP_BINARY, "\x03", 1, 0), 0);
  EXPECT_FALSE(wsc_sender_in_message(s));
  ASSERT_EQ(w.frames.size(), 4u);
  EXPECT_EQ(w.frames[0][0], 0x42);
  EXPECT_EQ(w.frames[1][0], 0x89);
  EXPECT_EQ(w.frames[2][0], 0x00) << "RSV1 only on the first frame";
  EXPECT_EQ(w.frames[3][0], 0x80);
  EXPECT_EQ(parse(w.all(), WSC_ROLE_SERVER), (std::vector<std::string>{"ping 70", "message binary rsv1 010203"}));
  EXPECT_EQ(parse(w.all(), WSC_ROLE_SERVER, false),
            (std::vector<std::string>{"fragment binary rsv1 first more 01", "ping 70", "fragment binary rsv1 cont more 02",
                                      "fragment binary rsv1 cont fin 03"}));
  wsc_sender_free(s);
}

TEST(Sender, CloseFrameRules) {
  Wire w;
  wsc_sender_t *s = make_sender(&w, WSC_ROLE_SERVER);
  std::string r123(123, 'r'), r124(124, 'r');
  EXPECT_EQ(wsc_sender_close(s, 1005, nullptr, 0), WSC_ECLOSECODE);
  EXPECT_EQ(wsc_sender_close(s, 1006, nullptr, 0), WSC_ECLOSECODE);
  EXPECT_EQ(wsc_sender_close(s, 999, nullptr, 0), WSC_ECLOSECODE);
  EXPECT_EQ(wsc_sender_close(s, 5000, nullptr, 0), WSC_ECLOSECODE);
  EXPECT_EQ(wsc_sender_close(s, 1000, r124.data(), r124.size()), WSC_EMSGSIZE);
  EXPECT_EQ(wsc_sender_close(s, 1000, "\xff", 1), WSC_EUTF8);
  EXPECT_EQ(wsc_sender_close(s, 0, "x", 1), WSC_EINVAL) << "a reason needs a code";
  EXPECT_TRUE(w.frames.empty());
  ASSERT_EQ(wsc_sender_close(s, 4000, r123.data(), r123.size()), 0);
  ASSERT_EQ(w.frames.size(), 1u);
  EXPECT_EQ(hex(Bytes(w.frames[0].begin(), w.frames[0].begin() + 4)), "887d0fa0");
  EXPECT_EQ(parse(w.frames[0], WSC_ROLE_CLIENT), std::vector<std::string>{"close 4000 " + hex(bytes(r123))});
  EXPECT_EQ(wsc_sender_send(s, WSC_OP_TEXT, "x", 1, 0), WSC_ECLOSED);
  EXPECT_EQ(wsc_sender_ping(s, nullptr, 0), WSC_ECLOSED);
  EXPECT_EQ(wsc_sender_close(s, 1000, nullptr, 0), WSC_ECLOSED);
  wsc_sender_free(s);

  Wire w2;
  s = make_sender(&w2, WSC_ROLE_CLIENT);
  ASSERT_EQ(wsc_sender_close(s, 0, nullptr, 0), 0);
  EXPECT_EQ(parse(w2.all(), WSC_ROLE_SERVER), std::vector<std::string>{"close 1005 "});
  wsc_sender_free(s);
}

TEST(Sender, ControlPayloadLimitsAndBadArguments) {
  Wire w;
  wsc_sender_t *s = make_sender(&w, WSC_ROLE_SERVER);
  Bytes p125(125, 1), p126(126, 1);
  EXPECT_EQ(wsc_sender_ping(s, p125.data(), p125.size()), 0);
  EXPECT_EQ(wsc_sender_pong(s, p125.data(), p125.size()), 0);
  EXPECT_EQ(wsc_sender_ping(s, p126.data(), p126.size()), WSC_EMSGSIZE);
  EXPECT_EQ(wsc_sender_pong(s, p126.data(), p126.size()), WSC_EMSGSIZE);
  EXPECT_EQ(wsc_sender_ping(s, nullptr, 3), WSC_EINVAL);
  EXPECT_EQ(wsc_sender_send(s, WSC_OP_PING, "x", 1, 0), WSC_EINVAL);
  EXPECT_EQ(wsc_sender_send(s, WSC_OP_CONTINUATION, "x", 1, 0), WSC_EINVAL) << "nothing to continue";
  EXPECT_EQ(wsc_sender_send(s, WSC_OP_TEXT, nullptr, 1, 0), WSC_EINVAL);
  EXPECT_EQ(wsc_sender_send(s, WSC_OP_TEXT, "x", 1, 0x80), WSC_EINVAL);
  EXPECT_EQ(wsc_sender_send(nullptr, WSC_OP_TEXT, "x", 1, 0), WSC_EINVAL);
  EXPECT_EQ(w.frames.size(), 2u);
  wsc_sender_free(s);
  wsc_sender_free(nullptr);

  wsc_sender_options_t o = WSC_SENDER_OPTIONS_INIT;
  o.flags = WSC_SENDER_FRAGMENT;
  o.fragment_threshold = 0;
  EXPECT_EQ(wsc_sender_new(&s, &o, on_write, &w), WSC_EINVAL);
  o = wsc_sender_options_t WSC_SENDER_OPTIONS_INIT;
  o.role = 3;
  EXPECT_EQ(wsc_sender_new(&s, &o, on_write, &w), WSC_EINVAL);
  EXPECT_EQ(wsc_sender_new(&s, nullptr, nullptr, &w), WSC_EINVAL);
  ASSERT_EQ(wsc_sender_options_init(&o, sizeof o), 0);
  EXPECT_EQ(o.fragment_threshold, 16384u);
}

TEST(Sender, SendingFromInsideTheWriteCallback) {
  for (wsc_role_t role : {WSC_ROLE_CLIENT, WSC_ROLE_SERVER}) {
    Wire w;
    wsc_sender_t *s = make_sender(&w, role);
    w.hook = [](wsc_sender_t *sender) { ASSERT_EQ(wsc_sender_pong(sender, "nested", 6), 0); };
    ASSERT_EQ(wsc_sender_send(s, WSC_OP_TEXT, "outer", 5, 0), 0);
    ASSERT_EQ(w.frames.size(), 2u);
    // The nested frame is written while the outer one is still being handed over; each is whole.
    EXPECT_EQ(parse(w.frames[0], role == WSC_ROLE_CLIENT ? WSC_ROLE_SERVER : WSC_ROLE_CLIENT),
              std::vector<std::string>{"message text " + hex(bytes("outer"))});
    EXPECT_EQ(parse(w.frames[1], role == WSC_ROLE_CLIENT ? WSC_ROLE_SERVER : WSC_ROLE_CLIENT),
              std::vector<std::string>{"pong " + hex(bytes("nested"))});
    wsc_sender_free(s);
  }
}

TEST(Sender, DataFromInsideTheWriteCallbackIsRefused) {
  Wire w;
  wsc_sender_t *s = make_sender(&w, WSC_ROLE_SERVER, WSC_SENDER_FRAGMENT, 4);
  int nested = 0;
  w.hook = [&](wsc_sender_t *sender) { nested = wsc_sender_send(sender, WSC_OP_TEXT, "x", 1, 0); };
  ASSERT_EQ(wsc_sender_send(s, WSC_OP_BINARY, "12345678", 8, 0), 0);
  EXPECT_EQ(nested, WSC_EBUSY);
  EXPECT_EQ(parse(w.all(), WSC_ROLE_CLIENT), std::vector<std::string>{"message binary " + hex(bytes("12345678"))});
  ASSERT_EQ(wsc_sender_send(s, WSC_OP_TEXT, "after", 5, 0), 0);
  wsc_sender_free(s);
}

TEST(Sender, FreeInsideTheWriteCallbackStopsAFragmentedSend) {
  Wire w;
  wsc_sender_t *s = make_sender(&w, WSC_ROLE_CLIENT, WSC_SENDER_FRAGMENT, 10);
  w.hook = [](wsc_sender_t *sender) { wsc_sender_free(sender); };
  Bytes data(100, 1);
  EXPECT_EQ(wsc_sender_send(s, WSC_OP_BINARY, data.data(), data.size(), 0), WSC_ECLOSED);
  EXPECT_EQ(w.frames.size(), 1u);  // and s is freed (ASan and LSan check)
}

TEST(Sender, RandomTrafficRoundTripsThroughTheReceiver) {
  std::mt19937 rng(7692);
  for (int iter = 0; iter < 300; ++iter) {
    wsc_role_t role = rng() % 2 ? WSC_ROLE_CLIENT : WSC_ROLE_SERVER;
    bool fragment = rng() % 2;
    Wire w;
    wsc_sender_t *s = make_sender(&w, role, fragment ? WSC_SENDER_FRAGMENT : 0, 1 + rng() % 300);
    std::vector<std::string> expected;
    for (int m = rng() % 6; m >= 0; --m) {
      Bytes payload(rng() % 1000);
      for (auto &b : payload) b = static_cast<uint8_t>('a' + rng() % 26);
      if (rng() % 4 == 0) {
        Bytes ping(rng() % 126, 'p');
        ASSERT_EQ(wsc_sender_ping(s, ping.data(), ping.size()), 0);
        expected.push_back("ping " + hex(ping));
      }
      uint32_t op = rng() % 2 ? WSC_OP_TEXT : WSC_OP_BINARY;
      ASSERT_EQ(wsc_sender_send(s, op, payload.data(), payload.size(), 0), 0);
      expected.push_back(std::string("message ") + (op == WSC_OP_TEXT ? "text " : "binary ") + hex(payload));
    }
    ASSERT_EQ(wsc_sender_close(s, 1000, "done", 4), 0);
    expected.push_back("close 1000 " + hex(bytes("done")));
    wsc_role_t peer = role == WSC_ROLE_CLIENT ? WSC_ROLE_SERVER : WSC_ROLE_CLIENT;
    Bytes wire = w.all();
    for (Split how : {Split::kWhole, Split::kRandom}) {
      std::vector<std::string> got;
      wsc::ReceiverConfig cfg;
      cfg.sink = collect;
      cfg.role = peer;
      wsc::Receiver rx(cfg, &got);
      ASSERT_EQ(feed_split(wire, how, iter, [&](uint8_t *p, size_t n, size_t *u) { return rx.feed(p, n, u); }), 0);
      ASSERT_EQ(got, expected);
    }
    wsc_sender_free(s);
  }
}

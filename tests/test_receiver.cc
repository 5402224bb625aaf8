// The receiver (src/receiver.cc): golden vectors from tests/data/frames.txt, each run whole, one
// byte at a time and at random split points; fuzzed input; the extension hook; memory.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "fuzz/replay.h"
#include "receiver.h"
#include "support.h"

using namespace wsc_test;

namespace {

struct Case {
  std::string name;
  int line = 0;
  wsc::ReceiverConfig cfg;
  Bytes input;
  std::vector<std::string> expect;
};

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// `frame: B0 [mask|mask=KEY] [len=N] [len16|len64] PAYLOAD`, encoded here independently of the
// library's encoder.
Bytes build_frame(const std::string &spec) {
  std::istringstream in(spec);
  std::string b0s, tok;
  in >> b0s;
  uint8_t b0 = static_cast<uint8_t>(std::stoul(b0s, nullptr, 16));
  bool masked = false, len16 = false, len64 = false, len_set = false;
  uint64_t len = 0;
  uint8_t key[4] = {0xa1, 0xb2, 0xc3, 0xd4};
  std::string rest;
  std::streampos pos = in.tellg();
  while (in >> tok) {
    if (tok == "mask") {
      masked = true;
    } else if (tok.rfind("mask=", 0) == 0) {
      masked = true;
      Bytes k = parse_payload(tok.substr(5, 2) + " " + tok.substr(7, 2) + " " + tok.substr(9, 2) + " " + tok.substr(11, 2));
      std::copy(k.begin(), k.end(), key);
    } else if (tok.rfind("len=", 0) == 0) {
      len = std::stoull(tok.substr(4));
      len_set = true;
    } else if (tok == "len16") {
      len16 = true;
    } else if (tok == "len64") {
      len64 = true;
    } else {
      break;
    }
    pos = in.tellg();
  }
  in.clear();
  in.seekg(pos);
  std::getline(in, rest);
  Bytes payload = parse_payload(rest);
  if (!len_set) len = payload.size();
  Bytes out{b0};
  uint8_t m = masked ? 0x80 : 0;
  if (len64 || len > 0xFFFF) {
    out.push_back(m | 127);
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<uint8_t>(len >> (8 * i)));
  } else if (len16 || len > 125) {
    out.push_back(m | 126);
    out.push_back(static_cast<uint8_t>(len >> 8));
    out.push_back(static_cast<uint8_t>(len));
  } else {
    out.push_back(static_cast<uint8_t>(m | len));
  }
  if (masked) out.insert(out.end(), key, key + 4);
  for (size_t i = 0; i < payload.size(); ++i) out.push_back(masked ? payload[i] ^ key[i % 4] : payload[i]);
  return out;
}

// `expect:` lines in the same form as describe() prints events.
std::string canonical(const std::string &spec) {
  std::istringstream in(spec);
  std::string kind;
  in >> kind;
  std::string words, w;
  std::string rest;
  if (kind == "message" || kind == "fragment") {
    std::string out = kind;
    std::streampos pos = in.tellg();
    while (in >> w) {
      if (w == "text" || w == "binary" || w == "rsv1" || w == "first" || w == "cont" || w == "fin" || w == "more") {
        out += " " + w;
        pos = in.tellg();
      } else {
        break;
      }
    }
    in.clear();
    in.seekg(pos);
    std::getline(in, rest);
    return out + " " + hex(parse_payload(rest));
  }
  if (kind == "ping" || kind == "pong") {
    std::getline(in, rest);
    return kind + " " + hex(parse_payload(rest));
  }
  if (kind == "close") {
    std::string code;
    in >> code;
    std::getline(in, rest);
    return "close " + code + " " + hex(parse_payload(rest));
  }
  std::getline(in, rest);
  return kind + " " + trim(rest);
}

std::vector<Case> load_cases() {
  std::ifstream f(WSC_TEST_DATA_DIR "/frames.txt");
  if (!f) throw std::runtime_error("cannot open " WSC_TEST_DATA_DIR "/frames.txt");
  std::vector<Case> cases;
  std::string line;
  int lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) throw std::runtime_error("line " + std::to_string(lineno) + ": no key");
    std::string key = line.substr(0, colon), value = trim(line.substr(colon + 1));
    if (key == "case") {
      cases.emplace_back();
      cases.back().name = value;
      cases.back().line = lineno;
      continue;
    }
    if (cases.empty()) throw std::runtime_error("line " + std::to_string(lineno) + ": before any case");
    Case &c = cases.back();
    if (key == "options") {
      std::istringstream in(value);
      std::string o;
      while (in >> o) {
        if (o == "client") c.cfg.role = WSC_ROLE_CLIENT;
        else if (o == "server") c.cfg.role = WSC_ROLE_SERVER;
        else if (o == "no-assemble") c.cfg.assemble = false;
        else if (o == "skip-utf8") c.cfg.validate_utf8 = false;
        else if (o == "rsv1") c.cfg.allow_rsv1 = true;
        else if (o.rfind("max-message=", 0) == 0) c.cfg.max_message = std::stoull(o.substr(12));
        else if (o.rfind("max-frame=", 0) == 0) c.cfg.max_frame = std::stoull(o.substr(10));
        else if (o.rfind("max-fragments=", 0) == 0) c.cfg.max_fragments = static_cast<uint32_t>(std::stoul(o.substr(14)));
        else throw std::runtime_error("line " + std::to_string(lineno) + ": unknown option " + o);
      }
    } else if (key == "bytes") {
      Bytes b = parse_payload(value);
      c.input.insert(c.input.end(), b.begin(), b.end());
    } else if (key == "frame") {
      Bytes b = build_frame(value);
      c.input.insert(c.input.end(), b.begin(), b.end());
    } else if (key == "expect") {
      c.expect.push_back(canonical(value));
    } else {
      throw std::runtime_error("line " + std::to_string(lineno) + ": unknown key " + key);
    }
  }
  return cases;
}

const std::vector<Case> &all_cases() {
  static const std::vector<Case> cases = load_cases();
  return cases;
}

struct Recorder {
  std::vector<std::string> events;
  std::vector<const uint8_t *> pointers;
  static void sink(void *ctx, const wsc_parser_event_t &ev) {
    auto *r = static_cast<Recorder *>(ctx);
    r->events.push_back(describe(ev));
    r->pointers.push_back(ev.data);
  }
};

// Runs data through a fresh receiver; returns the events and checks the invariants that hold
// for any input: at most one error, nothing after it, and the same error code from feed.
std::vector<std::string> run(wsc::ReceiverConfig cfg, const Bytes &data, Split how, uint32_t seed) {
  Recorder rec;
  cfg.sink = &Recorder::sink;
  wsc::Receiver rx(cfg, &rec);
  size_t peak = 0;
  int rc = feed_split(data, how, seed, [&](uint8_t *p, size_t n, size_t *used) {
    int r = rx.feed(p, n, used);
    peak = std::max(peak, rx.heap_bytes());
    return r;
  });
  if (cfg.max_message != 0) {
    EXPECT_LE(peak, cfg.max_message) << "allocated past the message limit";
  }
  size_t errors = 0;
  for (const auto &e : rec.events) errors += e.rfind("error ", 0) == 0;
  EXPECT_LE(errors, 1u);
  if (errors == 1) {
    EXPECT_EQ(rec.events.back().rfind("error ", 0), 0u) << "an event after the error";
    EXPECT_LT(rc, 0);
    EXPECT_EQ(rc, rx.error());
    uint8_t more[2] = {0x81, 0x00};
    size_t used = 99;
    EXPECT_EQ(rx.feed(more, 2, &used), rc) << "a failed receiver must keep failing";
    EXPECT_EQ(used, 0u);
  } else {
    EXPECT_EQ(rc, 0);
  }
  return rec.events;
}

class Golden : public ::testing::TestWithParam<size_t> {};

TEST_P(Golden, WholeBytewiseAndRandomSplits) {
  const Case &c = all_cases()[GetParam()];
  SCOPED_TRACE("case '" + c.name + "' at frames.txt:" + std::to_string(c.line));
  ASSERT_FALSE(c.expect.empty());
  EXPECT_EQ(run(c.cfg, c.input, Split::kWhole, 0), c.expect) << "fed whole";
  EXPECT_EQ(run(c.cfg, c.input, Split::kBytewise, 0), c.expect) << "fed one byte at a time";
  for (uint32_t seed = 1; seed <= 16; ++seed)
    EXPECT_EQ(run(c.cfg, c.input, Split::kRandom, seed), c.expect) << "fed at random split points, seed " << seed;
}

std::string case_name(const ::testing::TestParamInfo<size_t> &info) {
  std::string n = std::to_string(info.param) + "_";
  for (char ch : all_cases()[info.param].name) n += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Frames, Golden, ::testing::Range<size_t>(0, all_cases().size()), case_name);

TEST(Receiver, GoldenFileCoversEveryProtocolError) {
  std::set<std::string> seen;
  for (const auto &c : all_cases())
    for (const auto &e : c.expect)
      if (e.rfind("error ", 0) == 0) seen.insert(e.substr(6, e.find(' ', 6) - 6));
  for (const char *name :
       {"WSC_ERR_INVALID_OPCODE", "WSC_ERR_UNEXPECTED_RSV_1", "WSC_ERR_UNEXPECTED_RSV_2_3", "WSC_ERR_EXPECTED_FIN",
        "WSC_ERR_INVALID_CONTROL_PAYLOAD_LENGTH", "WSC_ERR_EXPECTED_MASK", "WSC_ERR_UNEXPECTED_MASK",
        "WSC_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH", "WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH", "WSC_ERR_INVALID_UTF8",
        "WSC_ERR_INVALID_CLOSE_CODE", "WSC_ERR_UNEXPECTED_CONTINUATION", "WSC_ERR_EXPECTED_CONTINUATION",
        "WSC_ERR_TOO_MANY_FRAGMENTS", "WSC_ERR_FRAME_TOO_BIG"})
    EXPECT_TRUE(seen.count(name)) << name << " has no golden vector";
}

// ---- zero copy and memory ---------------------------------------------------------------------

TEST(Receiver, WholeFramesAreDeliveredFromTheInputWithoutAllocating) {
  for (wsc_role_t role : {WSC_ROLE_CLIENT, WSC_ROLE_SERVER}) {
    wsc::ReceiverConfig cfg;
    cfg.role = role;
    std::string spec = std::string("82 ") + (role == WSC_ROLE_SERVER ? "mask " : "") + "1000*61";
    Bytes data = build_frame(spec);
    Bytes ping = build_frame(std::string("89 ") + (role == WSC_ROLE_SERVER ? "mask " : "") + "\"p\"");
    data.insert(data.end(), ping.begin(), ping.end());
    Recorder rec;
    cfg.sink = &Recorder::sink;
  wsc::Receiver rx(cfg, &rec);
    size_t used = 0;
    ASSERT_EQ(rx.feed(data.data(), data.size(), &used), 0);
    EXPECT_EQ(used, data.size());
    ASSERT_EQ(rec.events.size(), 2u);
    EXPECT_EQ(rec.pointers[0], data.data() + (role == WSC_ROLE_SERVER ? 8 : 4)) << "message not delivered in place";
    EXPECT_EQ(rec.events[0], "message binary " + hex(Bytes(1000, 0x61)));
    EXPECT_EQ(rx.heap_bytes(), 0u);
    EXPECT_EQ(rx.buffered(), 0u);
  }
}

TEST(Receiver, BufferStaysWithinTheMessageLimit) {
  wsc::ReceiverConfig cfg;
  cfg.max_message = 1000;
  cfg.max_fragments = 0;
  Bytes data;
  for (int i = 0; i < 999; ++i) {
    Bytes f = build_frame(i == 0 ? "02 mask 00" : "00 mask 00");
    data.insert(data.end(), f.begin(), f.end());
  }
  Bytes last = build_frame("80 mask 01");
  data.insert(data.end(), last.begin(), last.end());
  Recorder rec;
  cfg.sink = &Recorder::sink;
  wsc::Receiver rx(cfg, &rec);
  size_t peak = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    size_t used;
    ASSERT_EQ(rx.feed(&data[i], 1, &used), 0);
    peak = std::max(peak, rx.heap_bytes());
  }
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_LE(peak, 1000u);
  EXPECT_GE(peak, 1000u);  // the message was assembled in one buffer
  EXPECT_EQ(rx.heap_bytes(), 0u) << "no buffer kept once the message was delivered";
}

TEST(Receiver, LargeBufferedMessagesAreReleasedAfterDelivery) {
  wsc::ReceiverConfig cfg;
  Bytes data = build_frame("02 mask 40000*01");
  Bytes end = build_frame("80 mask 01");
  data.insert(data.end(), end.begin(), end.end());
  Recorder rec;
  cfg.sink = &Recorder::sink;
  wsc::Receiver rx(cfg, &rec);
  size_t used;
  ASSERT_EQ(rx.feed(data.data(), data.size(), &used), 0);
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_EQ(rx.heap_bytes(), 0u);
}

TEST(Receiver, AnAnnouncedLengthIsNotAllocatedBeforeItsBytesArrive) {
  // A header alone may announce up to 2^63 bytes; without a message limit the receiver used to
  // ask for all of it at once (found by tests/fuzz, frames target).
  for (uint64_t limit : {uint64_t{0}, uint64_t{WSC_DEFAULT_MAX_MESSAGE_SIZE}}) {
    wsc::ReceiverConfig cfg;
    cfg.max_message = limit;
    Recorder rec;
    cfg.sink = &Recorder::sink;
    wsc::Receiver rx(cfg, &rec);
    Bytes data = build_frame("82 mask len=" + std::to_string(limit ? limit : uint64_t{1} << 40) + " 100*61");
    size_t used;
    ASSERT_EQ(rx.feed(data.data(), data.size(), &used), 0);
    EXPECT_TRUE(rec.events.empty());
    EXPECT_LE(rx.heap_bytes(), 2u << 20) << "limit " << limit;
  }
}

// ---- pause -------------------------------------------------------------------------------------

TEST(Receiver, PauseStopsAfterTheCurrentEvent) {
  struct Ctx {
    wsc::Receiver *rx;
    std::vector<std::string> events;
  } ctx{};
  wsc::ReceiverConfig cfg;
  cfg.sink = [](void *c, const wsc_parser_event_t &ev) {
    auto *x = static_cast<Ctx *>(c);
    x->events.push_back(describe(ev));
    x->rx->pause();
  };
  wsc::Receiver rx(cfg, &ctx);
  ctx.rx = &rx;
  Bytes data = build_frame("81 mask \"a\"");
  Bytes two = build_frame("81 mask \"b\"");
  data.insert(data.end(), two.begin(), two.end());
  size_t used;
  ASSERT_EQ(rx.feed(data.data(), data.size(), &used), 0);
  EXPECT_EQ(used, data.size() / 2);
  EXPECT_EQ(ctx.events.size(), 1u);
  ASSERT_EQ(rx.feed(data.data() + used, data.size() - used, &used), 0);
  EXPECT_EQ(used, 0u) << "paused: nothing is consumed";
  rx.resume();
  size_t off = data.size() / 2;
  ASSERT_EQ(rx.feed(data.data() + off, data.size() - off, &used), 0);
  EXPECT_EQ(used, data.size() - off);
  EXPECT_EQ(ctx.events, (std::vector<std::string>{"message text 61", "message text 62"}));
}

TEST(Receiver, FeedCanStopAtTheFirstFrameBoundaryFromAnOffset) {
  Bytes data;
  for (const char *spec : {"81 mask \"aa\"", "89 mask \"p\"", "82 mask \"bbb\"", "81 mask \"c\""})
    for (uint8_t b : build_frame(spec)) data.push_back(b);
  // Frame ends: 8, 15, 24, 31.
  for (size_t stop : {size_t{1}, size_t{8}, size_t{9}, size_t{24}, size_t{30}, data.size()}) {
    Recorder rec;
    wsc::ReceiverConfig cfg;
    cfg.sink = &Recorder::sink;
    wsc::Receiver rx(cfg, &rec);
    Bytes copy = data;
    size_t used = 0;
    ASSERT_EQ(rx.feed(copy.data(), copy.size(), &used, stop), 0);
    size_t expect = stop <= 8 ? 8 : stop <= 15 ? 15 : stop <= 24 ? 24 : 31;
    EXPECT_EQ(used, expect) << stop;
    size_t rest = 0;
    ASSERT_EQ(rx.feed(copy.data() + used, copy.size() - used, &rest), 0);
    EXPECT_EQ(used + rest, data.size());
    EXPECT_EQ(rec.events, (std::vector<std::string>{"message text 6161", "ping 70", "message binary 626262",
                                                    "message text 63"}))
        << stop;
  }
}

// ---- the extension hook ------------------------------------------------------------------------

// A stand-in extension: each payload byte b stands for b copies of 'x' (a toy "decompressor"
// that expands its input, as inflate does).
class Expand : public wsc::MessageFilter {
 public:
  int process(const uint8_t *in, size_t n, bool last, wsc::ByteBuffer &out, uint64_t limit) override {
    for (size_t i = 0; i < n; ++i) {
      if (limit != 0 && out.size() + in[i] > limit) return WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH;
      if (!out.reserve_extra(in[i], SIZE_MAX)) return WSC_ENOMEM;
      for (int k = 0; k < in[i]; ++k) {
        uint8_t x = 'x';
        out.append_reserved(&x, 1);
      }
    }
    if (last) ++messages;
    return 0;
  }
  void reset() override { ++resets; }
  int messages = 0, resets = 0;
};

// A receiver with the Expand filter that records its events; `cfg` sets the rest (RSV1 is allowed).
struct ExpandingReceiver {
  explicit ExpandingReceiver(const wsc::ReceiverConfig &c = {}) : cfg(with_expand(c)), rx(cfg, &rec) {
    rx.set_filter(&ext);
  }
  static wsc::ReceiverConfig with_expand(wsc::ReceiverConfig c) {
    c.allow_rsv1 = true;
    c.sink = &Recorder::sink;
    return c;
  }
  wsc::ReceiverConfig cfg;  // rx keeps a pointer to it
  Expand ext;
  Recorder rec;
  wsc::Receiver rx;
};

// The frames of `specs` (build_frame's), one after the other.
Bytes build_frames(const std::vector<const char *> &specs) {
  Bytes data;
  for (const char *f : specs) {
    Bytes b = build_frame(f);
    data.insert(data.end(), b.begin(), b.end());
  }
  return data;
}

TEST(Receiver, FilterTransformsRsv1MessagesOnly) {
  for (Split how : {Split::kWhole, Split::kBytewise, Split::kRandom}) {
    ExpandingReceiver r;
    Bytes data = build_frames({"41 mask 02 03", "89 mask \"p\"", "80 mask 01", "82 mask 05"});
    ASSERT_EQ(feed_split(data, how, 7, [&](uint8_t *p, size_t n, size_t *u) { return r.rx.feed(p, n, u); }), 0);
    EXPECT_EQ(r.rec.events, (std::vector<std::string>{"ping 70", "message text rsv1 " + hex(Bytes(6, 'x')),
                                                      "message binary 05"}));
    EXPECT_EQ(r.ext.messages, 1);
  }
}

TEST(Receiver, FilterOutputIsBoundedByTheMessageLimit) {
  wsc::ReceiverConfig cfg;
  cfg.max_message = 100;
  ExpandingReceiver r(cfg);
  Bytes data = build_frame("c2 mask 60 60");  // 2 wire bytes that expand to 192
  size_t used;
  EXPECT_EQ(r.rx.feed(data.data(), data.size(), &used), WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH);
  EXPECT_EQ(r.rec.events, (std::vector<std::string>{"error WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH 1009"}));
  EXPECT_LE(r.rx.heap_bytes(), 100u);
  EXPECT_EQ(r.ext.resets, 1);
}

TEST(Receiver, FilterOutputIsBoundedAcrossTheFragmentsOfAMessage) {
  // Without assembly each frame is delivered alone, but the message limit counts the output of
  // the whole message, as it counts uncompressed fragments (found by tests/fuzz, frames target).
  struct Case {
    std::vector<const char *> frames;
    size_t events;
    bool fails;
  };
  const Case cases[] = {
      {{"41 mask 28 28", "00 mask 28", "80 mask 00"}, 2, true},  // 80 + 40 bytes: past 100
      {{"41 mask 32 32", "80 mask 00"}, 2, false},               // 100 bytes, then nothing more
      {{"41 mask 32 32", "80 mask 01"}, 2, true},                // one byte past the limit
  };
  for (const Case &c : cases) {
    for (Split how : {Split::kWhole, Split::kBytewise, Split::kRandom}) {
      wsc::ReceiverConfig cfg;
      cfg.assemble = false;
      cfg.max_message = 100;
      ExpandingReceiver r(cfg);
      Bytes data = build_frames(c.frames);
      int rc = feed_split(data, how, 3, [&](uint8_t *p, size_t n, size_t *u) { return r.rx.feed(p, n, u); });
      EXPECT_EQ(rc, c.fails ? WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH : 0) << c.frames[0];
      ASSERT_EQ(r.rec.events.size(), c.events) << c.frames[0];
      EXPECT_EQ(r.rec.events.back() == "error WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH 1009", c.fails) << r.rec.events.back();
    }
  }
}

TEST(Receiver, FilterOutputIsUtf8Checked) {
  wsc::ReceiverConfig cfg;
  cfg.allow_rsv1 = true;
  class Bad : public wsc::MessageFilter {
    int process(const uint8_t *, size_t, bool, wsc::ByteBuffer &out, uint64_t) override {
      return out.append(reinterpret_cast<const uint8_t *>("\xff"), 1, SIZE_MAX) ? 0 : WSC_ENOMEM;
    }
  } bad;
  Recorder rec;
  cfg.sink = &Recorder::sink;
  wsc::Receiver rx(cfg, &rec);
  rx.set_filter(&bad);
  Bytes data = build_frame("c1 mask \"a\"");
  size_t used;
  EXPECT_EQ(rx.feed(data.data(), data.size(), &used), WSC_ERR_INVALID_UTF8);
}

// ---- any input: frames, or exactly one error --------------------------------------------------

TEST(Receiver, FuzzedInputGivesTheSameEventsHoweverItIsSplit) {
  std::mt19937 rng(20261121);
  const auto &cases = all_cases();
  for (int iter = 0; iter < 3000; ++iter) {
    Bytes data;
    wsc::ReceiverConfig cfg;
    cfg.role = rng() % 2 ? WSC_ROLE_SERVER : WSC_ROLE_CLIENT;
    cfg.assemble = rng() % 2;
    cfg.allow_rsv1 = rng() % 4 == 0;
    cfg.max_message = rng() % 3 == 0 ? 64 : WSC_DEFAULT_MAX_MESSAGE_SIZE;
    if (iter % 2 == 0) {  // random bytes, biased toward plausible headers
      size_t n = rng() % 64;
      for (size_t i = 0; i < n; ++i) {
        uint8_t b = static_cast<uint8_t>(rng());
        if (rng() % 3 == 0) b = static_cast<uint8_t>(rng() % 2 ? (b & 0x8F) : (b & 0x85));
        data.push_back(b);
      }
    } else {  // golden streams, mutated
      const Case &c = cases[rng() % cases.size()];
      data = c.input;
      if (data.size() > 4096) data.resize(4096);
      for (int m = rng() % 4; m >= 0 && !data.empty(); --m) data[rng() % data.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
      cfg.role = c.cfg.role;
    }
    auto whole = run(cfg, data, Split::kWhole, 0);
    ASSERT_EQ(run(cfg, data, Split::kBytewise, 0), whole) << "input " << hex(data);
    ASSERT_EQ(run(cfg, data, Split::kRandom, static_cast<uint32_t>(iter)), whole) << "input " << hex(data);
  }
}

}  // namespace

// tests/fuzz: the `frames` target (the frame parser and the inflating receiver) over its seed
// corpus and the inputs of the crashes it found, checked as libFuzzer checks them.
TEST(Receiver, FuzzCorpusAndRegressionsReplay) { EXPECT_GT(wsc_fuzz::replay("frames", wsc_fuzz::frames), 0u); }

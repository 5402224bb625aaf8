// Fuzz target `frames`: the frame parser (src/receiver.cc through the C API of src/parser.cc),
// and the receiver with permessage-deflate's inflater installed as a connection does
// (wsc_conn_s::pmd_start: set_filter, set_allow_rsv1).
//
// Input: [mode] [limits] [split] stream...
//   mode    bit 0     client role (the peer's frames are unmasked); else server role (masked)
//           bits 1-2  0: wsc_parser_*; 1: wsc_parser_* with WSC_PARSER_ALLOW_RSV1 (reported, not
//                     inflated); 2: wsc::Receiver with an Inflater; 3: the same, no context takeover
//           bit 3     WSC_PARSER_NO_ASSEMBLE        bit 4  WSC_PARSER_SKIP_UTF8
//           bit 5     pause in every event; the feeder resumes and feeds the rest (as a connection)
//           bit 6     wsc::Receiver: a BufferPool for messages (as a connection);
//                     wsc_parser_*: wsc_parser_free from inside the third event's callback
//           bit 7     wsc::Receiver: each chunk fed with a stop point first (conn.cc's split read)
//   limits  bits 0-2 max_message_size, bits 3-5 max_fragments, bits 6-7 max_frame_size (tables below)
//   split   the chunking (fuzz.h's Chunker)
// The stream is parsed twice, whole in one call and then in chunks (each in its own exact-size
// allocation, so that a pointer kept into an earlier chunk is caught): both must report the same
// events (see same_events for the one exception), and every event is checked against the
// protocol's and the limits' rules (Run::on_event), and what the parser holds against the limits.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "deflate.h"
#include "fuzz.h"
#include "receiver.h"
#include "utf8.h"
#include "wsc/close.h"
#include "wsc/error.h"
#include "wsc/parser.h"

namespace wsc_fuzz {
namespace {

const uint64_t kMaxMessage[8] = {0, 1, 16, 125, 126, 1000, 65536, WSC_DEFAULT_MAX_MESSAGE_SIZE};
const uint32_t kMaxFragments[8] = {0, 1, 2, 3, 8, 100, WSC_DEFAULT_MAX_FRAGMENTS, 0};
const uint64_t kMaxFrame[4] = {0, 0, 10, 300};

struct Config {
  wsc_role_t role;
  int ext;  // mode bits 1-2
  bool assemble, validate_utf8, pause, extra, stop;
  uint64_t max_message, max_frame;
  uint32_t max_fragments;
  bool receiver() const { return ext >= 2; }
  bool rsv1_allowed() const { return ext != 0; }
  bool inflating() const { return ext >= 2; }
};

struct Event {
  uint32_t type, opcode, flags, close_code;
  int32_t error;
  size_t len;
  uint64_t print;
  std::string message;
  bool operator==(const Event &o) const {
    return type == o.type && opcode == o.opcode && flags == o.flags && close_code == o.close_code &&
           error == o.error && len == o.len && print == o.print && message == o.message;
  }
};

// One parse of the stream: feeds it, checks each event, and keeps them for the comparison.
class Run {
 public:
  explicit Run(const Config &cfg) : cfg_(cfg) {
    if (cfg.receiver()) {
      rcfg_.sink = [](void *ctx, const wsc_parser_event_t &ev) { static_cast<Run *>(ctx)->on_event(ev); };
      rcfg_.role = cfg.role;
      rcfg_.assemble = cfg.assemble;
      rcfg_.validate_utf8 = cfg.validate_utf8;
      rcfg_.max_fragments = cfg.max_fragments;
      rcfg_.max_message = cfg.max_message;
      rcfg_.max_frame = cfg.max_frame;
      rcfg_.pool = cfg.extra ? &pool_ : nullptr;
      rx_.reset(new wsc::Receiver(rcfg_, this));
      inflater_.reset(new wsc::Inflater(cfg.ext == 3));
      rx_->set_filter(inflater_.get());
      rx_->set_allow_rsv1(true);
    } else {
      wsc_parser_options_t o = WSC_PARSER_OPTIONS_INIT;
      o.role = cfg.role;
      o.flags = (cfg.assemble ? 0 : WSC_PARSER_NO_ASSEMBLE) | (cfg.validate_utf8 ? 0 : WSC_PARSER_SKIP_UTF8) |
                (cfg.ext == 1 ? WSC_PARSER_ALLOW_RSV1 : 0);
      o.max_fragments = cfg.max_fragments;
      o.max_message_size = cfg.max_message;
      o.max_frame_size = cfg.max_frame;
      FUZZ_CHECK(wsc_parser_new(&parser_, &o, on_parser_event, this) == 0);
    }
  }
  ~Run() {
    if (parser_ != nullptr) wsc_parser_free(parser_);
  }

  // Feeds n bytes at p (writable; stop: where a split feed returns first, or n). Returns false
  // once the parse is over (an error, or the parser was freed).
  bool feed(uint8_t *p, size_t n, size_t stop) {
    size_t off = 0;
    bool first = true;
    for (;;) {
      cur_ = p + off;
      cur_n_ = n - off;
      size_t used = 0, before = events.size();
      const bool split = rx_ && first && stop < n;
      int rc;
      if (rx_) {
        rc = rx_->feed(p + off, n - off, &used, split ? stop : n);
      } else {
        rc = wsc_parser_feed(parser_, &used, p + off, n - off);
      }
      first = false;
      cur_ = nullptr;
      cur_n_ = 0;
      FUZZ_CHECK(used <= n - off);
      off += used;
      if (freed_) {
        parser_ = nullptr;  // freed by wsc_parser_feed on its way out
        return false;
      }
      check_buffered();
      if (rc != 0) {
        FUZZ_CHECK(errors_ == 1 && rc == error_);  // a failed feed reported its error once
        // Dead: later input is refused with the same error and no event.
        size_t again = 1, count = events.size();
        uint8_t byte = 0x81;
        int rc2 = rx_ ? rx_->feed(&byte, 1, &again) : wsc_parser_feed(parser_, &again, &byte, 1);
        FUZZ_CHECK(rc2 == rc && again == 0 && events.size() == count);
        return false;
      }
      FUZZ_CHECK(errors_ == 0);
      if (paused()) {
        FUZZ_CHECK(events.size() > before);  // a pause comes from an event's callback
        resume();
        if (off < n) continue;
        return true;
      }
      if (off < n) {
        FUZZ_CHECK(split);  // only a split feed stops early
        FUZZ_CHECK(used > 0 || events.size() > before);
        continue;
      }
      return true;
    }
  }

  std::vector<Event> events;

 private:
  static void on_parser_event(wsc_parser_t *p, const wsc_parser_event_t *ev, void *ud) {
    auto *self = static_cast<Run *>(ud);
    FUZZ_CHECK(p == self->parser_);
    self->on_event(*ev);
    if (self->cfg_.pause) wsc_parser_pause(p);
    if (self->cfg_.extra && self->events.size() == 3) {
      FUZZ_CHECK(wsc_parser_feed(p, nullptr, nullptr, 0) == WSC_EBUSY);
      wsc_parser_free(p);
      self->freed_ = true;
    }
  }

  bool paused() const { return rx_ ? rx_->paused() : wsc_parser_is_paused(parser_) != 0; }
  void resume() {
    if (rx_)
      rx_->resume();
    else
      wsc_parser_resume(parser_);
  }

  void on_event(const wsc_parser_event_t &ev) {
    if (rx_ && cfg_.pause) rx_->pause();
    FUZZ_CHECK(!ended_);  // nothing follows a close frame or an error
    FUZZ_CHECK(ev.len == 0 || ev.data != nullptr);
    if (ev.data != nullptr && ev.data >= cur_ && ev.data < cur_ + cur_n_)  // delivered in place
      FUZZ_CHECK(ev.len <= static_cast<size_t>(cur_ + cur_n_ - ev.data));
    Event e{ev.type, ev.opcode, ev.flags, ev.close_code, ev.error, ev.len, fingerprint(ev.data, ev.len), ""};
    const bool text = ev.opcode == WSC_OP_TEXT;
    const uint32_t data_flags = WSC_FRAME_FIN | WSC_FRAME_RSV1 | WSC_FRAME_CONTINUATION;
    switch (ev.type) {
      case WSC_PARSER_MESSAGE:
        FUZZ_CHECK(cfg_.assemble);
        FUZZ_CHECK(ev.opcode == WSC_OP_TEXT || ev.opcode == WSC_OP_BINARY);
        FUZZ_CHECK((ev.flags & ~(WSC_FRAME_FIN | WSC_FRAME_RSV1)) == 0 && (ev.flags & WSC_FRAME_FIN) != 0);
        FUZZ_CHECK(!(ev.flags & WSC_FRAME_RSV1) || cfg_.rsv1_allowed());
        FUZZ_CHECK(cfg_.max_message == 0 || ev.len <= cfg_.max_message);
        FUZZ_CHECK(!text || !cfg_.validate_utf8 || wsc::utf8_valid(ev.data, ev.len));
        break;
      case WSC_PARSER_FRAGMENT: {
        FUZZ_CHECK(!cfg_.assemble);
        FUZZ_CHECK(ev.opcode == WSC_OP_TEXT || ev.opcode == WSC_OP_BINARY);
        FUZZ_CHECK((ev.flags & ~data_flags) == 0);
        FUZZ_CHECK(!(ev.flags & WSC_FRAME_RSV1) || cfg_.rsv1_allowed());
        const bool continuation = (ev.flags & WSC_FRAME_CONTINUATION) != 0;
        FUZZ_CHECK(continuation == in_message_);
        if (!in_message_) {
          in_message_ = true;
          msg_opcode_ = ev.opcode;
          msg_rsv1_ = ev.flags & WSC_FRAME_RSV1;
          msg_bytes_ = 0;
          msg_fragments_ = 0;
          utf8_.reset();
        }
        FUZZ_CHECK(ev.opcode == msg_opcode_ && (ev.flags & WSC_FRAME_RSV1) == msg_rsv1_);
        msg_bytes_ += ev.len;
        ++msg_fragments_;
        FUZZ_CHECK(cfg_.max_fragments == 0 || msg_fragments_ <= cfg_.max_fragments);
        FUZZ_CHECK(cfg_.max_message == 0 || msg_bytes_ <= cfg_.max_message);
        // A frame's payload is bounded as it travels; an inflated one may be larger.
        if (!(msg_rsv1_ && cfg_.inflating())) FUZZ_CHECK(cfg_.max_frame == 0 || ev.len <= cfg_.max_frame);
        if (text && cfg_.validate_utf8) {
          FUZZ_CHECK(utf8_.feed(ev.data, ev.len));
          FUZZ_CHECK(!(ev.flags & WSC_FRAME_FIN) || utf8_.complete());
        }
        if (ev.flags & WSC_FRAME_FIN) in_message_ = false;
        break;
      }
      case WSC_PARSER_PING:
      case WSC_PARSER_PONG:
        FUZZ_CHECK(ev.opcode == (ev.type == WSC_PARSER_PING ? WSC_OP_PING : WSC_OP_PONG));
        FUZZ_CHECK(ev.flags == WSC_FRAME_FIN && ev.len <= WSC_CONTROL_MAX_PAYLOAD);
        break;
      case WSC_PARSER_CLOSE:
        FUZZ_CHECK(ev.opcode == WSC_OP_CLOSE && ev.flags == WSC_FRAME_FIN);
        FUZZ_CHECK((ev.close_code == WSC_CLOSE_NO_STATUS && ev.len == 0) ||
                   (wsc_close_code_valid(ev.close_code) && ev.len <= WSC_CONTROL_MAX_PAYLOAD - 2));
        FUZZ_CHECK(!cfg_.validate_utf8 || wsc::utf8_valid(ev.data, ev.len));
        ended_ = true;
        break;
      case WSC_PARSER_ERROR:
        FUZZ_CHECK(ev.error < 0 && ev.data == nullptr && ev.len == 0);
        FUZZ_CHECK(ev.close_code == wsc_err_close_code(ev.error));
        FUZZ_CHECK(ev.close_code == 1002 || (ev.close_code >= 1007 && ev.close_code <= 1011));
        FUZZ_CHECK(ev.message != nullptr && ev.message[0] != '\0');
        e.message = ev.message;
        ++errors_;
        error_ = ev.error;
        ended_ = true;
        break;
      default:
        FUZZ_CHECK(!"unknown event type");
    }
    events.push_back(e);
  }

  // What the parser holds stays within the message limit (plus a header and a control frame),
  // and without a pool, so does the memory behind it.
  void check_buffered() {
    if (cfg_.max_message == 0) return;
    size_t held = rx_ ? rx_->buffered() : wsc_parser_buffered(parser_);
    FUZZ_CHECK(held <= cfg_.max_message + WSC_FRAME_MAX_HEADER + WSC_CONTROL_MAX_PAYLOAD);
    if (rx_ && !cfg_.extra) FUZZ_CHECK(rx_->heap_bytes() <= (cfg_.max_message > 256 ? cfg_.max_message : 256));
  }

  const Config &cfg_;
  wsc::ReceiverConfig rcfg_;
  wsc::BufferPool pool_;
  std::unique_ptr<wsc::Inflater> inflater_;
  std::unique_ptr<wsc::Receiver> rx_;
  wsc_parser_t *parser_ = nullptr;
  bool freed_ = false;
  const uint8_t *cur_ = nullptr;  // the bytes of the feed in progress
  size_t cur_n_ = 0;
  bool ended_ = false;
  int errors_ = 0;
  int error_ = 0;
  // The fragmented message in progress (NO_ASSEMBLE).
  bool in_message_ = false;
  uint32_t msg_opcode_ = 0, msg_rsv1_ = 0, msg_fragments_ = 0;
  uint64_t msg_bytes_ = 0;
  wsc::Utf8Validator utf8_;
};

// The two parses report the same events. One exception: a compressed message that is both
// corrupt or too big and invalid UTF-8 fails with whichever its pieces reveal first (each piece's
// output is checked as it is inflated).
bool same_events(const std::vector<Event> &a, const std::vector<Event> &b, bool inflating) {
  if (a.size() != b.size()) return false;
  if (a == b) return true;
  if (!inflating || !std::equal(a.begin(), a.end() - 1, b.begin())) return false;
  auto streaming_error = [](const Event &e) {
    return e.type == WSC_PARSER_ERROR &&
           (e.error == WSC_ERR_INVALID_UTF8 || e.error == WSC_ERR_INVALID_COMPRESSED_DATA ||
            e.error == WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH);
  };
  return streaming_error(a.back()) && streaming_error(b.back());
}

}  // namespace

int frames(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  Config cfg;
  const uint8_t mode = data[0], limits = data[1];
  cfg.role = (mode & 1) ? WSC_ROLE_CLIENT : WSC_ROLE_SERVER;
  cfg.ext = (mode >> 1) & 3;
  cfg.assemble = !(mode & 8);
  cfg.validate_utf8 = !(mode & 16);
  cfg.pause = (mode & 32) != 0;
  cfg.extra = (mode & 64) != 0;
  cfg.stop = (mode & 128) != 0 && cfg.receiver();
  cfg.max_message = kMaxMessage[limits & 7];
  cfg.max_fragments = kMaxFragments[(limits >> 3) & 7];
  cfg.max_frame = kMaxFrame[limits >> 6];
  const uint8_t *stream = data + 3;
  const size_t n = size - 3;

  // Whole, in one call, without pauses.
  Config whole_cfg = cfg;
  whole_cfg.pause = whole_cfg.stop = false;
  Run whole(whole_cfg);
  std::vector<uint8_t> copy(stream, stream + n);
  whole.feed(copy.data(), n, n);

  // In chunks.
  Run chunked(cfg);
  Chunker chunker(data[2], n);
  for (size_t off = 0; off < n;) {
    size_t len = chunker.next(n - off);
    std::unique_ptr<uint8_t[]> piece(new uint8_t[len]);
    std::memcpy(piece.get(), stream + off, len);
    off += len;
    size_t stop = cfg.stop ? 1 + chunker.random() % len : len;
    if (!chunked.feed(piece.get(), len, stop)) break;
  }
  if (!same_events(whole.events, chunked.events, cfg.inflating())) {
    for (const auto *run : {&whole, &chunked}) {
      std::fprintf(stderr, "%s:\n", run == &whole ? "whole" : "in chunks");
      for (const Event &e : run->events)
        std::fprintf(stderr, "  type %u opcode %u flags %#x close %u error %d len %zu data %016llx %s\n", e.type,
                     e.opcode, e.flags, e.close_code, e.error, e.len, static_cast<unsigned long long>(e.print),
                     e.message.c_str());
    }
    FUZZ_CHECK(!"the events differ between the whole input and its chunks");
  }
  return 0;
}

}  // namespace wsc_fuzz

WSC_FUZZ_ENTRY(frames)

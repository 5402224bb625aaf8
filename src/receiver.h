// The receiver: a sans-I/O state machine that turns bytes into WebSocket events (RFC 6455 §5,
// §7). It includes neither uv.h nor ssl.h, never reads outside the buffer it is given, and
// allocates only for frames that arrive in pieces or messages that arrive in fragments, within
// the configured limits.
#ifndef WSC_SRC_RECEIVER_H
#define WSC_SRC_RECEIVER_H

#include <cstddef>
#include <cstdint>
#include <memory>

#include "buffer.h"
#include "utf8.h"
#include "wsc/common.h"
#include "wsc/frame.h"
#include "wsc/parser.h"

namespace wsc {

// A transform of the payload of messages whose first frame had RSV1 set; permessage-deflate
// installs one (RFC 7692 §6).
class MessageFilter {
 public:
  virtual ~MessageFilter() = default;
  // Transforms the next n payload bytes of a message, appending the output to out; `last` marks
  // the end of the message. Output that would take out past `limit` bytes (0: no limit) fails
  // with WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH before it is written. Returns 0 or a WSC_ERR_* code.
  virtual int process(const uint8_t *in, size_t n, bool last, ByteBuffer &out, uint64_t limit) = 0;
  // Drops the state of an unfinished message (after a protocol error).
  virtual void reset() {}
};

struct ReceiverConfig {
  void (*sink)(void *ctx, const wsc_parser_event_t &ev) = nullptr;  // where events go (required)
  wsc_role_t role = WSC_ROLE_SERVER;  // the role of the endpoint that receives
  bool assemble = true;
  bool validate_utf8 = true;
  bool allow_rsv1 = false;
  uint32_t max_fragments = WSC_DEFAULT_MAX_FRAGMENTS;    // 0: no limit
  uint64_t max_message = WSC_DEFAULT_MAX_MESSAGE_SIZE;   // 0: no limit
  uint64_t max_frame = 0;                                // 0: no limit
  BufferPool *pool = nullptr;  // where message buffers come from and go back to, if set
};

class Receiver {
 public:
  enum State : uint8_t {
    kHeader,     // the first two header bytes
    kHeaderExt,  // the extended length and the masking key
    kPayload,    // payload bytes; remaining_ counts down
    kClosed,     // after a close frame: input is ignored
    kFailed      // after a protocol error: input is refused
  };

  // cfg is kept by reference (connections share their server's): it must outlive the receiver.
  // Events go to cfg.sink with ctx.
  Receiver(const ReceiverConfig &cfg, void *ctx);

  // Parses n bytes; a payload delivered from p is unmasked in place, one that is buffered is
  // unmasked as it is copied. See wsc_parser_feed.
  int feed(uint8_t *data, size_t n, size_t *consumed) { return feed(data, n, consumed, n); }
  // The same, but returns at the first frame boundary at or after byte `stop` (the caller
  // feeds the rest next).
  int feed(uint8_t *data, size_t n, size_t *consumed, size_t stop);

  void pause() { paused_ = true; }
  void resume() { paused_ = false; }
  bool paused() const { return paused_; }
  bool in_feed() const { return in_feed_; }
  void set_allow_rsv1(bool on) { allow_rsv1_ = on; }
  void set_filter(MessageFilter *filter) { filter_ = filter; }
  State state() const { return state_; }
  int error() const { return error_; }
  size_t buffered() const;
  // During a MESSAGE or FRAGMENT event whose bytes (data, len) are the receiver's message
  // buffer: hands that buffer over (free() it) and returns it; else nullptr.
  uint8_t *take_message(const uint8_t *data, size_t len) {
    if (len == 0 || data != msg_.data() || len != msg_.size()) return nullptr;
    return msg_.detach();
  }
  // Heap bytes held (the message buffer's capacity).
  size_t heap_bytes() const { return msg_.capacity(); }

 private:
  int begin_frame(uint8_t b0, uint8_t b1);
  int finish_header(const uint8_t *ext);
  // chunk: payload bytes as received (still masked); at: their offset in the frame's payload.
  int on_payload(uint8_t *chunk, size_t n, bool whole, uint64_t at);
  int on_data(uint8_t *chunk, size_t n, bool whole, uint64_t at);
  void unmask(uint8_t *chunk, size_t n, uint64_t at) const;  // in place
  int on_control(const uint8_t *data, size_t n);
  int deliver_buffered();
  int check_text(const uint8_t *p, size_t n, bool last);
  void frame_done();
  void release_message();  // an idle receiver holds no buffer
  void emit(uint32_t type, uint32_t opcode, uint32_t flags, const uint8_t *data, size_t len,
            uint32_t close_code = 0);
  // Enters kFailed and reports err once; the message is `what`, followed by value if >= 0.
  int fail(int err, const char *what, long value = -1);
  uint32_t message_flags() const;

  const ReceiverConfig *cfg_;
  void *ctx_;
  MessageFilter *filter_ = nullptr;

  State state_ = kHeader;
  bool paused_ = false;
  bool in_feed_ = false;
  bool allow_rsv1_;

  // Header collection: need_ bytes make up the current header stage, hdr_len_ of them buffered.
  uint8_t hdr_[WSC_FRAME_MAX_HEADER];
  uint8_t hdr_len_ = 0;
  uint8_t need_ = 2;

  // The frame being parsed.
  uint8_t opcode_ = 0;
  uint8_t len7_ = 0;
  bool fin_ = false;
  bool masked_ = false;
  uint8_t key_[4] = {0, 0, 0, 0};
  uint64_t frame_len_ = 0;
  uint64_t remaining_ = 0;

  // The data message in progress.
  bool in_message_ = false;
  bool msg_rsv1_ = false;
  uint8_t msg_opcode_ = 0;
  // A control frame that arrives in pieces (never more than 125 bytes), held only meanwhile.
  uint8_t ctrl_len_ = 0;
  uint32_t fragments_ = 0;
  uint64_t msg_wire_ = 0;
  uint64_t msg_out_ = 0;  // NO_ASSEMBLE: what the filter made of the message's earlier frames
  Utf8Validator utf8_;
  int error_ = 0;
  ByteBuffer msg_;
  // Held only while a control frame arrives in pieces, and after a failure (its message).
  static constexpr size_t kErrMsgSize = 80;
  struct Aux {
    uint8_t ctrl[WSC_CONTROL_MAX_PAYLOAD];
    char errmsg[kErrMsgSize];
  };
  std::unique_ptr<Aux> aux_;
};

}  // namespace wsc

#endif

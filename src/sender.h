// The sender: turns messages and control frames into frames (RFC 6455 §5), sans-I/O.
#ifndef WSC_SRC_SENDER_H
#define WSC_SRC_SENDER_H

#include <cstddef>
#include <cstdint>

#include "buffer.h"
#include "wsc/common.h"

namespace wsc {

class Sender {
 public:
  // Where frames go. write receives one frame as buffers to write in order, borrowed for the
  // duration of the call: the header, then the payload if any. A client's frame comes with its
  // mask key: the output masks the payload (RFC 6455 §5.3) as it copies it, so that it is copied
  // once; else key is null. It returns 0, or an error (WSC_ENOMEM) that the send reports.
  // reserve (optional) offers n bytes of room at the end of the output for the sender to build
  // a frame in place, or nullptr to have it written through write instead; commit then records
  // how many of them the frame took. Small frames take that way: no buffers, one copy.
  using Write = int (*)(void *ctx, const wsc_buf_t *bufs, uint32_t nbufs, const uint8_t *mask_key);
  struct Output {
    Write write;
    uint8_t *(*reserve)(void *ctx, size_t n);
    void (*commit)(void *ctx, size_t n);
  };

  Sender(wsc_role_t role, bool fragment, uint64_t threshold, const Output *out, void *ctx);

  int send(uint32_t opcode, const uint8_t *data, size_t len, uint32_t flags);
  int ping(const uint8_t *data, size_t len) { return control(0x9, data, len); }
  int pong(const uint8_t *data, size_t len) { return control(0xA, data, len); }
  int close(uint32_t code, const uint8_t *reason, size_t len);
  // The checks of close() without sending anything: 0 or the error close() would return.
  int check_close(uint32_t code, const uint8_t *reason, size_t len) const;

  // True when send(opcode, data, len, 0) of a text or binary message would now write it as one
  // frame (its usual case); a caller that builds that frame itself (build_frame) must mask it
  // with a fresh key when masks() (RFC 6455 §5.3).
  bool one_frame(size_t len) const {
    return !closed_ && !sending_ && !in_message_ && (threshold_ == 0 || len <= threshold_);
  }
  bool masks() const { return client_; }
  bool in_message() const { return in_message_; }
  bool closed() const { return closed_; }
  // True while a write callback runs.
  bool busy() const { return depth_ > 0; }
  unsigned depth() const { return depth_; }  // nested write callbacks running
  // Makes every later call fail with WSC_ECLOSED and stops a send that is splitting a message.
  void stop() { stopped_ = closed_ = true; }

 private:
  int control(unsigned opcode, const uint8_t *data, size_t len);
  int frame(unsigned flags, unsigned opcode, const uint8_t *payload, size_t len);
  int write_frame(unsigned flags, unsigned opcode, const uint8_t *payload, size_t len, const uint8_t *key);

  const Output *out_;
  void *ctx_;
  uint64_t threshold_;  // 0: no fragmentation
  bool client_;
  bool in_message_ = false;
  bool closed_ = false;
  bool stopped_ = false;
  bool sending_ = false;  // send() is writing a message's frames
  uint16_t depth_ = 0;  // with the flags above: the sender is 32 bytes
};

}  // namespace wsc

#endif

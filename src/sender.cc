#include "sender.h"

#include <cstring>
#include <limits>
#include <new>

#include "framing.h"
#include "mask.h"
#include "random.h"
#include "options.h"
#include "utf8.h"
#include "wsc/close.h"
#include "wsc/error.h"
#include "wsc/sender.h"

namespace wsc {

Sender::Sender(wsc_role_t role, bool fragment, uint64_t threshold, const Output *out, void *ctx)
    : out_(out), ctx_(ctx), threshold_(fragment ? threshold : 0), client_(role == WSC_ROLE_CLIENT) {}

int Sender::frame(unsigned flags, unsigned opcode, const uint8_t *payload, size_t len) {
  if (stopped_) return WSC_ECLOSED;
  uint8_t key[4];
  if (client_) {
    int rc = random_mask_key(key);
    if (rc != 0) return rc;
  }
  // RFC 6455 §5.3: a client masks the payload with a fresh key (the output applies it).
  if (out_->reserve != nullptr) {
    if (uint8_t *dst = out_->reserve(ctx_, WSC_FRAME_MAX_HEADER + len)) {
      out_->commit(ctx_, build_frame(dst, flags, opcode, payload, len, client_ ? key : nullptr));
      return 0;
    }
  }
  return write_frame(flags, opcode, payload, len, client_ ? key : nullptr);
}

// Kept out of frame() so that the in-place path above stays small.
__attribute__((noinline)) int Sender::write_frame(unsigned flags, unsigned opcode, const uint8_t *payload, size_t len,
                                                  const uint8_t *key) {
  uint8_t hdr[WSC_FRAME_MAX_HEADER];
  wsc_buf_t bufs[2];
  bufs[0].base = hdr;
  bufs[0].len = write_header(hdr, flags, opcode, len, key);
  bufs[1].base = payload;
  bufs[1].len = len;
  if (depth_ == UINT16_MAX) return WSC_EBUSY;  // write callbacks nested beyond any sane depth
  ++depth_;
  int rc = out_->write(ctx_, bufs, len > 0 ? 2 : 1, key);
  --depth_;
  return rc;
}

int Sender::send(uint32_t opcode, const uint8_t *data, size_t len, uint32_t flags) {
  if (closed_) return WSC_ECLOSED;
  if ((data == nullptr && len > 0) || (flags & ~(WSC_SEND_MORE | WSC_SEND_COMPRESSED)) != 0) return WSC_EINVAL;
  if (sending_) return WSC_EBUSY;  // a write callback may not put data inside the message being sent
  if (!in_message_ && opcode != WSC_OP_TEXT && opcode != WSC_OP_BINARY) return WSC_EINVAL;
  if (flags == 0 && !in_message_ && (threshold_ == 0 || len <= threshold_)) {  // the common case: one frame
    sending_ = true;
    int rc = frame(WSC_FRAME_FIN, opcode, data, len);
    sending_ = false;
    return rc;
  }
  unsigned op = in_message_ ? static_cast<unsigned>(WSC_OP_CONTINUATION) : opcode;
  // RFC 7692 §6.1: RSV1 marks a compressed message on its first frame only.
  unsigned rsv1 = !in_message_ && (flags & WSC_SEND_COMPRESSED) ? WSC_FRAME_RSV1 : 0u;
  const bool more = (flags & WSC_SEND_MORE) != 0;
  size_t off = 0;
  sending_ = true;
  do {
    size_t n = len - off;
    if (threshold_ != 0 && n > threshold_) n = static_cast<size_t>(threshold_);
    const bool last_piece = off + n == len;
    unsigned fl = rsv1 | (last_piece && !more ? WSC_FRAME_FIN : 0u);
    int rc = frame(fl, op, data + off, n);
    if (rc != 0) {
      // Nothing was written: the sender is as before. Part of a message was: it cannot be
      // resumed, so nothing more may be sent.
      if (off > 0) stop();
      sending_ = false;
      return rc;
    }
    off += n;
    op = WSC_OP_CONTINUATION;
    rsv1 = 0;
  } while (off < len);
  sending_ = false;
  in_message_ = more;
  return 0;
}

int Sender::control(unsigned opcode, const uint8_t *data, size_t len) {
  if (closed_) return WSC_ECLOSED;
  if (data == nullptr && len > 0) return WSC_EINVAL;
  // RFC 6455 §5.5: control frames carry at most 125 bytes.
  if (len > WSC_CONTROL_MAX_PAYLOAD) return WSC_EMSGSIZE;
  return frame(WSC_FRAME_FIN, opcode, data, len);
}

int Sender::check_close(uint32_t code, const uint8_t *reason, size_t len) const {
  if (closed_) return WSC_ECLOSED;
  if (reason == nullptr && len > 0) return WSC_EINVAL;
  if (code == 0) return len > 0 ? WSC_EINVAL : 0;  // RFC 6455 §5.5.1: a reason comes after a code
  if (!wsc_close_code_valid(code)) return WSC_ECLOSECODE;
  if (len > WSC_CLOSE_MAX_REASON) return WSC_EMSGSIZE;
  if (!utf8_valid(reason, len)) return WSC_EUTF8;
  return 0;
}

int Sender::close(uint32_t code, const uint8_t *reason, size_t len) {
  int rc = check_close(code, reason, len);
  if (rc != 0) return rc;
  uint8_t body[WSC_CONTROL_MAX_PAYLOAD];
  size_t n = 0;
  if (code != 0) {
    body[0] = static_cast<uint8_t>(code >> 8);
    body[1] = static_cast<uint8_t>(code);
    if (len > 0) std::memcpy(body + 2, reason, len);
    n = 2 + len;
  }
  rc = frame(WSC_FRAME_FIN, WSC_OP_CLOSE, body, n);
  if (rc == 0) closed_ = true;
  return rc;
}

}  // namespace wsc

// ---- the C API (wsc/sender.h) -----------------------------------------------------------------

struct wsc_sender_s {
  static constexpr size_t kKeepScratch = 64 * 1024;

  wsc_sender_s(wsc_role_t role, bool fragment, uint64_t threshold, wsc_sender_write_cb callback, void *data)
      : tx(role, fragment, threshold, &kOutput, this), cb(callback), user_data(data) {}

  // The C API hands out the frame as one buffer, its payload masked for a client.
  static int write(void *ctx, const wsc_buf_t *bufs, uint32_t nbufs, const uint8_t *mask_key) {
    auto *self = static_cast<wsc_sender_s *>(ctx);
    if (mask_key == nullptr) {
      self->cb(self, bufs, nbufs, self->user_data);
      return 0;
    }
    wsc::ByteBuffer nested;  // a callback that sends again must not reuse the outer frame's memory
    wsc::ByteBuffer &out = self->tx.depth() == 1 ? self->scratch : nested;
    size_t total = bufs[0].len + (nbufs > 1 ? bufs[1].len : 0);
    out.clear();
    if (!out.reserve_extra(total, total)) return WSC_ENOMEM;
    out.append_reserved(bufs[0].base, bufs[0].len);
    if (nbufs > 1) {
      wsc::mask_bytes(out.tail(), bufs[1].base, bufs[1].len, mask_key, 0);
      out.commit(bufs[1].len);
    }
    wsc_buf_t one = {out.data(), out.size()};
    self->cb(self, &one, 1, self->user_data);
    if (self->tx.depth() == 1) self->scratch.clear_and_trim(kKeepScratch);  // kept only if small
    return 0;
  }

  // Ends an API call: frees the sender if its callback asked for that and no callback runs.
  static int finish(wsc_sender_s *self, int rc) {
    if (self->free_pending && !self->tx.busy()) delete self;
    return rc;
  }

  wsc::Sender tx;
  wsc_sender_write_cb cb;
  void *user_data;
  bool free_pending = false;
  wsc::ByteBuffer scratch;  // header and masked payload of a client's frame

  static const wsc::Sender::Output kOutput;
};

const wsc::Sender::Output wsc_sender_s::kOutput = {&wsc_sender_s::write, nullptr, nullptr};

int wsc_sender_options_init(wsc_sender_options_t *opts, size_t size) {
  static const wsc_sender_options_t defaults = WSC_SENDER_OPTIONS_INIT;
  return wsc::options_init(opts, size, defaults);
}

int wsc_sender_new(wsc_sender_t **out, const wsc_sender_options_t *opts, wsc_sender_write_cb cb, void *user_data) {
  if (out == nullptr) return WSC_EINVAL;
  *out = nullptr;
  wsc_sender_options_t o = WSC_SENDER_OPTIONS_INIT;
  if (cb == nullptr || wsc::options_read(&o, opts) != 0) return WSC_EINVAL;
  if (!wsc::role_valid(o.role) || (o.flags & ~WSC_SENDER_FRAGMENT) != 0) return WSC_EINVAL;
  const bool fragment = (o.flags & WSC_SENDER_FRAGMENT) != 0;
  if (fragment && o.fragment_threshold == 0) return WSC_EINVAL;
  auto *s = new (std::nothrow) wsc_sender_s(static_cast<wsc_role_t>(o.role), fragment, o.fragment_threshold, cb, user_data);
  if (s == nullptr) return WSC_ENOMEM;
  *out = s;
  return 0;
}

int wsc_sender_send(wsc_sender_t *sender, uint32_t opcode, const void *data, size_t len, uint32_t flags) {
  if (sender == nullptr) return WSC_EINVAL;
  return wsc_sender_s::finish(sender, sender->tx.send(opcode, static_cast<const uint8_t *>(data), len, flags));
}

int wsc_sender_ping(wsc_sender_t *sender, const void *data, size_t len) {
  if (sender == nullptr) return WSC_EINVAL;
  return wsc_sender_s::finish(sender, sender->tx.ping(static_cast<const uint8_t *>(data), len));
}

int wsc_sender_pong(wsc_sender_t *sender, const void *data, size_t len) {
  if (sender == nullptr) return WSC_EINVAL;
  return wsc_sender_s::finish(sender, sender->tx.pong(static_cast<const uint8_t *>(data), len));
}

int wsc_sender_close(wsc_sender_t *sender, uint32_t code, const void *reason, size_t reason_len) {
  if (sender == nullptr) return WSC_EINVAL;
  return wsc_sender_s::finish(sender, sender->tx.close(code, static_cast<const uint8_t *>(reason), reason_len));
}

int wsc_sender_in_message(const wsc_sender_t *sender) { return sender && sender->tx.in_message() ? 1 : 0; }

void wsc_sender_free(wsc_sender_t *sender) {
  if (sender == nullptr) return;
  if (sender->tx.busy()) {  // inside the write callback: free when the outermost call returns
    sender->free_pending = true;
    sender->tx.stop();
    return;
  }
  delete sender;
}

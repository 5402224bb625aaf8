#include "receiver.h"

#include <cstdio>
#include <cstring>
#include <limits>
#include <new>

#include "framing.h"
#include "mask.h"
#include "wsc/close.h"
#include "wsc/error.h"

namespace wsc {
namespace {

constexpr size_t kMaxReserve = 1u << 20;  // see on_data

}  // namespace

Receiver::Receiver(const ReceiverConfig &cfg, void *ctx) : cfg_(&cfg), ctx_(ctx), allow_rsv1_(cfg.allow_rsv1) {}

size_t Receiver::buffered() const {
  size_t n = hdr_len_ + msg_.size();
  if (state_ == kPayload && opcode_is_control(opcode_)) n += ctrl_len_;
  return n;
}

// The header and payload steps are inlined into the loop (flatten): this is the per-message path.
__attribute__((flatten)) int Receiver::feed(uint8_t *p, size_t n, size_t *consumed, size_t stop) {
  if (consumed) *consumed = 0;
  if (in_feed_) return WSC_EBUSY;
  if (state_ == kFailed) return error_;
  in_feed_ = true;
  size_t off = 0;
  int rc = 0;
  while (!paused_) {
    if (state_ == kPayload) {
      size_t avail = n - off;
      if (avail == 0 && remaining_ > 0) break;
      size_t chunk = remaining_ < avail ? static_cast<size_t>(remaining_) : avail;
      bool whole = remaining_ == frame_len_ && chunk == frame_len_;
      uint8_t *c = p + off;
      uint64_t at = frame_len_ - remaining_;  // the chunk's place in the payload (mask phase)
      off += chunk;
      remaining_ -= chunk;
      rc = on_payload(c, chunk, whole, at);
      if (rc != 0) break;
      continue;
    }
    if (state_ == kClosed) {  // RFC 6455 §5.5.1: nothing follows a close frame
      off = n;
      break;
    }
    if (off == n) break;
    if (off >= stop && state_ == kHeader && hdr_len_ == 0) break;
    if (state_ == kHeader && hdr_len_ == 0 && n - off >= 2) {
      // The usual header: FIN, RSV clear, text or binary outside a fragmented message, a 7- or
      // 16-bit length, masked as RFC 6455 §5.1 asks of the peer. It passes every check of begin_frame,
      // so only finish_header (the limits, the message's state) runs, once its key is here.
      const uint8_t b0 = p[off], b1 = p[off + 1];
      const bool masked = (b1 & 0x80) != 0;
      const uint8_t len7 = b1 & 0x7F;
      const size_t ext = len7 == 126 ? 2 : 0;  // a 16-bit length follows
      const size_t hl = 2 + ext + (masked ? 4 : 0);
      if ((b0 == 0x81 || b0 == 0x82) && !in_message_ && len7 <= 126 &&
          masked == (cfg_->role == WSC_ROLE_SERVER) && n - off >= hl) {
        const size_t len = ext ? (static_cast<size_t>(p[off + 2]) << 8) | p[off + 3] : len7;
        if (n - off - hl >= len && (cfg_->max_frame == 0 || len <= cfg_->max_frame) &&
            (cfg_->max_message == 0 || len <= cfg_->max_message)) {
          // The whole frame is here, within the limits: a message of one frame, unmasked in
          // place and delivered from the input, with no state kept between its bytes.
          uint8_t *payload = p + off + hl;
          if (masked && len > 0) mask_bytes(payload, payload, len, p + off + 2 + ext, 0);
          off += hl + len;
          const uint8_t op = b0 & 0x0F;
          // RFC 6455 §8.1: a text message is valid UTF-8.
          if (op == WSC_OP_TEXT && cfg_->validate_utf8 && !utf8_valid(payload, len)) {
            rc = fail(WSC_ERR_INVALID_UTF8, "invalid UTF-8 sequence");
            break;
          }
          emit(cfg_->assemble ? WSC_PARSER_MESSAGE : WSC_PARSER_FRAGMENT, op, WSC_FRAME_FIN, payload, len);
          continue;
        }
        fin_ = true;
        opcode_ = b0 & 0x0F;
        masked_ = masked;
        len7_ = len7;
        msg_rsv1_ = false;
        rc = finish_header(p + off + 2);  // reads the 16-bit length if any, then the key
        off += hl;
        if (rc != 0) break;
        continue;  // the payload step delivers it, from the input when it is whole there
      }
    }
    // kHeader or kHeaderExt: take need_ bytes, straight from the input when they are all there.
    const uint8_t *h;
    size_t avail = n - off;
    if (hdr_len_ == 0 && avail >= need_) {
      h = p + off;
      off += need_;
    } else {
      size_t take = need_ - hdr_len_;
      if (take > avail) take = avail;
      std::memcpy(hdr_ + hdr_len_, p + off, take);
      hdr_len_ = static_cast<uint8_t>(hdr_len_ + take);
      off += take;
      if (hdr_len_ < need_) break;
      h = hdr_;
    }
    hdr_len_ = 0;
    if (state_ == kHeaderExt) {
      rc = finish_header(h);
    } else {
      rc = begin_frame(h[0], h[1]);
      // Common case: the rest of the header is here too; take it without another pass.
      if (rc == 0 && state_ == kHeaderExt && h != hdr_ && n - off >= need_) {
        h = p + off;
        off += need_;
        rc = finish_header(h);
      }
    }
    if (rc != 0) break;
  }
  in_feed_ = false;
  if (consumed) *consumed = off;
  return rc;
}

int Receiver::begin_frame(uint8_t b0, uint8_t b1) {
  fin_ = (b0 & 0x80) != 0;
  const bool rsv1 = (b0 & 0x40) != 0;
  opcode_ = b0 & 0x0F;
  masked_ = (b1 & 0x80) != 0;
  len7_ = b1 & 0x7F;
  const bool control = opcode_is_control(opcode_);

  // RFC 6455 §5.2: RSV2 and RSV3 must be 0 unless an extension defines them (none does here).
  if (b0 & 0x30) return fail(WSC_ERR_UNEXPECTED_RSV_2_3, "RSV2 and RSV3 must be clear");
  // RFC 6455 §5.2: reserved opcodes 0x3-0x7 and 0xB-0xF fail the connection.
  if (!opcode_is_known(opcode_)) return fail(WSC_ERR_INVALID_OPCODE, "invalid opcode", opcode_);
  // RFC 7692 §6.1: RSV1 only on the first frame of a data message, once negotiated.
  if (rsv1 && (!allow_rsv1_ || control || opcode_ == WSC_OP_CONTINUATION))
    return fail(WSC_ERR_UNEXPECTED_RSV_1, "RSV1 must be clear");
  if (control) {
    // RFC 6455 §5.5: control frames have FIN=1 and at most 125 bytes of payload.
    if (!fin_) return fail(WSC_ERR_EXPECTED_FIN, "FIN must be set");
    if (len7_ > WSC_CONTROL_MAX_PAYLOAD)
      return fail(WSC_ERR_INVALID_CONTROL_PAYLOAD_LENGTH, "invalid payload length", len7_);
  } else if (opcode_ == WSC_OP_CONTINUATION) {
    // RFC 6455 §5.4: a continuation frame continues a fragmented message.
    if (!in_message_) return fail(WSC_ERR_UNEXPECTED_CONTINUATION, "invalid opcode", opcode_);
  } else if (in_message_) {
    // RFC 6455 §5.4: fragments of one message are not interleaved with another message.
    return fail(WSC_ERR_EXPECTED_CONTINUATION, "invalid opcode", opcode_);
  }
  // RFC 6455 §5.1: a client masks every frame; a server masks none.
  if (cfg_->role == WSC_ROLE_SERVER && !masked_) return fail(WSC_ERR_EXPECTED_MASK, "MASK must be set");
  if (cfg_->role == WSC_ROLE_CLIENT && masked_) return fail(WSC_ERR_UNEXPECTED_MASK, "MASK must be clear");
  if (opcode_ != WSC_OP_CONTINUATION && !control) msg_rsv1_ = rsv1;

  need_ = static_cast<uint8_t>((len7_ == 126 ? 2 : len7_ == 127 ? 8 : 0) + (masked_ ? 4 : 0));
  if (need_ == 0) {
    need_ = 2;
    static constexpr uint8_t kNoExtension[12] = {};  // neither length nor key follows: nothing is read
    return finish_header(kNoExtension);
  }
  state_ = kHeaderExt;
  return 0;
}

int Receiver::finish_header(const uint8_t *ext) {
  uint64_t len = len7_;
  const uint8_t *q = ext;
  if (len7_ == 126) {
    len = (static_cast<uint64_t>(q[0]) << 8) | q[1];
    q += 2;
  } else if (len7_ == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | q[i];
    q += 8;
    // RFC 6455 §5.2: the most significant bit of a 64-bit length must be 0.
    if (len >> 63) return fail(WSC_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH, "payload length has its top bit set");
  }
  // Lengths that a shorter form could carry are accepted, as every major peer does, though RFC
  // 6455 §5.2 asks senders for the minimal form.
  if (masked_) std::memcpy(key_, q, 4);
  need_ = 2;

  if (opcode_is_control(opcode_)) {
    ctrl_len_ = 0;
  } else {
    const bool new_message = opcode_ != WSC_OP_CONTINUATION;
    const uint64_t wire_so_far = new_message ? 0 : msg_wire_;
    const uint32_t fragments = new_message ? 1 : fragments_ + 1;
    // Limits are checked here, before any byte of the payload is stored.
    if (cfg_->max_frame != 0 && len > cfg_->max_frame) return fail(WSC_ERR_FRAME_TOO_BIG, "max frame size exceeded");
    const bool filtered = msg_rsv1_ && filter_ != nullptr;
    if (!filtered && cfg_->max_message != 0 && len > cfg_->max_message - wire_so_far)
      return fail(WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH, "Max payload size exceeded");
    if (cfg_->max_fragments != 0 && fragments > cfg_->max_fragments)
      return fail(WSC_ERR_TOO_MANY_FRAGMENTS, "max fragments per message exceeded");
    if (new_message) {
      in_message_ = true;
      msg_opcode_ = opcode_;
      utf8_.reset();
      msg_out_ = 0;
    }
    fragments_ = fragments;
    msg_wire_ = wire_so_far + len;
  }
  frame_len_ = remaining_ = len;
  state_ = kPayload;
  return 0;
}

void Receiver::unmask(uint8_t *chunk, size_t n, uint64_t at) const {
  if (masked_ && n > 0) mask_bytes(chunk, chunk, n, key_, at);
}

int Receiver::on_payload(uint8_t *chunk, size_t n, bool whole, uint64_t at) {
  if (!opcode_is_control(opcode_)) return on_data(chunk, n, whole, at);
  unmask(chunk, n, at);
  if (whole) return on_control(chunk, n);
  if (!aux_) {
    aux_.reset(new (std::nothrow) Aux);
    if (!aux_) return fail(WSC_ENOMEM, "out of memory");
  }
  std::memcpy(aux_->ctrl + ctrl_len_, chunk, n);  // ctrl_len_ + n <= frame_len_ <= 125
  ctrl_len_ = static_cast<uint8_t>(ctrl_len_ + n);
  if (remaining_ > 0) return 0;
  // Delivered from a copy on the stack: the buffer is given back first.
  uint8_t body[WSC_CONTROL_MAX_PAYLOAD];
  std::memcpy(body, aux_->ctrl, ctrl_len_);
  aux_.reset();
  return on_control(body, ctrl_len_);
}

int Receiver::check_text(const uint8_t *p, size_t n, bool last) {
  if (msg_opcode_ != WSC_OP_TEXT || !cfg_->validate_utf8) return 0;
  // RFC 6455 §8.1: text must be valid UTF-8; checked as bytes arrive, so that a message fails
  // at its first invalid byte (§5.6), and at its end for a truncated sequence.
  if (!utf8_.feed(p, n) || (last && !utf8_.complete())) return fail(WSC_ERR_INVALID_UTF8, "invalid UTF-8 sequence");
  return 0;
}

uint32_t Receiver::message_flags() const { return msg_rsv1_ ? WSC_FRAME_RSV1 : 0u; }

int Receiver::on_data(uint8_t *chunk, size_t n, bool whole, uint64_t at) {
  const bool frame_end = remaining_ == 0;
  const bool last = fin_ && frame_end;
  int rc;
  const bool inflate = msg_rsv1_ && filter_ != nullptr;
  const bool in_place = !inflate && whole && (!cfg_->assemble || (fin_ && fragments_ == 1));
  if (inflate || in_place) unmask(chunk, n, at);  // used from where it is
  if (inflate) {
    size_t before = msg_.size();
    // The message limit counts the filter's output; without assembly, frames delivered before
    // this one used msg_out_ of it (when none is left, any output is too much: limit 1, checked).
    uint64_t limit = cfg_->max_message;
    const bool spent = limit != 0 && !cfg_->assemble && msg_out_ >= limit;
    if (limit != 0 && !cfg_->assemble) limit = spent ? 1 : limit - msg_out_;
    rc = filter_->process(chunk, n, last, msg_, limit);
    if (rc == 0 && spent && msg_.size() > before) rc = WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH;
    if (rc != 0) return fail(rc, wsc_strerror(rc));
    if ((rc = check_text(msg_.data() + before, msg_.size() - before, last)) != 0) return rc;
    return frame_end ? deliver_buffered() : 0;
  }
  if (in_place) {
    // The frame is all in the caller's buffer: deliver it from there, without a copy.
    if ((rc = check_text(chunk, n, fin_)) != 0) return rc;
    uint32_t flags = message_flags() | (fin_ ? WSC_FRAME_FIN : 0u);
    uint32_t type = WSC_PARSER_MESSAGE;
    if (!cfg_->assemble) {
      type = WSC_PARSER_FRAGMENT;
      if (fragments_ > 1) flags |= WSC_FRAME_CONTINUATION;
    }
    uint8_t op = msg_opcode_;
    frame_done();
    emit(type, op, flags, chunk, n);
    return 0;
  }
  const size_t bound = cfg_->max_message != 0 && cfg_->max_message < std::numeric_limits<size_t>::max()
                           ? static_cast<size_t>(cfg_->max_message)
                           : std::numeric_limits<size_t>::max();
  // Room for the rest of this frame at once: its length passed the limits in finish_header. A
  // frame longer than kMaxReserve gets that much beyond the bytes in hand, doubling up to its
  // end as they arrive: an announced length alone (unbounded without a message limit) is never
  // allocated.
  const size_t ahead = remaining_ < kMaxReserve ? static_cast<size_t>(remaining_) : kMaxReserve;
  size_t grow_to = bound;
  if (frame_len_ > kMaxReserve && msg_.size() + n + remaining_ < grow_to)
    grow_to = static_cast<size_t>(msg_.size() + n + remaining_);
  if (msg_.capacity() == 0 && cfg_->pool != nullptr && n + remaining_ >= BufferPool::kMinPooled)
    cfg_->pool->take(msg_, n + static_cast<size_t>(remaining_));
  if (!msg_.reserve_extra(n + ahead, grow_to)) return fail(WSC_ENOMEM, "out of memory");
  // Copied and unmasked in one pass, then checked where it landed.
  if (masked_)
    mask_bytes(msg_.tail(), chunk, n, key_, at);
  else if (n > 0)
    std::memcpy(msg_.tail(), chunk, n);
  if ((rc = check_text(msg_.tail(), n, last)) != 0) return rc;
  msg_.commit(n);
  return frame_end ? deliver_buffered() : 0;
}

int Receiver::deliver_buffered() {
  const uint8_t op = msg_opcode_;
  if (!cfg_->assemble) {
    uint32_t flags = message_flags() | (fin_ ? WSC_FRAME_FIN : 0u) | (fragments_ > 1 ? WSC_FRAME_CONTINUATION : 0u);
    frame_done();
    msg_out_ += msg_.size();
    emit(WSC_PARSER_FRAGMENT, op, flags, msg_.data(), msg_.size());
    release_message();
    return 0;
  }
  const bool fin = fin_;
  frame_done();
  if (fin) {
    emit(WSC_PARSER_MESSAGE, op, message_flags() | WSC_FRAME_FIN, msg_.data(), msg_.size());
    release_message();
  }
  return 0;
}

int Receiver::on_control(const uint8_t *data, size_t n) {
  const uint8_t op = opcode_;
  frame_done();
  if (op == WSC_OP_CLOSE) {
    uint32_t code = WSC_CLOSE_NO_STATUS;
    // RFC 6455 §5.5.1: a close body is empty, or a 2-byte code followed by a UTF-8 reason.
    if (n == 1) return fail(WSC_ERR_INVALID_CONTROL_PAYLOAD_LENGTH, "invalid payload length", 1);
    if (n >= 2) {
      code = (static_cast<uint32_t>(data[0]) << 8) | data[1];
      // RFC 6455 §7.4.1: 1005, 1006, 1015 and unassigned codes never travel on the wire.
      if (!wsc_close_code_valid(code)) return fail(WSC_ERR_INVALID_CLOSE_CODE, "invalid status code", code);
      data += 2;
      n -= 2;
      if (cfg_->validate_utf8 && !utf8_valid(data, n)) return fail(WSC_ERR_INVALID_UTF8, "invalid UTF-8 sequence");
    }
    state_ = kClosed;
    release_message();
    emit(WSC_PARSER_CLOSE, op, WSC_FRAME_FIN, data, n, code);
    return 0;
  }
  emit(op == WSC_OP_PING ? WSC_PARSER_PING : WSC_PARSER_PONG, op, WSC_FRAME_FIN, data, n);
  return 0;
}

void Receiver::release_message() {
  if (cfg_->pool != nullptr)
    cfg_->pool->put(msg_);
  else
    msg_.release();
}

void Receiver::frame_done() {
  if (!opcode_is_control(opcode_) && fin_) in_message_ = false;
  state_ = kHeader;
  need_ = 2;
}

void Receiver::emit(uint32_t type, uint32_t opcode, uint32_t flags, const uint8_t *data, size_t len,
                    uint32_t close_code) {
  wsc_parser_event_t ev{};
  ev.type = type;
  ev.opcode = opcode;
  ev.flags = flags;
  ev.close_code = close_code;
  ev.data = len ? data : nullptr;
  ev.len = len;
  cfg_->sink(ctx_, ev);
}

int Receiver::fail(int err, const char *what, long value) {
  state_ = kFailed;
  error_ = err;
  if (!aux_) aux_.reset(new (std::nothrow) Aux);
  if (aux_ && value >= 0)
    std::snprintf(aux_->errmsg, kErrMsgSize, "%s %ld", what, value);
  else if (aux_)
    std::snprintf(aux_->errmsg, kErrMsgSize, "%s", what);
  if (filter_ != nullptr && in_message_ && msg_rsv1_) filter_->reset();
  in_message_ = false;
  release_message();
  wsc_parser_event_t ev{};
  ev.type = WSC_PARSER_ERROR;
  ev.error = err;
  ev.close_code = wsc_err_close_code(err);
  ev.message = aux_ ? aux_->errmsg : what;
  cfg_->sink(ctx_, ev);
  return err;
}

}  // namespace wsc

// The send queue of a connection: bytes owned by the queue, frames shared between connections
// (a broadcast builds its frame once), and bytes borrowed from the caller (WSC_SEND_BORROW).
// Sans-I/O: the connection gathers pieces into one vectored write and reports how much the
// kernel took.
#ifndef WSC_SRC_WRITEQ_H
#define WSC_SRC_WRITEQ_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "buffer.h"
#include "fifo.h"
#include "mask.h"
#include "wsc/common.h"

namespace wsc {

// A frame shared by several queues; freed with its last reference. Loop thread only.
struct SharedFrame {
  uint32_t refs;
  size_t len;
  uint8_t data[1];

  static SharedFrame *make(size_t len) {
    void *p = std::malloc(offsetof(SharedFrame, data) + (len ? len : 1));
    if (p == nullptr) return nullptr;
    auto *f = static_cast<SharedFrame *>(p);
    f->refs = 1;
    f->len = len;
    return f;
  }
  void ref() { ++refs; }
  void unref() {
    if (--refs == 0) std::free(this);
  }
};

class WriteQueue {
 public:
  // The methods that take or give back large buffers take the loop's pool (or nullptr): the
  // queue does not keep a pointer to it, as a connection holds one queue each.
  WriteQueue() = default;
  WriteQueue(const WriteQueue &) = delete;
  WriteQueue &operator=(const WriteQueue &) = delete;
  ~WriteQueue() { clear(); }

  // Appends a copy of n bytes. Returns false on out of memory.
  bool append(const uint8_t *p, size_t n, BufferPool *pool = nullptr) { return append_masked(p, n, nullptr, pool); }

  // Appends a copy of n bytes masked with key (RFC 6455 §5.3), the first byte with key[0]; no
  // key: a plain copy. Returns false on out of memory.
  bool append_masked(const uint8_t *p, size_t n, const uint8_t *key, BufferPool *pool = nullptr) {
    if (n == 0) return true;
    uint8_t *dst = reserve(n, pool);
    if (dst == nullptr) return false;
    if (key != nullptr)
      mask_bytes(dst, p, n, key, 0);
    else
      std::memcpy(dst, p, n);
    commit(n);
    return true;
  }

  // Room for n more bytes at the end of the queue (n > 0), to be written directly and then
  // recorded with commit(n); nullptr on out of memory. A frame's header and payload go into one
  // reservation.
  uint8_t *reserve(size_t n, BufferPool *pool = nullptr) {
    if (!pieces_.empty()) {  // common: the open piece has the room
      Piece &last = pieces_.back();
      if (!last.foreign() && last.own.room() >= n) return last.own.tail();
    }
    ByteBuffer *piece = open_piece(n, pool);
    if (piece == nullptr || !piece->reserve_extra(n, SIZE_MAX)) return nullptr;
    return piece->tail();
  }
  void commit(size_t n) {
    pieces_.back().own.commit(n);
    bytes_ += n;
  }

  // Appends a reference to a shared frame.
  bool append_shared(SharedFrame *f) {
    if (!pieces_.emplace_back()) return false;
    f->ref();
    pieces_.back().shared = f;
    bytes_ += f->len;
    return true;
  }

  // Appends a reference to n bytes the caller keeps valid and unchanged until they are
  // consumed (or the queue is cleared, which does not read them).
  bool append_borrowed(const uint8_t *p, size_t n) {
    if (n == 0) return true;
    if (!pieces_.emplace_back()) return false;
    pieces_.back().borrowed = p;
    pieces_.back().borrowed_len = n;
    bytes_ += n;
    return true;
  }

  // Fills up to max buffers with the queue's first pieces; returns how many.
  size_t gather(wsc_buf_t *bufs, size_t max, size_t *total) const {
    size_t n = 0, sum = 0;
    for (size_t i = 0; i < pieces_.size(); ++i) {
      const Piece &p = pieces_[i];
      if (n == max) break;
      bufs[n].base = p.data();
      bufs[n].len = p.size();
      sum += bufs[n].len;
      ++n;
    }
    *total = sum;
    return n;
  }

  // The first n bytes were written: drop them.
  void consume(size_t n, BufferPool *pool = nullptr) {
    bytes_ -= n;
    while (n > 0) {
      Piece &p = pieces_.front();
      size_t have = p.size();
      if (n < have) {
        p.off += n;
        break;
      }
      n -= have;
      pop_front(pool);
    }
  }

  size_t bytes() const { return bytes_; }
  bool empty() const { return bytes_ == 0; }

  void clear(BufferPool *pool = nullptr) {
    while (!pieces_.empty()) pop_front(pool);
    bytes_ = 0;
  }

 private:
  struct Piece {
    ByteBuffer own;
    SharedFrame *shared = nullptr;
    const uint8_t *borrowed = nullptr;
    size_t borrowed_len = 0;
    size_t off = 0;
    bool foreign() const { return shared != nullptr || borrowed != nullptr; }
    const uint8_t *data() const { return (shared ? shared->data : borrowed ? borrowed : own.data()) + off; }
    size_t size() const { return (shared ? shared->len : borrowed ? borrowed_len : own.size()) - off; }
  };

  // The piece the next n bytes go to: the last one, unless it is shared or borrowed. A
  // large append that does not fit takes a pooled buffer rather than growing a fresh one.
  ByteBuffer *open_piece(size_t n, BufferPool *pool) {
    if (pieces_.empty() || pieces_.back().foreign()) {
      if (!pieces_.emplace_back()) return nullptr;
      // A fresh piece starts large enough for a batch of small frames, so that it rarely grows.
      if (n < kFirstPiece && !pieces_.back().own.reserve_extra(kFirstPiece, kFirstPiece)) return nullptr;
    }
    ByteBuffer &b = pieces_.back().own;
    if (n >= BufferPool::kMinPooled && pool != nullptr && b.room() < n) {
      ByteBuffer big;
      if (pool->take(big, b.size() + n) && big.append(b.data(), b.size(), SIZE_MAX)) {
        b.swap(big);
      }
    }
    return &b;
  }

  void pop_front(BufferPool *pool) {
    Piece &p = pieces_.front();
    if (p.shared) {
      p.shared->unref();
    } else if (p.borrowed == nullptr && pool != nullptr) {
      pool->put(p.own);
    }
    pieces_.pop_front();
  }

  static constexpr size_t kFirstPiece = 4096;
  Fifo<Piece> pieces_;
  size_t bytes_ = 0;
};

}  // namespace wsc

#endif

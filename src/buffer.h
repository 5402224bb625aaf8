// A growable byte buffer without zero-filling, with growth bounded by a caller's limit.
#ifndef WSC_SRC_BUFFER_H
#define WSC_SRC_BUFFER_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace wsc {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(const ByteBuffer &) = delete;
  ByteBuffer &operator=(const ByteBuffer &) = delete;
  ByteBuffer(ByteBuffer &&o) noexcept { swap(o); }
  ~ByteBuffer() { std::free(data_); }

  uint8_t *data() { return data_; }
  const uint8_t *data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }
  bool empty() const { return size_ == 0; }

  // Makes room for `extra` more bytes. Capacity doubles but never exceeds max(size + extra,
  // `bound`), so the buffer stays within a configured limit. Returns false on out of memory.
  bool reserve_extra(size_t extra, size_t bound) {
    size_t need = size_ + extra;
    if (need <= cap_) return true;
    size_t cap = cap_ * 2 > 256 ? cap_ * 2 : 256;
    if (cap > bound) cap = bound;
    if (cap < need) cap = need;
    void *p = std::realloc(data_, cap);
    if (p == nullptr) return false;
    data_ = static_cast<uint8_t *>(p);
    cap_ = cap;
    return true;
  }
  // Appends; the room must have been reserved.
  void append_reserved(const uint8_t *p, size_t n) {
    if (n == 0) return;
    std::memcpy(data_ + size_, p, n);
    size_ += n;
  }
  bool append(const uint8_t *p, size_t n, size_t bound) {
    if (!reserve_extra(n, bound)) return false;
    append_reserved(p, n);
    return true;
  }
  // Space for direct writes (after reserve_extra); commit() records what was written.
  uint8_t *tail() { return data_ + size_; }
  size_t room() const { return cap_ - size_; }
  void commit(size_t n) { size_ += n; }

  void clear() { size_ = 0; }
  void truncate(size_t n) {
    if (n < size_) size_ = n;
  }
  // Empties the buffer and gives its memory back when it holds more than keep bytes.
  void clear_and_trim(size_t keep) {
    size_ = 0;
    if (cap_ > keep) release();
  }
  void swap(ByteBuffer &other) {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(cap_, other.cap_);
  }
  // Gives the memory to the caller (free() it), trimmed to the bytes it holds when that saves
  // much; the buffer ends up empty, without memory. nullptr when it held none.
  uint8_t *detach() {
    uint8_t *p = data_;
    if (p != nullptr && cap_ - size_ > 4096 && cap_ - size_ > size_ / 8) {
      void *q = std::realloc(p, size_ ? size_ : 1);
      if (q != nullptr) p = static_cast<uint8_t *>(q);
    }
    data_ = nullptr;
    size_ = cap_ = 0;
    return p;
  }
  void release() {
    std::free(data_);
    data_ = nullptr;
    size_ = cap_ = 0;
  }

 private:
  uint8_t *data_ = nullptr;
  size_t size_ = 0;
  size_t cap_ = 0;
};

// Large buffers kept for reuse by every connection of one loop (loop thread only): a stream of
// big messages then costs no allocation per message and no fresh pages from the kernel, while
// an idle connection still holds no buffer of its own.
class BufferPool {
 public:
  static constexpr size_t kMinPooled = 16 * 1024;  // smaller buffers are cheap to allocate
  static constexpr size_t kMaxBuffers = 8;
  static constexpr size_t kMaxBytes = 16 * 1024 * 1024;

  BufferPool() = default;
  BufferPool(const BufferPool &) = delete;
  BufferPool &operator=(const BufferPool &) = delete;

  // Takes b's memory (b ends up empty, without memory): kept when it is worth keeping and fits.
  void put(ByteBuffer &b) {
    if (b.capacity() >= kMinPooled && count_ < kMaxBuffers && bytes_ + b.capacity() <= kMaxBytes) {
      b.clear();
      bytes_ += b.capacity();
      bufs_[count_++].swap(b);
    }
    b.release();
  }

  // Gives an empty b without memory the smallest kept buffer of at least `need` bytes, or else
  // the largest one (its owner grows it); false when nothing is kept.
  bool take(ByteBuffer &b, size_t need) {
    if (count_ == 0 || b.capacity() != 0) return false;
    size_t best = 0;
    for (size_t i = 1; i < count_; ++i) {
      size_t cap = bufs_[i].capacity(), cur = bufs_[best].capacity();
      bool better = cur >= need ? cap >= need && cap < cur : cap > cur;
      if (better) best = i;
    }
    bytes_ -= bufs_[best].capacity();
    b.swap(bufs_[best]);
    bufs_[best].swap(bufs_[--count_]);
    return true;
  }

  size_t bytes() const { return bytes_; }

 private:
  ByteBuffer bufs_[kMaxBuffers];
  size_t count_ = 0;
  size_t bytes_ = 0;
};

}  // namespace wsc

#endif

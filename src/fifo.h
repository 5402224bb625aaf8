// A first-in first-out queue on a ring buffer that holds no memory while empty: a connection's
// queues (frames to write, completions, stored sends) cost nothing on an idle connection, where
// a std::deque keeps a map and a block from its construction on.
#ifndef WSC_SRC_FIFO_H
#define WSC_SRC_FIFO_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>

namespace wsc {

template <typename T>
class Fifo {
 public:
  Fifo() = default;
  Fifo(const Fifo &) = delete;
  Fifo &operator=(const Fifo &) = delete;
  ~Fifo() { clear(); }

  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  T &front() { return at(0); }
  const T &front() const { return at(0); }
  T &back() { return at(count_ - 1); }
  T &operator[](size_t i) { return at(i); }
  const T &operator[](size_t i) const { return at(i); }

  // Appends; false on out of memory (nothing is appended then).
  template <typename... Args>
  bool emplace_back(Args &&...args) {
    if (count_ == cap_ && !grow()) return false;
    new (slot(count_)) T{std::forward<Args>(args)...};
    ++count_;
    return true;
  }

  void pop_front() {
    at(0).~T();
    head_ = head_ + 1 == cap_ ? 0 : head_ + 1;
    if (--count_ == 0) release();
  }

  void clear() {
    while (count_ > 0) pop_front();
    release();
  }

  void swap(Fifo &o) {
    std::swap(items_, o.items_);
    std::swap(cap_, o.cap_);
    std::swap(head_, o.head_);
    std::swap(count_, o.count_);
  }

 private:
  static constexpr uint32_t kFirst = 4;

  T *slot(size_t i) const {
    size_t j = head_ + i;  // < 2 * cap_: no overflow
    return items_ + (j >= cap_ ? j - cap_ : j);
  }
  T &at(size_t i) const { return *slot(i); }

  bool grow() {
    if (cap_ > UINT32_MAX / 2) return false;
    uint32_t cap = cap_ ? cap_ * 2 : kFirst;
    T *items = static_cast<T *>(std::malloc(cap * sizeof(T)));
    if (items == nullptr) return false;
    for (size_t i = 0; i < count_; ++i) {
      new (items + i) T(std::move(at(i)));
      at(i).~T();
    }
    std::free(items_);
    items_ = items;
    cap_ = cap;
    head_ = 0;
    return true;
  }

  void release() {
    std::free(items_);
    items_ = nullptr;
    cap_ = head_ = 0;
  }

  T *items_ = nullptr;
  uint32_t cap_ = 0;  // 24 bytes in all: a connection holds three of these
  uint32_t head_ = 0;
  uint32_t count_ = 0;
};

}  // namespace wsc

#endif

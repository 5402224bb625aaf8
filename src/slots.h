// A table of objects by id, 8 bytes per entry: each id carries its slot (low 24 bits) and a
// sequence number (the bits above), so that a lookup is one index and one compare and no id is
// ever given twice. Slots live in blocks that never move: a walk by slot index stays valid while
// entries come and go during it. A loop's connections live here (wsc_loop_s::conns).
#ifndef WSC_SRC_SLOTS_H
#define WSC_SRC_SLOTS_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

namespace wsc {

// T has a public `uint64_t id`, which add() sets.
template <typename T>
class SlotTable {
 public:
  static constexpr unsigned kSlotBits = 24;
  static constexpr uint64_t kSlotMask = (uint64_t{1} << kSlotBits) - 1;

  // Enters t and sets t->id: true, or false when out of memory or slots.
  bool add(T *t) {
    size_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      if (used_ > kSlotMask) return false;
      if (used_ == blocks_.size() * kBlock) {
        std::unique_ptr<T *[]> block(new (std::nothrow) T *[kBlock]);
        if (!block) return false;
        blocks_.push_back(std::move(block));
      }
      slot = used_++;
    }
    at_slot(slot) = t;
    t->id = (++seq_ << kSlotBits) | slot;
    ++count_;
    return true;
  }

  void remove(const T *t) {
    size_t slot = t->id & kSlotMask;
    if (slot >= used_ || at_slot(slot) != t) return;
    at_slot(slot) = nullptr;
    free_.push_back(static_cast<uint32_t>(slot));
    --count_;
  }

  T *find(uint64_t id) const {
    size_t slot = id & kSlotMask;
    if (slot >= used_) return nullptr;
    T *t = at_slot(slot);
    return t != nullptr && t->id == id ? t : nullptr;
  }

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Walk: for (size_t i = 0; i < slots(); ++i) if (T *t = at(i)) ...
  size_t slots() const { return used_; }
  T *at(size_t slot) const { return slot < used_ ? at_slot(slot) : nullptr; }

 private:
  static constexpr size_t kBlock = 4096;
  T *&at_slot(size_t slot) const { return blocks_[slot / kBlock][slot % kBlock]; }

  std::vector<std::unique_ptr<T *[]>> blocks_;
  std::vector<uint32_t> free_;
  size_t used_ = 0, count_ = 0;
  uint64_t seq_ = 0;
};

}  // namespace wsc

#endif

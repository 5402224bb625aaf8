// Objects of one size in aligned blocks: no allocator header per object, and long-lived objects
// (connections) kept apart from the short-lived allocations of their upgrades, which otherwise
// leave holes between them that the heap cannot give back. A block goes back to the system with
// its last object. Single-threaded (one per loop).
#ifndef WSC_SRC_SLAB_H
#define WSC_SRC_SLAB_H

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace wsc {

class Slab {
 public:
  explicit Slab(size_t size) : size_((size + 7) / 8 * 8) {}
  ~Slab() { release(spare_); }  // every object must be freed by then
  Slab(const Slab &) = delete;
  Slab &operator=(const Slab &) = delete;

  // An uninitialised object of the slab's size, or nullptr when out of memory.
  void *alloc() {
    Block *b = partial_;
    if (b == nullptr) {
      b = new_block();
      if (b == nullptr) return nullptr;
      link(b);
    }
    void *p;
    if (b->free_list != nullptr) {
      p = b->free_list;
      b->free_list = *static_cast<void **>(p);
    } else {
      p = reinterpret_cast<char *>(b) + kHeader + size_t{b->fresh} * size_;
      ++b->fresh;
    }
    if (++b->used == capacity()) unlink(b);  // full: off the list of blocks with room
    return p;
  }

  // Frees an object from any slab: its block says which.
  static void free_any(void *p) {
    if (p == nullptr) return;
    Block *b = reinterpret_cast<Block *>(reinterpret_cast<uintptr_t>(p) & ~(uintptr_t{kBlockSize} - 1));
    b->slab->free_in(b, p);
  }

  size_t capacity() const { return (kBlockSize - kHeader) / size_; }  // objects per block

 private:
  static constexpr size_t kBlockSize = 64 * 1024;
  struct Block {
    Slab *slab;
    Block *prev, *next;  // in the list of blocks with room
    void *free_list;     // freed objects, linked through their first bytes
    uint32_t used;       // objects handed out
    uint32_t fresh;      // objects never handed out start at this index
  };
  static constexpr size_t kHeader = (sizeof(Block) + 15) / 16 * 16;

  // Blocks come straight from mmap, aligned by trimming a double-size mapping: an aligned
  // allocation from the heap would leave a hole beside each block.
  static void *map_block() {
    void *m = mmap(nullptr, 2 * kBlockSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return nullptr;
    uintptr_t start = reinterpret_cast<uintptr_t>(m);
    uintptr_t aligned = (start + kBlockSize - 1) & ~(uintptr_t{kBlockSize} - 1);
    if (aligned > start) munmap(m, aligned - start);
    if (aligned + kBlockSize < start + 2 * kBlockSize)
      munmap(reinterpret_cast<void *>(aligned + kBlockSize), start + 2 * kBlockSize - aligned - kBlockSize);
    return reinterpret_cast<void *>(aligned);
  }
  static void release(void *block) {
    if (block != nullptr) munmap(block, kBlockSize);
  }

  Block *new_block() {
    void *mem = spare_;
    spare_ = nullptr;
    if (mem == nullptr && (mem = map_block()) == nullptr) return nullptr;
    auto *b = static_cast<Block *>(mem);
    *b = Block{this, nullptr, nullptr, nullptr, 0, 0};
    return b;
  }

  void free_in(Block *b, void *p) {
    *static_cast<void **>(p) = b->free_list;
    b->free_list = p;
    if (b->used-- == capacity()) link(b);  // it has room again
    if (b->used > 0) return;
    unlink(b);
    // One empty block is kept for the next object: a connection that comes and goes does not
    // allocate a block each time.
    if (spare_ == nullptr) {
      spare_ = b;
    } else {
      release(b);
    }
  }

  void link(Block *b) {
    b->prev = nullptr;
    b->next = partial_;
    if (partial_) partial_->prev = b;
    partial_ = b;
  }

  void unlink(Block *b) {
    if (b->prev)
      b->prev->next = b->next;
    else if (partial_ == b)
      partial_ = b->next;
    if (b->next) b->next->prev = b->prev;
    b->prev = b->next = nullptr;
  }

  size_t size_;
  Block *partial_ = nullptr;
  void *spare_ = nullptr;
};

}  // namespace wsc

#endif

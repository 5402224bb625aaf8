#include "random.h"

#include <openssl/rand.h>
#include <pthread.h>

#include <atomic>
#include <climits>
#include <cstring>

#include "wsc/error.h"

namespace wsc {
namespace {

std::atomic<uint32_t> g_fork_generation{0};

void on_fork_child() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

// Registered once, as the library loads: a std::call_once on every key cost more than the key
// (it sets thread-locals of its own on each call).
const int g_atfork_registered = pthread_atfork(nullptr, nullptr, on_fork_child);

thread_local MaskKeyPool t_pool;

}  // namespace

int random_bytes(uint8_t *out, size_t n) {
  while (n > 0) {
    int chunk = n > static_cast<size_t>(INT_MAX) ? INT_MAX : static_cast<int>(n);
    if (RAND_bytes(out, chunk) != 1) return WSC_ERANDOM;
    out += chunk;
    n -= static_cast<size_t>(chunk);
  }
  return 0;
}

int MaskKeyPool::next(uint8_t key[4]) {
  uint32_t gen = g_fork_generation.load(std::memory_order_relaxed);
  if (generation_ != gen) {  // a fork copied this pool: never reuse its bytes
    pos_ = kSize;
    generation_ = gen;
  }
  if (pos_ + 4 > kSize) {
    int rc = random_bytes(bytes_, kSize);
    if (rc != 0) return rc;
    pos_ = 0;
  }
  std::memcpy(key, bytes_ + pos_, 4);
  std::memset(bytes_ + pos_, 0, 4);  // a used key does not linger in memory
  pos_ += 4;
  return 0;
}

int random_mask_key(uint8_t key[4]) { return t_pool.next(key); }

}  // namespace wsc

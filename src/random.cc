#include "random.h"

#include <openssl/rand.h>
#include <pthread.h>

#include <atomic>
#include <climits>
#include <cstring>
#include <mutex>

#include "wsc/error.h"

namespace wsc {
namespace {

constexpr size_t kPoolSize = 1024;  // 256 keys per CSPRNG call

std::atomic<uint32_t> g_fork_generation{0};
std::once_flag g_atfork_once;

void on_fork_child() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct Pool {
  uint8_t bytes[kPoolSize];
  size_t pos = kPoolSize;  // empty
  uint32_t generation = 0;
};

thread_local Pool t_pool;

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

int random_mask_key(uint8_t key[4]) {
  std::call_once(g_atfork_once, [] { pthread_atfork(nullptr, nullptr, on_fork_child); });
  Pool &pool = t_pool;
  uint32_t gen = g_fork_generation.load(std::memory_order_relaxed);
  if (pool.generation != gen) {  // a fork copied this pool: never reuse its bytes
    pool.pos = kPoolSize;
    pool.generation = gen;
  }
  if (pool.pos + 4 > kPoolSize) {
    int rc = random_bytes(pool.bytes, kPoolSize);
    if (rc != 0) return rc;
    pool.pos = 0;
  }
  std::memcpy(key, pool.bytes + pool.pos, 4);
  std::memset(pool.bytes + pool.pos, 0, 4);  // a used key does not linger in memory
  pool.pos += 4;
  return 0;
}

}  // namespace wsc

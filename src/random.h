// Masking keys from OpenSSL's CSPRNG, drawn from a per-thread pool instead of one call each.
#ifndef WSC_SRC_RANDOM_H
#define WSC_SRC_RANDOM_H

#include <cstddef>
#include <cstdint>

namespace wsc {

// Fills out with n random bytes straight from the CSPRNG. Returns 0 or WSC_ERANDOM.
int random_bytes(uint8_t *out, size_t n);

// Masking keys drawn from the CSPRNG 1 KiB (256 keys) at a time, refilled after a fork so that
// no two processes share keys. Not thread-safe: one per thread (random_mask_key's) or per loop.
class MaskKeyPool {
 public:
  // Four random bytes for a masking key. Returns 0 or WSC_ERANDOM.
  int next(uint8_t key[4]);

 private:
  static constexpr size_t kSize = 1024;
  uint8_t bytes_[kSize];
  size_t pos_ = kSize;  // empty
  uint32_t generation_ = 0;
};

// A masking key from this thread's pool. Returns 0 or WSC_ERANDOM.
int random_mask_key(uint8_t key[4]);

}  // namespace wsc

#endif

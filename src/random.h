// Masking keys from OpenSSL's CSPRNG, drawn from a per-thread pool instead of one call each.
#ifndef WSC_SRC_RANDOM_H
#define WSC_SRC_RANDOM_H

#include <cstddef>
#include <cstdint>

namespace wsc {

// Fills out with n random bytes straight from the CSPRNG. Returns 0 or WSC_ERANDOM.
int random_bytes(uint8_t *out, size_t n);

// Four random bytes for a masking key. The pool is per thread and refilled after a fork, so
// no two processes or threads share keys. Returns 0 or WSC_ERANDOM.
int random_mask_key(uint8_t key[4]);

}  // namespace wsc

#endif

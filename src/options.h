// Versioned option structs: each starts with its size, and only grows at the end.
#ifndef WSC_SRC_OPTIONS_H
#define WSC_SRC_OPTIONS_H

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "wsc/common.h"
#include "wsc/error.h"

namespace wsc {

// Copies the caller's options into *dst (which holds the defaults). NULL keeps the defaults.
// The caller's struct may be newer (larger: fields this version does not know are ignored) or
// older, down to min_size, the first published layout (the fields added since keep their
// defaults).
template <typename T>
int options_read(T *dst, const T *src, size_t min_size = sizeof(T)) {
  if (src == nullptr) return 0;
  if (src->size < min_size) return WSC_EINVAL;
  std::memcpy(static_cast<void *>(dst), src, src->size < sizeof(T) ? src->size : sizeof(T));
  dst->size = static_cast<uint32_t>(sizeof(T));
  return 0;
}

inline bool role_valid(uint32_t role) { return role == WSC_ROLE_CLIENT || role == WSC_ROLE_SERVER; }

template <typename T>
int options_init(T *opts, size_t size, const T &defaults) {
  if (opts == nullptr || size < sizeof(T)) return WSC_EINVAL;
  std::memset(static_cast<void *>(opts), 0, size);
  std::memcpy(static_cast<void *>(opts), &defaults, sizeof(T));
  opts->size = static_cast<uint32_t>(size);
  return 0;
}

}  // namespace wsc

#endif

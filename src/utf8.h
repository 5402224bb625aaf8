// Incremental UTF-8 validation (RFC 3629) with an ASCII fast path.
#ifndef WSC_SRC_UTF8_H
#define WSC_SRC_UTF8_H

#include <cstddef>
#include <cstdint>

namespace wsc {

// Validates a byte stream in pieces: a code point may be split across calls to feed().
class Utf8Validator {
 public:
  // Returns false as soon as the bytes so far cannot begin valid UTF-8; stays false after.
  bool feed(const uint8_t *p, size_t n);
  // True when the bytes so far end on a code point boundary and none was invalid.
  bool complete() const { return state_ == 0; }
  bool failed() const;
  void reset() { state_ = 0; }

 private:
  uint32_t state_ = 0;
};

bool utf8_valid(const uint8_t *p, size_t n);

// Index of the first byte at or after i that is not ASCII, or n.
size_t utf8_skip_ascii(const uint8_t *p, size_t i, size_t n);

}  // namespace wsc

#endif

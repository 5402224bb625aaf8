// Shared by the fuzz targets (tests/fuzz/fuzz_*.cc): the check that aborts, the input's chunking,
// and the entry points, which the libFuzzer programs and the GoogleTest replay both call.
#ifndef WSC_TESTS_FUZZ_FUZZ_H
#define WSC_TESTS_FUZZ_FUZZ_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "wsc/deflate.h"

// An invariant of the code under test: a violation is reported and aborts, so that libFuzzer
// keeps the input (and a replaying test fails).
#define FUZZ_CHECK(cond)                                  \
  do {                                                    \
    if (!(cond)) wsc_fuzz::fail(__FILE__, __LINE__, #cond); \
  } while (0)

namespace wsc_fuzz {

// The file being replayed (tests/fuzz/replay.h), named when a check fails.
inline const char *current_input = nullptr;

[[noreturn]] inline void fail(const char *file, int line, const char *cond) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, cond);
  if (current_input != nullptr) std::fprintf(stderr, "input: %s\n", current_input);
  std::abort();
}

// The targets. Each takes one input and returns 0 (libFuzzer's convention).
int frames(const uint8_t *data, size_t size);
int request(const uint8_t *data, size_t size);
int response(const uint8_t *data, size_t size);
int extensions(const uint8_t *data, size_t size);
int inflate(const uint8_t *data, size_t size);

// Where to cut an input into the pieces a socket would deliver: sizes drawn from a small
// generator seeded by one input byte and the input's length. Mode (seed & 3): single bytes,
// 1-8, 1-128 or 1-2048 bytes.
class Chunker {
 public:
  Chunker(uint8_t seed, size_t total) : mode_(seed & 3u), state_(((seed >> 2) + 1) * 2654435761u ^ (total + 1)) {
    if (state_ == 0) state_ = 1;
  }
  // The size of the next piece of at most `left` bytes (left > 0).
  size_t next(size_t left) {
    static const uint32_t kMax[4] = {1, 8, 128, 2048};
    size_t n = 1 + random() % kMax[mode_];
    return n < left ? n : left;
  }
  uint32_t random() {  // xorshift32
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }

 private:
  uint32_t mode_;
  uint32_t state_;
};

// permessage-deflate options from one input byte: bits 0-1 the no-context-takeover flags,
// bits 2-4 server_max_window_bits, bits 5-7 client_max_window_bits (0: not asked for).
inline wsc_deflate_options_t deflate_options(uint8_t b) {
  static const uint32_t kServerBits[8] = {0, 8, 9, 10, 12, 14, 15, 0};
  static const uint32_t kClientBits[8] = {0, 8, 9, 11, 13, 15, 0, 0};
  wsc_deflate_options_t o = WSC_DEFLATE_OPTIONS_INIT;
  o.flags = b & 3u;  // WSC_DEFLATE_SERVER_NO_CONTEXT_TAKEOVER, WSC_DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER
  o.server_max_window_bits = kServerBits[(b >> 2) & 7u];
  o.client_max_window_bits = kClientBits[(b >> 5) & 7u];
  return o;
}

// 64-bit FNV-1a: reads every byte (so ASan checks the range) and fingerprints it.
inline uint64_t fingerprint(const uint8_t *p, size_t n) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

}  // namespace wsc_fuzz

// The libFuzzer entry point of a target's program (tests/fuzz/CMakeLists.txt defines
// WSC_FUZZ_MAIN); the GoogleTest replay calls the wsc_fuzz:: functions instead.
#ifdef WSC_FUZZ_MAIN
#define WSC_FUZZ_ENTRY(target) \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return wsc_fuzz::target(data, size); }
#else
#define WSC_FUZZ_ENTRY(target)
#endif

#endif

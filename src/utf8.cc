#include "utf8.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "wsc/frame.h"

namespace wsc {
namespace {

// Byte classes of the validating automaton.
enum : uint8_t {
  kAscii,      // 00..7F
  kCont8,      // 80..8F
  kCont9,      // 90..9F
  kContA,      // A0..BF
  kBad,        // C0, C1, F5..FF: never valid
  kLead2,      // C2..DF
  kLeadE0,     // E0: second byte A0..BF (no overlong)
  kLead3,      // E1..EC, EE, EF
  kLeadED,     // ED: second byte 80..9F (no surrogates)
  kLeadF0,     // F0: second byte 90..BF (no overlong)
  kLead4,      // F1..F3
  kLeadF4,     // F4: second byte 80..8F (nothing above U+10FFFF)
  kClasses
};

// States of the automaton (RFC 3629 §4: no overlongs, no surrogates, nothing above U+10FFFF).
enum : uint8_t {
  sAccept,   // on a code point boundary
  sReject,   // absorbing
  sNeed1,    // one more 80..BF
  sNeed2,    // two more 80..BF
  sAfterE0,  // A0..BF, then one more
  sAfterED,  // 80..9F, then one more
  sNeed3,    // three more 80..BF
  sAfterF0,  // 90..BF, then two more
  sAfterF4,  // 80..8F, then two more
  kStates
};

constexpr uint8_t class_of(unsigned b) {
  return b < 0x80   ? kAscii
         : b < 0x90 ? kCont8
         : b < 0xA0 ? kCont9
         : b < 0xC0 ? kContA
         : b < 0xC2 ? kBad
         : b < 0xE0 ? kLead2
         : b == 0xE0 ? kLeadE0
         : b == 0xED ? kLeadED
         : b < 0xF0  ? kLead3
         : b == 0xF0 ? kLeadF0
         : b < 0xF4  ? kLead4
         : b == 0xF4 ? kLeadF4
                     : kBad;
}

constexpr uint8_t next_state(unsigned s, unsigned c) {
  switch (s) {
    case sAccept:
      switch (c) {
        case kAscii: return sAccept;
        case kLead2: return sNeed1;
        case kLeadE0: return sAfterE0;
        case kLead3: return sNeed2;
        case kLeadED: return sAfterED;
        case kLeadF0: return sAfterF0;
        case kLead4: return sNeed3;
        case kLeadF4: return sAfterF4;
        default: return sReject;
      }
    case sNeed1: return (c == kCont8 || c == kCont9 || c == kContA) ? sAccept : sReject;
    case sNeed2: return (c == kCont8 || c == kCont9 || c == kContA) ? sNeed1 : sReject;
    case sNeed3: return (c == kCont8 || c == kCont9 || c == kContA) ? sNeed2 : sReject;
    case sAfterE0: return c == kContA ? sNeed1 : sReject;
    case sAfterED: return (c == kCont8 || c == kCont9) ? sNeed1 : sReject;
    case sAfterF0: return (c == kCont9 || c == kContA) ? sNeed2 : sReject;
    case sAfterF4: return c == kCont8 ? sNeed2 : sReject;
    default: return sReject;
  }
}

// A shift automaton: each byte has one 64-bit row holding, for every state s, the next state
// at bits [6s, 6s+6). A state is stored as its bit offset, so a transition is one load that does
// not depend on the state and one shift that does: about a cycle per byte.
constexpr unsigned kBits = 6;
static_assert(kStates * kBits <= 64, "states must fit in a row");

struct Rows {
  uint64_t row[256];
};

constexpr Rows make_rows() {
  Rows r{};
  for (unsigned b = 0; b < 256; ++b) {
    uint64_t row = 0;
    for (unsigned s = 0; s < kStates; ++s) row |= static_cast<uint64_t>(next_state(s, class_of(b)) * kBits) << (s * kBits);
    r.row[b] = row;
  }
  return r;
}

constexpr Rows kRows = make_rows();
constexpr uint32_t kAcceptState = sAccept * kBits;
constexpr uint32_t kRejectState = sReject * kBits;
constexpr uint64_t kStateMask = 63;

}  // namespace

size_t utf8_skip_ascii(const uint8_t *p, size_t i, size_t n) {
#if defined(__SSE2__)
  for (; i + 64 <= n; i += 64) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + i));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + i + 16));
    __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + i + 32));
    __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + i + 48));
    if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d))) != 0) break;
  }
  for (; i + 16 <= n; i += 16) {
    int m = _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p + i)));
    if (m != 0) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(m)));
  }
#endif
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ull) break;
  }
  while (i < n && p[i] < 0x80) ++i;
  return i;
}

bool Utf8Validator::failed() const { return state_ == kRejectState; }

bool Utf8Validator::feed(const uint8_t *p, size_t n) {
  uint64_t s = state_;
  size_t i = 0;
  while (i < n) {
    if (s == kAcceptState) {
      i = utf8_skip_ascii(p, i, n);
      if (i == n) break;
    }
    // Run the automaton over a block; rejection is absorbing, so one check per block suffices.
    size_t end = n - i > 64 ? i + 64 : n;
    for (; i < end; ++i) s = kRows.row[p[i]] >> (s & kStateMask);
    s &= kStateMask;
    if (s == kRejectState) break;
  }
  state_ = static_cast<uint32_t>(s);
  return s != kRejectState;
}

bool utf8_valid(const uint8_t *p, size_t n) {
  Utf8Validator v;
  return v.feed(p, n) && v.complete();
}

}  // namespace wsc

int wsc_utf8_valid(const void *data, size_t len) {
  if (data == nullptr) return len == 0;
  return wsc::utf8_valid(static_cast<const uint8_t *>(data), len) ? 1 : 0;
}

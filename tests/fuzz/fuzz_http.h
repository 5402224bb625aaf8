// Shared by the HTTP fuzz targets (fuzz_request.cc, fuzz_response.cc): a parse is made whole and
// in chunks, and the two must agree.
#ifndef WSC_TESTS_FUZZ_FUZZ_HTTP_H
#define WSC_TESTS_FUZZ_FUZZ_HTTP_H

#include <cstdio>
#include <string>

#include "fuzz.h"
#include "http.h"

namespace wsc_fuzz {

// A head that breaks a limit and is malformed further on may be refused for either: the limits
// count what the parser reports, and it reports a piece at the end of each chunk.
inline bool refused(wsc::HttpParser::Result r) { return r == wsc::HttpParser::kBad || r == wsc::HttpParser::kTooLarge; }

// Prints a target's parse (its result, end and msg) when the check below fails.
template <class Parsed>
void dump(const char *what, const Parsed &p) {
  const wsc::HttpMessage &m = p.msg;
  std::fprintf(stderr, "%s: result %d end %zu status %d method '%s' target '%s' HTTP/%u.%u upgrade %d\n", what,
               static_cast<int>(p.result), p.end, m.status, m.method.c_str(), m.target.c_str(), m.major, m.minor,
               m.upgrade);
  for (const auto &h : m.headers) std::fprintf(stderr, "  '%s': '%s'\n", h.first.c_str(), h.second.c_str());
}

// Feeds n bytes to http as a connection does: chunk by chunk (split == nullptr: in one piece)
// until the parser stops waiting. Returns its result; on kDone, *end is where the message ended.
inline wsc::HttpParser::Result feed_in_chunks(wsc::HttpParser &http, const uint8_t *p, size_t n, Chunker *split,
                                              size_t *end) {
  wsc::HttpParser::Result result = wsc::HttpParser::kNeedMore;
  for (size_t off = 0; off < n;) {
    size_t len = split ? split->next(n - off) : n;
    std::string piece(reinterpret_cast<const char *>(p) + off, len);  // exact size: ASan sees overreads
    size_t used = 0;
    result = http.feed(piece.data(), len, &used);
    FUZZ_CHECK(used <= len);
    if (result != wsc::HttpParser::kNeedMore) {
      if (result == wsc::HttpParser::kDone) *end = off + used;
      break;
    }
    FUZZ_CHECK(used == len);
    off += len;
  }
  return result;
}

// Parses n bytes whole (parse(nullptr)) and in the pieces a Chunker seeded by `seed` cuts
// (parse(&chunker)); same(whole, chunked) must hold. Returns the parse in chunks.
template <class Parse, class Same>
auto parse_whole_and_in_chunks(uint8_t seed, size_t n, Parse parse, Same same) -> decltype(parse(nullptr)) {
  auto whole = parse(nullptr);
  Chunker chunker(seed, n);
  auto parsed = parse(&chunker);
  if (!same(whole, parsed)) {
    dump("whole", whole);
    dump("in chunks", parsed);
    FUZZ_CHECK(!"the parse differs between the whole input and its chunks");
  }
  return parsed;
}

}  // namespace wsc_fuzz

#endif

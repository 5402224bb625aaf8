// Fuzz target `inflate`: permessage-deflate's decompressor (src/deflate.cc's Inflater) under an
// output limit, against decompression bombs and corrupt streams; and, as a round trip, the
// compressor (Deflater) feeding it.
//
// Input: [mode] [limit] [split] bytes...
//   mode   bit 0     no context takeover (the inflater starts afresh after each message)
//          bit 1     round trip: bytes is plain text, compressed by a Deflater, then inflated
//          bits 2-4  round trip: the compressor's window bits (9-15)
//          bits 5-6  round trip: its level (0, 1, 6, 9)
//   limit  bits 0-2  the output limit per message (table below; 0: none)
//   split  the chunking (fuzz.h's Chunker); it also ends messages (last = true) at random pieces
// Raw mode: bytes are compressed messages, inflated piece by piece; the output never exceeds the
// limit, an error is one of 1009 (too big) or 1007 (corrupt), and the same messages inflated in
// one call each give the same results. Round trip: every message comes back exactly, or fails
// with 1009 exactly when it is longer than the limit.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "deflate.h"
#include "fuzz.h"
#include "wsc/error.h"

namespace wsc_fuzz {
namespace {

const uint64_t kLimits[8] = {0, 1, 7, 100, 1000, 4096, 65536, 1u << 20};
constexpr size_t kZlibMemory = 64 * 1024;  // an inflate stream holds its state and a 32 KiB window

struct Result {
  int rc;
  uint64_t print;
  size_t len;
  // The output of a failed message is dropped: only its error counts.
  bool operator==(const Result &o) const { return rc == o.rc && (rc != 0 || (print == o.print && len == o.len)); }
};

// Inflates one message given in pieces (the last piece ends it), checking the limit after every
// piece. An error ends the message early, as the receiver then fails the connection.
Result inflate_message(wsc::Inflater &inf, const std::vector<std::string> &pieces, uint64_t limit, bool no_ctx) {
  wsc::ByteBuffer out;
  int rc = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const bool last = i + 1 == pieces.size();
    std::unique_ptr<uint8_t[]> copy(new uint8_t[pieces[i].size() + 1]);  // exact size (+1: never empty)
    std::memcpy(copy.get(), pieces[i].data(), pieces[i].size());
    rc = inf.process(copy.get(), pieces[i].size(), last, out, limit);
    FUZZ_CHECK(limit == 0 || out.size() <= limit);  // never inflated past the limit
    FUZZ_CHECK(limit == 0 || out.capacity() <= limit);  // nor allocated past it
    FUZZ_CHECK(inf.memory() <= kZlibMemory);
    if (rc != 0) {
      FUZZ_CHECK(rc == WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH || rc == WSC_ERR_INVALID_COMPRESSED_DATA || rc == WSC_ENOMEM);
      FUZZ_CHECK(!inf.active());  // the stream is dropped after an error
      break;
    }
    if (last && no_ctx) FUZZ_CHECK(!inf.active());
  }
  return Result{rc, fingerprint(out.data(), out.size()), out.size()};
}

// The input cut into messages, each cut into pieces.
std::vector<std::vector<std::string>> cut(const uint8_t *p, size_t n, Chunker &split) {
  std::vector<std::vector<std::string>> messages(1);
  for (size_t off = 0; off < n;) {
    size_t len = split.next(n - off);
    messages.back().emplace_back(reinterpret_cast<const char *>(p) + off, len);
    off += len;
    if (off < n && split.random() % 4 == 0) messages.emplace_back();
  }
  return messages;
}

void raw(const uint8_t *p, size_t n, uint64_t limit, bool no_ctx, Chunker &split) {
  auto messages = cut(p, n, split);
  wsc::Inflater pieces(no_ctx), whole(no_ctx);
  bool whole_ok = true;
  for (const auto &m : messages) {
    Result a = inflate_message(pieces, m, limit, no_ctx);
    std::string joined;
    for (const auto &piece : m) joined += piece;
    // With context takeover, a failed message leaves the next one without the history it
    // refers to: after an error the two runs are no longer compared.
    if (whole_ok) {
      Result b = inflate_message(whole, {joined}, limit, no_ctx);
      FUZZ_CHECK(a == b);
      if (b.rc != 0 && !no_ctx) whole_ok = false;
    }
  }
}

void round_trip(const uint8_t *p, size_t n, uint64_t limit, uint8_t mode, Chunker &split) {
  static const int kLevels[4] = {0, 1, 6, 9};
  const bool no_ctx = mode & 1;
  const int bits = 9 + ((mode >> 2) & 7) % 7;
  wsc::Deflater deflater(kLevels[(mode >> 5) & 3], 8, bits, no_ctx);
  FUZZ_CHECK(deflater.usable());
  wsc::Inflater inflater(no_ctx);
  for (const auto &m : cut(p, n, split)) {
    std::string plain;
    std::vector<std::string> compressed;
    for (size_t i = 0; i < m.size(); ++i) {
      wsc::ByteBuffer z;
      const bool last = i + 1 == m.size();
      FUZZ_CHECK(deflater.compress(reinterpret_cast<const uint8_t *>(m[i].data()), m[i].size(), last, z) == 0);
      compressed.emplace_back(reinterpret_cast<const char *>(z.data()), z.size());
      plain += m[i];
    }
    if (no_ctx) FUZZ_CHECK(!deflater.active());
    Result r = inflate_message(inflater, compressed, limit, no_ctx);
    if (limit != 0 && plain.size() > limit) {
      FUZZ_CHECK(r.rc == WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH);
      if (!no_ctx) return;  // the inflater lost the history the next message refers to
      continue;
    }
    FUZZ_CHECK(r.rc == 0);
    FUZZ_CHECK(r.len == plain.size() &&
               r.print == fingerprint(reinterpret_cast<const uint8_t *>(plain.data()), plain.size()));
  }
}

}  // namespace

int inflate(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  const uint8_t mode = data[0];
  const uint64_t limit = kLimits[data[1] & 7];
  Chunker split(data[2], size - 3);
  if (mode & 2)
    round_trip(data + 3, size - 3, limit, mode, split);
  else
    raw(data + 3, size - 3, limit, (mode & 1) != 0, split);
  return 0;
}

}  // namespace wsc_fuzz

WSC_FUZZ_ENTRY(inflate)

// SHA-1 (FIPS 180-4 §6.1), for the opening handshake's Sec-WebSocket-Accept only (RFC 6455
// §4.2.2): a 60-byte input hashed directly is several times cheaper than a digest fetched
// through OpenSSL 3's provider layer, and it touches no library code at run time.
#ifndef WSC_SRC_SHA1_H
#define WSC_SRC_SHA1_H

#include <cstddef>
#include <cstdint>

namespace wsc {

constexpr size_t kSha1Size = 20;
void sha1(const uint8_t *data, size_t n, uint8_t out[kSha1Size]);
// The same without the CPU's SHA extensions (for tests); sha1() uses them when the CPU has them.
void sha1_portable(const uint8_t *data, size_t n, uint8_t out[kSha1Size]);
bool sha1_uses_cpu_extensions();

}  // namespace wsc

#endif

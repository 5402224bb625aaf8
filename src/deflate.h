// permessage-deflate (RFC 7692): the extension header, negotiation, and the zlib streams.
// Sans-I/O: the connection calls it with whole headers and message payloads.
#ifndef WSC_SRC_DEFLATE_H
#define WSC_SRC_DEFLATE_H

#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "buffer.h"
#include "receiver.h"
#include "wsc/deflate.h"

namespace wsc {

// One element of a Sec-WebSocket-Extensions header: a name and its parameters (value "" when
// the parameter had none; has_value says which).
struct Extension {
  std::string name;
  struct Param {
    std::string name, value;
    bool has_value;
  };
  std::vector<Param> params;
};

// Parses a header value in one pass (linear time: no backtracking). Returns false if malformed.
bool parse_extensions(std::string_view value, std::vector<Extension> *out);

// What both sides agreed on.
struct PmdAgreement {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 15;
  int client_max_window_bits = 15;
};

// A server answers the offers in order: the first acceptable one wins (RFC 7692 §5). Returns
// false when none is (the extension is then not used); else fills the agreement and the
// response header value.
bool pmd_server_negotiate(const std::vector<std::string> &header_values, const wsc_deflate_options_t &cfg,
                          PmdAgreement *agreed, std::string *response);
// The client's offer.
std::string pmd_client_offer(const wsc_deflate_options_t &cfg);

// Reads a caller's deflate options (NULL: the defaults) and checks their ranges: window bits 0
// or 8-15, level -1..9, mem_level 0..9, known flags. Returns 0, or WSC_EINVAL with the reason
// for wsc_last_error_message.
int deflate_options_read(wsc_deflate_options_t *out, const wsc_deflate_options_t *in);
// The client checks the server's answer against its offer. Returns 0 or WSC_EBAD_EXTENSION
// with *why set.
int pmd_client_accept(const std::string &response, const wsc_deflate_options_t &cfg, PmdAgreement *agreed,
                      std::string *why);

// Compresses messages for one direction of one connection (RFC 7692 §7.2.1).
// zlib's allocations go through this, so that the memory a stream holds can be reported.
struct ZlibMemory {
  size_t bytes = 0;
  static void *alloc(void *opaque, uInt items, uInt size);
  static void free(void *opaque, void *address);
};

class Deflater {
 public:
  // shared: the loop's compressor for connections without context takeover (uWebSockets'
  // SHARED_COMPRESSOR): its state is reset, not freed, after each message.
  Deflater(int level, int mem_level, int window_bits, bool no_context_takeover, bool shared = false);
  ~Deflater();
  Deflater(const Deflater &) = delete;
  Deflater &operator=(const Deflater &) = delete;
  // False when this side may not compress at all (window bits 8: zlib cannot honour it).
  bool usable() const { return window_bits_ > 8; }
  bool shared() const { return shared_; }
  int window_bits() const { return window_bits_; }
  // Appends the compressed form of a piece of a message to out; `last` ends the message (the
  // 00 00 ff ff tail is removed). Returns 0 or WSC_ENOMEM / WSC_EIO.
  int compress(const uint8_t *p, size_t n, bool last, ByteBuffer &out);
  bool active() const { return active_; }
  // Bytes of zlib state held now.
  size_t memory() const { return mem_.bytes; }

 private:
  bool start();
  z_stream z_{};
  ZlibMemory mem_;
  bool active_ = false;
  int level_, mem_level_, window_bits_;
  bool no_context_takeover_;
  bool shared_;
};

// Inflates messages whose first frame had RSV1 (the receiver's MessageFilter), bounded as it
// runs: output past the limit fails with 1009 before it is produced.
class Inflater : public MessageFilter {
 public:
  explicit Inflater(bool no_context_takeover) : no_context_takeover_(no_context_takeover) {}
  ~Inflater() override;
  int process(const uint8_t *in, size_t n, bool last, ByteBuffer &out, uint64_t limit) override;
  void reset() override;
  bool active() const { return active_; }
  size_t memory() const { return mem_.bytes; }

 private:
  int run(const uint8_t *in, size_t n, ByteBuffer &out, uint64_t limit);
  z_stream z_{};
  ZlibMemory mem_;
  bool active_ = false;
  bool ended_ = false;  // the message's deflate stream ended (BFINAL): ignore the rest of it
  bool no_context_takeover_;
};

}  // namespace wsc

#endif

#include "deflate.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "last_error.h"
#include "options.h"
#include "wsc/error.h"

namespace wsc {
namespace {

const char kPmd[] = "permessage-deflate";
const uint8_t kTail[4] = {0x00, 0x00, 0xff, 0xff};

bool is_tchar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && std::strchr("()<>@,;:\\\"/[]?={}", c) == nullptr;
}

void skip_ws(std::string_view s, size_t &i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

bool read_token(std::string_view s, size_t &i, std::string *out) {
  size_t start = i;
  while (i < s.size() && is_tchar(s[i])) ++i;
  if (i == start) return false;
  out->assign(s.substr(start, i - start));
  return true;
}

// A parameter value: a token, or a quoted string whose content must be a token (RFC 7692 §5.2).
bool read_value(std::string_view s, size_t &i, std::string *out) {
  if (i < s.size() && s[i] == '"') {
    ++i;
    std::string v;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\') {
        if (++i == s.size()) return false;
      }
      v += s[i++];
    }
    if (i == s.size()) return false;
    ++i;
    if (v.empty()) return false;
    for (char c : v)
      if (!is_tchar(c)) return false;
    *out = v;
    return true;
  }
  return read_token(s, i, out);
}

// A window bits value: "8" to "15", digits only.
int window_bits(const std::string &v) {
  if (v.empty() || v.size() > 2 || v.find_first_not_of("0123456789") != std::string::npos || v[0] == '0') return 0;
  int n = std::stoi(v);
  return n >= 8 && n <= 15 ? n : 0;
}

// A permessage-deflate element's parameters, each known and once (RFC 7692 §7.1).
struct PmdParams {
  bool server_no_ctx = false, client_no_ctx = false;
  int server_bits = 0;           // 0: absent
  bool client_bits_present = false;
  int client_bits = 0;           // 0: no value
};

bool pmd_params(const Extension &e, bool response, PmdParams *p) {
  bool seen[4] = {false, false, false, false};
  for (const auto &param : e.params) {
    int k = param.name == "server_no_context_takeover"   ? 0
            : param.name == "client_no_context_takeover" ? 1
            : param.name == "server_max_window_bits"     ? 2
            : param.name == "client_max_window_bits"     ? 3
                                                         : -1;
    if (k < 0 || seen[k]) return false;  // unknown or duplicated: decline
    seen[k] = true;
    switch (k) {
      case 0:
      case 1:
        if (param.has_value) return false;
        (k == 0 ? p->server_no_ctx : p->client_no_ctx) = true;
        break;
      case 2:
        if (!param.has_value || (p->server_bits = window_bits(param.value)) == 0) return false;
        break;
      case 3:
        p->client_bits_present = true;
        if (param.has_value && (p->client_bits = window_bits(param.value)) == 0) return false;
        if (response && !param.has_value) return false;  // a server's answer carries a value
        break;
    }
  }
  return true;
}

}  // namespace

bool parse_extensions(std::string_view s, std::vector<Extension> *out) {
  out->clear();
  size_t i = 0;
  for (;;) {
    skip_ws(s, i);
    if (i < s.size() && s[i] == ',') {  // empty list elements are allowed
      ++i;
      continue;
    }
    if (i == s.size()) return true;
    Extension e;
    if (!read_token(s, i, &e.name)) return false;
    for (;;) {
      skip_ws(s, i);
      if (i == s.size() || s[i] == ',') break;
      if (s[i] != ';') return false;
      ++i;
      skip_ws(s, i);
      Extension::Param p{"", "", false};
      if (!read_token(s, i, &p.name)) return false;
      skip_ws(s, i);
      if (i < s.size() && s[i] == '=') {
        ++i;
        skip_ws(s, i);
        if (!read_value(s, i, &p.value)) return false;
        p.has_value = true;
      }
      e.params.push_back(std::move(p));
    }
    out->push_back(std::move(e));
  }
}

bool pmd_server_negotiate(const std::vector<std::string> &values, const wsc_deflate_options_t &cfg,
                          PmdAgreement *agreed, std::string *response) {
  std::vector<Extension> offers;
  for (const auto &v : values) {
    std::vector<Extension> some;
    if (!parse_extensions(v, &some)) return false;  // a malformed header: no extension
    offers.insert(offers.end(), some.begin(), some.end());
  }
  for (const auto &offer : offers) {
    if (offer.name != kPmd) continue;
    PmdParams p;
    if (!pmd_params(offer, false, &p)) continue;  // decline this offer, try the next
    PmdAgreement a;
    std::string r = kPmd;
    // Context takeover: either side may ask for none.
    a.server_no_context_takeover = p.server_no_ctx || (cfg.flags & WSC_DEFLATE_SERVER_NO_CONTEXT_TAKEOVER);
    a.client_no_context_takeover = p.client_no_ctx || (cfg.flags & WSC_DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER);
    if (a.server_no_context_takeover) r += "; server_no_context_takeover";
    if (a.client_no_context_takeover) r += "; client_no_context_takeover";
    // Our window: the smaller of the client's limit and ours.
    int server_bits = p.server_bits ? p.server_bits : 15;
    if (cfg.server_max_window_bits && static_cast<int>(cfg.server_max_window_bits) < server_bits)
      server_bits = static_cast<int>(cfg.server_max_window_bits);
    if (p.server_bits || cfg.server_max_window_bits) r += "; server_max_window_bits=" + std::to_string(server_bits);
    a.server_max_window_bits = server_bits;
    // The client's window: only limited when it said it can take a limit.
    int client_bits = 15;
    if (cfg.client_max_window_bits) {
      if (!p.client_bits_present) continue;  // we need a limit the client cannot accept
      client_bits = static_cast<int>(cfg.client_max_window_bits);
      if (p.client_bits && p.client_bits < client_bits) client_bits = p.client_bits;
      r += "; client_max_window_bits=" + std::to_string(client_bits);
    } else if (p.client_bits) {
      client_bits = p.client_bits;
      r += "; client_max_window_bits=" + std::to_string(client_bits);
    }
    a.client_max_window_bits = client_bits;
    *agreed = a;
    *response = r;
    return true;
  }
  return false;
}

std::string pmd_client_offer(const wsc_deflate_options_t &cfg) {
  std::string r = kPmd;
  if (cfg.flags & WSC_DEFLATE_SERVER_NO_CONTEXT_TAKEOVER) r += "; server_no_context_takeover";
  if (cfg.flags & WSC_DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER) r += "; client_no_context_takeover";
  if (cfg.server_max_window_bits) r += "; server_max_window_bits=" + std::to_string(cfg.server_max_window_bits);
  if (cfg.client_max_window_bits)
    r += "; client_max_window_bits=" + std::to_string(cfg.client_max_window_bits);
  else
    r += "; client_max_window_bits";
  return r;
}

int pmd_client_accept(const std::string &response, const wsc_deflate_options_t &cfg, PmdAgreement *agreed,
                      std::string *why) {
  std::vector<Extension> exts;
  if (!parse_extensions(response, &exts) || exts.size() != 1 || exts[0].name != kPmd) {
    *why = "Server indicated an extension that was not requested";
    return WSC_EBAD_EXTENSION;
  }
  PmdParams p;
  if (!pmd_params(exts[0], true, &p)) {
    *why = "Invalid permessage-deflate parameters from the server";
    return WSC_EBAD_EXTENSION;
  }
  // RFC 7692 §7.1.1.1, §7.1.2: the answer may only tighten what we offered.
  if ((cfg.flags & WSC_DEFLATE_SERVER_NO_CONTEXT_TAKEOVER) && !p.server_no_ctx) {
    *why = "Server refused server_no_context_takeover";
    return WSC_EBAD_EXTENSION;
  }
  if (cfg.server_max_window_bits && (!p.server_bits || p.server_bits > static_cast<int>(cfg.server_max_window_bits))) {
    *why = "Server answered a server_max_window_bits above the offer";
    return WSC_EBAD_EXTENSION;
  }
  if (cfg.client_max_window_bits && p.client_bits > static_cast<int>(cfg.client_max_window_bits)) {
    *why = "Server answered a client_max_window_bits above the offer";
    return WSC_EBAD_EXTENSION;
  }
  agreed->server_no_context_takeover = p.server_no_ctx;
  agreed->client_no_context_takeover = p.client_no_ctx || (cfg.flags & WSC_DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER);
  agreed->server_max_window_bits = p.server_bits ? p.server_bits : 15;
  agreed->client_max_window_bits =
      p.client_bits ? p.client_bits : cfg.client_max_window_bits ? static_cast<int>(cfg.client_max_window_bits) : 15;
  return 0;
}

// ---- zlib streams ---------------------------------------------------------------------------

void *ZlibMemory::alloc(void *opaque, uInt items, uInt size) {
  size_t n = static_cast<size_t>(items) * size;
  auto *p = static_cast<size_t *>(std::malloc(n + sizeof(size_t) * 2));  // keeps 16-byte alignment
  if (p == nullptr) return Z_NULL;
  p[0] = n;
  static_cast<ZlibMemory *>(opaque)->bytes += n;
  return p + 2;
}

void ZlibMemory::free(void *opaque, void *address) {
  auto *p = static_cast<size_t *>(address) - 2;
  static_cast<ZlibMemory *>(opaque)->bytes -= p[0];
  std::free(p);
}

Deflater::Deflater(int level, int mem_level, int window_bits, bool no_context_takeover, bool shared)
    : level_(level),
      mem_level_(mem_level),
      window_bits_(window_bits),
      no_context_takeover_(no_context_takeover),
      shared_(shared) {}

Deflater::~Deflater() {
  if (active_) deflateEnd(&z_);
}

bool Deflater::start() {
  if (active_) return true;
  z_ = z_stream{};
  z_.zalloc = ZlibMemory::alloc;
  z_.zfree = ZlibMemory::free;
  z_.opaque = &mem_;
  // Raw deflate (negative window bits): RFC 7692 §7.2.1 frames carry no zlib header.
  if (deflateInit2(&z_, level_, Z_DEFLATED, -window_bits_, mem_level_, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  active_ = true;
  return true;
}

int Deflater::compress(const uint8_t *p, size_t n, bool last, ByteBuffer &out) {
  if (!start()) return WSC_ENOMEM;
  z_.next_in = const_cast<Bytef *>(p);
  z_.avail_in = static_cast<uInt>(n);
  size_t before = out.size();
  // The input first, then the sync flush: a flush right after a flush would make zlib answer
  // Z_BUF_ERROR and write nothing, and the peer would then add a block the stream lacks.
  for (int flush : {Z_NO_FLUSH, Z_SYNC_FLUSH}) {
    do {
      size_t room = n / 2 + 64;
      if (!out.reserve_extra(room, std::numeric_limits<size_t>::max())) return WSC_ENOMEM;
      z_.next_out = out.tail();
      z_.avail_out = static_cast<uInt>(out.room());
      size_t had = out.room();
      int rc = deflate(&z_, flush);
      out.commit(had - z_.avail_out);
      if (rc != Z_OK && rc != Z_BUF_ERROR) return WSC_EIO;
    } while (z_.avail_in > 0 || z_.avail_out == 0);
  }
  if (last) {
    // RFC 7692 §7.2.1: remove the 4-byte tail of the sync flush.
    if (out.size() - before >= 4 && std::memcmp(out.data() + out.size() - 4, kTail, 4) == 0) out.truncate(out.size() - 4);
    if (shared_) {
      deflateReset(&z_);  // the next message, maybe another connection's, starts afresh
    } else if (no_context_takeover_) {  // nothing to keep between messages: give the memory back
      deflateEnd(&z_);
      active_ = false;
    }
  }
  return 0;
}

Inflater::~Inflater() {
  if (active_) inflateEnd(&z_);
}

void Inflater::reset() {
  if (active_) inflateEnd(&z_);
  active_ = false;
  ended_ = false;
}

int Inflater::run(const uint8_t *in, size_t n, ByteBuffer &out, uint64_t limit) {
  z_.next_in = const_cast<Bytef *>(in);
  z_.avail_in = static_cast<uInt>(n);
  // Until the input is used up and zlib holds no more output: a call that filled the output
  // buffer may have taken the last input byte with output still pending.
  while (z_.avail_in > 0 || z_.avail_out == 0) {
    // Never produce more than the limit allows: the bomb stops at the limit (RFC 7692 §8.1).
    size_t allowed = limit ? static_cast<size_t>(limit) - out.size() : std::numeric_limits<size_t>::max();
    if (allowed == 0) {
      uint8_t probe;  // is more output coming? then the message is too big
      z_.next_out = &probe;
      z_.avail_out = 1;
      int rc = inflate(&z_, Z_SYNC_FLUSH);
      if (z_.avail_out == 0) return WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH;
      if (rc == Z_STREAM_END) {
        inflateReset(&z_);
        ended_ = true;
        return 0;
      }
      if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_MEM_ERROR) return WSC_EINVAL;
      if (rc == Z_BUF_ERROR) break;  // no progress: all input taken
      continue;
    }
    size_t want = n * 4 + 256;
    if (want > allowed) want = allowed;
    if (!out.reserve_extra(want, limit ? static_cast<size_t>(limit) : std::numeric_limits<size_t>::max()))
      return WSC_ENOMEM;
    size_t room = out.room() < allowed ? out.room() : allowed;
    z_.next_out = out.tail();
    z_.avail_out = static_cast<uInt>(room);
    int rc = inflate(&z_, Z_SYNC_FLUSH);
    out.commit(room - z_.avail_out);
    if (rc == Z_STREAM_END) {
      // RFC 7692 §7.2.3.3: a sender may end a message with a BFINAL block; what follows (our
      // own 00 00 ff ff) is not data, and the next message starts a new stream.
      inflateReset(&z_);
      ended_ = true;
      return 0;
    }
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_MEM_ERROR) return WSC_EINVAL;
    if (rc == Z_BUF_ERROR && z_.avail_out != 0) break;  // needs more input
  }
  return 0;
}

int Inflater::process(const uint8_t *in, size_t n, bool last, ByteBuffer &out, uint64_t limit) {
  if (!active_) {
    z_ = z_stream{};
    z_.zalloc = ZlibMemory::alloc;
    z_.zfree = ZlibMemory::free;
    z_.opaque = &mem_;
    // A window of 15 inflates what any smaller window produced, 8 included.
    if (inflateInit2(&z_, -15) != Z_OK) return WSC_ENOMEM;
    active_ = true;
  }
  int rc = ended_ ? 0 : run(in, n, out, limit);
  if (rc == 0 && last && !ended_) rc = run(kTail, 4, out, limit);
  if (last) ended_ = false;
  if (rc == WSC_EINVAL) rc = WSC_ERR_INVALID_COMPRESSED_DATA;
  if (rc != 0 || (last && no_context_takeover_)) reset();
  return rc;
}

int deflate_options_read(wsc_deflate_options_t *out, const wsc_deflate_options_t *in) {
  if (options_read(out, in) != 0) return set_last_error(WSC_EINVAL, "deflate options: size is too small");
  const wsc_deflate_options_t &d = *out;
  auto bits_ok = [](uint32_t b) { return b == 0 || (b >= 8 && b <= 15); };
  const char *why = nullptr;
  if (!bits_ok(d.server_max_window_bits) || !bits_ok(d.client_max_window_bits))
    why = "deflate options: window bits must be 8 to 15 (0: not asked for)";
  else if (d.level < -1 || d.level > 9)
    why = "deflate options: level must be -1 to 9";
  else if (d.mem_level > 9)
    why = "deflate options: mem_level must be 0 to 9";
  else if (d.flags & ~(WSC_DEFLATE_SERVER_NO_CONTEXT_TAKEOVER | WSC_DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER |
                       WSC_DEFLATE_DISABLE))
    why = "deflate options: unknown flag";
  return why ? set_last_error(WSC_EINVAL, why) : 0;
}

}  // namespace wsc

int wsc_deflate_options_init(wsc_deflate_options_t *opts, size_t size) {
  static const wsc_deflate_options_t defaults = WSC_DEFLATE_OPTIONS_INIT;
  return wsc::options_init(opts, size, defaults);
}

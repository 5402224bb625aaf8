// Fuzz target `response`: a client reading the server's answer to its opening handshake
// (src/http.cc's HttpParser(kResponse) fed as a connection feeds it, and finished at the end of
// the stream), then checking a 101 as client_handle_response does (src/client.cc's
// check_upgrade_response: Sec-WebSocket-Accept, the subprotocol, permessage-deflate through
// pmd_client_accept).
//
// Input: [config] [deflate] [split] response...
//   config   bits 0-1  the subprotocols the client offered: none, chat, chat and superchat,
//                      v2.example and chat
//            bit 2     the client does not offer permessage-deflate
//            bit 3     the stream ends with the server closing the connection (HttpParser::finish)
//            bit 4     the client follows redirects
//   deflate  the client's permessage-deflate options (fuzz.h's deflate_options)
//   split    the chunking (fuzz.h's Chunker)
// The client's key is RFC 6455's example, dGhlIHNhbXBsZSBub25jZQ==, whose accept value is
// s3pPLMBiTxaQ9kYGzzhZRbK+xOo=. Checked: the parse is the same whole and in chunks; an accepted
// answer was a complete head, chose an offered subprotocol, and agreed to no more than the offer.
#include <string>
#include <vector>

#include "deflate.h"
#include "fuzz.h"
#include "fuzz_http.h"
#include "handshake.h"
#include "http.h"
#include "wsc/error.h"

namespace wsc_fuzz {
namespace {

const char kKey[] = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr size_t kMaxBody = 64 * 1024;  // the client's Handshake

struct Parsed {
  wsc::HttpParser::Result result = wsc::HttpParser::kNeedMore;
  size_t end = 0;  // where the message ended in the input (kDone)
  bool finished = false;  // the result came from finish()
  wsc::HttpMessage msg;
};

Parsed parse(const uint8_t *p, size_t n, bool eof, Chunker *split) {
  wsc::HttpParser http(wsc::HttpParser::kResponse, 256, 64 * 1024, kMaxBody);
  Parsed out;
  out.result = feed_in_chunks(http, p, n, split, &out.end);
  if (out.result == wsc::HttpParser::kNeedMore && eof) {  // wsc_conn_s::on_eof
    out.result = http.finish();
    out.finished = true;
    if (out.result == wsc::HttpParser::kDone) out.end = n;
    FUZZ_CHECK(out.result == wsc::HttpParser::kDone || out.result == wsc::HttpParser::kBad);
  }
  if (out.result == wsc::HttpParser::kBad || out.result == wsc::HttpParser::kTooLarge)
    FUZZ_CHECK(http.error() != nullptr);
  out.msg = http.msg;
  FUZZ_CHECK(out.msg.body.size() <= kMaxBody);
  return out;
}

bool same(const Parsed &a, const Parsed &b) {
  const wsc::HttpMessage &x = a.msg, &y = b.msg;
  const bool same_result = a.result == b.result || (refused(a.result) && refused(b.result));
  return same_result && a.finished == b.finished && a.end == b.end && x.status == y.status &&
         (x.status == 0 || (x.reason == y.reason && x.major == y.major && x.minor == y.minor &&
                            x.upgrade == y.upgrade && x.headers == y.headers && x.body == y.body));
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

int response(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  static const std::vector<std::string> kOffers[4] = {{}, {"chat"}, {"chat", "superchat"}, {"v2.example", "chat"}};
  const std::vector<std::string> &protocols = kOffers[data[0] & 3];
  const bool pmd_offered = (data[0] & 4) == 0;
  const bool eof = (data[0] & 8) != 0;
  const bool follow_redirects = (data[0] & 16) != 0;
  const wsc_deflate_options_t pmd = deflate_options(data[1]);
  const uint8_t *p = data + 3;
  const size_t n = size - 3;

  Parsed parsed = parse_whole_and_in_chunks(data[2], n, [&](Chunker *split) { return parse(p, n, eof, split); }, same);
  const wsc::HttpMessage &m = parsed.msg;

  // client_handle_response's decision.
  if (parsed.result == wsc::HttpParser::kNeedMore) return 0;  // still waiting
  if (parsed.result != wsc::HttpParser::kDone && m.status == 0) return 0;  // WSC_EBAD_RESPONSE
  if (is_redirect(m.status) && m.find("Location") != nullptr && follow_redirects) return 0;  // the next hop
  if (m.status != 101) return 0;  // WSC_EUNEXPECTED_RESPONSE
  const std::string *chosen = nullptr, *extensions = nullptr;
  wsc::PmdAgreement agreed;
  std::string why;
  int rc = wsc::check_upgrade_response(m, kKey, protocols, pmd_offered ? &pmd : nullptr, &chosen, &extensions,
                                       &agreed, &why);
  if (rc != 0) {
    FUZZ_CHECK(rc == WSC_EBAD_RESPONSE || rc == WSC_EBAD_ACCEPT || rc == WSC_EBAD_PROTOCOL || rc == WSC_EBAD_EXTENSION);
    FUZZ_CHECK(!why.empty());
    return 0;
  }
  // Accepted: the connection opens with the bytes after the head.
  FUZZ_CHECK(parsed.result == wsc::HttpParser::kDone && !parsed.finished && parsed.end <= n);
  const std::string *accept = m.find("Sec-WebSocket-Accept");
  FUZZ_CHECK(accept != nullptr && *accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  if (chosen != nullptr) {
    bool offered = false;
    for (const auto &proto : protocols) offered |= proto == *chosen;
    FUZZ_CHECK(offered);
  } else {
    FUZZ_CHECK(protocols.empty());
  }
  if (extensions != nullptr) {
    FUZZ_CHECK(pmd_offered);
    for (int bits : {agreed.server_max_window_bits, agreed.client_max_window_bits}) FUZZ_CHECK(bits >= 8 && bits <= 15);
    // RFC 7692 §7.1: the answer may only tighten the offer.
    if (pmd.flags & WSC_DEFLATE_SERVER_NO_CONTEXT_TAKEOVER) FUZZ_CHECK(agreed.server_no_context_takeover);
    if (pmd.flags & WSC_DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER) FUZZ_CHECK(agreed.client_no_context_takeover);
    if (pmd.server_max_window_bits) FUZZ_CHECK(agreed.server_max_window_bits <= static_cast<int>(pmd.server_max_window_bits));
    if (pmd.client_max_window_bits) FUZZ_CHECK(agreed.client_max_window_bits <= static_cast<int>(pmd.client_max_window_bits));
  }
  return 0;
}

}  // namespace wsc_fuzz

WSC_FUZZ_ENTRY(response)

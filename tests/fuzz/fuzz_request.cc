// Fuzz target `request`: a server reading an opening handshake request (src/http.cc's
// HttpParser(kRequest) fed as a connection feeds it), then validating it (src/server.cc's
// check_upgrade_request) and negotiating permessage-deflate (src/deflate.cc's
// pmd_server_negotiate). The outcome is the HTTP status the server answers with.
//
// Input: [config] [deflate] [split] request...
//   config   bits 0-1  the head's limits: the server's defaults (100 headers, 16 KiB), 8 headers
//                      and 512 bytes, 3 headers and 4 KiB, 100 headers and 64 bytes
//            bit 2     the server's path option is "/chat" (else any path)
//            bit 3     the server does not configure permessage-deflate
//   deflate  the server's permessage-deflate options (fuzz.h's deflate_options)
//   split    the chunking (fuzz.h's Chunker)
// Checked: the parse is the same whole and in chunks; a 101 carries only valid header values;
// its Sec-WebSocket-Extensions answer is one a client accepts, with the same agreement, within
// the server's options; and a client that sent this request accepts the whole 101 response.
#include <cstring>
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

struct Limits {
  size_t headers, bytes;
};
const Limits kLimits[4] = {{100, 16 * 1024}, {8, 512}, {3, 4096}, {100, 64}};

struct Parsed {
  wsc::HttpParser::Result result = wsc::HttpParser::kNeedMore;
  size_t end = 0;  // where the head ended in the input (kDone)
  wsc::HttpMessage msg;
};

// Feeds the request as a connection does: chunk by chunk until the parser is no longer waiting.
// split == nullptr: in one piece.
Parsed parse(const Limits &limits, const uint8_t *p, size_t n, Chunker *split) {
  wsc::HttpParser http(wsc::HttpParser::kRequest, limits.headers, limits.bytes, 64 * 1024);
  Parsed out;
  out.result = feed_in_chunks(http, p, n, split, &out.end);
  if (out.result != wsc::HttpParser::kNeedMore)
    FUZZ_CHECK(out.result == wsc::HttpParser::kDone || http.error() != nullptr);
  out.msg = http.msg;
  const wsc::HttpMessage &m = out.msg;
  size_t head = m.target.size();  // what the limit counts: the target and the header lines
  for (const auto &h : m.headers) head += h.first.size() + h.second.size();
  if (out.result == wsc::HttpParser::kDone) {
    FUZZ_CHECK(m.headers.size() <= limits.headers && head <= limits.bytes);
    FUZZ_CHECK(!m.method.empty());
  }
  return out;
}

bool same(const Parsed &a, const Parsed &b) {
  const wsc::HttpMessage &x = a.msg, &y = b.msg;
  if (refused(a.result) || refused(b.result)) return refused(a.result) && refused(b.result);  // fields unused
  if (a.result != b.result) return false;
  if (a.result != wsc::HttpParser::kDone) return true;
  return a.end == b.end && x.method == y.method && x.target == y.target && x.major == y.major &&
         x.minor == y.minor && x.upgrade == y.upgrade && x.headers == y.headers;
}

bool is_base64_of_20_bytes(const std::string &s) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (s.size() != 28 || s[27] != '=') return false;
  for (size_t i = 0; i < 27; ++i)
    if (std::memchr(kAlphabet, s[i], 64) == nullptr) return false;
  return true;
}

}  // namespace

int request(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  const Limits &limits = kLimits[data[0] & 3];
  const std::string required_path = (data[0] & 4) ? "/chat" : "";
  const bool pmd_configured = (data[0] & 8) == 0;
  const wsc_deflate_options_t pmd = deflate_options(data[1]);
  const uint8_t *p = data + 3;
  const size_t n = size - 3;

  Parsed parsed =
      parse_whole_and_in_chunks(data[2], n, [&](Chunker *split) { return parse(limits, p, n, split); }, same);
  const wsc::HttpMessage &m = parsed.msg;

  // server_handle_request's answer.
  unsigned status = 0;
  std::vector<std::string> protocols;
  const char *why = nullptr;
  switch (parsed.result) {
    case wsc::HttpParser::kNeedMore: return 0;  // the server waits (408 when its timer fires)
    case wsc::HttpParser::kTooLarge: status = 431; break;
    case wsc::HttpParser::kBad: status = 400; break;
    case wsc::HttpParser::kDone:
      if (m.find("Upgrade") == nullptr) {
        status = 426;  // plain HTTP
        break;
      }
      std::string path = m.target.substr(0, m.target.find('?'));
      status = wsc::check_upgrade_request(m, path, required_path, &protocols, &why);
      if (status != 0) {
        FUZZ_CHECK(why != nullptr && why[0] != '\0');
        FUZZ_CHECK(status == 400 || status == 405 || status == 426 || status == 505);
      } else {
        status = 101;
      }
      break;
  }
  if (status != 101) return 0;

  // accept_request's 101.
  const std::string *key = m.find("Sec-WebSocket-Key");
  FUZZ_CHECK(key != nullptr && wsc::websocket_key_valid(*key));
  FUZZ_CHECK(m.method == "GET" && m.find("Host") != nullptr);
  for (const auto &proto : protocols) FUZZ_CHECK(wsc::is_token(proto));
  wsc::PmdAgreement agreed;
  std::string answer;
  const bool negotiated = pmd_configured && wsc::negotiate_deflate_offers(m, pmd, &agreed, &answer);
  if (negotiated) {
    for (int bits : {agreed.server_max_window_bits, agreed.client_max_window_bits}) FUZZ_CHECK(bits >= 8 && bits <= 15);
    // Within the server's own options.
    if (pmd.server_max_window_bits) FUZZ_CHECK(agreed.server_max_window_bits <= static_cast<int>(pmd.server_max_window_bits));
    if (pmd.client_max_window_bits) FUZZ_CHECK(agreed.client_max_window_bits <= static_cast<int>(pmd.client_max_window_bits));
    if (pmd.flags & WSC_DEFLATE_SERVER_NO_CONTEXT_TAKEOVER) FUZZ_CHECK(agreed.server_no_context_takeover);
    if (pmd.flags & WSC_DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER) FUZZ_CHECK(agreed.client_no_context_takeover);
    // A client that asked for nothing in particular reads the same agreement from the answer.
    wsc_deflate_options_t plain = WSC_DEFLATE_OPTIONS_INIT;
    wsc::PmdAgreement read;
    std::string err;
    FUZZ_CHECK(wsc::pmd_client_accept(answer, plain, &read, &err) == 0);
    FUZZ_CHECK(read.server_no_context_takeover == agreed.server_no_context_takeover &&
               read.client_no_context_takeover == agreed.client_no_context_takeover &&
               read.server_max_window_bits == agreed.server_max_window_bits &&
               read.client_max_window_bits == agreed.client_max_window_bits);
  }
  const std::string head =
      wsc::switching_protocols_head(*key, protocols.empty() ? "" : protocols.front(), answer, {});
  FUZZ_CHECK(wsc::header_value_valid(answer));
  {
    const std::string accept_line = "\r\nSec-WebSocket-Accept: ";
    size_t at = head.find(accept_line);
    FUZZ_CHECK(at != std::string::npos && is_base64_of_20_bytes(head.substr(at + accept_line.size(), 28)));
  }

  // The client that sent this request takes the answer.
  wsc::HttpParser client(wsc::HttpParser::kResponse, 256, 64 * 1024, 64 * 1024);
  size_t used = 0;
  FUZZ_CHECK(client.feed(head.data(), head.size(), &used) == wsc::HttpParser::kDone && used == head.size());
  FUZZ_CHECK(client.msg.status == 101);
  wsc_deflate_options_t offer = WSC_DEFLATE_OPTIONS_INIT;
  const std::string *chosen = nullptr, *extensions = nullptr;
  std::string err;
  int rc = wsc::check_upgrade_response(client.msg, *key, protocols, negotiated ? &offer : nullptr, &chosen,
                                       &extensions, &agreed, &err);
  FUZZ_CHECK(rc == 0);
  FUZZ_CHECK((chosen != nullptr) == !protocols.empty() && (extensions != nullptr) == negotiated);
  return 0;
}

}  // namespace wsc_fuzz

WSC_FUZZ_ENTRY(request)

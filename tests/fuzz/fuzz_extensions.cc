// Fuzz target `extensions`: the header-value parsers and helpers of the handshake —
// src/deflate.cc's parse_extensions, pmd_server_negotiate and pmd_client_accept; src/http.cc's
// split_list, list_has_token, is_token, websocket_key_valid, header_value_valid, base64_encode
// and websocket_accept.
//
// Input: [deflate] text...
//   deflate  the permessage-deflate options of both the server and the client (fuzz.h's
//            deflate_options)
//   text     a header value; for pmd_server_negotiate, its lines ('\n') are separate headers
// Each function's result is checked against what it promises (a parse re-serialises to the same
// elements; a negotiated answer is one a client accepts, with the same agreement; a valid key is
// canonical base64 of 16 bytes; ...).
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "deflate.h"
#include "fuzz.h"
#include "http.h"
#include "sha1.h"
#include "wsc/error.h"

namespace wsc_fuzz {
namespace {

const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The reference: RFC 7230 §3.2.6 tchar.
bool tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c == '\0' || !tchar(c)) return false;
  return true;
}

// Decodes 24 characters of padded base64 into 16 bytes; false if they are not that.
bool decode_key(std::string_view s, uint8_t out[16]) {
  if (s.size() != 24 || s[22] != '=' || s[23] != '=') return false;
  uint32_t bits = 0;
  int nbits = 0, k = 0;
  for (size_t i = 0; i < 22; ++i) {
    const void *at = s[i] == '\0' ? nullptr : std::memchr(kAlphabet, s[i], 64);
    if (at == nullptr) return false;
    bits = (bits << 6) | static_cast<uint32_t>(static_cast<const char *>(at) - kAlphabet);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out[k++] = static_cast<uint8_t>(bits >> nbits);
      bits &= (1u << nbits) - 1;
    }
  }
  return k == 16;
}

std::string serialize(const std::vector<wsc::Extension> &exts) {
  std::string s;
  for (const auto &e : exts) {
    if (!s.empty()) s += ", ";
    s += e.name;
    for (const auto &prm : e.params) s += "; " + prm.name + (prm.has_value ? "=" + prm.value : "");
  }
  return s;
}

bool same(const std::vector<wsc::Extension> &a, const std::vector<wsc::Extension> &b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].params.size() != b[i].params.size()) return false;
    for (size_t j = 0; j < a[i].params.size(); ++j) {
      const auto &x = a[i].params[j], &y = b[i].params[j];
      if (x.name != y.name || x.value != y.value || x.has_value != y.has_value) return false;
    }
  }
  return true;
}

void check_agreement(const wsc::PmdAgreement &a, const wsc_deflate_options_t &cfg) {
  for (int bits : {a.server_max_window_bits, a.client_max_window_bits}) FUZZ_CHECK(bits >= 8 && bits <= 15);
  if (cfg.flags & WSC_DEFLATE_SERVER_NO_CONTEXT_TAKEOVER) FUZZ_CHECK(a.server_no_context_takeover);
  if (cfg.flags & WSC_DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER) FUZZ_CHECK(a.client_no_context_takeover);
  if (cfg.server_max_window_bits) FUZZ_CHECK(a.server_max_window_bits <= static_cast<int>(cfg.server_max_window_bits));
  if (cfg.client_max_window_bits) FUZZ_CHECK(a.client_max_window_bits <= static_cast<int>(cfg.client_max_window_bits));
}

}  // namespace

int extensions(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const wsc_deflate_options_t cfg = deflate_options(data[0]);
  const std::string text(reinterpret_cast<const char *>(data) + 1, size - 1);

  // parse_extensions: elements of tokens, values reduced to tokens; they read back the same.
  std::vector<wsc::Extension> exts;
  if (wsc::parse_extensions(text, &exts)) {
    for (const auto &e : exts) {
      FUZZ_CHECK(token(e.name));
      for (const auto &prm : e.params) {
        FUZZ_CHECK(token(prm.name));
        FUZZ_CHECK(prm.has_value ? token(prm.value) : prm.value.empty());
      }
    }
    std::vector<wsc::Extension> again;
    FUZZ_CHECK(wsc::parse_extensions(serialize(exts), &again) && same(exts, again));
  }
  if (token(text)) FUZZ_CHECK(wsc::parse_extensions(text, &exts) && exts.size() == 1 && exts[0].name == text);

  // pmd_server_negotiate: an answer within the server's options that a client reads back.
  std::vector<std::string> offers;
  for (size_t at = 0;;) {
    size_t nl = text.find('\n', at);
    offers.push_back(text.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  wsc::PmdAgreement agreed;
  std::string answer;
  if (wsc::pmd_server_negotiate(offers, cfg, &agreed, &answer)) {
    check_agreement(agreed, cfg);
    FUZZ_CHECK(wsc::header_value_valid(answer));
    FUZZ_CHECK(wsc::parse_extensions(answer, &exts) && exts.size() == 1 && exts[0].name == "permessage-deflate");
    wsc_deflate_options_t plain = WSC_DEFLATE_OPTIONS_INIT;
    wsc::PmdAgreement read;
    std::string why;
    FUZZ_CHECK(wsc::pmd_client_accept(answer, plain, &read, &why) == 0);
    FUZZ_CHECK(read.server_no_context_takeover == agreed.server_no_context_takeover &&
               read.client_no_context_takeover == agreed.client_no_context_takeover &&
               read.server_max_window_bits == agreed.server_max_window_bits &&
               read.client_max_window_bits == agreed.client_max_window_bits);
  }

  // pmd_client_accept: an accepted answer only tightens the client's offer.
  {
    wsc::PmdAgreement a;
    std::string why;
    int rc = wsc::pmd_client_accept(text, cfg, &a, &why);
    if (rc == 0) {
      check_agreement(a, cfg);
      FUZZ_CHECK(wsc::parse_extensions(text, &exts) && exts.size() == 1);
    } else {
      FUZZ_CHECK(rc == WSC_EBAD_EXTENSION && !why.empty());
    }
  }
  // The client's own offer is one a server with the same options can answer.
  {
    std::string offer = wsc::pmd_client_offer(cfg);
    FUZZ_CHECK(wsc::header_value_valid(offer));
    wsc_deflate_options_t server = WSC_DEFLATE_OPTIONS_INIT;
    wsc::PmdAgreement a;
    std::string reply;
    FUZZ_CHECK(wsc::pmd_server_negotiate({offer}, server, &a, &reply));
    std::string why;
    FUZZ_CHECK(wsc::pmd_client_accept(reply, cfg, &a, &why) == 0);
  }

  // split_list and list_has_token.
  std::vector<std::string> items = wsc::split_list(text);
  size_t commas = 0;
  for (char c : text) commas += c == ',';
  FUZZ_CHECK(items.size() <= commas + 1);
  for (const auto &item : items) {
    FUZZ_CHECK(!item.empty() && item.find(',') == std::string::npos);
    FUZZ_CHECK(item.front() != ' ' && item.front() != '\t' && item.back() != ' ' && item.back() != '\t');
    FUZZ_CHECK(wsc::list_has_token(text, item));
  }
  if (!text.empty() && text.find(',') == std::string::npos && text.find_first_not_of(" \t") == std::string::npos)
    FUZZ_CHECK(items.empty());

  // Tokens, keys, header values.
  FUZZ_CHECK(wsc::is_token(text) == token(text));
  FUZZ_CHECK(wsc::header_name_valid(text) == token(text));
  FUZZ_CHECK(wsc::header_value_valid(text) == (text.find_first_of(std::string("\r\n\0", 3)) == std::string::npos));
  uint8_t key[16];
  const bool decodes = decode_key(text, key);
  const bool canonical = decodes && wsc::base64_encode(key, sizeof key) == text;
  FUZZ_CHECK(wsc::websocket_key_valid(text) == canonical);
  const std::string encoded = wsc::base64_encode(reinterpret_cast<const uint8_t *>(text.data()), text.size());
  FUZZ_CHECK(encoded.size() == 4 * ((text.size() + 2) / 3));
  // The accept value of any key, short (hashed from the stack) or long: base64 of the portable
  // SHA-1 (the CPU's SHA extensions, where sha1() uses them, checked against it).
  const std::string keyed = text + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  uint8_t digest[wsc::kSha1Size];
  wsc::sha1_portable(reinterpret_cast<const uint8_t *>(keyed.data()), keyed.size(), digest);
  FUZZ_CHECK(wsc::websocket_accept(text).view() == wsc::base64_encode(digest, sizeof digest));
  return 0;
}

}  // namespace wsc_fuzz

WSC_FUZZ_ENTRY(extensions)

// Test support: hex and payload notation, feeding a parser in pieces, and events as text.
#ifndef WSC_TESTS_SUPPORT_H
#define WSC_TESTS_SUPPORT_H

#include <cstdint>
#include <cstdio>
#include <algorithm>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "wsc/wsc.h"

namespace wsc_test {

using Bytes = std::vector<uint8_t>;

inline std::string hex(const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}
inline std::string hex(const Bytes &b) { return hex(b.data(), b.size()); }

inline Bytes bytes(const std::string &s) { return Bytes(s.begin(), s.end()); }

// Parses payload notation, a sequence of tokens separated by spaces:
//   ab         one byte in hex
//   300*ab     a byte repeated
//   "text"     ASCII with C escapes \" \\ \n \r \t \xNN
inline Bytes parse_payload(const std::string &text) {
  Bytes out;
  size_t i = 0;
  auto hexval = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  while (i < text.size()) {
    char c = text[i];
    if (c == ' ' || c == '\t') {
      ++i;
    } else if (c == '"') {
      ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) {
          char e = text[++i];
          if (e == 'x' && i + 2 < text.size()) {
            out.push_back(static_cast<uint8_t>(hexval(text[i + 1]) * 16 + hexval(text[i + 2])));
            i += 3;
            continue;
          }
          out.push_back(static_cast<uint8_t>(e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e));
          ++i;
        } else {
          out.push_back(static_cast<uint8_t>(text[i++]));
        }
      }
      if (i >= text.size()) throw std::runtime_error("unterminated string in: " + text);
      ++i;
    } else {
      size_t end = text.find_first_of(" \t", i);
      std::string tok = text.substr(i, end == std::string::npos ? std::string::npos : end - i);
      i = end == std::string::npos ? text.size() : end;
      size_t star = tok.find('*');
      size_t count = 1;
      if (star != std::string::npos) {
        count = std::stoul(tok.substr(0, star));
        tok = tok.substr(star + 1);
      }
      if (tok.size() != 2 || hexval(tok[0]) < 0 || hexval(tok[1]) < 0)
        throw std::runtime_error("bad byte token '" + tok + "' in: " + text);
      out.insert(out.end(), count, static_cast<uint8_t>(hexval(tok[0]) * 16 + hexval(tok[1])));
    }
  }
  return out;
}

// One event as a line of text: "message text 48656c6c6f", "fragment binary cont fin 01",
// "ping 00", "close 1000 6279", "error WSC_ERR_INVALID_OPCODE 1002".
inline std::string describe(const wsc_parser_event_t &ev) {
  auto op = [](uint32_t o) { return o == WSC_OP_TEXT ? "text" : o == WSC_OP_BINARY ? "binary" : "?"; };
  std::string payload = hex(ev.data, ev.len);
  std::string rsv1 = (ev.flags & WSC_FRAME_RSV1) ? " rsv1" : "";
  switch (ev.type) {
    case WSC_PARSER_MESSAGE: return std::string("message ") + op(ev.opcode) + rsv1 + " " + payload;
    case WSC_PARSER_FRAGMENT:
      return std::string("fragment ") + op(ev.opcode) + rsv1 + ((ev.flags & WSC_FRAME_CONTINUATION) ? " cont" : " first") +
             ((ev.flags & WSC_FRAME_FIN) ? " fin " : " more ") + payload;
    case WSC_PARSER_PING: return "ping " + payload;
    case WSC_PARSER_PONG: return "pong " + payload;
    case WSC_PARSER_CLOSE: return "close " + std::to_string(ev.close_code) + " " + payload;
    case WSC_PARSER_ERROR: return std::string("error ") + wsc_err_name(ev.error) + " " + std::to_string(ev.close_code);
  }
  return "unknown event";
}

// The ways a byte stream is cut into feeds: whole, one byte at a time, and random splits.
enum class Split { kWhole, kBytewise, kRandom };

inline std::vector<size_t> split_sizes(size_t total, Split how, uint32_t seed) {
  std::vector<size_t> sizes;
  if (how == Split::kWhole) {
    sizes.push_back(total);
  } else if (how == Split::kBytewise) {
    sizes.assign(total, 1);
  } else {
    std::mt19937 rng(seed);
    size_t left = total;
    while (left > 0) {
      size_t n = std::uniform_int_distribution<size_t>(1, std::min(left, 40 + left / 3))(rng);
      sizes.push_back(n);
      left -= n;
    }
  }
  return sizes;
}

// Feeds data through feed(piece, len, &consumed) -> rc, each piece in its own exactly sized heap
// buffer (so that ASan catches any read past it), carrying unconsumed bytes over. Returns the
// last rc.
inline int feed_split(const Bytes &data, Split how, uint32_t seed,
                      const std::function<int(uint8_t *, size_t, size_t *)> &feed) {
  Bytes pending;
  size_t off = 0;
  int rc = 0;
  for (size_t n : split_sizes(data.size(), how, seed)) {
    pending.insert(pending.end(), data.begin() + off, data.begin() + off + n);
    off += n;
    std::unique_ptr<uint8_t[]> piece(new uint8_t[pending.size() ? pending.size() : 1]);
    std::copy(pending.begin(), pending.end(), piece.get());
    size_t used = 0;
    rc = feed(piece.get(), pending.size(), &used);
    if (rc != 0) return rc;
    pending.erase(pending.begin(), pending.begin() + used);
  }
  if (!pending.empty()) {  // paused, or bytes left over: offer them once more
    size_t used = 0;
    rc = feed(pending.data(), pending.size(), &used);
  }
  return rc;
}

}  // namespace wsc_test

#endif

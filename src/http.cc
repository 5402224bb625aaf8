#include "http.h"

#include <cstring>

#include "sha1.h"

namespace wsc {

bool iequals_same_size(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (static_cast<unsigned>(x - 'A') < 26u) x = static_cast<unsigned char>(x + 32);
    if (static_cast<unsigned>(y - 'A') < 26u) y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

namespace {

// Byte classes, built at compile time: token characters (RFC 7230 §3.2.6) and base64 digits.
struct CharTables {
  bool token[256] = {};
  int8_t base64[256] = {};  // the digit's value, or -1
  constexpr CharTables() {
    constexpr std::string_view separators = "()<>@,;:\\\"/[]?={}";
    for (int c = 0x21; c < 0x7f; ++c) token[c] = separators.find(static_cast<char>(c)) == std::string_view::npos;
    constexpr std::string_view digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int c = 0; c < 256; ++c) base64[c] = -1;
    for (size_t i = 0; i < digits.size(); ++i) base64[static_cast<unsigned char>(digits[i])] = static_cast<int8_t>(i);
  }
};
constexpr CharTables kChars;
const char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!kChars.token[static_cast<unsigned char>(c)]) return false;
  return true;
}

std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> out;
  for_each_list_item(value, [&out](std::string_view item) {
    out.emplace_back(item);
    return false;
  });
  return out;
}

bool list_has_token(std::string_view value, std::string_view token) {
  return for_each_list_item(value, [token](std::string_view item) { return iequals(item, token); });
}

size_t base64_encode(const uint8_t *p, size_t n, char *out) {
  char *o = out;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (i + 1 < n) v |= uint32_t{p[i + 1]} << 8;
    if (i + 2 < n) v |= p[i + 2];
    *o++ = kBase64[v >> 18];
    *o++ = kBase64[(v >> 12) & 63];
    *o++ = i + 1 < n ? kBase64[(v >> 6) & 63] : '=';
    *o++ = i + 2 < n ? kBase64[v & 63] : '=';
  }
  return static_cast<size_t>(o - out);
}

std::string base64_encode(const uint8_t *p, size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  base64_encode(p, n, out.data());
  return out;
}

bool websocket_key_valid(std::string_view key) {
  // 16 bytes encode to 22 characters and "==".
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (size_t i = 0; i < 22; ++i)
    if (kChars.base64[static_cast<unsigned char>(key[i])] < 0) return false;
  // The last character carries 2 bits; the 4 unused ones must be zero (canonical base64).
  return kChars.base64[static_cast<unsigned char>(key[21])] % 16 == 0;
}

AcceptValue websocket_accept(std::string_view key) {
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 §1.3
  uint8_t digest[kSha1Size];
  char buf[24 + guid.size()];
  if (key.size() <= 24) {  // every valid key: no allocation
    std::memcpy(buf, key.data(), key.size());
    std::memcpy(buf + key.size(), guid.data(), guid.size());
    sha1(reinterpret_cast<const uint8_t *>(buf), key.size() + guid.size(), digest);
  } else {
    std::string s(key);
    s += guid;
    sha1(reinterpret_cast<const uint8_t *>(s.data()), s.size(), digest);
  }
  AcceptValue out;
  base64_encode(digest, sizeof digest, out.text);
  return out;
}

const char *status_reason(int status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

bool header_name_valid(std::string_view s) { return is_token(s); }

bool header_value_valid(std::string_view s) {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

const std::string *HttpMessage::find(std::string_view name) const {
  for (const auto &h : headers)
    if (iequals(h.first, name)) return &h.second;
  return nullptr;
}

HttpParser::HttpParser(Kind kind, size_t max_headers, size_t max_head_bytes, size_t max_body)
    : kind_(kind), max_headers_(max_headers), max_head_bytes_(max_head_bytes), max_body_(max_body) {
  llhttp_settings_init(&settings_);
  settings_.on_url = on_url;
  settings_.on_status = on_status;
  settings_.on_header_field = on_header_field;
  settings_.on_header_value = on_header_value;
  settings_.on_headers_complete = on_headers_complete;
  settings_.on_body = on_body;
  settings_.on_message_complete = on_message_complete;
  llhttp_init(&parser_, kind == kRequest ? HTTP_REQUEST : HTTP_RESPONSE, &settings_);
  parser_.data = this;
}

bool HttpParser::account(size_t n) {
  head_bytes_ += n;
  if (head_bytes_ > max_head_bytes_) {
    too_large_ = true;
    return false;
  }
  return true;
}

int HttpParser::on_url(llhttp_t *p, const char *at, size_t n) {
  auto *self = static_cast<HttpParser *>(p->data);
  if (!self->account(n)) return -1;
  self->msg.target.append(at, n);
  return 0;
}

int HttpParser::on_status(llhttp_t *p, const char *at, size_t n) {
  auto *self = static_cast<HttpParser *>(p->data);
  if (!self->account(n)) return -1;
  self->msg.reason.append(at, n);
  return 0;
}

int HttpParser::on_header_field(llhttp_t *p, const char *at, size_t n) {
  auto *self = static_cast<HttpParser *>(p->data);
  if (self->headers_done_) return 0;  // a trailer field: never merged into the head (RFC 7230 §4.1.2)
  if (!self->account(n)) return -1;
  if (self->msg.headers.empty() || self->in_value_) {
    if (self->msg.headers.size() >= self->max_headers_) {
      self->too_large_ = true;
      return -1;
    }
    self->msg.headers.emplace_back();
    self->in_value_ = false;
  }
  self->msg.headers.back().first.append(at, n);
  return 0;
}

int HttpParser::on_header_value(llhttp_t *p, const char *at, size_t n) {
  auto *self = static_cast<HttpParser *>(p->data);
  if (self->headers_done_) return 0;
  if (!self->account(n)) return -1;
  self->in_value_ = true;
  self->msg.headers.back().second.append(at, n);
  return 0;
}

int HttpParser::on_headers_complete(llhttp_t *p) {
  auto *self = static_cast<HttpParser *>(p->data);
  self->headers_done_ = true;
  // A field name is a token: llhttp lets whitespace before the colon into it ("Host : x"), which
  // RFC 7230 §3.2.4 says must be refused (a proxy may read the field differently).
  for (const auto &h : self->msg.headers)
    if (!is_token(h.first)) return -1;
  self->msg.major = llhttp_get_http_major(p);
  self->msg.minor = llhttp_get_http_minor(p);
  self->msg.upgrade = llhttp_get_upgrade(p) != 0;
  if (self->kind_ == kRequest) {
    self->msg.method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(p)));
    self->done_ = true;
    return 2;  // the head is all a handshake needs: stop here
  }
  self->msg.status = llhttp_get_status_code(p);
  if (self->msg.status == 101) {
    self->done_ = true;
    return 2;  // WebSocket data follows the head
  }
  return 0;  // read the body of a refusal
}

int HttpParser::on_body(llhttp_t *p, const char *at, size_t n) {
  auto *self = static_cast<HttpParser *>(p->data);
  size_t room = self->max_body_ - self->msg.body.size();
  self->msg.body.append(at, n < room ? n : room);  // keep a bounded prefix
  return 0;
}

int HttpParser::on_message_complete(llhttp_t *p) {
  auto *self = static_cast<HttpParser *>(p->data);
  self->done_ = true;
  return HPE_PAUSED;
}

HttpParser::Result HttpParser::feed(const char *p, size_t n, size_t *consumed) {
  *consumed = 0;
  if (done_) return kDone;
  llhttp_errno_t err = llhttp_execute(&parser_, p, n);
  if (err == HPE_OK) {
    *consumed = n;
    return kNeedMore;
  }
  if ((err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) && done_) {
    const char *pos = llhttp_get_error_pos(&parser_);
    *consumed = pos ? static_cast<size_t>(pos - p) : n;
    return kDone;
  }
  error_ = llhttp_get_error_reason(&parser_);
  return too_large_ ? kTooLarge : kBad;
}

void HttpParser::reset() {
  llhttp_init(&parser_, kind_ == kRequest ? HTTP_REQUEST : HTTP_RESPONSE, &settings_);
  parser_.data = this;
  msg = HttpMessage();
  head_bytes_ = 0;
  in_value_ = too_large_ = headers_done_ = done_ = false;
  error_ = nullptr;
}

HttpParser::Result HttpParser::finish() {
  if (done_) return kDone;
  llhttp_errno_t err = llhttp_finish(&parser_);
  if ((err == HPE_OK || err == HPE_PAUSED) && done_) return kDone;
  error_ = "connection closed before the response was complete";
  return kBad;
}

}  // namespace wsc

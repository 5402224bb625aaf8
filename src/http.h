// HTTP/1.1 for the opening handshake (RFC 6455 §4): llhttp with limits, and header helpers.
#ifndef WSC_SRC_HTTP_H
#define WSC_SRC_HTTP_H

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsc {

// ASCII case-insensitive equality (header names and tokens). Inline: most calls compare names
// of different lengths.
bool iequals_same_size(const char *a, const char *b, size_t n);
inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && iequals_same_size(a.data(), b.data(), a.size());
}
// RFC 7230 §3.2.6 token.
bool is_token(std::string_view s);
// Calls fn(element) for each trimmed, non-empty element of a comma-separated header value, until
// fn returns true; returns whether one did.
template <typename Fn>
bool for_each_list_item(std::string_view value, Fn &&fn) {
  for (size_t i = 0; i <= value.size();) {
    size_t comma = value.find(',', i);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view item = value.substr(i, comma - i);
    size_t b = item.find_first_not_of(" \t");
    if (b != std::string_view::npos && fn(item.substr(b, item.find_last_not_of(" \t") - b + 1))) return true;
    i = comma + 1;
  }
  return false;
}
// Splits a comma-separated header value into trimmed elements (empty ones dropped).
std::vector<std::string> split_list(std::string_view value);
// True if the comma-separated value holds token (case-insensitive).
bool list_has_token(std::string_view value, std::string_view token);
// Writes base64 of n bytes to out (4 * ((n + 2) / 3) characters); returns the count.
size_t base64_encode(const uint8_t *p, size_t n, char *out);
std::string base64_encode(const uint8_t *p, size_t n);
// RFC 6455 §4.2.1: Sec-WebSocket-Key is the base64 of 16 bytes.
bool websocket_key_valid(std::string_view key);
// RFC 6455 §4.2.2: base64(SHA-1(key + GUID)), 28 characters.
struct AcceptValue {
  char text[28];
  std::string_view view() const { return {text, sizeof text}; }
};
AcceptValue websocket_accept(std::string_view key);
const char *status_reason(int status);
// A header name is a token; a value holds no CR, LF or NUL.
bool header_name_valid(std::string_view s);
bool header_value_valid(std::string_view s);

struct HttpMessage {
  std::string method;  // request
  std::string target;  // request
  int status = 0;      // response
  std::string reason;  // response
  unsigned major = 0, minor = 0;
  bool upgrade = false;  // llhttp saw Connection: upgrade with Upgrade (or a 101)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // response body (bounded)
  // The value of the first header with this name, or nullptr.
  const std::string *find(std::string_view name) const;
};

// Parses one request head, or one response (head and a bounded body).
class HttpParser {
 public:
  enum Kind { kRequest, kResponse };
  enum Result { kNeedMore, kDone, kBad, kTooLarge };

  HttpParser(Kind kind, size_t max_headers, size_t max_head_bytes, size_t max_body);
  HttpParser(const HttpParser &) = delete;
  HttpParser &operator=(const HttpParser &) = delete;

  // Parses n bytes. On kDone, *consumed says where the message ended (WebSocket data follows).
  Result feed(const char *p, size_t n, size_t *consumed);
  // The peer closed: a response without a length ends here.
  Result finish();
  // Ready for a new message (a client that follows a redirect).
  void reset();
  const char *error() const { return error_; }

  HttpMessage msg;

 private:
  static int on_url(llhttp_t *, const char *, size_t);
  static int on_status(llhttp_t *, const char *, size_t);
  static int on_header_field(llhttp_t *, const char *, size_t);
  static int on_header_value(llhttp_t *, const char *, size_t);
  static int on_headers_complete(llhttp_t *);
  static int on_body(llhttp_t *, const char *, size_t);
  static int on_message_complete(llhttp_t *);
  bool account(size_t n);

  llhttp_t parser_;
  llhttp_settings_t settings_;
  Kind kind_;
  size_t max_headers_, max_head_bytes_, max_body_;
  size_t head_bytes_ = 0;
  bool in_value_ = false;
  bool too_large_ = false;
  bool headers_done_ = false;  // what follows is a body, and a chunked body's trailer section
  bool done_ = false;
  const char *error_ = nullptr;
};

}  // namespace wsc

#endif

// The checks of the opening handshake (RFC 6455 §4) without a connection: what a server answers
// a request with (server.cc) and whether a client takes the server's answer (client.cc). The
// connection code acts on their results; the fuzz targets (tests/fuzz) call them directly.
#ifndef WSC_SRC_HANDSHAKE_H
#define WSC_SRC_HANDSHAKE_H

#include <string>
#include <string_view>
#include <vector>

#include "deflate.h"
#include "http.h"
#include "wsc/deflate.h"

namespace wsc {

// A server's checks of an upgrade request (RFC 6455 §4.2.1), in order. path: the request
// target's path; required_path: the server's path option ("" for any). Returns 0 when the
// request may be upgraded, else the HTTP status to refuse it with (426 asks for
// Sec-WebSocket-Version: 13) and *why. The offered subprotocols are appended to *protocols as
// they are checked.
unsigned check_upgrade_request(const HttpMessage &m, std::string_view path, std::string_view required_path,
                               std::vector<std::string> *protocols, const char **why);

// RFC 7692 §5: a server's answer to the first acceptable permessage-deflate offer among the
// request's Sec-WebSocket-Extensions fields; false when none is.
bool negotiate_deflate_offers(const HttpMessage &m, const wsc_deflate_options_t &pmd, PmdAgreement *agreed,
                              std::string *answer);

// Appends the field "name: value" and its CRLF to an HTTP head.
void append_header(std::string &head, std::string_view name, std::string_view value);

// A server's 101 (RFC 6455 §4.2.2) to a request with this key, to its blank line: the accept
// value, the subprotocol and the permessage-deflate answer (each left out when empty), then extra.
std::string switching_protocols_head(std::string_view key, std::string_view protocol, std::string_view extensions,
                                     const std::vector<std::pair<std::string, std::string>> &extra);

// A client's checks of a 101 answer (RFC 6455 §4.1) against its request: the key it sent, the
// subprotocols it offered, and its permessage-deflate options (nullptr: not offered). Returns 0
// or the WSC_E* code to fail with, and *why. On 0, *protocol is the chosen subprotocol (or
// nullptr), and *extensions the Sec-WebSocket-Extensions value that *agreed was read from (or
// nullptr: no extension).
int check_upgrade_response(const HttpMessage &m, const std::string &key, const std::vector<std::string> &protocols,
                           const wsc_deflate_options_t *pmd, const std::string **protocol,
                           const std::string **extensions, PmdAgreement *agreed, std::string *why);

}  // namespace wsc

#endif

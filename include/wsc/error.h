/* wsc: error codes.
 *
 * Functions that can fail return 0 or a negative WSC_E* code. Codes are never renumbered; new
 * codes take new values. Ranges: -1..-99 general, -100..-199 WebSocket protocol violations
 * (each with the close code that RFC 6455 §7.4.1 prescribes), -200.. reserved for the
 * handshake, -300.. the network, -400.. TLS (a connection that fails with one reports 1015 in its
 * close event: RFC 6455 §7.4.1). */
#ifndef WSC_ERROR_H
#define WSC_ERROR_H

#include "common.h"

/* XX(name, value, close code to fail a connection with (0: none), message) */
#define WSC_ERRNO_MAP(XX)                                                                       \
  XX(EINVAL, -1, 0, "invalid argument")                                                         \
  XX(ENOMEM, -2, 1011, "out of memory")                                                            \
  XX(ENOBUFS, -3, 0, "buffer too small")                                                        \
  XX(EMSGSIZE, -4, 0, "payload too long for this frame type")                                   \
  XX(ECLOSECODE, -5, 0, "close code may not be sent on the wire")                               \
  XX(EUTF8, -6, 0, "text is not valid UTF-8")                                                   \
  XX(ESTATE, -7, 0, "operation not valid in the current state")                                 \
  XX(ERANDOM, -8, 0, "cryptographic random number generator failed")                            \
  XX(EBUSY, -9, 0, "handle is busy: call not allowed from inside its own callback")            \
  XX(ECLOSED, -10, 0, "a close frame was already sent")                                         \
  XX(EQUEUEFULL, -11, 1008, "send queue is over its limit")                                     \
  XX(ERR_INVALID_OPCODE, -100, 1002, "invalid opcode")                                          \
  XX(ERR_UNEXPECTED_RSV_1, -101, 1002, "RSV1 must be clear")                                    \
  XX(ERR_UNEXPECTED_RSV_2_3, -102, 1002, "RSV2 and RSV3 must be clear")                         \
  XX(ERR_EXPECTED_FIN, -103, 1002, "FIN must be set on a control frame")                        \
  XX(ERR_INVALID_CONTROL_PAYLOAD_LENGTH, -104, 1002, "invalid control frame payload length")    \
  XX(ERR_EXPECTED_MASK, -105, 1002, "MASK must be set")                                         \
  XX(ERR_UNEXPECTED_MASK, -106, 1002, "MASK must be clear")                                     \
  XX(ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH, -107, 1002, "payload length has its top bit set")     \
  XX(ERR_UNSUPPORTED_MESSAGE_LENGTH, -108, 1009, "max message size exceeded")                   \
  XX(ERR_INVALID_UTF8, -109, 1007, "invalid UTF-8 sequence")                                    \
  XX(ERR_INVALID_CLOSE_CODE, -110, 1002, "invalid close code")                                  \
  XX(ERR_UNEXPECTED_CONTINUATION, -111, 1002, "continuation frame without a message to continue") \
  XX(ERR_EXPECTED_CONTINUATION, -112, 1002, "new data frame inside a fragmented message")       \
  XX(ERR_TOO_MANY_FRAGMENTS, -113, 1008, "max fragments per message exceeded")                  \
  XX(ERR_FRAME_TOO_BIG, -114, 1009, "max frame size exceeded")                                 \
  XX(ERR_INVALID_COMPRESSED_DATA, -115, 1007, "invalid compressed data")                        \
  XX(EURL, -200, 0, "invalid WebSocket URL")                                                    \
  XX(EUNEXPECTED_RESPONSE, -201, 0, "unexpected server response")                               \
  XX(EBAD_RESPONSE, -202, 0, "malformed HTTP response")                                         \
  XX(EBAD_ACCEPT, -203, 0, "invalid Sec-WebSocket-Accept header")                               \
  XX(EBAD_PROTOCOL, -204, 0, "server chose a subprotocol that was not offered")                 \
  XX(EBAD_EXTENSION, -205, 0, "server chose an extension that was not offered")                 \
  XX(EHANDSHAKE_TIMEOUT, -206, 0, "opening handshake timed out")                                \
  XX(EBAD_REQUEST, -207, 0, "invalid upgrade request")                                          \
  XX(EREJECTED, -208, 0, "upgrade request rejected")                                            \
  XX(EREDIRECT, -209, 0, "redirect not followed")                                               \
  XX(ECONNREFUSED, -300, 0, "connection refused")                                               \
  XX(ECONNRESET, -301, 0, "connection reset by peer")                                           \
  XX(ETIMEDOUT, -302, 0, "connection timed out")                                                \
  XX(EADDRINUSE, -303, 0, "address already in use")                                             \
  XX(ENAME, -304, 0, "host name could not be resolved")                                         \
  XX(EIO, -305, 0, "I/O error")                                                                 \
  XX(ENOTFOUND, -306, 0, "no such connection")                                                 \
  XX(ETLS, -400, 0, "TLS error")                                                                \
  XX(ETLS_HANDSHAKE, -401, 0, "TLS handshake failed")                                           \
  XX(ECERT_UNTRUSTED, -402, 0, "certificate not trusted (unknown or self-signed issuer)")       \
  XX(ECERT_EXPIRED, -403, 0, "certificate expired or not yet valid")                            \
  XX(ECERT_HOSTNAME, -404, 0, "certificate does not match the host name or address")            \
  XX(ECERT_REQUIRED, -405, 0, "peer certificate required")                                      \
  XX(ECERT_INVALID, -406, 0, "certificate verification failed")                                 \
  XX(ETLS_CONFIG, -407, 0, "invalid TLS configuration (certificate, key, CA or cipher list)")

WSC_BEGIN_DECLS

typedef enum wsc_errno {
  WSC_OK = 0,
#define WSC_ERRNO_ENUM_(name, value, close_code, message) WSC_##name = value,
  WSC_ERRNO_MAP(WSC_ERRNO_ENUM_)
#undef WSC_ERRNO_ENUM_
} wsc_errno_t;

/* A short English description of err ("unknown error" for a value not in the list). Static
 * storage; never NULL. */
WSC_EXTERN const char *wsc_strerror(int err);

/* The constant's name, e.g. "WSC_EINVAL" or "WSC_ERR_INVALID_UTF8" ("WSC_EUNKNOWN" for a value
 * not in the list). Static storage; never NULL. */
WSC_EXTERN const char *wsc_err_name(int err);

/* The close code (RFC 6455 §7.4.1) a connection closes with when it fails with err: the code of
 * each protocol error, 1011 for WSC_ENOMEM, 0 for other codes. */
WSC_EXTERN uint16_t wsc_err_close_code(int err);

/* The detail behind the most recent error code on this thread that had more to say than
 * wsc_strerror (e.g. WSC_ETLS_CONFIG from wsc_connect or wsc_server_new: which file, and
 * OpenSSL's reason), or "" if none. Valid until the next failing wsc call on this thread;
 * wsc_connect and wsc_server_new clear it first, so after one of them it is that call's.
 * Thread-safe. */
WSC_EXTERN const char *wsc_last_error_message(void);

WSC_END_DECLS

#endif /* WSC_ERROR_H */

/* wsc: close codes (RFC 6455 §7.4, IANA "WebSocket Close Code Number Registry"). */
#ifndef WSC_CLOSE_H
#define WSC_CLOSE_H

#include "common.h"

/* XX(name, code) */
#define WSC_CLOSE_MAP(XX)          \
  XX(NORMAL, 1000)                 \
  XX(GOING_AWAY, 1001)             \
  XX(PROTOCOL_ERROR, 1002)         \
  XX(UNSUPPORTED_DATA, 1003)       \
  XX(RESERVED, 1004)               \
  XX(NO_STATUS, 1005)              \
  XX(ABNORMAL, 1006)               \
  XX(INVALID_DATA, 1007)           \
  XX(POLICY_VIOLATION, 1008)       \
  XX(MESSAGE_TOO_BIG, 1009)        \
  XX(EXTENSION_REQUIRED, 1010)     \
  XX(INTERNAL_SERVER_ERROR, 1011)  \
  XX(SERVICE_RESTART, 1012)        \
  XX(TRY_AGAIN_LATER, 1013)        \
  XX(BAD_GATEWAY, 1014)            \
  XX(TLS_HANDSHAKE_FAILED, 1015)

WSC_BEGIN_DECLS

typedef enum wsc_close_code {
#define WSC_CLOSE_ENUM_(name, code) WSC_CLOSE_##name = code,
  WSC_CLOSE_MAP(WSC_CLOSE_ENUM_)
#undef WSC_CLOSE_ENUM_
} wsc_close_code_t;

/* 1 if code may travel in a Close frame: 1000-1003, 1007-1014 and 3000-4999. 1004, 1005, 1006
 * and 1015 are reserved for local use (RFC 6455 §7.4.1); 0-999 and 1016-2999 are unassigned or
 * reserved, 5000 and above invalid. Else 0. */
WSC_EXTERN int wsc_close_code_valid(uint32_t code);

/* The name of a code in the list above ("NORMAL", "GOING_AWAY", ...), or NULL. Static storage. */
WSC_EXTERN const char *wsc_close_code_name(uint32_t code);

WSC_END_DECLS

#endif /* WSC_CLOSE_H */

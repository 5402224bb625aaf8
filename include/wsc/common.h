/* wsc: common definitions shared by every public header. */
#ifndef WSC_COMMON_H
#define WSC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) && __GNUC__ >= 4
#define WSC_EXTERN extern __attribute__((visibility("default")))
#else
#define WSC_EXTERN extern
#endif

#ifdef __cplusplus
#define WSC_BEGIN_DECLS extern "C" {
#define WSC_END_DECLS }
#else
#define WSC_BEGIN_DECLS
#define WSC_END_DECLS
#endif

WSC_BEGIN_DECLS

/* Which end of a connection a parser or sender serves. A server requires masked frames from its
 * peer and sends unmasked ones; a client does the opposite (RFC 6455 §5.1). */
typedef enum wsc_role {
  WSC_ROLE_CLIENT = 0,
  WSC_ROLE_SERVER = 1
} wsc_role_t;

/* A borrowed span of bytes. */
typedef struct wsc_buf_s {
  const uint8_t *base;
  size_t len;
} wsc_buf_t;

WSC_END_DECLS

#endif /* WSC_COMMON_H */

/* wsc: permessage-deflate (RFC 7692) options. */
#ifndef WSC_DEFLATE_H
#define WSC_DEFLATE_H

#include "common.h"

WSC_BEGIN_DECLS

/* Flags (wsc_deflate_options_t.flags), as ws' perMessageDeflate options. */
#define WSC_DEFLATE_SERVER_NO_CONTEXT_TAKEOVER 0x1u
#define WSC_DEFLATE_CLIENT_NO_CONTEXT_TAKEOVER 0x2u
#define WSC_DEFLATE_DISABLE 0x4u /* a client does not offer the extension */

#define WSC_DEFAULT_DEFLATE_THRESHOLD 1024u

typedef struct wsc_deflate_options_s {
  uint32_t size;                   /* sizeof(wsc_deflate_options_t) */
  uint32_t flags;                  /* WSC_DEFLATE_* */
  uint32_t server_max_window_bits; /* 8-15; 0: not asked for (15) */
  uint32_t client_max_window_bits; /* 8-15; 0: not asked for (a client offers the parameter
                                      without a value, as ws does) */
  int32_t level;                   /* zlib level 0-9; -1: zlib's default */
  uint32_t mem_level;              /* zlib memLevel 1-9; 0: 8 */
  uint64_t threshold;              /* messages below it are sent uncompressed (the first fragment
                                      decides for a streamed message) */
} wsc_deflate_options_t;

#define WSC_DEFLATE_OPTIONS_INIT \
  { sizeof(wsc_deflate_options_t), 0, 0, 0, -1, 0, WSC_DEFAULT_DEFLATE_THRESHOLD }

WSC_EXTERN int wsc_deflate_options_init(wsc_deflate_options_t *opts, size_t size);

WSC_END_DECLS

#endif /* WSC_DEFLATE_H */

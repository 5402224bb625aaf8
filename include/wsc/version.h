/* wsc: version macros and run-time version query. */
#ifndef WSC_VERSION_H
#define WSC_VERSION_H

#include "common.h"

#define WSC_VERSION_MAJOR 0
#define WSC_VERSION_MINOR 1
#define WSC_VERSION_PATCH 0

#define WSC_STRINGIFY_(x) #x
#define WSC_STRINGIFY(x) WSC_STRINGIFY_(x)

/* One number that grows with each release: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define WSC_VERSION_NUMBER (WSC_VERSION_MAJOR * 10000 + WSC_VERSION_MINOR * 100 + WSC_VERSION_PATCH)
#define WSC_VERSION_STRING \
  WSC_STRINGIFY(WSC_VERSION_MAJOR) "." WSC_STRINGIFY(WSC_VERSION_MINOR) "." WSC_STRINGIFY(WSC_VERSION_PATCH)

WSC_BEGIN_DECLS

/* The version of the library that is loaded, as WSC_VERSION_NUMBER. Compare it with the macro
 * to detect a header/library mismatch. */
WSC_EXTERN uint32_t wsc_version(void);

/* The same as "MAJOR.MINOR.PATCH". Static storage; never NULL. */
WSC_EXTERN const char *wsc_version_string(void);

WSC_END_DECLS

#endif /* WSC_VERSION_H */

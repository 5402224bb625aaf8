#include "wsc/version.h"

uint32_t wsc_version(void) { return WSC_VERSION_NUMBER; }

const char *wsc_version_string(void) { return WSC_VERSION_STRING; }

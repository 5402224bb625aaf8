#include "wsc/close.h"

int wsc_close_code_valid(uint32_t code) {
  // RFC 6455 §7.4.1-§7.4.2: 1004-1006 and 1015 must not be sent; 1012-1014 are registered
  // with IANA since; 3000-4999 are for libraries, frameworks and applications.
  if (code >= 1000 && code <= 1014) return code < 1004 || code > 1006;
  return code >= 3000 && code <= 4999;
}

const char *wsc_close_code_name(uint32_t code) {
  switch (code) {
#define WSC_CLOSE_NAME_(name, value) \
  case value: return #name;
    WSC_CLOSE_MAP(WSC_CLOSE_NAME_)
#undef WSC_CLOSE_NAME_
    default: return nullptr;
  }
}

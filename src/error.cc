#include "wsc/error.h"

#include <string>

#include "last_error.h"

const char *wsc_strerror(int err) {
  switch (err) {
    case WSC_OK: return "success";
#define WSC_STRERROR_(name, value, close_code, message) \
  case WSC_##name: return message;
    WSC_ERRNO_MAP(WSC_STRERROR_)
#undef WSC_STRERROR_
    default: return "unknown error";
  }
}

const char *wsc_err_name(int err) {
  switch (err) {
    case WSC_OK: return "WSC_OK";
#define WSC_ERR_NAME_(name, value, close_code, message) \
  case WSC_##name: return "WSC_" #name;
    WSC_ERRNO_MAP(WSC_ERR_NAME_)
#undef WSC_ERR_NAME_
    default: return "WSC_EUNKNOWN";
  }
}

uint16_t wsc_err_close_code(int err) {
  switch (err) {
#define WSC_ERR_CLOSE_(name, value, close_code, message) \
  case WSC_##name: return close_code;
    WSC_ERRNO_MAP(WSC_ERR_CLOSE_)
#undef WSC_ERR_CLOSE_
    default: return 0;
  }
}

namespace {
thread_local std::string last_error;
}  // namespace

int wsc::set_last_error(int err, const std::string &message) {
  last_error = message;
  return err;
}

const char *wsc_last_error_message(void) { return last_error.c_str(); }

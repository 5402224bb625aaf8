// The detail behind a failed call's error code (wsc_last_error_message), per thread.
#ifndef WSC_SRC_LAST_ERROR_H
#define WSC_SRC_LAST_ERROR_H

#include <string>

namespace wsc {
// Records message for wsc_last_error_message() and returns err.
int set_last_error(int err, const std::string &message);
}  // namespace wsc

#endif

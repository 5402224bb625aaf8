/* wsc: WebSocket library with a stable C ABI. Include this header for the whole API. */
#ifndef WSC_WSC_H
#define WSC_WSC_H

#include "common.h"
#include "version.h"
#include "error.h"
#include "close.h"
#include "frame.h"
#include "parser.h"
#include "sender.h"
#include "loop.h"
#include "conn.h"
#include "server.h"
#include "client.h"
#include "deflate.h"

#endif /* WSC_WSC_H */

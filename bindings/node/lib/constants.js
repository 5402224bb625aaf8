'use strict';
// Shared names and values of the JS layer.
module.exports = {
  BINARY_TYPES: ['nodebuffer', 'arraybuffer', 'fragments', 'blob'],
  EMPTY_BUFFER: Buffer.alloc(0),
  READY_STATES: ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'],
  PROTOCOL_VERSIONS: [8, 13],
  CLOSE_TIMEOUT: 30000,
  // The events of the native layer (include/wsc/conn.h, include/wsc/server.h).
  EV: {
    OPEN: 1, MESSAGE: 2, FRAGMENT: 3, PING: 4, PONG: 5, CLOSE: 6, ERROR: 7, UPGRADE: 8,
    UNEXPECTED_RESPONSE: 9, DRAIN: 10, TIMEOUT: 11, REDIRECT: 12, RECONNECTING: 13, SENT: 20
  },
  SEV: {
    LISTENING: 1, REQUEST: 2, CONNECTION: 3, CLIENT_ERROR: 4, ERROR: 5, CLOSE: 6, HTTP_REQUEST: 7,
    REQUEST_CANCELLED: 8
  },
  OP_TEXT: 1,
  OP_BINARY: 2,
  SEND_MORE: 0x1,
  SEND_NO_COMPRESS: 0x4,
  SEND_BACKPRESSURE: 1,
  SHUTDOWN_KEEP_CONNECTIONS: 0x1,
  kTarget: Symbol('kTarget'),
  kListener: Symbol('kListener'),
  kForOnEventAttribute: Symbol('kForOnEventAttribute')
};

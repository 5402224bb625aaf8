'use strict';
// wsc's error codes (include/wsc/error.h) as the errors ws users know: ws' WS_ERR_* codes and
// messages for protocol violations, Node's system error codes for the network, Node's TLS codes
// for certificates. Every error also carries wscCode and wscName.

// Protocol errors whose ws code differs from 'WS_' + wsc's name without its 'WSC_' prefix.
const WS_CODES = {
  WSC_ERR_UNEXPECTED_CONTINUATION: 'WS_ERR_INVALID_OPCODE',
  WSC_ERR_EXPECTED_CONTINUATION: 'WS_ERR_INVALID_OPCODE',
  WSC_ERR_TOO_MANY_FRAGMENTS: 'WS_ERR_TOO_MANY_BUFFERED_PARTS',
  WSC_ERR_FRAME_TOO_BIG: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
  WSC_ERR_INVALID_COMPRESSED_DATA: 'Z_DATA_ERROR'
};

// Network errors: Node's code, errno and the system call that failed.
const SYSTEM = {
  WSC_ECONNREFUSED: ['ECONNREFUSED', -111, 'connect'],
  WSC_ECONNRESET: ['ECONNRESET', -104, 'read'],
  WSC_ETIMEDOUT: ['ETIMEDOUT', -110, 'connect'],
  WSC_EADDRINUSE: ['EADDRINUSE', -98, 'listen'],
  WSC_ENAME: ['ENOTFOUND', -3008, 'getaddrinfo']
};

const TLS = {
  WSC_ECERT_UNTRUSTED: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  WSC_ECERT_EXPIRED: 'CERT_HAS_EXPIRED',
  WSC_ECERT_HOSTNAME: 'ERR_TLS_CERT_ALTNAME_INVALID',
  WSC_ECERT_REQUIRED: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE',
  WSC_ECERT_INVALID: 'ERR_TLS_CERT_INVALID',
  WSC_ETLS_HANDSHAKE: 'ERR_SSL_HANDSHAKE_FAILURE',
  WSC_ETLS: 'ERR_SSL_ERROR'
};

// ws' own words for the handshake failures it reports.
const HANDSHAKE = {
  WSC_EBAD_ACCEPT: 'Invalid Sec-WebSocket-Accept header',
  WSC_EHANDSHAKE_TIMEOUT: 'Opening handshake has timed out'
};

function decorate(err, wscCode, wscName) {
  err.wscCode = wscCode;
  err.wscName = wscName;
  return err;
}

// An error event of a connection (code: negative WSC_E*, message: wsc's text, name: its name).
// `where` gives host and port for network errors.
function connectionError(code, message, name, where = {}) {
  if (code <= -100 && code > -200) {  // a protocol violation by the peer
    let err;
    if (name === 'WSC_ERR_UNSUPPORTED_MESSAGE_LENGTH' || name === 'WSC_ERR_FRAME_TOO_BIG') {
      err = new RangeError('Max payload size exceeded');
    } else if (name === 'WSC_ERR_INVALID_UTF8') {
      err = new Error(`Invalid WebSocket frame: ${message}`);
    } else {
      err = new RangeError(`Invalid WebSocket frame: ${message}`);
    }
    err.code = WS_CODES[name] || name.replace(/^WSC_/, 'WS_');
    return decorate(err, code, name);
  }
  if (SYSTEM[name]) {
    const [sysCode, errno, syscall] = SYSTEM[name];
    const target = syscall === 'getaddrinfo' ? where.host : where.port !== undefined ? `${where.host}:${where.port}` : where.host;
    const err = new Error(`${syscall} ${sysCode}${target ? ` ${target}` : ''}`);
    err.errno = errno;
    err.code = sysCode;
    err.syscall = syscall;
    if (syscall === 'getaddrinfo') err.hostname = where.host;
    else if (where.host !== undefined) {
      err.address = where.host;
      if (where.port !== undefined) err.port = where.port;
    }
    return decorate(err, code, name);
  }
  if (name === 'WSC_EREDIRECT' && /loop|redirects/i.test(message)) message = 'Maximum redirects exceeded';
  const err = new Error(HANDSHAKE[name] || message);
  err.code = TLS[name] || name;
  return decorate(err, code, name);
}

// A failed call (a negative return code).
function callError(native, code) {
  const name = native.errName(code);
  const err = new Error(native.strerror(code));
  err.code = SYSTEM[name] ? SYSTEM[name][0] : name;
  return decorate(err, code, name);
}

module.exports = { connectionError, callError, decorate };

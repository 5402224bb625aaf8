'use strict';
// The WebSocket class: ws 8's API (and the names of its 2.x API) over a wsc connection. The
// connection lives in libwsc on Node's own loop; this object holds its handle and turns the
// native events into ws' events, with ws' defaults, errors and messages.
const EventEmitter = require('events');
const { randomBytes } = require('crypto');
const { URL } = require('url');

const native = require('./binding');
const {
  BINARY_TYPES, EMPTY_BUFFER, READY_STATES, PROTOCOL_VERSIONS, CLOSE_TIMEOUT, EV, OP_TEXT, OP_BINARY,
  SEND_MORE, SEND_NO_COMPRESS
} = require('./constants');
const { EventTarget, defineOnAttributes } = require('./event-target');
const { connectionError, callError } = require('./errors');
const { isValidStatusCode, subprotocolValid, toUint8, deflateOptions, tlsOptions, headerList, Response, RedirectRequest } =
  require('./util');

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

// The ws 2.x `flags` argument of 'message', shared (never allocated per message).
const FLAGS = {
  client: [Object.freeze({ binary: false, masked: false }), Object.freeze({ binary: true, masked: false })],
  server: [Object.freeze({ binary: false, masked: true }), Object.freeze({ binary: true, masked: true })]
};

class WebSocket extends EventEmitter {
  constructor(address, protocols, options) {
    super();
    this._binaryType = BINARY_TYPES[0];
    this._h = null;
    this._readyState = CONNECTING;
    this._closeCode = 1006;
    this._closeMessage = EMPTY_BUFFER;
    this._wasClean = false;
    this._extensions = '';
    this._protocol = '';
    this._url = undefined;
    this._isServer = false;
    this._paused = false;
    this._sendCallbacks = [];
    this._bufferedAfterClose = 0;
    this._abortMessage = null;
    this._errorEmitted = false;
    this._deferred = null;
    this._suppressHandshakeError = false;
    this._unexpectedStatus = 0;
    this._target = {};
    this._info = null;
    this._redirectHeaders = null;
    this._flags = FLAGS.client;
    this._blobQueue = null;
    this.upgradeReq = undefined;

    if (address !== null) {
      if (protocols === undefined) {
        protocols = [];
      } else if (!Array.isArray(protocols)) {
        if (typeof protocols === 'object' && protocols !== null) {
          options = protocols;
          protocols = [];
        } else {
          protocols = [protocols];
        }
      }
      initAsClient(this, address, protocols, options);
    } else {
      this._isServer = true;
      this._flags = FLAGS.server;
    }
  }

  get binaryType() { return this._binaryType; }

  set binaryType(type) {
    if (!BINARY_TYPES.includes(type)) return;
    this._binaryType = type;
  }

  get bufferedAmount() {
    if (!this._h) return this._bufferedAfterClose;
    return native.bufferedAmount(this._h) + this._bufferedAfterClose;
  }

  get extensions() { return this._extensions; }
  get isPaused() { return this._paused; }
  get protocol() { return this._protocol; }
  get url() { return this._url; }

  get readyState() {
    if (this._readyState === OPEN && this._h) return native.readyState(this._h);
    return this._readyState;
  }

  // ws 2.x names.
  get protocolVersion() { return 13; }

  get bytesReceived() {
    const info = this._liveInfo();
    return info && info.bytesIn !== undefined ? info.bytesIn : 0;
  }

  // The socket's addresses, as ws users read them from ws._socket.
  get _socket() {
    if (this._readyState === CONNECTING || !this._info) return null;
    const { remote = {}, local = {} } = this._info;
    return {
      remoteAddress: remote.address, remotePort: remote.port, remoteFamily: remote.family,
      localAddress: local.address, localPort: local.port,
      encrypted: !!this._info.tls
    };
  }

  _liveInfo() {
    if (this._h && this._readyState !== CONNECTING && this._readyState !== CLOSED) {
      try {
        return native.info(this._h);
      } catch {
        return null;
      }
    }
    return null;
  }

  close(code, data) {
    const state = this.readyState;
    if (state === CLOSED) return;
    if (state === CONNECTING) {
      abortHandshake(this, 'WebSocket was closed before the connection was established');
      return;
    }
    if (state === CLOSING) return;
    if (code !== undefined && (typeof code !== 'number' || !isValidStatusCode(code))) {
      throw new TypeError('First argument must be a valid error code number');
    }
    let reason = EMPTY_BUFFER;
    if (code !== undefined && data !== undefined && data.length !== 0) {
      reason = typeof data === 'string' ? Buffer.from(data) : toUint8(data);
      if (reason === null) throw new TypeError('Second argument must be a string or a Uint8Array');
      if (reason.length > 123) throw new RangeError('The message must not be greater than 123 bytes');
    }
    this._readyState = CLOSING;
    const rc = native.close(this._h, code === undefined ? 0 : code, reason);
    if (rc < 0 && rc !== -7 /* WSC_ESTATE: closing already */) throw callError(native, rc);
  }

  pause() {
    const state = this.readyState;
    if (state === CONNECTING || state === CLOSED) return;
    this._paused = true;
    native.pause(this._h, true);
  }

  resume() {
    const state = this.readyState;
    if (state === CONNECTING || state === CLOSED) return;
    this._paused = false;
    native.pause(this._h, false);
  }

  ping(data, mask, cb) { this._control(true, data, mask, cb); }
  pong(data, mask, cb) { this._control(false, data, mask, cb); }

  _control(isPing, data, mask, cb) {
    const state = this.readyState;
    if (state === CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    if (typeof data === 'function') {
      cb = data;
      data = undefined;
    } else if (typeof mask === 'function') {
      cb = mask;
    }
    if (typeof data === 'number') data = data.toString();
    if (state !== OPEN) {
      sendAfterClose(this, data, cb);
      return;
    }
    const bytes = data === undefined || data === null ? EMPTY_BUFFER : typeof data === 'string' ? Buffer.from(data) : toUint8(data);
    if (bytes === null) throw new TypeError('The data argument must be a string, a Buffer, an ArrayBuffer or a view');
    if (bytes.length > 125) throw new RangeError('The data size must not be greater than 125 bytes');
    const rc = isPing ? native.ping(this._h, bytes, cb !== undefined) : native.pong(this._h, bytes, cb !== undefined);
    this._afterSend(rc, cb, bytes);
  }

  send(data, options, cb) {
    const state = this.readyState;
    if (state === CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    if (typeof data === 'number') data = data.toString();
    if (state !== OPEN) {
      sendAfterClose(this, data, cb);
      return;
    }
    let binary = typeof data !== 'string';
    let flags = 0;
    if (options !== undefined) {
      if (options.binary !== undefined) binary = !!options.binary;
      if (options.fin === false) flags |= SEND_MORE;
      if (options.compress === false) flags |= SEND_NO_COMPRESS;
    }
    if (this._blobQueue !== null || (typeof Blob !== 'undefined' && data instanceof Blob)) {
      this._sendInOrder(data, binary, flags, cb);
      return;
    }
    this._sendNow(data, binary, flags, cb);
  }

  _sendNow(data, binary, flags, cb) {
    // A string goes to the native layer as is (encoded there); other data as its bytes.
    if (data === undefined || data === null) data = EMPTY_BUFFER;
    else if (typeof data !== 'string') data = toUint8(data) || String(data);
    const rc = native.send(this._h, data, binary ? OP_BINARY : OP_TEXT, flags, cb !== undefined);
    this._afterSend(rc, cb, data);
  }

  // A Blob's bytes arrive later (blob.arrayBuffer()): it and every send after it wait in a queue
  // that drains in order, as in ws.
  _sendInOrder(data, binary, flags, cb) {
    if (this._blobQueue === null) this._blobQueue = [];
    this._blobQueue.push({ data, binary, flags, cb });
    if (this._blobQueue.length === 1) this._drainBlobs();
  }

  _drainBlobs() {
    const q = this._blobQueue;
    while (q.length) {
      const item = q[0];
      if (typeof Blob !== 'undefined' && item.data instanceof Blob) {
        item.data.arrayBuffer().then((ab) => {
          item.data = Buffer.from(ab);
          this._drainBlobs();
        }, (err) => {
          q.shift();
          if (item.cb) item.cb(err);
          this._drainBlobs();
        });
        return;
      }
      q.shift();
      if (this.readyState !== OPEN) {
        sendAfterClose(this, item.data, item.cb);
        continue;
      }
      this._sendNow(item.data, item.binary, item.flags, item.cb);
    }
    this._blobQueue = null;
  }

  _afterSend(rc, cb, data) {
    if (rc >= 0) {
      if (cb !== undefined) this._sendCallbacks.push(cb);
      return;
    }
    // Not queued: not open any more (the peer's close arrived), the queue is over its cap, ...
    if (rc === -7 /* WSC_ESTATE */) {
      this._readyState = native.readyState(this._h);
      sendAfterClose(this, data, cb);
      return;
    }
    const err = callError(native, rc);
    if (cb) process.nextTick(cb, err);
  }

  terminate() {
    const state = this.readyState;
    if (state === CLOSED) return;
    if (state === CONNECTING) {
      abortHandshake(this, 'WebSocket was closed before the connection was established');
      return;
    }
    this._readyState = CLOSING;
    native.terminate(this._h);
  }

  // ---- native events ----

  _onOpen() {
    this._readyState = OPEN;
    this._info = native.info(this._h);
    this._protocol = this._info.protocol;
    this._extensions = extensionNames(this._info.extensions);
    if (this._serverContext) {
      const ctx = this._serverContext;
      this._serverContext = null;
      ctx.server._opened(this, ctx);
      return;
    }
    this.emit('open');
  }

  _onMessage(data, isBinary) {
    if (isBinary && this._binaryType !== 'nodebuffer') data = toBinaryType(this._binaryType, data);
    this.emit('message', data, isBinary, this._flags[isBinary ? 1 : 0]);
  }

  _onClose(code, reason, wasClean) {
    this._readyState = CLOSED;
    this._closeCode = code === 1015 ? 1006 : code;  // ws never reports 1015 (a TLS failure)
    this._closeMessage = reason;
    this._wasClean = !!wasClean;
    if (this._abortMessage !== null && !this._errorEmitted) this._emitError(new Error(this._abortMessage));
    this.emit('close', this._closeCode, this._closeMessage);
  }

  _onError(code, message, name) {
    let err;
    if (this._abortMessage !== null) {
      err = new Error(this._abortMessage);
    } else if (name === 'WSC_EUNEXPECTED_RESPONSE') {
      if (this._suppressHandshakeError) return;
      err = new Error(`Unexpected server response: ${this._unexpectedStatus}`);
    } else if (this._readyState !== CONNECTING && code <= -300) {
      // A socket or TLS failure of an open connection only closes it (1006), as in ws.
      return;
    } else {
      err = connectionError(code, message, name, this._target);
    }
    this._emitError(err);
  }

  _emitError(err) {
    this._errorEmitted = true;
    this.emit('error', err);
  }

  _onSent(status) {
    const cb = this._sendCallbacks.shift();
    if (cb === undefined) return;
    if (status === 0) cb();
    else cb(callError(native, status));
  }

  _onUpgrade(status, rawHeaders) {
    this.emit('upgrade', new Response(status, rawHeaders, EMPTY_BUFFER));
  }

  _onUnexpectedResponse(status, rawHeaders, body) {
    this._unexpectedStatus = status;
    if (this.listenerCount('unexpected-response') === 0) return;
    this._suppressHandshakeError = true;
    const req = new RedirectRequest(this, this._redirectHeaders);
    this.emit('unexpected-response', req, new Response(status, rawHeaders, body));
  }

  _onRedirect(status, location) {
    let next;
    try {
      next = new URL(location, this._url);
    } catch {
      return;
    }
    if (next.host !== new URL(this._url).host && this._redirectHeaders) {
      // wsc drops credentials when the host changes, as ws does.
      for (const name of [...this._redirectHeaders.keys()]) {
        if (name === 'authorization' || name === 'cookie') this._redirectHeaders.delete(name);
      }
    }
    this._url = next.href;
    this._target = { host: next.hostname, port: Number(next.port) || (next.protocol === 'wss:' ? 443 : 80) };
    this.emit('redirect', this._url, new RedirectRequest(this, this._redirectHeaders));
  }

  // ---- server side ----

  _attachServer(handle, ctx) {
    this._h = handle;
    this._serverContext = ctx;
    this.upgradeReq = ctx.req;
    native.bind(handle, this);
  }
}

for (let i = 0; i < READY_STATES.length; ++i) {
  const desc = { enumerable: true, value: i };
  Object.defineProperty(WebSocket, READY_STATES[i], desc);
  Object.defineProperty(WebSocket.prototype, READY_STATES[i], desc);
}

for (const name of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url']) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true });
}

defineOnAttributes(WebSocket.prototype);
WebSocket.prototype.addEventListener = EventTarget.addEventListener;
WebSocket.prototype.removeEventListener = EventTarget.removeEventListener;

// One function receives every connection's events, with the WebSocket as `this`.
function dispatch(type, a, b, c) {
  if (this._deferred !== null) {  // events of a call still in progress wait for the next tick
    this._deferred.push([type, a, b, c]);
    return;
  }
  switch (type) {
    case EV.MESSAGE: return this._onMessage(a, b);
    case EV.SENT: return this._onSent(a);
    case EV.PING: return this.emit('ping', a);
    case EV.PONG: return this.emit('pong', a);
    case EV.OPEN: return this._onOpen();
    case EV.CLOSE: return this._onClose(a, b, c);
    case EV.ERROR: return this._onError(a, b, c);
    case EV.UPGRADE: return this._onUpgrade(a, b);
    case EV.UNEXPECTED_RESPONSE: return this._onUnexpectedResponse(a, b, c);
    case EV.REDIRECT: return this._onRedirect(a, b);
    default: return undefined;
  }
}
native.setDispatch(dispatch, undefined);

// Runs fn; events the native layer delivers during it are emitted on the next tick instead, as
// ws emits them (never from inside the call that caused them).
function deferEvents(ws, fn) {
  ws._deferred = [];
  try {
    fn();
  } finally {
    const events = ws._deferred;
    ws._deferred = null;
    if (events.length) {
      process.nextTick(() => {
        for (const e of events) dispatch.call(ws, e[0], e[1], e[2], e[3]);
      });
    }
  }
}

function abortHandshake(ws, message) {
  ws._readyState = CLOSING;
  ws._abortMessage = message;
  if (ws._h) deferEvents(ws, () => native.terminate(ws._h));
}

function sendAfterClose(ws, data, cb) {
  if (data) {
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : (toUint8(data) || EMPTY_BUFFER).length;
    ws._bufferedAfterClose += bytes;
  }
  if (cb) {
    const state = ws.readyState;
    const err = new Error(`WebSocket is not open: readyState ${state} (${READY_STATES[state]})`);
    process.nextTick(cb, err);
  }
}

function extensionNames(header) {
  if (!header) return '';
  return header.split(',').map((e) => e.split(';')[0].trim()).filter(Boolean).join(',');
}

function toBinaryType(type, buf) {
  if (type === 'arraybuffer') {
    if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) return buf.buffer;
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  }
  if (type === 'fragments') return [buf];
  if (type === 'blob') return new Blob([buf]);
  return buf;
}

function initAsClient(ws, address, protocols, options) {
  const opts = {
    autoPong: true,
    closeTimeout: CLOSE_TIMEOUT,
    protocolVersion: PROTOCOL_VERSIONS[1],
    maxPayload: 100 * 1024 * 1024,
    skipUTF8Validation: false,
    perMessageDeflate: true,
    followRedirects: false,
    maxRedirects: 10,
    ...options
  };
  if (!PROTOCOL_VERSIONS.includes(opts.protocolVersion)) {
    throw new RangeError(`Unsupported protocol version: ${opts.protocolVersion} ` +
      `(supported versions: ${PROTOCOL_VERSIONS.join(', ')})`);
  }
  let url;
  if (address instanceof URL) {
    url = address;
  } else {
    try {
      url = new URL(address);
    } catch {
      throw new SyntaxError(`Invalid URL: ${address}`);
    }
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    url = new URL(url);
    url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  }
  ws._url = url.href;
  const secure = url.protocol === 'wss:';
  const ipc = url.protocol === 'ws+unix:';
  let invalid;
  if (url.protocol !== 'ws:' && !secure && !ipc) {
    invalid = 'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"';
  } else if (ipc && !url.pathname) {
    invalid = "The URL's pathname is empty";
  } else if (url.hash) {
    invalid = 'The URL contains a fragment identifier';
  }
  if (invalid) throw new SyntaxError(invalid);

  const seen = new Set();
  for (const p of protocols) {
    if (typeof p !== 'string' || !subprotocolValid(p) || seen.has(p)) {
      throw new SyntaxError('An invalid or duplicated subprotocol was specified');
    }
    seen.add(p);
  }

  // The URL wsc connects to: no credentials (they become an Authorization header, as in ws).
  let target;
  if (ipc) {
    const [socketPath, reqPath = '/'] = (url.pathname + url.search).split(':');
    target = `ws+unix://${socketPath}:${reqPath || '/'}`;
    ws._target = { host: socketPath };
  } else {
    target = `${url.protocol}//${url.host}${url.pathname}${url.search}`;
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    ws._target = { host, port: Number(url.port) || (secure ? 443 : 80) };
  }
  const headers = headerList(opts.headers);
  if (url.username || url.password) {
    const auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.push('Authorization', `Basic ${Buffer.from(auth).toString('base64')}`);
  }
  // The request's headers as 'redirect' and 'unexpected-response' show them (the key is wsc's).
  const shown = ws._redirectHeaders = new Map();
  const show = (name, value) => shown.set(name.toLowerCase(), [name, String(value)]);
  show('Sec-WebSocket-Version', 13);
  show('Connection', 'Upgrade');
  show('Upgrade', 'websocket');
  if (!ipc) show('Host', url.host);
  if (opts.origin) show('Origin', opts.origin);
  for (let i = 0; i < headers.length; i += 2) show(headers[i], headers[i + 1]);

  const nopts = {
    protocols: [...seen],
    headers,
    origin: opts.origin ? String(opts.origin) : undefined,
    followRedirects: !!opts.followRedirects,
    maxRedirects: opts.maxRedirects,
    handshakeTimeout: opts.handshakeTimeout,
    maxPayload: opts.maxPayload,
    skipUTF8Validation: !!opts.skipUTF8Validation,
    autoPong: opts.autoPong !== false,
    closeTimeout: opts.closeTimeout,
    deflate: deflateOptions(opts.perMessageDeflate, false) || { disable: true }
  };
  if (secure) nopts.tls = tlsOptions(opts);
  if (opts.generateMask !== undefined && typeof opts.generateMask !== 'function') {
    throw new TypeError('The "generateMask" option must be a function');
  }
  try {
    ws._h = native.connect(ws, target, nopts);
  } catch (e) {
    // A configuration the native layer refused (a TLS certificate or key that does not load):
    // reported as ws reports a failed connection, on the next tick.
    ws._readyState = CLOSING;
    process.nextTick(() => {
      ws._readyState = CLOSED;
      ws._emitError(e);
      ws.emit('close', 1006, EMPTY_BUFFER);
    });
  }
}

module.exports = WebSocket;

'use strict';
// WebSocketServer: ws 8's server over a wsc server. With `port`, wsc listens and reads the
// upgrade requests itself; with `server` or `noServer`, Node's http server reads them and
// handleUpgrade() hands the socket over: a plain TCP or Unix socket by its file descriptor, a
// TLS socket (or any other stream) by carrying its bytes through a wsc transport.
const EventEmitter = require('events');
const http = require('http');
const { createHash } = require('crypto');

const native = require('./binding');
const WebSocket = require('./websocket');
const { SEV, SHUTDOWN_KEEP_CONNECTIONS } = require('./constants');
const { deflateOptions, headersObject, headerList } = require('./util');
const { callError, decorate } = require('./errors');

const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// The upgrade request of a connection wsc accepted on its own socket: what ws users read from
// the http.IncomingMessage they get (method, url, headers, rawHeaders, socket's addresses).
class UpgradeRequest {
  constructor(method, url, rawHeaders, remote, secure) {
    this.method = method;
    this.url = url;
    this.httpVersion = '1.1';
    this.httpVersionMajor = 1;
    this.httpVersionMinor = 1;
    this.rawHeaders = rawHeaders;
    this.headers = headersObject(rawHeaders);
    const r = remote || {};
    this.socket = {
      remoteAddress: r.address, remotePort: r.port, remoteFamily: r.family, encrypted: secure || undefined,
      authorized: secure ? true : undefined
    };
    this.connection = this.socket;
  }
}

class WebSocketServer extends EventEmitter {
  constructor(options, callback) {
    super();
    options = {
      allowSynchronousEvents: true,
      autoPong: true,
      maxPayload: 100 * 1024 * 1024,
      skipUTF8Validation: false,
      perMessageDeflate: false,
      handleProtocols: null,
      clientTracking: true,
      closeTimeout: 30000,
      verifyClient: null,
      noServer: false,
      backlog: null,
      server: null,
      host: null,
      path: null,
      port: null,
      WebSocket,
      ...options
    };
    if ((options.port == null && !options.server && !options.noServer) ||
        (options.port != null && (options.server || options.noServer)) ||
        (options.server && options.noServer)) {
      throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
    }
    this.options = options;
    this._state = RUNNING;
    this._adopting = null;
    if (options.clientTracking) {
      this.clients = new Set();
      this._shouldEmitClose = false;
    }
    const listen = options.port != null;
    const nopts = {
      noServer: !listen,
      port: listen ? Number(options.port) : 0,
      host: listen && options.host ? String(options.host) : undefined,
      backlog: options.backlog == null ? 0 : options.backlog,
      maxPayload: options.maxPayload,
      skipUTF8Validation: !!options.skipUTF8Validation,
      autoPong: options.autoPong !== false,
      closeTimeout: options.closeTimeout,
      handshakeTimeout: options.handshakeTimeout,
      deflate: deflateOptions(options.perMessageDeflate, true) || undefined
    };
    if (listen && typeof options.port === 'string' && options.port.startsWith('/')) {
      nopts.unixPath = options.port;  // a pipe: ws passes it to http.Server.listen
      nopts.port = 0;
    }
    try {
      this._h = native.serverNew(this, nopts);
    } catch (e) {
      if (!listen) throw e;
      this._h = null;
      this._state = CLOSED;
      const err = e.wscName === 'WSC_EADDRINUSE' ? listenError(e, 'EADDRINUSE', -98, nopts) : e;
      process.nextTick(() => this.emit('error', err));
    }
    if (listen) {
      if (callback) this.on('listening', callback);
    } else if (options.server) {
      const server = options.server;
      this._server = server;
      const onListening = () => this.emit('listening');
      const onError = (err) => this.emit('error', err);
      const onUpgrade = (req, socket, head) => {
        this.handleUpgrade(req, socket, head, (ws) => this.emit('connection', ws, req));
      };
      server.on('listening', onListening);
      server.on('error', onError);
      server.on('upgrade', onUpgrade);
      this._removeListeners = () => {
        server.removeListener('listening', onListening);
        server.removeListener('error', onError);
        server.removeListener('upgrade', onUpgrade);
      };
    }
    if (options.perMessageDeflate === true) options.perMessageDeflate = {};
  }

  address() {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    if (this.options.server) return this.options.server.address();
    if (!this._h || this._state === CLOSED) return null;
    const a = native.serverAddress(this._h);
    if (!a) return null;
    return a.family === 'unix' ? a.address : a;
  }

  close(cb) {
    if (this._state === CLOSED) {
      if (cb) this.once('close', () => cb(new Error('The server is not running')));
      process.nextTick(emitClose, this);
      return;
    }
    if (cb) this.once('close', cb);
    if (this._state === CLOSING) return;
    this._state = CLOSING;
    if (this.options.noServer || this.options.server) {
      if (this._removeListeners) {
        this._removeListeners();
        this._removeListeners = null;
        this._server = null;
      }
      // The native server (which only adopts) goes now; connections stay open, as in ws.
      if (this._h) native.serverClose(this._h, 1001, 0, SHUTDOWN_KEEP_CONNECTIONS);
      if (this.clients && this.clients.size) this._shouldEmitClose = true;
      else process.nextTick(emitClose, this);
    } else if (this._h) {
      // Stop listening; 'close' comes once every connection has closed (as an http server's).
      native.serverClose(this._h, 1001, 0, SHUTDOWN_KEEP_CONNECTIONS);
    }
  }

  shouldHandle(req) {
    if (this.options.path) {
      const i = req.url.indexOf('?');
      const pathname = i !== -1 ? req.url.slice(0, i) : req.url;
      if (pathname !== this.options.path) return false;
    }
    return true;
  }

  handleUpgrade(req, socket, head, cb) {
    if (socket._wscAdopted) {
      throw new Error('server.handleUpgrade() was called more than once with the same socket, ' +
        'possibly due to a misconfiguration');
    }
    socket._wscAdopted = true;
    if (!this._h || this._state > RUNNING) {
      abortSocket(socket, 503);
      return;
    }
    if (!socket.readable || !socket.writable) {
      socket.destroy();
      return;
    }
    // Bytes Node read past the request, then what it buffered since.
    const chunks = head && head.length ? [head] : [];
    let chunk;
    while ((chunk = socket.read()) !== null) chunks.push(chunk);
    const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    const raw = req.rawHeaders || headerList(req.headers);
    const fd = !socket.encrypted && socket._handle && typeof socket._handle.fd === 'number' ? socket._handle.fd : -1;
    this._adopting = { req, socket, cb };
    try {
      if (fd >= 0) {
        // Node's handle stops reading and closes its descriptor; wsc owns a duplicate of it.
        void socket.remoteAddress;  // cached by the socket for req.socket after it is destroyed
        void socket.localAddress;
        socket._handle.readStop();
        const rc = native.adoptFd(this._h, fd, req.method, req.url, raw, bytes);
        socket.destroy();
        if (rc < 0) this.emit('error', callError(native, rc));
      } else {
        adoptStream(this, socket, req, raw, bytes);
      }
    } finally {
      this._adopting = null;
    }
  }

  // A request wsc read and validated (or one handed over): verifyClient, handleProtocols and the
  // 'headers' event decide it, as in ws.
  _onRequest(r, method, url, rawHeaders, remote, secure, protocols) {
    const ctx = this._adopting || { req: null, socket: null, cb: null };
    this._adopting = null;
    const req = ctx.req || new UpgradeRequest(method, url, rawHeaders, remote, secure);
    const cb = ctx.cb || ((ws, request) => this.emit('connection', ws, request));
    const reject = (code, message, headers) => {
      const body = message || http.STATUS_CODES[code] || '';
      const list = ['Content-Type', 'text/html'];
      if (headers) for (const k of Object.keys(headers)) list.push(k, String(headers[k]));
      native.reqReject(r, code, null, Buffer.from(body), list);
    };
    if (this._state > RUNNING) return reject(503);
    if (!this.shouldHandle(req)) return reject(400);
    const accept = () => {
      if (this._state > RUNNING) return reject(503);
      const ws = new this.options.WebSocket(null, undefined, this.options);
      let protocol = '';
      if (protocols.length) {
        const set = new Set(protocols);
        const chosen = this.options.handleProtocols ? this.options.handleProtocols(set, req) : protocols[0];
        if (chosen) protocol = String(chosen);
      }
      let extra;
      if (this.listenerCount('headers')) {
        const key = req.headers['sec-websocket-key'];
        const headers = [
          'HTTP/1.1 101 Switching Protocols',
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Accept: ${createHash('sha1').update(key + GUID).digest('base64')}`
        ];
        if (protocol) headers.push(`Sec-WebSocket-Protocol: ${protocol}`);
        const n = headers.length;
        this.emit('headers', headers, req);
        extra = [];
        for (const line of headers.slice(n)) {
          const i = line.indexOf(':');
          if (i > 0) extra.push(line.slice(0, i).trim(), line.slice(i + 1).trim());
        }
      }
      const rc = native.reqAccept(r, protocol, extra, { ws, req, cb, server: this });
      if (rc < 0) reject(500);
    };
    const verify = this.options.verifyClient;
    if (verify) {
      const info = {
        origin: req.headers[`${Number(req.headers['sec-websocket-version']) === 8 ? 'sec-websocket-origin' : 'origin'}`],
        secure: !!(req.socket && (req.socket.authorized !== undefined || req.socket.encrypted)),
        req
      };
      if (verify.length === 2) {
        native.reqDefer(r);
        verify(info, (verified, code, message, headers) => {
          if (!verified) return reject(code || 401, message, headers);
          return accept();
        });
        return undefined;
      }
      if (!verify(info)) return reject(401);
    }
    return accept();
  }

  _onConnection(handle, ctx) {
    if (!ctx) {  // not expected: every accepted request carries its context
      return;
    }
    ctx.ws._attachServer(handle, ctx);
  }

  // The connection is open: track it, then hand it to the callback ('connection').
  _opened(ws, ctx) {
    if (this.clients) {
      this.clients.add(ws);
      ws.on('close', () => {
        this.clients.delete(ws);
        if (this._shouldEmitClose && !this.clients.size) process.nextTick(emitClose, this);
      });
    }
    ctx.cb(ws, ctx.req);
  }

  _onClientError(code, status, message, name, remote) {
    if (!this.listenerCount('wsClientError')) return;
    const err = decorate(new Error(message), code, name);
    const r = remote || {};
    const socket = { remoteAddress: r.address, remotePort: r.port, remoteFamily: r.family, destroyed: true, destroy() {} };
    this.emit('wsClientError', err, socket, undefined);
  }

  _onServerClose() {
    const wasClosing = this._state === CLOSING;
    this._h = null;
    if (this.options.noServer || this.options.server) return;  // 'close' follows ws' own rule
    this._state = CLOSED;
    if (wasClosing) this.emit('close');
  }
}

function serverDispatch(type, a, b, c, d, e, f, g) {
  switch (type) {
    case SEV.REQUEST: return this._onRequest(a, b, c, d, e, f, g);
    case SEV.CONNECTION: return this._onConnection(a, b);
    case SEV.LISTENING: return this.emit('listening');
    case SEV.CLIENT_ERROR: return this._onClientError(a, b, c, d, e);
    case SEV.ERROR: return this.emit('error', decorate(new Error(b), a, c));
    case SEV.CLOSE: return this._onServerClose();
    default: return undefined;
  }
}
native.setDispatch(undefined, serverDispatch);

function emitClose(server) {
  server._state = CLOSED;
  server.emit('close');
}

function listenError(e, code, errno, nopts) {
  const where = nopts.unixPath || `${nopts.host || '::'}:${nopts.port}`;
  const err = new Error(`listen ${code}: address already in use ${where}`);
  err.code = code;
  err.errno = errno;
  err.syscall = 'listen';
  err.address = nopts.unixPath || nopts.host || '::';
  if (!nopts.unixPath) err.port = nopts.port;
  return decorate(err, e.wscCode, e.wscName);
}

function abortSocket(socket, code) {
  if (socket.writable) {
    const message = http.STATUS_CODES[code];
    socket.write(`HTTP/1.1 ${code} ${message}\r\nConnection: close\r\nContent-Type: text/html\r\n` +
      `Content-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
  }
  socket.destroy();
}

// A stream wsc cannot take over by descriptor (a TLS socket): its bytes go through a transport.
function adoptStream(server, socket, req, raw, head) {
  let t = null;
  const transport = {
    write(buf) { if (!socket.destroyed) socket.write(buf); },
    shutdown() { if (!socket.destroyed) socket.end(); },
    close() {
      if (socket.destroyed) return;
      if (socket.writableLength) socket.end(() => socket.destroy()); else socket.destroy();
    }
  };
  socket.setTimeout(0);
  if (socket.setNoDelay) socket.setNoDelay(true);
  socket.on('error', () => {});  // its end reaches wsc as the end of the stream
  t = native.adoptTransport(server._h, transport, req.method, req.url, raw, head);
  socket.on('data', (d) => native.feed(t, d));
  const end = () => native.feed(t, null);
  socket.on('end', end);
  socket.on('close', end);
  socket.resume();
}

module.exports = WebSocketServer;

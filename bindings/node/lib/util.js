'use strict';
// Conversions between ws' options and values and what the native layer takes.
const { Readable } = require('stream');
const http = require('http');
const native = require('./binding');

// RFC 6455 §7.4: the codes an endpoint may send.
function isValidStatusCode(code) {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999);
}

// RFC 6455 §4.1: a subprotocol is an HTTP token.
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;
function subprotocolValid(p) { return TOKEN.test(p); }

// Bytes of a Buffer, TypedArray, DataView or ArrayBuffer as a Uint8Array (no copy); null for
// anything else.
function toUint8(data) {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer)) {
    return new Uint8Array(data);
  }
  if (Array.isArray(data) && data.every((d) => d instanceof Uint8Array)) return Buffer.concat(data);
  return null;
}

// ws' perMessageDeflate (true, false or its object) as wsc's deflate options; null: off.
function deflateOptions(pmd, isServer) {
  if (!pmd) return null;
  const o = pmd === true ? {} : pmd;
  const bits = (v) => (typeof v === 'number' ? v : 0);
  const zd = o.zlibDeflateOptions || {};
  return {
    serverNoContextTakeover: !!o.serverNoContextTakeover,
    clientNoContextTakeover: !!o.clientNoContextTakeover,
    serverMaxWindowBits: bits(o.serverMaxWindowBits),
    clientMaxWindowBits: isServer || o.clientMaxWindowBits !== undefined ? bits(o.clientMaxWindowBits) : 0,
    level: typeof zd.level === 'number' ? zd.level : -1,
    memLevel: typeof zd.memLevel === 'number' ? zd.memLevel : 0,
    threshold: typeof o.threshold === 'number' ? o.threshold : 1024
  };
}

function pemText(v) {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(pemText).filter(Boolean).join('\n');
  if (typeof v === 'object' && !(v instanceof Uint8Array) && v.pem) return pemText(v.pem);
  return Buffer.isBuffer(v) || v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : String(v);
}

// ws' TLS options (those of tls.connect) as wsc's.
function tlsOptions(o) {
  return {
    ca: pemText(o.ca),
    cert: pemText(o.cert),
    key: pemText(o.key),
    passphrase: o.passphrase === undefined ? undefined : String(o.passphrase),
    servername: o.servername === undefined ? undefined : String(o.servername),
    ciphers: o.ciphers,
    rejectUnauthorized: o.rejectUnauthorized !== false
  };
}

// A headers object ({name: value | [values]}) as a flat [name, value, ...] list.
function headerList(headers) {
  const out = [];
  if (!headers) return out;
  for (const name of Object.keys(headers)) {
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push(name, String(x));
    else out.push(name, String(v));
  }
  return out;
}

// Node's rule for req.headers: names in lower case; repeated ones joined with ', ' (set-cookie:
// an array; a few single-valued ones: the first).
const SINGLE = new Set(['host', 'content-type', 'content-length', 'user-agent', 'authorization', 'origin',
  'referer', 'if-modified-since', 'if-unmodified-since', 'from', 'location', 'max-forwards', 'retry-after',
  'etag', 'last-modified', 'server', 'age', 'expires', 'proxy-authorization']);
function headersObject(raw) {
  const h = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = raw[i + 1];
    if (name === 'set-cookie') (h[name] || (h[name] = [])).push(value);
    else if (h[name] === undefined) h[name] = value;
    else if (!SINGLE.has(name)) h[name] += (name === 'cookie' ? '; ' : ', ') + value;
  }
  return h;
}

// The server's answer to a client's upgrade request ('upgrade', 'unexpected-response'): shaped
// as the http.IncomingMessage ws gives, a readable stream of the body.
class Response extends Readable {
  constructor(status, rawHeaders, body) {
    super({ read() {} });
    this.statusCode = status;
    this.statusMessage = http.STATUS_CODES[status] || '';
    this.httpVersion = '1.1';
    this.httpVersionMajor = 1;
    this.httpVersionMinor = 1;
    this.rawHeaders = rawHeaders;
    this.headers = headersObject(rawHeaders);
    if (body && body.length) this.push(body);
    this.push(null);
  }
}

// The handshake request of a client, in 'redirect' and 'unexpected-response' events: its headers
// can be read, and during 'redirect' set or removed for the next hop.
class RedirectRequest {
  constructor(ws, headers) {
    this._ws = ws;
    this._headers = headers || new Map();
    this.method = 'GET';
    this.path = ws._url ? new URL(ws._url).pathname : '/';
  }

  getHeader(name) {
    const e = this._headers.get(String(name).toLowerCase());
    return e ? e[1] : undefined;
  }

  getHeaders() {
    const o = {};
    for (const [k, [, v]] of this._headers) o[k] = v;
    return o;
  }

  getHeaderNames() { return [...this._headers.keys()]; }
  hasHeader(name) { return this._headers.has(String(name).toLowerCase()); }

  setHeader(name, value) {
    const rc = native.setRequestHeader(this._ws._h, String(name), String(value));
    if (rc < 0) throw new Error(`Invalid header: ${name}`);
    this._headers.set(String(name).toLowerCase(), [String(name), String(value)]);
    return this;
  }

  removeHeader(name) {
    native.setRequestHeader(this._ws._h, String(name), null);
    this._headers.delete(String(name).toLowerCase());
  }

  abort() {}
  destroy() {}
}

module.exports = {
  isValidStatusCode, subprotocolValid, toUint8, deflateOptions, tlsOptions, headerList, headersObject, Response,
  RedirectRequest
};

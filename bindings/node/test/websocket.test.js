'use strict';

// The client WebSocket, against ws 8's documented API and behaviour.

const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { describe, test } = require('node:test');

const h = require('./helpers');
const { assert, T, HOST } = h;

const WebSocket = h.impl;
const { WebSocketServer } = WebSocket;
const PeerServer = h.peer.WebSocketServer;

/** Asserts that fn throws an instance of exactly `Class` with `message`. */
function throwsExact(fn, Class, message) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof Class, `expected ${Class.name}, got ${err && err.name}`);
    assert.equal(err.constructor, Class);
    assert.equal(err.message, message);
    return true;
  });
}

/** Starts an impl (or other) server, stopped after the test. */
async function server(t, options = {}, WSS = WebSocketServer) {
  const s = await h.startServer(WSS, options);
  t.after(() => h.stopServer(s.wss));
  return s;
}

/** A connected pair (client of the impl) on a fresh server. */
async function setup(t, serverOptions = {}, clientOptions = undefined, WSS = WebSocketServer) {
  const { wss, url, port } = await server(t, serverOptions, WSS);
  const args = clientOptions === undefined ? [] : [clientOptions];
  const p = await h.pair(WebSocket, wss, url, ...args);
  t.after(() => h.closeClient(p.client));
  return { wss, url, port, ...p };
}

describe('ready-state constants', () => {
  test('static constants', T, () => {
    assert.equal(WebSocket.CONNECTING, 0);
    assert.equal(WebSocket.OPEN, 1);
    assert.equal(WebSocket.CLOSING, 2);
    assert.equal(WebSocket.CLOSED, 3);
  });

  test('instance constants', T, async (t) => {
    const { client } = await setup(t);
    assert.equal(client.CONNECTING, 0);
    assert.equal(client.OPEN, 1);
    assert.equal(client.CLOSING, 2);
    assert.equal(client.CLOSED, 3);
    assert.equal(WebSocket.prototype.OPEN, 1);
  });

  test('module exports', T, () => {
    assert.equal(typeof WebSocket, 'function');
    assert.equal(WebSocket.WebSocket, WebSocket);
    assert.equal(typeof WebSocket.WebSocketServer, 'function');
    assert.equal(WebSocket.Server, WebSocket.WebSocketServer);
    assert.equal(typeof WebSocket.createWebSocketStream, 'function');
  });
});

describe('constructor', () => {
  test('an invalid URL throws a SyntaxError', T, () => {
    throwsExact(() => new WebSocket('foo'), SyntaxError, 'Invalid URL: foo');
    throwsExact(() => new WebSocket('ws://'), SyntaxError, 'Invalid URL: ws://');
  });

  test('a URL with a bad scheme throws a SyntaxError', T, () => {
    const msg =
      'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"';
    throwsExact(() => new WebSocket('ftp://127.0.0.1'), SyntaxError, msg);
    throwsExact(() => new WebSocket('mailto:a@b.c'), SyntaxError, msg);
    throwsExact(() => new WebSocket(new URL('file:///x')), SyntaxError, msg);
  });

  test('a URL with a fragment throws a SyntaxError', T, () => {
    throwsExact(
      () => new WebSocket('ws://127.0.0.1/#foo'),
      SyntaxError,
      'The URL contains a fragment identifier'
    );
  });

  test('a ws+unix: URL with no path throws a SyntaxError', T, () => {
    throwsExact(() => new WebSocket('ws+unix:'), SyntaxError, "The URL's pathname is empty");
  });

  test('protocolVersion other than 8 or 13 throws a RangeError', T, () => {
    throwsExact(
      () => new WebSocket('ws://127.0.0.1', { protocolVersion: 1000 }),
      RangeError,
      'Unsupported protocol version: 1000 (supported versions: 8, 13)'
    );
    throwsExact(
      () => new WebSocket('ws://127.0.0.1', [], { protocolVersion: 7 }),
      RangeError,
      'Unsupported protocol version: 7 (supported versions: 8, 13)'
    );
  });

  test('invalid or duplicate subprotocols throw a SyntaxError', T, () => {
    const msg = 'An invalid or duplicated subprotocol was specified';
    throwsExact(() => new WebSocket('ws://127.0.0.1', ['a', 'a']), SyntaxError, msg);
    throwsExact(() => new WebSocket('ws://127.0.0.1', ['']), SyntaxError, msg);
    throwsExact(() => new WebSocket('ws://127.0.0.1', 'a b'), SyntaxError, msg);
    throwsExact(() => new WebSocket('ws://127.0.0.1', 'a,b'), SyntaxError, msg);
    throwsExact(() => new WebSocket('ws://127.0.0.1', ['ok', 'bad/']), SyntaxError, msg);
  });

  test('accepts a URL object and http:/https: schemes', T, async (t) => {
    const { wss, port } = await server(t);

    const a = await h.connect(WebSocket, new URL(`ws://${HOST}:${port}/u?x=1`));
    assert.equal(a.url, `ws://${HOST}:${port}/u?x=1`);
    await h.closeClient(a);

    const conn = h.once(wss, 'connection');
    const b = await h.connect(WebSocket, `http://${HOST}:${port}/v`);
    const [, req] = await conn;
    assert.equal(req.url, '/v');
    assert.equal(b.url, `ws://${HOST}:${port}/v`);
    await h.closeClient(b);
  });

  test('protocols as a string or array', T, async (t) => {
    const { url } = await server(t);
    const a = await h.connect(WebSocket, url, 'chat');
    assert.equal(a.protocol, 'chat');
    await h.closeClient(a);
    const b = await h.connect(WebSocket, url, ['one', 'two'], {});
    assert.equal(b.protocol, 'one');
    await h.closeClient(b);
  });
});

describe('events', () => {
  test('open, message(data, isBinary), close(code, reason)', T, async (t) => {
    const { wss, url } = await server(t);
    wss.on('connection', (ws) => {
      ws.send('hello');
      ws.send(Buffer.from([1, 2, 3]));
      ws.close(4000, 'bye');
    });

    const ws = h.client(WebSocket, url);
    const order = [];
    ws.on('open', () => order.push('open'));
    const got = h.messages(ws, 2);
    ws.on('message', () => order.push('message'));
    const [code, reason] = await h.once(ws, 'close');
    order.push('close');

    const [[d1, b1], [d2, b2]] = await got;
    assert.ok(Buffer.isBuffer(d1));
    assert.equal(d1.toString(), 'hello');
    assert.equal(b1, false);
    assert.ok(Buffer.isBuffer(d2));
    assert.deepEqual([...d2], [1, 2, 3]);
    assert.equal(b2, true);
    assert.equal(code, 4000);
    assert.ok(Buffer.isBuffer(reason));
    assert.equal(reason.toString(), 'bye');
    assert.deepEqual(order, ['open', 'message', 'message', 'close']);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  test('error then close(1006) when the connection is refused', T, async () => {
    const port = await h.freePort();
    const ws = h.client(WebSocket, `ws://${HOST}:${port}`);
    const { err, code, reason, order } = await h.failure(ws);
    assert.ok(err instanceof Error);
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(code, 1006);
    assert.ok(Buffer.isBuffer(reason));
    assert.equal(reason.length, 0);
    assert.deepEqual(order, ['error', 'close']);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  test('ping and pong events (automatic pong)', T, async (t) => {
    const { client, server: s } = await setup(t);

    const clientPing = h.once1(client, 'ping');
    const serverPong = h.once1(s, 'pong');
    s.ping('from server');
    assert.equal((await clientPing).toString(), 'from server');
    assert.equal((await serverPong).toString(), 'from server');

    const serverPing = h.once1(s, 'ping');
    const clientPong = h.once1(client, 'pong');
    client.ping(Buffer.from('from client'));
    const sp = await serverPing;
    assert.ok(Buffer.isBuffer(sp));
    assert.equal(sp.toString(), 'from client');
    assert.equal((await clientPong).toString(), 'from client');

    // Unsolicited pong, and empty ping.
    const serverPong2 = h.once1(s, 'pong');
    client.pong('x');
    assert.equal((await serverPong2).toString(), 'x');
    const clientPing2 = h.once1(client, 'ping');
    s.ping();
    assert.equal((await clientPing2).length, 0);
  });

  test('ping/pong callbacks', T, async (t) => {
    const { client } = await setup(t);
    await new Promise((resolve, reject) => client.ping('a', true, (err) => (err ? reject(err) : resolve())));
    await new Promise((resolve, reject) => client.pong((err) => (err ? reject(err) : resolve())));
  });

  test("'upgrade' is emitted with the 101 response before 'open'", T, async (t) => {
    const { url } = await server(t);
    const ws = h.client(WebSocket, url);
    const order = [];
    let response;
    ws.on('upgrade', (res) => {
      response = res;
      order.push('upgrade');
    });
    await h.once(ws, 'open');
    order.push('open');
    assert.deepEqual(order, ['upgrade', 'open']);
    assert.equal(response.statusCode, 101);
    assert.equal(response.headers.upgrade.toLowerCase(), 'websocket');
    assert.equal(typeof response.headers['sec-websocket-accept'], 'string');
    await h.closeClient(ws);
  });

  test("'unexpected-response'(req, res) for a 401", T, async (t) => {
    const httpServer = http.createServer((req, res) => {
      res.writeHead(401, { 'Content-Type': 'text/plain', 'X-Why': 'no' });
      res.end('nope');
    });
    const port = await h.listen(httpServer);
    t.after(() => h.closeServer(httpServer));

    const ws = h.client(WebSocket, `ws://${HOST}:${port}/`);
    const [req, res] = await h.once(ws, 'unexpected-response');
    assert.equal(typeof req.getHeader, 'function');
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['x-why'], 'no');
    let body = '';
    res.setEncoding('utf8');
    for await (const chunk of res) body += chunk;
    assert.equal(body, 'nope');
    assert.equal(ws.readyState, WebSocket.CONNECTING);

    // The user is responsible for ending it.
    const err = h.nextError(ws);
    const close = h.once(ws, 'close');
    ws.terminate();
    assert.equal((await err).message, 'WebSocket was closed before the connection was established');
    assert.equal((await close)[0], 1006);
  });

  test("without an 'unexpected-response' listener a 401 is an error", T, async (t) => {
    const httpServer = http.createServer((req, res) => {
      res.writeHead(401);
      res.end();
    });
    const port = await h.listen(httpServer);
    t.after(() => h.closeServer(httpServer));

    const ws = h.client(WebSocket, `ws://${HOST}:${port}/`);
    const { err, code } = await h.failure(ws);
    assert.equal(err.message, 'Unexpected server response: 401');
    assert.equal(code, 1006);
  });
});

describe('redirects', () => {
  /** An http server: /a redirects (302) to /b, /loop to itself; others upgrade. */
  async function redirectServer(t) {
    const httpServer = http.createServer();
    const wss = new WebSocketServer({ noServer: true });
    httpServer.on('upgrade', (req, socket, head) => {
      const to = { '/a': '/b', '/loop': '/loop', '/abs': null }[req.url];
      if (to !== undefined) {
        const port = httpServer.address().port;
        const location = to === null ? `ws://${HOST}:${port}/b` : to;
        socket.end(
          `HTTP/1.1 302 Found\r\nLocation: ${location}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    const port = await h.listen(httpServer);
    t.after(async () => {
      await h.stopServer(wss);
      await h.closeServer(httpServer);
    });
    return { wss, port };
  }

  test('followRedirects follows a 302 and emits redirect(url, request)', T, async (t) => {
    const { wss, port } = await redirectServer(t);
    const conn = h.once(wss, 'connection');
    const ws = h.client(WebSocket, `ws://${HOST}:${port}/a`, {
      followRedirects: true,
      headers: { 'X-Secret': 's3cret', 'X-Kept': 'k' }
    });
    const redirects = [];
    ws.on('redirect', (url, req) => {
      redirects.push(url);
      assert.equal(typeof req.getHeader, 'function');
      assert.equal(String(req.getHeader('sec-websocket-version')), '13');
      assert.equal(req.getHeader('x-secret'), 's3cret');
      req.removeHeader('x-secret');
    });
    await h.once(ws, 'open');
    const [, req] = await conn;
    assert.deepEqual(redirects, [`ws://${HOST}:${port}/b`]);
    assert.equal(req.url, '/b');
    assert.equal(req.headers['x-secret'], undefined);
    assert.equal(req.headers['x-kept'], 'k');
    assert.equal(ws.url, `ws://${HOST}:${port}/b`);
    await h.closeClient(ws);
  });

  test('an absolute Location is followed', T, async (t) => {
    const { port } = await redirectServer(t);
    const ws = await h.connect(WebSocket, `ws://${HOST}:${port}/abs`, { followRedirects: true });
    assert.equal(ws.url, `ws://${HOST}:${port}/b`);
    await h.closeClient(ws);
  });

  test('without followRedirects a 302 is an unexpected response', T, async (t) => {
    const { port } = await redirectServer(t);
    const ws = h.client(WebSocket, `ws://${HOST}:${port}/a`);
    const { err, code } = await h.failure(ws);
    assert.equal(err.message, 'Unexpected server response: 302');
    assert.equal(code, 1006);
  });

  test('maxRedirects', T, async (t) => {
    const { port } = await redirectServer(t);
    const ws = h.client(WebSocket, `ws://${HOST}:${port}/loop`, {
      followRedirects: true,
      maxRedirects: 2
    });
    let count = 0;
    ws.on('redirect', () => count++);
    const { err, code } = await h.failure(ws);
    assert.equal(err.message, 'Maximum redirects exceeded');
    assert.equal(code, 1006);
    // ws follows a redirect back to a URL it visited until maxRedirects; wsc stops at the loop.
    assert.equal(count, h.isWsc ? 0 : 2);
  });
});

describe('handshake options', () => {
  test('handshakeTimeout', T, async (t) => {
    const sockets = new Set();
    const silent = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    });
    const port = await h.listen(silent);
    t.after(() => {
      for (const s of sockets) s.destroy();
      return h.closeServer(silent);
    });

    const started = Date.now();
    const ws = h.client(WebSocket, `ws://${HOST}:${port}`, { handshakeTimeout: 200 });
    const { err, code } = await h.failure(ws);
    assert.equal(err.message, 'Opening handshake has timed out');
    assert.equal(code, 1006);
    const took = Date.now() - started;
    assert.ok(took >= 150 && took < 5000, `took ${took} ms`);
  });

  test('headers and origin are sent', T, async (t) => {
    const { wss, url } = await server(t);
    const conn = h.once(wss, 'connection');
    const ws = await h.connect(WebSocket, `${url}/path?q=1`, {
      headers: { 'X-Custom': 'value', Cookie: 'a=b' },
      origin: 'https://example.test'
    });
    const [, req] = await conn;
    assert.equal(req.url, '/path?q=1');
    assert.equal(req.headers['x-custom'], 'value');
    assert.equal(req.headers.cookie, 'a=b');
    assert.equal(req.headers.origin, 'https://example.test');
    assert.equal(req.headers['sec-websocket-version'], '13');
    assert.equal(req.headers.upgrade.toLowerCase(), 'websocket');
    assert.equal(req.headers.host, `${HOST}:${new URL(url).port}`);
    await h.closeClient(ws);
  });

  test('protocolVersion 8 sends Sec-WebSocket-Origin', h.differs('it speaks protocol version 13 only'), async (t) => {
    const { wss, url } = await server(t);
    const conn = h.once(wss, 'connection');
    const ws = await h.connect(WebSocket, url, { protocolVersion: 8, origin: 'https://o.test' });
    const [, req] = await conn;
    assert.equal(req.headers['sec-websocket-version'], '8');
    assert.equal(req.headers['sec-websocket-origin'], 'https://o.test');
    assert.equal(req.headers.origin, undefined);
    await h.closeClient(ws);
  });

  test('a subprotocol the server did not choose is an error', T, async (t) => {
    const { url } = await server(t, { handleProtocols: () => false });
    const ws = h.client(WebSocket, url, ['a']);
    const { err, code } = await h.failure(ws);
    assert.equal(err.message, 'Server sent no subprotocol');
    assert.equal(code, 1006);
  });
});

describe('attributes', () => {
  test('binaryType: nodebuffer (default) and arraybuffer', T, async (t) => {
    const { client, server: s } = await setup(t);
    assert.equal(client.binaryType, 'nodebuffer');

    let got = h.nextMessage(client);
    s.send(Buffer.from([1, 2]));
    let [data] = await got;
    assert.ok(Buffer.isBuffer(data));

    client.binaryType = 'arraybuffer';
    assert.equal(client.binaryType, 'arraybuffer');
    got = h.nextMessage(client);
    s.send(Buffer.from([3, 4, 5]));
    [data] = await got;
    assert.ok(data instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(data)], [3, 4, 5]);

    // Text messages are always Buffers, whatever the binaryType.
    got = h.nextMessage(client);
    s.send('text');
    const [text, isBinary] = await got;
    assert.ok(Buffer.isBuffer(text));
    assert.equal(text.toString(), 'text');
    assert.equal(isBinary, false);

    // An unknown type is ignored.
    client.binaryType = 'nope';
    assert.equal(client.binaryType, 'arraybuffer');
  });

  test('binaryType: fragments', h.differs('messages are assembled natively: fragments is a one-element array'), async (t) => {
    const { client, server: s } = await setup(t);
    client.binaryType = 'fragments';
    const got = h.nextMessage(client);
    s.send(Buffer.from('ab'), { fin: false });
    s.send(Buffer.from('cd'), { fin: true });
    const [data, isBinary] = await got;
    assert.equal(isBinary, true);
    assert.ok(Array.isArray(data));
    assert.equal(data.length, 2);
    assert.ok(data.every((b) => Buffer.isBuffer(b)));
    assert.equal(Buffer.concat(data).toString(), 'abcd');
  });

  test('binaryType: blob', T, async (t) => {
    const { client, server: s } = await setup(t);
    client.binaryType = 'blob';
    assert.equal(client.binaryType, 'blob');
    const got = h.nextMessage(client);
    s.send(Buffer.from('blob!'));
    const [data] = await got;
    assert.ok(data instanceof Blob);
    assert.equal(await data.text(), 'blob!');
  });

  test('binaryType can be set before open', T, async (t) => {
    const { wss, url } = await server(t);
    wss.on('connection', (ws) => ws.send(Buffer.from([9])));
    const ws = h.client(WebSocket, url);
    ws.binaryType = 'arraybuffer';
    const [data] = await h.nextMessage(ws);
    assert.ok(data instanceof ArrayBuffer);
    await h.closeClient(ws);
  });

  test('bufferedAmount', T, async (t) => {
    const { client, server: s } = await setup(t);
    assert.equal(client.bufferedAmount, 0);
    const big = Buffer.alloc(16 * 1024 * 1024, 7);
    const received = h.nextMessage(s);
    const sent = new Promise((resolve, reject) =>
      client.send(big, (err) => (err ? reject(err) : resolve()))
    );
    assert.ok(client.bufferedAmount > 0, `bufferedAmount ${client.bufferedAmount}`);
    assert.ok(client.bufferedAmount <= big.length + 14);
    await sent;
    const [data] = await received;
    assert.equal(data.length, big.length);
    assert.equal(client.bufferedAmount, 0);
  });

  test('bufferedAmount counts data sent after a failed handshake', T, async () => {
    const port = await h.freePort();
    const ws = h.client(WebSocket, `ws://${HOST}:${port}`);
    ws.on('error', () => {});
    await h.once(ws, 'close');
    assert.equal(ws.bufferedAmount, 0);
    ws.send('abcd');
    ws.send(Buffer.alloc(6));
    assert.equal(ws.bufferedAmount, 10);
  });

  test('extensions', T, async (t) => {
    const a = await setup(t, { perMessageDeflate: true });
    assert.equal(a.client.extensions, 'permessage-deflate');
    assert.equal(a.server.extensions, 'permessage-deflate');

    const b = await setup(t);
    assert.equal(b.client.extensions, '');
    assert.equal(b.server.extensions, '');

    const c = await setup(t, { perMessageDeflate: true }, { perMessageDeflate: false });
    assert.equal(c.client.extensions, '');
    assert.equal(c.server.extensions, '');
  });

  test('protocol', T, async (t) => {
    const { wss, url } = await server(t);
    const conn = h.once(wss, 'connection');
    const ws = h.client(WebSocket, url, ['foo', 'bar']);
    assert.equal(ws.protocol, '');
    await h.once(ws, 'open');
    assert.equal(ws.protocol, 'foo');
    const [s] = await conn;
    assert.equal(s.protocol, 'foo');
    await h.closeClient(ws);

    const ws2 = await h.connect(WebSocket, url);
    assert.equal(ws2.protocol, '');
    await h.closeClient(ws2);
  });

  test('readyState transitions', T, async (t) => {
    const { url } = await server(t);
    const ws = h.client(WebSocket, url);
    const states = [ws.readyState];
    await h.once(ws, 'open');
    states.push(ws.readyState);
    const done = new Promise((resolve) => ws.on('close', () => resolve(ws.readyState)));
    ws.close();
    states.push(ws.readyState);
    states.push(await done);
    assert.deepEqual(states, [0, 1, 2, 3]);
  });

  test('url', T, async (t) => {
    const { url } = await server(t);
    const ws = h.client(WebSocket, `${url}/some/path?a=1&b=2`);
    assert.equal(ws.url, `${url}/some/path?a=1&b=2`);
    await h.once(ws, 'open');
    assert.equal(ws.url, `${url}/some/path?a=1&b=2`);
    await h.closeClient(ws);
    const ws2 = h.client(WebSocket, url);
    assert.equal(ws2.url, `${url}/`);
    await h.once(ws2, 'open');
    await h.closeClient(ws2);
  });

  test('isPaused, pause() and resume()', T, async (t) => {
    const { wss, url } = await server(t);
    const conn = h.once1(wss, 'connection');
    const ws = h.client(WebSocket, url);
    assert.equal(ws.isPaused, false);
    ws.pause(); // no effect while CONNECTING
    assert.equal(ws.isPaused, false);
    await h.once(ws, 'open');
    const s = await conn;

    ws.pause();
    assert.equal(ws.isPaused, true);
    const got = [];
    ws.on('message', (data) => got.push(data.toString()));
    await new Promise((resolve) => {
      s.send('1');
      s.send('2');
      s.send('3', resolve);
    });
    await h.delay(150);
    assert.deepEqual(got, []);

    const all = new Promise((resolve) => ws.on('message', () => got.length === 3 && resolve()));
    ws.resume();
    assert.equal(ws.isPaused, false);
    await all;
    assert.deepEqual(got, ['1', '2', '3']);
    await h.closeClient(ws);
  });
});

describe('send()', () => {
  test('data types and the binary option', T, async (t) => {
    const { client, server: s } = await setup(t);
    const got = h.messages(s, 10);
    client.send('text');
    client.send(Buffer.from('buf'));
    client.send(42);
    client.send(new Uint8Array([1, 2, 3]));
    client.send(new Uint16Array([0x0102]).buffer);
    client.send(new DataView(new Uint8Array([4, 5]).buffer));
    client.send('as binary', { binary: true });
    client.send(Buffer.from('as text'), { binary: false });
    client.send('');
    client.send(new Blob(['blob data']));
    const m = await got;
    const view = m.map(([d, b]) => [d.toString('latin1'), b]);
    assert.deepEqual(view, [
      ['text', false],
      ['buf', true],
      ['42', false],
      ['\x01\x02\x03', true],
      [Buffer.from(new Uint16Array([0x0102]).buffer).toString('latin1'), true],
      ['\x04\x05', true],
      ['as binary', true],
      ['as text', false],
      ['', false],
      ['blob data', true]
    ]);
  });

  test('callbacks are called in order without error', T, async (t) => {
    const { client, server: s } = await setup(t);
    const order = [];
    const done = new Promise((resolve, reject) => {
      for (let i = 0; i < 5; i++) {
        client.send(`m${i}`, (err) => {
          if (err) return reject(err);
          order.push(i);
          if (i === 4) resolve();
        });
      }
    });
    const got = h.messages(s, 5);
    await done;
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.deepEqual((await got).map(([d]) => d.toString()), ['m0', 'm1', 'm2', 'm3', 'm4']);
    // options object and callback
    await new Promise((resolve, reject) =>
      client.send('x', { binary: false }, (err) => (err ? reject(err) : resolve()))
    );
  });

  test('fin: false sends fragments of one message', T, async (t) => {
    const { client, server: s } = await setup(t);
    const got = h.messages(s, 2);
    client.send('ab', { fin: false });
    client.send('cd', { fin: false });
    client.send('ef');
    client.send(Buffer.from([1]), { fin: false });
    client.send(Buffer.from([2]), { fin: true });
    const [[d1, b1], [d2, b2]] = await got;
    assert.equal(d1.toString(), 'abcdef');
    assert.equal(b1, false);
    assert.deepEqual([...d2], [1, 2]);
    assert.equal(b2, true);
  });

  test('compress option with permessage-deflate', T, async (t) => {
    const { client, server: s } = await setup(t, { perMessageDeflate: { threshold: 0 } });
    assert.equal(client.extensions, 'permessage-deflate');
    const text = 'compress me '.repeat(10000);
    const got = h.messages(s, 3);
    client.send(text, { compress: true });
    client.send(text, { compress: false });
    client.send(Buffer.from(text));
    const m = await got;
    assert.deepEqual(m.map(([d, b]) => [d.toString() === text, b]), [
      [true, false],
      [true, false],
      [true, true]
    ]);
    // And the other way.
    const back = h.nextMessage(client);
    s.send(text);
    assert.equal((await back)[0].toString(), text);
  });

  test('mask: false from a client is a protocol error for the server', h.differs('a client always masks (RFC 6455 §5.3)'), async (t) => {
    const { client, server: s } = await setup(t);
    const serverErr = h.nextError(s);
    const clientClose = h.once(client, 'close');
    client.send('unmasked', { mask: false });
    const err = await serverErr;
    assert.ok(err instanceof RangeError);
    assert.equal(err.code, 'WS_ERR_EXPECTED_MASK');
    assert.equal(err.message, 'Invalid WebSocket frame: MASK must be set');
    const [code] = await clientClose;
    assert.equal(code, 1002);
  });

  test('send, ping and pong throw while CONNECTING', T, async (t) => {
    const { url } = await server(t);
    const ws = h.client(WebSocket, url);
    const msg = 'WebSocket is not open: readyState 0 (CONNECTING)';
    throwsExact(() => ws.send('x'), Error, msg);
    throwsExact(() => ws.ping(), Error, msg);
    throwsExact(() => ws.pong(), Error, msg);
    await h.once(ws, 'open');
    await h.closeClient(ws);
  });

  test('send after close calls the callback with an error', T, async (t) => {
    const { client } = await setup(t);
    const closed = h.once(client, 'close');
    client.close();
    const e1 = await new Promise((resolve) => client.send('x', resolve));
    assert.ok(e1 instanceof Error);
    assert.equal(e1.message, 'WebSocket is not open: readyState 2 (CLOSING)');
    await closed;
    const e2 = await new Promise((resolve) => client.send('x', resolve));
    assert.equal(e2.message, 'WebSocket is not open: readyState 3 (CLOSED)');
    const e3 = await new Promise((resolve) => client.ping('x', resolve));
    assert.equal(e3.message, 'WebSocket is not open: readyState 3 (CLOSED)');
    const e4 = await new Promise((resolve) => client.pong(resolve));
    assert.equal(e4.message, 'WebSocket is not open: readyState 3 (CLOSED)');
    // Without a callback nothing is thrown.
    client.send('y');
  });
});

describe('close(), terminate(), ping()', () => {
  test('close(code, reason) validation', T, async (t) => {
    const { client, server: s } = await setup(t);
    const codeMsg = 'First argument must be a valid error code number';
    for (const bad of ['1000', 999, 1004, 1005, 1006, 1015, 2999, 5000]) {
      throwsExact(() => client.close(bad), TypeError, codeMsg);
    }
    throwsExact(
      () => client.close(1000, 'x'.repeat(124)),
      RangeError,
      'The message must not be greater than 123 bytes'
    );
    // 62 two-byte characters are 124 bytes.
    throwsExact(
      () => client.close(1000, 'é'.repeat(62)),
      RangeError,
      'The message must not be greater than 123 bytes'
    );
    assert.equal(client.readyState, WebSocket.OPEN);

    const serverClose = h.once(s, 'close');
    const clientClose = h.once(client, 'close');
    client.close(1000, 'y'.repeat(123));
    const [code, reason] = await serverClose;
    assert.equal(code, 1000);
    assert.equal(reason.toString(), 'y'.repeat(123));
    const [ccode, creason] = await clientClose;
    assert.equal(ccode, 1000);
    assert.equal(creason.toString(), 'y'.repeat(123));
  });

  test('close() with no code is 1005 on both sides; a Buffer reason', T, async (t) => {
    const a = await setup(t);
    const sc = h.once(a.server, 'close');
    const cc = h.once(a.client, 'close');
    a.client.close();
    const [code, reason] = await sc;
    assert.equal(code, 1005);
    assert.equal(reason.length, 0);
    assert.equal((await cc)[0], 1005);

    const b = await setup(t);
    const sc2 = h.once(b.server, 'close');
    b.client.close(3001, Buffer.from('buffer reason'));
    const [code2, reason2] = await sc2;
    assert.equal(code2, 3001);
    assert.equal(reason2.toString(), 'buffer reason');
  });

  test('close() twice and after CLOSED is harmless', T, async (t) => {
    const { client } = await setup(t);
    const c = h.once(client, 'close');
    client.close(1000);
    client.close(1001);
    await c;
    client.close();
    client.terminate();
    assert.equal(client.readyState, WebSocket.CLOSED);
  });

  test('ping/pong data over 125 bytes is a RangeError', T, async (t) => {
    const { client, server: s } = await setup(t);
    const msg = 'The data size must not be greater than 125 bytes';
    throwsExact(() => client.ping(Buffer.alloc(126)), RangeError, msg);
    throwsExact(() => client.pong('x'.repeat(126)), RangeError, msg);
    throwsExact(() => s.ping(Buffer.alloc(200)), RangeError, msg);
    const p = h.once1(s, 'ping');
    client.ping(Buffer.alloc(125, 1));
    assert.equal((await p).length, 125);
  });

  test('terminate()', T, async (t) => {
    const { client, server: s } = await setup(t);
    const sc = h.once(s, 'close');
    const cc = h.once(client, 'close');
    client.terminate();
    assert.equal(client.readyState, WebSocket.CLOSING);
    assert.equal((await cc)[0], 1006);
    assert.equal((await sc)[0], 1006);
  });

  test('close() before open', T, async (t) => {
    const { url } = await server(t);
    const ws = h.client(WebSocket, url);
    const order = [];
    ws.on('open', () => order.push('open'));
    const err = h.nextError(ws).then((e) => (order.push('error'), e));
    const c = h.once(ws, 'close').then((a) => (order.push('close'), a));
    ws.close();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    assert.equal((await err).message, 'WebSocket was closed before the connection was established');
    assert.equal((await c)[0], 1006);
    assert.deepEqual(order, ['error', 'close']);
  });

  test('terminate() before open', T, async (t) => {
    const { url } = await server(t);
    const ws = h.client(WebSocket, url);
    const err = h.nextError(ws);
    const c = h.once(ws, 'close');
    ws.terminate();
    assert.equal((await err).message, 'WebSocket was closed before the connection was established');
    assert.equal((await c)[0], 1006);
  });
});

describe('limits', () => {
  test('maxPayload: a too large message from the server', T, async (t) => {
    const { client, server: s } = await setup(t, {}, { maxPayload: 10 });
    const serverClose = h.once(s, 'close');
    const clientErr = h.nextError(client);
    const clientClose = h.once(client, 'close');
    s.send(Buffer.alloc(10)); // fits
    s.send(Buffer.alloc(11)); // does not
    const err = await clientErr;
    assert.ok(err instanceof RangeError);
    assert.equal(err.message, 'Max payload size exceeded');
    assert.equal(err.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    const [scode] = await serverClose;
    assert.equal(scode, 1009);
    // The client does not read the server's close frame after the error.
    const [ccode] = await clientClose;
    assert.equal(ccode, 1006);
  });

  test('invalid UTF-8 is an error unless skipUTF8Validation', T, async (t) => {
    // ws's server is used: it sends whatever text bytes it is given.
    const bad = Buffer.from([0x68, 0xc3, 0x28]);

    const a = await setup(t, {}, undefined, PeerServer);
    const err = h.nextError(a.client);
    const sc = h.once(a.server, 'close');
    a.server.send(bad, { binary: false });
    const e = await err;
    assert.equal(e.code, 'WS_ERR_INVALID_UTF8');
    assert.equal(e.message, 'Invalid WebSocket frame: invalid UTF-8 sequence');
    assert.equal((await sc)[0], 1007);

    const b = await setup(t, {}, { skipUTF8Validation: true }, PeerServer);
    const got = h.nextMessage(b.client);
    b.server.send(bad, { binary: false });
    const [data, isBinary] = await got;
    assert.deepEqual([...data], [...bad]);
    assert.equal(isBinary, false);
  });
});

describe('ws+unix:', () => {
  test('connects over a Unix domain socket', T, async (t) => {
    const sock = path.join(h.tmpDir(), 'ws.sock');
    const httpServer = http.createServer();
    const wss = new WebSocketServer({ server: httpServer });
    await h.listen(httpServer, sock);
    t.after(async () => {
      await h.stopServer(wss);
      await h.closeServer(httpServer);
    });
    wss.on('connection', (ws, req) => {
      ws.send(`url=${req.url}`);
      ws.on('message', (data) => ws.send(data));
    });

    const ws = h.client(WebSocket, `ws+unix:${sock}:/chat?x=1`);
    const [first] = await h.nextMessage(ws);
    assert.equal(first.toString(), 'url=/chat?x=1');
    assert.equal(ws.url, `ws+unix:${sock}:/chat?x=1`);
    const echo = h.nextMessage(ws);
    ws.send('over unix');
    assert.equal((await echo)[0].toString(), 'over unix');
    await h.closeClient(ws);

    // Without a path: the request path is "/".
    const ws2 = h.client(WebSocket, `ws+unix:${sock}`);
    assert.equal((await h.nextMessage(ws2))[0].toString(), 'url=/');
    await h.closeClient(ws2);
  });
});

describe('WHATWG interface', () => {
  test('onopen, onmessage, onclose and event objects', T, async (t) => {
    const { wss, url } = await server(t);
    wss.on('connection', (ws) => {
      ws.send('text');
      ws.send(Buffer.from([1, 2]));
      ws.close(4001, 'done');
    });
    const ws = h.client(WebSocket, url);
    assert.equal(ws.onopen, null);
    assert.equal(ws.onmessage, null);
    assert.equal(ws.onclose, null);
    assert.equal(ws.onerror, null);

    const events = [];
    const done = new Promise((resolve) => {
      ws.onopen = (ev) => events.push(ev);
      ws.onmessage = (ev) => events.push(ev);
      ws.onclose = (ev) => {
        events.push(ev);
        resolve();
      };
    });
    assert.equal(typeof ws.onopen, 'function');
    await done;

    const [open, m1, m2, close] = events;
    assert.equal(open.type, 'open');
    assert.equal(open.target, ws);
    assert.equal(m1.type, 'message');
    assert.equal(m1.target, ws);
    assert.equal(m1.data, 'text');
    assert.ok(Buffer.isBuffer(m2.data));
    assert.deepEqual([...m2.data], [1, 2]);
    assert.equal(close.type, 'close');
    assert.equal(close.target, ws);
    assert.equal(close.code, 4001);
    assert.equal(close.reason, 'done');
    assert.equal(close.wasClean, true);
  });

  test('onerror and ErrorEvent', T, async () => {
    const port = await h.freePort();
    const ws = h.client(WebSocket, `ws://${HOST}:${port}`);
    const closeEvent = new Promise((resolve) => {
      ws.onclose = resolve;
    });
    const ev = await new Promise((resolve) => {
      ws.onerror = resolve;
    });
    assert.equal(ev.type, 'error');
    assert.equal(ev.target, ws);
    assert.ok(ev.error instanceof Error);
    assert.equal(ev.error.code, 'ECONNREFUSED');
    assert.equal(ev.message, ev.error.message);
    const cev = await closeEvent;
    assert.equal(cev.code, 1006);
    assert.equal(cev.reason, '');
    assert.equal(cev.wasClean, false);
  });

  test('setting an on-attribute replaces it; a non-function clears it', T, async (t) => {
    const { client, server: s } = await setup(t);
    const calls = [];
    const a = () => calls.push('a');
    const b = () => calls.push('b');
    client.onmessage = a;
    client.onmessage = b;
    assert.equal(client.onmessage, b);
    let got = h.nextMessage(client);
    s.send('1');
    await got;
    client.onmessage = 'not a function';
    assert.equal(client.onmessage, null);
    got = h.nextMessage(client);
    s.send('2');
    await got;
    assert.deepEqual(calls, ['b']);
  });

  test('addEventListener, { once: true }, removeEventListener, handleEvent', T, async (t) => {
    const { client, server: s } = await setup(t);
    const calls = [];
    const every = (ev) => calls.push(`every:${ev.data}`);
    const once = (ev) => calls.push(`once:${ev.data}`);
    const removed = (ev) => calls.push(`removed:${ev.data}`);
    const obj = { handleEvent(ev) { calls.push(`obj:${ev.data}:${this === obj}`); } };

    client.addEventListener('message', every);
    client.addEventListener('message', every); // duplicate: ignored
    client.addEventListener('message', once, { once: true });
    client.addEventListener('message', removed);
    client.addEventListener('message', obj);
    client.removeEventListener('message', removed);

    const got = h.messages(client, 2);
    s.send('1');
    s.send('2');
    await got;
    assert.deepEqual(calls, ['every:1', 'once:1', 'obj:1:true', 'every:2', 'obj:2:true']);

    // removeEventListener does not remove an on-attribute handler.
    const attr = () => calls.push('attr');
    client.onmessage = attr;
    client.removeEventListener('message', attr);
    assert.equal(client.onmessage, attr);
  });

  test('CloseEvent.wasClean is false after terminate()', T, async (t) => {
    const { client, server: s } = await setup(t);
    const ev = new Promise((resolve) => client.addEventListener('close', resolve));
    s.terminate();
    const e = await ev;
    assert.equal(e.code, 1006);
    assert.equal(e.wasClean, false);
  });
});

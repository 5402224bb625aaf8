'use strict';

// WebSocketServer, against ws 8's documented API and behaviour. The clients
// are npm's ws (the reference), so that a failure points at the server.

const http = require('node:http');
const { describe, test } = require('node:test');

const h = require('./helpers');
const { assert, T, HOST } = h;

const WebSocket = h.impl;
const { WebSocketServer } = WebSocket;
const Client = h.peer;

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

async function server(t, options = {}) {
  const s = await h.startServer(WebSocketServer, options);
  t.after(() => h.stopServer(s.wss));
  return s;
}

/** Sends raw bytes to 127.0.0.1:port and resolves to the whole response. */
async function rawRequest(port, text) {
  const socket = await h.rawConnect(port);
  const all = h.readAll(socket);
  socket.write(text);
  return all;
}

function upgradeRequest(lines) {
  return ['GET / HTTP/1.1', 'Host: 127.0.0.1', ...lines, '', ''].join('\r\n');
}

/** Connects a reference client expected to fail with an HTTP status. */
async function expectStatus(url, status, options) {
  const ws = h.client(Client, url, options);
  const res = h.once(ws, 'unexpected-response');
  const [, response] = await res;
  let body = '';
  response.setEncoding('utf8');
  for await (const chunk of response) body += chunk;
  const done = h.failure(ws);
  ws.terminate();
  await done;
  assert.equal(response.statusCode, status);
  return { res: response, body };
}

describe('exports and constructor', () => {
  test('WebSocket.Server === WebSocketServer', T, () => {
    assert.equal(WebSocket.Server, WebSocketServer);
    assert.equal(WebSocket.WebSocketServer, WebSocketServer);
  });

  test('one and only one of port, server, noServer', T, () => {
    const msg = 'One and only one of the "port", "server", or "noServer" options must be specified';
    const check = (fn) =>
      assert.throws(fn, (err) => {
        assert.ok(err instanceof TypeError);
        assert.equal(err.message, msg);
        return true;
      });
    check(() => new WebSocketServer());
    check(() => new WebSocketServer({}));
    check(() => new WebSocketServer({ host: HOST }));
    check(() => new WebSocketServer({ port: 0, noServer: true }));
    const httpServer = http.createServer();
    check(() => new WebSocketServer({ port: 0, server: httpServer }));
    check(() => new WebSocketServer({ server: httpServer, noServer: true }));
  });
});

describe('listening', () => {
  test('port, host, backlog and the listening callback', T, async (t) => {
    let called = 0;
    const wss = h.track(
      new WebSocketServer({ port: 0, host: HOST, backlog: 16 }, function () {
        called++;
      })
    );
    t.after(() => h.stopServer(wss));
    await h.once(wss, 'listening');
    assert.equal(called, 1);
    const addr = wss.address();
    assert.equal(addr.address, HOST);
    assert.equal(addr.family, 'IPv4');
    assert.ok(Number.isInteger(addr.port) && addr.port > 0);

    const ws = await h.connect(Client, `ws://${HOST}:${addr.port}`);
    await h.closeClient(ws);
  });

  test("'error' with EADDRINUSE", T, async (t) => {
    const { port } = await server(t);
    const other = h.track(new WebSocketServer({ port, host: HOST }));
    const err = await h.nextError(other);
    assert.equal(err.code, 'EADDRINUSE');
    await h.stopServer(other);
  });

  test('a plain HTTP request gets 426 Upgrade Required', T, async (t) => {
    const { port } = await server(t);
    const res = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(res, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
    assert.match(res, /\r\n\r\nUpgrade Required$/);
  });
});

describe('connections', () => {
  test("'connection'(ws, req)", T, async (t) => {
    const { wss, url } = await server(t);
    const conn = h.once(wss, 'connection');
    const c = await h.connect(Client, `${url}/room?id=7`, { headers: { 'X-Who': 'me' } });
    const [ws, req] = await conn;
    assert.ok(ws instanceof WebSocket);
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.equal(req.url, '/room?id=7');
    assert.equal(req.method, 'GET');
    assert.equal(req.headers['x-who'], 'me');
    assert.equal(req.headers.upgrade.toLowerCase(), 'websocket');
    assert.equal(req.socket.remoteAddress, HOST);
    assert.equal(typeof req.socket.remotePort, 'number');

    const echoed = h.nextMessage(c);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    c.send('ping?');
    const [data, isBinary] = await echoed;
    assert.equal(data.toString(), 'ping?');
    assert.equal(isBinary, false);
    await h.closeClient(c);
  });

  test('clientTracking', T, async (t) => {
    const { wss, url } = await server(t);
    assert.ok(wss.clients instanceof Set);
    assert.equal(wss.clients.size, 0);
    const conn = h.once(wss, 'connection');
    const c = await h.connect(Client, url);
    const [ws] = await conn;
    assert.equal(wss.clients.size, 1);
    assert.ok(wss.clients.has(ws));
    const serverClosed = h.once(ws, 'close');
    await h.closeClient(c);
    await serverClosed;
    assert.equal(wss.clients.size, 0);

    const { wss: untracked, url: url2 } = await server(t, { clientTracking: false });
    assert.equal(untracked.clients, undefined);
    const c2 = await h.connect(Client, url2);
    await h.closeClient(c2);
  });

  test('handleProtocols(protocols, req)', T, async (t) => {
    let seen;
    const { wss, url } = await server(t, {
      handleProtocols(protocols, req) {
        seen = { protocols, url: req.url };
        return protocols.has('b') ? 'b' : false;
      }
    });
    const conn = h.once(wss, 'connection');
    const c = await h.connect(Client, `${url}/p`, ['a', 'b', 'c']);
    const [ws] = await conn;
    assert.ok(seen.protocols instanceof Set);
    assert.deepEqual([...seen.protocols], ['a', 'b', 'c']);
    assert.equal(seen.url, '/p');
    assert.equal(c.protocol, 'b');
    assert.equal(ws.protocol, 'b');
    await h.closeClient(c);

    // Returning false: no subprotocol in the response.
    const conn2 = h.once(wss, 'connection');
    const c2 = h.client(Client, url, ['x']);
    const fail = h.failure(c2);
    const [ws2] = await conn2;
    assert.equal(ws2.protocol, '');
    const { err } = await fail;
    assert.equal(err.message, 'Server sent no subprotocol');
  });

  test('without handleProtocols the first subprotocol is chosen', T, async (t) => {
    const { url } = await server(t);
    const c = await h.connect(Client, url, ['first', 'second']);
    assert.equal(c.protocol, 'first');
    await h.closeClient(c);
  });

  test('maxPayload', T, async (t) => {
    const { wss, url } = await server(t, { maxPayload: 5 });
    const conn = h.once(wss, 'connection');
    const c = await h.connect(Client, url);
    const [ws] = await conn;
    const got = h.nextMessage(ws);
    const serverFail = h.failure(ws);
    const clientClose = h.once(c, 'close');
    c.send('12345');
    assert.equal((await got)[0].toString(), '12345');
    c.send('123456');
    const { err } = await serverFail;
    assert.ok(err instanceof RangeError);
    assert.equal(err.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    assert.equal(err.message, 'Max payload size exceeded');
    const [code] = await clientClose;
    assert.equal(code, 1009);
  });

  test('path', T, async (t) => {
    const { wss, url } = await server(t, { path: '/foo' });
    const { body } = await expectStatus(`${url}/bar`, 400);
    assert.equal(body, 'Bad Request');
    await expectStatus(`${url}/`, 400);
    const conn = h.once(wss, 'connection');
    const c = await h.connect(Client, `${url}/foo?x=1`);
    const [, req] = await conn;
    assert.equal(req.url, '/foo?x=1');
    await h.closeClient(c);
  });

  test('perMessageDeflate', T, async (t) => {
    const { wss, url } = await server(t, {
      perMessageDeflate: { threshold: 0, serverNoContextTakeover: true }
    });
    const conn = h.once(wss, 'connection');
    const c = h.client(Client, url);
    const upgrade = h.once(c, 'upgrade');
    await h.once(c, 'open');
    const [res] = await upgrade;
    const [ws] = await conn;
    assert.match(res.headers['sec-websocket-extensions'], /^permessage-deflate/);
    assert.match(res.headers['sec-websocket-extensions'], /server_no_context_takeover/);
    assert.equal(c.extensions, 'permessage-deflate');
    assert.equal(ws.extensions, 'permessage-deflate');
    const text = 'deflate '.repeat(5000);
    const got = h.nextMessage(c);
    ws.send(text);
    assert.equal((await got)[0].toString(), text);
    const back = h.nextMessage(ws);
    c.send(text);
    assert.equal((await back)[0].toString(), text);
    await h.closeClient(c);

    // perMessageDeflate is off by default on servers.
    const { url: url2 } = await server(t);
    const c2 = h.client(Client, url2);
    const upgrade2 = h.once(c2, 'upgrade');
    await h.once(c2, 'open');
    const [res2] = await upgrade2;
    assert.equal(res2.headers['sec-websocket-extensions'], undefined);
    assert.equal(c2.extensions, '');
    await h.closeClient(c2);
  });

  test('autoPong: false', T, async (t) => {
    const { wss, url } = await server(t, { autoPong: false });
    const conn = h.once(wss, 'connection');
    const c = await h.connect(Client, url);
    const [ws] = await conn;
    let pongs = 0;
    c.on('pong', () => pongs++);
    const ping = h.once1(ws, 'ping');
    c.ping('hi');
    assert.equal((await ping).toString(), 'hi');
    // The server did not answer; an explicit pong is delivered.
    const pong = h.once1(c, 'pong');
    ws.pong('manual');
    assert.equal((await pong).toString(), 'manual');
    assert.equal(pongs, 1);
    await h.closeClient(c);
  });

  test('the WebSocket option (a subclass)', T, async (t) => {
    class MyWebSocket extends WebSocket {
      hello() {
        return 'hi';
      }
    }
    const { wss, url } = await server(t, { WebSocket: MyWebSocket });
    const conn = h.once(wss, 'connection');
    const c = await h.connect(Client, url);
    const [ws] = await conn;
    assert.ok(ws instanceof MyWebSocket);
    assert.equal(ws.hello(), 'hi');
    await h.closeClient(c);
  });
});

describe('verifyClient', () => {
  test('sync: info, and false rejects with 401', T, async (t) => {
    const infos = [];
    const { wss, url } = await server(t, {
      verifyClient(info) {
        infos.push(info);
        return info.req.url !== '/deny';
      }
    });
    const { body } = await expectStatus(`${url}/deny`, 401, { origin: 'https://o.test' });
    assert.equal(body, 'Unauthorized');
    assert.equal(infos[0].origin, 'https://o.test');
    assert.equal(infos[0].secure, false);
    assert.equal(infos[0].req.url, '/deny');
    assert.equal(typeof infos[0].req.headers, 'object');

    const conn = h.once(wss, 'connection');
    const c = await h.connect(Client, `${url}/ok`);
    await conn;
    await h.closeClient(c);
  });

  test('async: cb(false, code, message, headers) and cb(true)', T, async (t) => {
    const { url } = await server(t, {
      verifyClient(info, cb) {
        setTimeout(() => {
          if (info.req.url === '/forbidden') cb(false, 403, 'Not for you', { 'X-Reason': 'test' });
          else if (info.req.url === '/default') cb(false);
          else cb(true);
        }, 10);
      }
    });
    const { res, body } = await expectStatus(`${url}/forbidden`, 403);
    assert.equal(body, 'Not for you');
    assert.equal(res.headers['x-reason'], 'test');
    assert.equal(res.statusMessage, 'Forbidden');

    const def = await expectStatus(`${url}/default`, 401);
    assert.equal(def.body, 'Unauthorized');

    const c = await h.connect(Client, `${url}/fine`);
    await h.closeClient(c);
  });
});

describe('noServer and server options', () => {
  test('noServer + handleUpgrade(req, socket, head, cb)', T, async (t) => {
    const httpServer = http.createServer((req, res) => res.end('plain'));
    const wss = h.track(new WebSocketServer({ noServer: true }));
    assert.throws(() => wss.address(), {
      message: 'The server is operating in "noServer" mode'
    });
    httpServer.on('upgrade', (req, socket, head) => {
      if (req.url === '/ws') {
        wss.handleUpgrade(req, socket, head, (ws, request) => {
          assert.equal(request, req);
          wss.emit('connection', ws, request);
        });
      } else {
        socket.destroy();
      }
    });
    const port = await h.listen(httpServer);
    t.after(async () => {
      await h.stopServer(wss);
      await h.closeServer(httpServer);
    });

    const conn = h.once(wss, 'connection');
    const c = await h.connect(Client, `ws://${HOST}:${port}/ws`);
    const [ws, req] = await conn;
    assert.equal(req.url, '/ws');
    assert.equal(wss.clients.size, 1);
    const got = h.nextMessage(c);
    ws.send('via noServer');
    assert.equal((await got)[0].toString(), 'via noServer');
    await h.closeClient(c);

    const bad = h.client(Client, `ws://${HOST}:${port}/other`);
    const { err } = await h.failure(bad);
    assert.ok(err);
  });

  test('noServer: after close(), handleUpgrade answers 503', T, async (t) => {
    const httpServer = http.createServer();
    const wss = new WebSocketServer({ noServer: true });
    httpServer.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    const port = await h.listen(httpServer);
    t.after(() => h.closeServer(httpServer));
    await new Promise((resolve) => wss.close(resolve));
    await expectStatus(`ws://${HOST}:${port}/`, 503);
  });

  test('server: attach to an existing http.Server', T, async (t) => {
    const httpServer = http.createServer((req, res) => res.end('plain http'));
    const wss = h.track(new WebSocketServer({ server: httpServer }));
    const listening = h.once(wss, 'listening');
    const port = await h.listen(httpServer);
    await listening;
    assert.deepEqual(wss.address(), httpServer.address());
    t.after(async () => {
      await h.stopServer(wss);
      await h.closeServer(httpServer);
    });

    const body = await new Promise((resolve, reject) => {
      http
        .get({ host: HOST, port, path: '/', agent: false }, (res) => {
          let b = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(b));
        })
        .on('error', reject);
    });
    assert.equal(body, 'plain http');

    const conn = h.once(wss, 'connection');
    const c = await h.connect(Client, `ws://${HOST}:${port}/x`);
    const [, req] = await conn;
    assert.equal(req.url, '/x');
    await h.closeClient(c);

    // close() does not close the http.Server.
    await new Promise((resolve) => wss.close(resolve));
    assert.equal(httpServer.listening, true);
  });

  test('shouldHandle', T, async (t) => {
    const { wss, url } = await server(t);
    wss.shouldHandle = (req) => req.url.startsWith('/ok');
    await expectStatus(`${url}/nope`, 400);
    const c = await h.connect(Client, `${url}/ok`);
    await h.closeClient(c);

    // Default: true unless the path option says otherwise.
    const { wss: w2 } = await server(t, { path: '/p' });
    assert.equal(w2.shouldHandle({ url: '/p?q=1' }), true);
    assert.equal(w2.shouldHandle({ url: '/q' }), false);
  });
});

describe('server events', () => {
  test("'headers'(headers, req) can add response headers", T, async (t) => {
    const { wss, url } = await server(t);
    let seen;
    wss.on('headers', (headers, req) => {
      seen = { first: headers[0], url: req.url, isArray: Array.isArray(headers) };
      headers.push('X-Test: 1');
      headers.push('Set-Cookie: a=b');
    });
    const c = h.client(Client, `${url}/hdr`);
    const upgrade = h.once(c, 'upgrade');
    await h.once(c, 'open');
    const [res] = await upgrade;
    assert.deepEqual(seen, { first: 'HTTP/1.1 101 Switching Protocols', url: '/hdr', isArray: true });
    assert.equal(res.headers['x-test'], '1');
    assert.deepEqual(res.headers['set-cookie'], ['a=b']);
    await h.closeClient(c);
  });

  test("'wsClientError' for a malformed upgrade request", h.differs('the native server answers a bad request itself, then reports it'), async (t) => {
    const { wss, port } = await server(t);
    const seen = [];
    wss.on('wsClientError', (err, socket, req) => {
      seen.push({ message: err.message, url: req.url, isSocket: typeof socket.write === 'function' });
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 6\r\n\r\ncustom');
    });
    const res = await rawRequest(
      port,
      upgradeRequest(['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13'])
    );
    assert.match(res, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(res, /custom$/);
    assert.deepEqual(seen, [
      { message: 'Missing or invalid Sec-WebSocket-Key header', url: '/', isSocket: true }
    ]);
  });

  test("wsc: a malformed upgrade request is answered natively, then reported as 'wsClientError'",
    { ...T, skip: h.isWsc ? false : 'wsc only' }, async (t) => {
      const { wss, port } = await server(t);
      const seen = [];
      wss.on('wsClientError', (err, socket) => seen.push([err.message, typeof socket.remoteAddress]));
      let res = await rawRequest(port, upgradeRequest(['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13']));
      assert.match(res, /^HTTP\/1\.1 400 Bad Request\r\n/);
      res = await rawRequest(port, upgradeRequest(['Upgrade: websocket', 'Connection: Upgrade',
        `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 99']));
      assert.match(res, /^HTTP\/1\.1 426 /);
      assert.match(res, /\r\nSec-WebSocket-Version: 13\r\n/i);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(seen, [
        ['Missing or invalid Sec-WebSocket-Key header', 'string'],
        ['Missing or invalid Sec-WebSocket-Version header', 'string']
      ]);
    });

  test('malformed upgrade requests without a wsClientError listener', h.differs('a bad version is answered 426 with Sec-WebSocket-Version: 13, as RFC 6455 §4.4 says'), async (t) => {
    const { port } = await server(t);
    const base = ['Upgrade: websocket', 'Connection: Upgrade'];

    let res = await rawRequest(port, upgradeRequest([...base, 'Sec-WebSocket-Version: 13']));
    assert.match(res, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(res, /\r\n\r\nMissing or invalid Sec-WebSocket-Key header$/);

    res = await rawRequest(
      port,
      upgradeRequest([...base, `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 99'])
    );
    assert.match(res, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(res, /\r\nSec-WebSocket-Version: 13, 8\r\n/i);
    assert.match(res, /\r\n\r\nMissing or invalid Sec-WebSocket-Version header$/);

    res = await rawRequest(
      port,
      upgradeRequest([
        'Upgrade: foo',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${KEY}`,
        'Sec-WebSocket-Version: 13'
      ])
    );
    assert.match(res, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(res, /\r\n\r\nInvalid Upgrade header$/);

    res = await rawRequest(
      port,
      upgradeRequest([
        ...base,
        `Sec-WebSocket-Key: ${KEY}`,
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Protocol: a b'
      ])
    );
    assert.match(res, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(res, /\r\n\r\nInvalid Sec-WebSocket-Protocol header$/);

    res = await rawRequest(
      port,
      [
        'POST / HTTP/1.1',
        'Host: 127.0.0.1',
        ...base,
        `Sec-WebSocket-Key: ${KEY}`,
        'Sec-WebSocket-Version: 13',
        '',
        ''
      ].join('\r\n')
    );
    assert.match(res, /^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    assert.match(res, /\r\n\r\nInvalid HTTP method$/);
  });

  test('a valid raw handshake gets 101 with the right accept key', T, async (t) => {
    const { wss, port } = await server(t);
    const socket = await h.rawConnect(port);
    t.after(() => socket.destroy());
    const conn = h.once(wss, 'connection');
    socket.write(
      upgradeRequest([
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${KEY}`,
        'Sec-WebSocket-Version: 13'
      ])
    );
    const [head] = await h.once(socket, 'data');
    const text = head.toString('latin1');
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(text, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
    assert.match(text, /\r\nUpgrade: websocket\r\n/i);
    const [ws] = await conn;
    const closed = h.once(ws, 'close');
    socket.destroy();
    assert.equal((await closed)[0], 1006);
  });

  test("close(cb), 'close', and close() when not running", T, async () => {
    const wss = h.track(new WebSocketServer({ port: 0, host: HOST }));
    await h.once(wss, 'listening');
    let closeEvents = 0;
    wss.on('close', () => closeEvents++);
    const args = await new Promise((resolve) => wss.close((...a) => resolve(a)));
    assert.deepEqual(args, []);
    assert.equal(closeEvents, 1);
    h.untrack(wss);

    const err = await new Promise((resolve) => wss.close(resolve));
    assert.ok(err instanceof Error);
    assert.equal(err.message, 'The server is not running');
  });

  test('close() does not close existing connections', T, async (t) => {
    const { wss, url } = await server(t);
    const conn = h.once(wss, 'connection');
    const c = await h.connect(Client, url);
    const [ws] = await conn;
    ws.on('message', (data) => ws.send(data));
    let closedAt = null;
    const done = new Promise((resolve) =>
      wss.close(() => {
        closedAt = c.readyState;
        resolve();
      })
    );
    await h.delay(50);
    assert.equal(closedAt, null);
    assert.equal(c.readyState, Client.OPEN);
    assert.equal(wss.clients.size, 1);
    const echo = h.nextMessage(c);
    c.send('still here');
    assert.equal((await echo)[0].toString(), 'still here');
    await h.closeClient(c);
    await done;
    // The server's 'close' comes once the connection is gone.
    assert.ok(closedAt === Client.CLOSING || closedAt === Client.CLOSED, `readyState ${closedAt}`);
  });

  test('noServer: close() waits for the tracked clients', T, async (t) => {
    const httpServer = http.createServer();
    const wss = h.track(new WebSocketServer({ noServer: true }));
    httpServer.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    const port = await h.listen(httpServer);
    t.after(() => h.closeServer(httpServer));
    const conn = h.once(wss, 'connection');
    const c = await h.connect(Client, `ws://${HOST}:${port}`);
    await conn;
    let closed = false;
    const done = new Promise((resolve) => wss.close(() => resolve((closed = true))));
    await h.delay(30);
    assert.equal(closed, false);
    await h.closeClient(c);
    await done;
    h.untrack(wss);
  });
});

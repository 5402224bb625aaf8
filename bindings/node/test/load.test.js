'use strict';

// Load: many concurrent connections, large messages, many messages; and at
// the end, no socket-like resource left behind.

const { test } = require('node:test');

const h = require('./helpers');
const { assert } = h;

const WebSocket = h.impl;
const { WebSocketServer } = WebSocket;

const MiB = 1024 * 1024;
const LOAD = { timeout: 30000 };

/** Socket-like active resources, as a multiset { type: count }. */
function snapshot() {
  const counts = {};
  for (const r of h.socketResources()) counts[r] = (counts[r] || 0) + 1;
  return counts;
}

const baseline = snapshot();

function extra(now, base) {
  const out = {};
  for (const [type, n] of Object.entries(now)) {
    if (n > (base[type] || 0)) out[type] = n - (base[type] || 0);
  }
  return out;
}

async function echoServer(t, options = {}) {
  const s = await h.startServer(WebSocketServer, { backlog: 2048, ...options });
  s.wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  t.after(() => h.stopServer(s.wss));
  return s;
}

test('1000 concurrent connections, each exchanging a message then closing', LOAD, async (t) => {
  const N = 1000;
  const { wss, url } = await echoServer(t);
  let serverCloses = 0;
  const allServerClosed = new Promise((resolve) => {
    wss.on('connection', (ws) => {
      ws.on('close', (code) => {
        assert.equal(code, 1000);
        if (++serverCloses === N) resolve();
      });
    });
  });
  let maxClients = 0;
  wss.on('connection', () => (maxClients = Math.max(maxClients, wss.clients.size)));

  const one = async (i) => {
    const ws = h.client(WebSocket, `${url}/c${i}`);
    const closed = h.once(ws, 'close');
    await h.once(ws, 'open');
    const got = h.nextMessage(ws);
    ws.send(`hello ${i}`);
    const [data, isBinary] = await got;
    assert.equal(data.toString(), `hello ${i}`);
    assert.equal(isBinary, false);
    ws.close(1000, 'done');
    const [code, reason] = await closed;
    assert.equal(code, 1000);
    assert.equal(reason.toString(), 'done');
    assert.equal(ws.readyState, WebSocket.CLOSED);
  };

  const results = await Promise.allSettled(Array.from({ length: N }, (_, i) => one(i)));
  const failed = results.filter((r) => r.status === 'rejected');
  assert.equal(failed.length, 0, failed.length ? String(failed[0].reason) : '');
  await allServerClosed;
  assert.equal(serverCloses, N);
  assert.equal(wss.clients.size, 0);
  assert.ok(maxClients > 1);
});

test('1000 concurrent connections closed by the server', LOAD, async (t) => {
  const N = 1000;
  const { wss, url } = await h.startServer(WebSocketServer, { backlog: 2048 });
  t.after(() => h.stopServer(wss));
  wss.on('connection', (ws, req) => {
    ws.send(req.url);
    ws.close(4000, req.url);
  });
  const one = async (i) => {
    const ws = h.client(WebSocket, `${url}/s${i}`);
    const got = h.nextMessage(ws);
    const closed = h.once(ws, 'close');
    const [code, reason] = await closed;
    assert.equal((await got)[0].toString(), `/s${i}`);
    assert.equal(code, 4000);
    assert.equal(reason.toString(), `/s${i}`);
  };
  const results = await Promise.allSettled(Array.from({ length: N }, (_, i) => one(i)));
  const failed = results.filter((r) => r.status === 'rejected');
  assert.equal(failed.length, 0, failed.length ? String(failed[0].reason) : '');
});

test('16 MiB messages in both directions at once', LOAD, async (t) => {
  const { wss, url } = await h.startServer(WebSocketServer);
  t.after(() => h.stopServer(wss));
  const p = await h.pair(WebSocket, wss, url);
  const up = Buffer.allocUnsafe(16 * MiB);
  const down = Buffer.allocUnsafe(16 * MiB);
  for (let i = 0; i < up.length; i++) {
    up[i] = (i * 7) & 0xff;
    down[i] = (i * 13 + 5) & 0xff;
  }
  const text = 'x'.repeat(16 * MiB);
  const atServer = h.messages(p.server, 2);
  const atClient = h.messages(p.client, 2);
  const sent = [];
  const cb = () => new Promise((resolve, reject) => sent.push((err) => (err ? reject(err) : resolve())));
  const callbacks = [cb(), cb(), cb(), cb()];
  p.client.send(up, sent[0]);
  p.server.send(down, sent[1]);
  p.client.send(text, sent[2]);
  p.server.send(text, sent[3]);
  await Promise.all(callbacks);
  const [s, c] = await Promise.all([atServer, atClient]);
  assert.ok(s[0][0].equals(up));
  assert.equal(s[0][1], true);
  assert.ok(c[0][0].equals(down));
  assert.equal(c[0][1], true);
  assert.equal(s[1][0].length, text.length);
  assert.equal(s[1][0].toString(), text);
  assert.equal(s[1][1], false);
  assert.equal(c[1][0].toString(), text);
  await h.closeClient(p.client);
});

// As with ws, a Buffer is sent without a copy: a server's 16 MiB message is still being
// written from the caller's memory after send() returns (more than the kernel takes at once), so
// a change made then reaches the peer; and the Buffer stays alive until written even when the
// caller dropped it and the GC runs.
test('large sends are written from the caller\'s Buffer, kept alive until written', LOAD, async (t) => {
  require('node:v8').setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc');
  const { wss, url } = await h.startServer(WebSocketServer);
  t.after(() => h.stopServer(wss));
  const p = await h.pair(WebSocket, wss, url);
  const pattern = (n, k) => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = (i * k + 1) & 0xff;
    return b;
  };
  const got = h.messages(p.client, 3);
  const lent = pattern(16 * MiB, 3);
  const wrote = new Promise((resolve, reject) => p.server.send(lent, (err) => (err ? reject(err) : resolve())));
  lent[lent.length - 1] ^= 0xff;
  // Two more, not kept by the test: only wsc's hold keeps their memory.
  p.server.send(pattern(4 * MiB, 5));
  p.server.send(pattern(1 * MiB, 11));
  for (let i = 0; i < 5; i++) {
    gc();
    Buffer.alloc(4 * MiB, 0xee); // reuse what a freed Buffer would have left
    await h.delay(1);
  }
  await wrote;
  const m = await got;
  assert.ok(m[0][0].equals(lent), 'the change made after send() was written');
  assert.ok(m[1][0].equals(pattern(4 * MiB, 5)));
  assert.ok(m[2][0].equals(pattern(1 * MiB, 11)));
  await h.closeClient(p.client);
});

test('large received messages are independent Buffers', LOAD, async (t) => {
  const { wss, url } = await h.startServer(WebSocketServer);
  t.after(() => h.stopServer(wss));
  const p = await h.pair(WebSocket, wss, url);
  const N = 8;
  const got = h.messages(p.client, N);
  for (let i = 0; i < N; i++) p.server.send(Buffer.alloc(MiB + i * 4099, i + 1));
  const m = await got;
  for (let i = 0; i < N; i++) m[i][0].fill(0xff, 0, 1000); // writing one must not touch another
  for (let i = 0; i < N; i++) {
    const b = m[i][0];
    assert.equal(b.length, MiB + i * 4099);
    assert.equal(b[1000], i + 1);
    assert.equal(b[b.length - 1], i + 1, `message ${i} kept its bytes`);
  }
  await h.closeClient(p.client);
});

test('10000 messages keep their order', LOAD, async (t) => {
  const N = 10000;
  const { url } = await echoServer(t);
  const ws = await h.connect(WebSocket, url);
  const got = h.messages(ws, N);
  for (let i = 0; i < N; i++) {
    if (i % 2) ws.send(String(i));
    else ws.send(Buffer.from(String(i)));
  }
  const m = await got;
  for (let i = 0; i < N; i++) {
    assert.equal(m[i][0].toString(), String(i));
    assert.equal(m[i][1], i % 2 === 0);
  }
  await h.closeClient(ws);
});

test('many connections with permessage-deflate', LOAD, async (t) => {
  const N = 200;
  const { url } = await echoServer(t, { perMessageDeflate: true });
  const text = 'compress '.repeat(2000);
  const one = async () => {
    const ws = await h.connect(WebSocket, url);
    assert.equal(ws.extensions, 'permessage-deflate');
    const got = h.nextMessage(ws);
    ws.send(text);
    assert.equal((await got)[0].toString(), text);
    await h.closeClient(ws);
  };
  const results = await Promise.allSettled(Array.from({ length: N }, one));
  const failed = results.filter((r) => r.status === 'rejected');
  assert.equal(failed.length, 0, failed.length ? String(failed[0].reason) : '');
});

test('no socket-like resources are left behind', LOAD, async () => {
  let left;
  for (let i = 0; i < 100; i++) {
    left = extra(snapshot(), baseline);
    if (Object.keys(left).length === 0) break;
    await h.delay(20);
  }
  assert.deepEqual(left, {}, `leaked: ${JSON.stringify(left)} (all: ${process.getActiveResourcesInfo()})`);
});

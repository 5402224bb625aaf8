'use strict';

// createWebSocketStream(ws, options): a Duplex over a WebSocket.

const { Duplex, pipeline } = require('node:stream');
const { describe, test } = require('node:test');

const h = require('./helpers');
const { assert, T, HOST } = h;

const WebSocket = h.impl;
const { WebSocketServer, createWebSocketStream } = WebSocket;

async function server(t, options = {}) {
  const s = await h.startServer(WebSocketServer, options);
  t.after(() => h.stopServer(s.wss));
  return s;
}

/** Resolves when the duplex emits 'close' (and records an 'error' if any). */
function duplexClosed(duplex) {
  return new Promise((resolve) => {
    let error = null;
    duplex.on('error', (err) => {
      error = err;
    });
    duplex.on('close', () => resolve(error));
  });
}

describe('createWebSocketStream', () => {
  test('returns a Duplex; write() sends, messages are read', T, async (t) => {
    const { wss, url } = await server(t);
    const conn = h.once(wss, 'connection');
    const ws = h.client(WebSocket, url);
    const duplex = createWebSocketStream(ws);
    assert.ok(duplex instanceof Duplex);
    // Written while CONNECTING: sent once open.
    duplex.write('hello');
    const [s] = await conn;
    const [data, isBinary] = await h.nextMessage(s);
    assert.equal(data.toString(), 'hello');
    // Strings are decoded to Buffers by the Writable: a binary message.
    assert.equal(isBinary, true);

    const read = h.once(duplex, 'data');
    s.send('from server');
    const [chunk] = await read;
    assert.ok(Buffer.isBuffer(chunk));
    assert.equal(chunk.toString(), 'from server');

    const done = duplexClosed(duplex);
    const serverClose = h.once(s, 'close');
    duplex.end();
    duplex.resume();
    assert.equal(await done, null);
    const [code] = await serverClose;
    assert.equal(code, 1005);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  test('end() closes the WebSocket; the peer closing ends the readable side', T, async (t) => {
    const { wss, url } = await server(t);
    const conn = h.once(wss, 'connection');
    const ws = h.client(WebSocket, url);
    const duplex = createWebSocketStream(ws, { encoding: 'utf8' });
    const open = h.once(ws, 'open');
    const [s] = await conn;
    await open;

    let text = '';
    duplex.on('data', (c) => (text += c));
    const ended = h.once(duplex, 'end');
    const wsClose = h.once(ws, 'close');
    const done = duplexClosed(duplex);
    s.send('a');
    s.send('b');
    s.close(4000, 'server done');
    await ended;
    assert.equal(text, 'ab');
    const [code, reason] = await wsClose;
    assert.equal(code, 4000);
    assert.equal(reason.toString(), 'server done');
    assert.equal(duplex.destroyed, false);
    duplex.end();
    assert.equal(await done, null);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  test('readableObjectMode: text as strings, binary as Buffers', T, async (t) => {
    const { wss, url } = await server(t);
    const conn = h.once(wss, 'connection');
    const ws = h.client(WebSocket, url);
    const duplex = createWebSocketStream(ws, { readableObjectMode: true });
    const [s] = await conn;
    const chunks = [];
    const two = new Promise((resolve) =>
      duplex.on('data', (c) => chunks.push(c) === 2 && resolve())
    );
    s.send('text');
    s.send(Buffer.from([1, 2]));
    await two;
    assert.equal(chunks[0], 'text');
    assert.ok(Buffer.isBuffer(chunks[1]));
    assert.deepEqual([...chunks[1]], [1, 2]);
    const done = duplexClosed(duplex);
    duplex.destroy();
    await done;
  });

  test('an echo server through pipeline()', T, async (t) => {
    const { wss, url } = await server(t);
    wss.on('connection', (ws) => {
      const d = createWebSocketStream(ws);
      pipeline(d, d, () => {});
    });
    const ws = h.client(WebSocket, url);
    const duplex = createWebSocketStream(ws);
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    const received = [];
    let total = 0;
    const all = new Promise((resolve) =>
      duplex.on('data', (c) => {
        received.push(c);
        total += c.length;
        if (total >= payload.length * 2) resolve();
      })
    );
    duplex.write(payload);
    duplex.write(payload);
    await all;
    assert.ok(Buffer.concat(received).equals(Buffer.concat([payload, payload])));
    const done = duplexClosed(duplex);
    duplex.end();
    await done;
  });

  test('destroy() terminates the WebSocket', T, async (t) => {
    const { wss, url } = await server(t);
    const conn = h.once(wss, 'connection');
    const ws = h.client(WebSocket, url);
    const duplex = createWebSocketStream(ws);
    await h.once(ws, 'open');
    const [s] = await conn;
    const serverClose = h.once(s, 'close');
    const done = duplexClosed(duplex);
    duplex.destroy();
    await done;
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.equal((await serverClose)[0], 1006);
  });

  test('a connection error destroys the stream with it', T, async () => {
    const port = await h.freePort();
    const ws = h.client(WebSocket, `ws://${HOST}:${port}`);
    const duplex = createWebSocketStream(ws);
    const err = await duplexClosed(duplex);
    assert.ok(err instanceof Error);
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(duplex.destroyed, true);
  });

  test('a protocol error is propagated to the stream', T, async (t) => {
    const { wss, url } = await server(t);
    const conn = h.once(wss, 'connection');
    const ws = h.client(WebSocket, url, { maxPayload: 4 });
    const duplex = createWebSocketStream(ws);
    const [s] = await conn;
    const serverClose = h.once(s, 'close');
    const done = duplexClosed(duplex);
    s.send('too long');
    const err = await done;
    assert.ok(err instanceof RangeError);
    assert.equal(err.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    // The WebSocket still sent a close frame with 1009.
    assert.equal((await serverClose)[0], 1009);
  });

  test('writing after the WebSocket closed is an error', T, async (t) => {
    const { wss, url } = await server(t);
    const conn = h.once(wss, 'connection');
    const ws = h.client(WebSocket, url);
    const duplex = createWebSocketStream(ws);
    const [s] = await conn;
    const wsClose = h.once(ws, 'close');
    s.close();
    await wsClose;
    const done = duplexClosed(duplex);
    duplex.resume();
    duplex.write('late');
    const err = await done;
    assert.ok(err instanceof Error);
    assert.equal(err.message, 'WebSocket is not open: readyState 3 (CLOSED)');
  });
});

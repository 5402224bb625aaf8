'use strict';

// The native layer under wsc's JS (wsc only): how events enter JS (napi_make_callback: ticks and
// microtasks after each event), a throwing listener, calls on a handle whose connection ended,
// and the cleanup of a worker thread's connections and servers when it exits.

const path = require('node:path');
const { describe, test } = require('node:test');
const fs = require('node:fs');
const { Worker } = require('node:worker_threads');

const h = require('./helpers');
const { assert, isWsc } = h;

const WebSocket = h.impl;
const { WebSocketServer } = WebSocket;
const N = { ...h.T, skip: isWsc ? false : 'the native layer of wsc (wsc only)' };

async function setup(t) {
  const { wss, url } = await h.startServer(WebSocketServer);
  t.after(() => h.stopServer(wss));
  const p = await h.pair(WebSocket, wss, url);
  t.after(() => h.closeClient(p.client));
  return { wss, url, ...p };
}

describe('native layer (wsc)', () => {
  test('ticks and microtasks queued by a listener run before the next event', N, async (t) => {
    const { client, server } = await setup(t);
    const order = [];
    server.on('message', (d) => server.send(d));
    const done = new Promise((resolve) => {
      client.on('message', (d) => {
        const m = String(d);
        order.push(`message ${m}`);
        process.nextTick(() => order.push(`tick ${m}`));
        Promise.resolve().then(() => order.push(`microtask ${m}`));
        if (m === 'b') resolve();
      });
    });
    // Both echoes reach the client in one read: each event is still followed by its own ticks.
    client.send('a');
    client.send('b');
    await done;
    await h.delay(10);
    assert.deepEqual(order, ['message a', 'tick a', 'microtask a', 'message b', 'tick b', 'microtask b']);
  });

  test("a listener's exception reaches 'uncaughtException' and the connection stays usable", N, async (t) => {
    const { client, server } = await setup(t);
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const caught = [];
    process.on('uncaughtException', (e) => caught.push(e.message));
    t.after(() => {
      process.removeAllListeners('uncaughtException');
      for (const l of listeners) process.on('uncaughtException', l);
    });
    server.on('message', (d) => server.send(d));
    let first = true;
    client.on('message', () => {
      if (first) {
        first = false;
        throw new Error('listener failed');
      }
    });
    client.send('one');
    await h.delay(20);
    assert.deepEqual(caught, ['listener failed']);
    client.send('two');
    const [data] = await h.once(client, 'message');
    assert.equal(String(data), 'two');
    assert.equal(client.readyState, WebSocket.OPEN);
  });

  test('a call on a handle whose connection ended throws instead of touching freed memory', N, async (t) => {
    const { client } = await setup(t);
    const native = require(path.join(__dirname, '..', 'lib', 'binding'));
    const handle = client._h;
    await h.closeClient(client);
    assert.throws(() => native.send(handle, 'x', 1, 0, false), { code: 'ERR_WSC_CLOSED' });
    assert.throws(() => native.close(handle, 1000, ''), { code: 'ERR_WSC_CLOSED' });
    assert.throws(() => native.info(handle), { code: 'ERR_WSC_CLOSED' });
    assert.equal(native.readyState(handle), WebSocket.CLOSED);
    assert.throws(() => native.send({}, 'x', 1, 0, false), { code: 'ERR_INVALID_ARG_TYPE' });
    // The JS API reports it as ws does, without reaching the native handle.
    await new Promise((resolve) => client.send('late', (err) => {
      assert.match(err.message, /^WebSocket is not open: readyState 3 \(CLOSED\)$/);
      resolve();
    }));
  });

  test("a worker's connections and servers are closed when it exits", N, async (t) => {
    const { wss, url } = await h.startServer(WebSocketServer);
    t.after(() => h.stopServer(wss));
    const closed = [];
    wss.on('connection', (ws) => {
      ws.on('message', (d) => ws.send(d));
      ws.on('close', (code) => closed.push(code));
    });
    const worker = new Worker(`
      const { parentPort, workerData } = require('worker_threads');
      const WebSocket = require(workerData.pkg);
      const own = new WebSocket.WebSocketServer({ port: 0, host: '127.0.0.1' });
      const ws = new WebSocket(workerData.url);
      ws.on('open', () => ws.send('hi'));
      ws.on('message', () => { parentPort.postMessage(WebSocket.activeHandles()); process.exit(0); });
    `, { eval: true, workerData: { pkg: path.join(__dirname, '..'), url } });
    const [handles] = await h.once(worker, 'message');
    assert.deepEqual({ c: handles.connections, s: handles.servers }, { c: 1, s: 1 });
    const [code] = await h.once(worker, 'exit');
    assert.equal(code, 0);
    for (let i = 0; i < 100 && closed.length === 0; ++i) await h.delay(10);
    assert.deepEqual(closed, [1006]);  // the worker's connection was terminated at its exit
  });

  test("a worker that exits while a large message is being compressed frees its loop", N, async (t) => {
    // The compression runs on the thread pool, and the worker's loop (with its descriptors) can
    // only be freed once it has finished.
    const { wss, url } = await h.startServer(WebSocketServer, { perMessageDeflate: true });
    t.after(() => h.stopServer(wss));
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    const run = async () => {
      const worker = new Worker(`
        const { parentPort, workerData } = require('worker_threads');
        const WebSocket = require(workerData.pkg);
        const ws = new WebSocket(workerData.url, { perMessageDeflate: true });
        ws.on('open', () => {
          ws.send('compress me '.repeat(400000)); // 4.8 MB: compressed on the thread pool
          process.exit(0);
        });
      `, { eval: true, workerData: { pkg: path.join(__dirname, '..'), url } });
      const [code] = await h.once(worker, 'exit');
      assert.equal(code, 0);
    };
    await run(); // the first worker loads what stays loaded
    await h.delay(50);
    const before = fds();
    for (let i = 0; i < 3; i++) await run();
    await h.delay(50);
    assert.equal(fds(), before, 'no descriptor left behind by the workers');
  });

  test('nothing is left open once everything closed', N, async (t) => {
    const { client } = await setup(t);
    await h.closeClient(client);
    await h.delay(20);
    const left = WebSocket.activeHandles();
    assert.equal(left.connections, 0);
  });
});

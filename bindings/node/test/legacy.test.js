'use strict';

// The older ws (1.x/2.x) names that ws 8 removed and wsc keeps: upgradeReq,
// bytesReceived, protocolVersion, and the message event's `flags` argument.
// wsc-only: skipped when the suite runs against ws itself.

const { describe, test } = require('node:test');

const h = require('./helpers');
const { assert, isWsc } = h;

const WebSocket = h.impl;
const { WebSocketServer } = WebSocket;

const L = { ...h.T, skip: isWsc ? false : 'ws 8 removed the ws 2.x names (wsc only)' };

async function setup(t, serverOptions = {}) {
  const { wss, url } = await h.startServer(WebSocketServer, serverOptions);
  t.after(() => h.stopServer(wss));
  const p = await h.pair(WebSocket, wss, `${url}/legacy?x=1`);
  t.after(() => h.closeClient(p.client));
  return { wss, url, ...p };
}

describe('ws 2.x compatibility (wsc)', () => {
  test('server-side upgradeReq is the upgrade request', L, async (t) => {
    const { wss, url } = await h.startServer(WebSocketServer);
    t.after(() => h.stopServer(wss));
    const conn = h.once(wss, 'connection');
    const c = await h.connect(WebSocket, `${url}/legacy?x=1`, { headers: { 'X-Old': 'yes' } });
    const [ws, req] = await conn;
    assert.equal(ws.upgradeReq, req);
    assert.equal(ws.upgradeReq.url, '/legacy?x=1');
    assert.equal(ws.upgradeReq.headers['x-old'], 'yes');
    await h.closeClient(c);
  });

  test('protocolVersion is 13', L, async (t) => {
    const { client, server } = await setup(t);
    assert.equal(server.protocolVersion, 13);
    assert.equal(client.protocolVersion, 13);
  });

  test('bytesReceived counts received bytes', L, async (t) => {
    const { client, server } = await setup(t);
    const before = server.bytesReceived;
    assert.equal(typeof before, 'number');
    const got = h.nextMessage(server);
    client.send(Buffer.alloc(1000));
    await got;
    // At least the payload (a frame header and mask come on top).
    assert.ok(server.bytesReceived - before >= 1000, `bytesReceived ${server.bytesReceived}`);

    const beforeClient = client.bytesReceived;
    const got2 = h.nextMessage(client);
    server.send('x'.repeat(300));
    await got2;
    assert.ok(client.bytesReceived - beforeClient >= 300);
  });

  test("the message event's third argument: flags", L, async (t) => {
    const { client, server } = await setup(t);
    const seen = [];
    server.on('message', (data, isBinary, flags) => seen.push({ isBinary, flags }));
    const two = h.messages(server, 2);
    client.send('text');
    client.send(Buffer.from([1, 2, 3]));
    await two;
    assert.equal(typeof seen[0].flags, 'object');
    assert.notEqual(seen[0].flags, null);
    assert.equal(Boolean(seen[0].flags.binary), false);
    assert.equal(seen[1].flags.binary, true);
    // Frames from a client are masked.
    if ('masked' in seen[1].flags) assert.equal(seen[1].flags.masked, true);

    const fromServer = [];
    client.on('message', (data, isBinary, flags) => fromServer.push(flags));
    const got = h.nextMessage(client);
    server.send(Buffer.from([4]));
    await got;
    assert.equal(fromServer[0].binary, true);
    if ('masked' in fromServer[0]) assert.equal(fromServer[0].masked, false);
  });
});

'use strict';

// Interoperability with npm's ws, both ways: the impl's server with ws's
// client, and ws's server with the impl's client; plain and over TLS.

const https = require('node:https');
const { describe, test } = require('node:test');

const h = require('./helpers');
const { assert, T, HOST } = h;

const MiB = 1024 * 1024;

const directions = [
  { name: 'impl server <- ws client', Server: h.impl.WebSocketServer, Client: h.peer },
  { name: 'ws server <- impl client', Server: h.peer.WebSocketServer, Client: h.impl }
];

function pattern(size, seed = 0) {
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) buf[i] = (i * 31 + seed) & 0xff;
  return buf;
}

/** An echo server of class Server; resolves to { wss, url }. */
async function echoServer(t, Server, options = {}) {
  const s = await h.startServer(Server, options);
  s.wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  t.after(() => h.stopServer(s.wss));
  return s;
}

/** A wss:// server: an https.Server (cert/key) with a WebSocketServer on it. */
async function tlsServer(t, Server, { cert, key }, wssOptions = {}) {
  const httpsServer = https.createServer({ cert, key });
  const wss = h.track(new Server({ server: httpsServer, ...wssOptions }));
  const port = await h.listen(httpsServer);
  t.after(async () => {
    await h.stopServer(wss);
    await h.closeServer(httpsServer);
  });
  return { wss, port, url: `wss://${HOST}:${port}` };
}

for (const { name, Server, Client } of directions) {
  describe(name, () => {
    test('text and binary messages', T, async (t) => {
      const { url } = await echoServer(t, Server);
      const c = await h.connect(Client, url);
      const got = h.messages(c, 6);
      c.send('hello');
      c.send('héllo wörld ✓ 😀');
      c.send(Buffer.from([0, 1, 2, 255]));
      c.send('');
      c.send(Buffer.alloc(0));
      c.send(pattern(70000));
      const m = await got;
      assert.equal(m[0][0].toString(), 'hello');
      assert.equal(m[0][1], false);
      assert.equal(m[1][0].toString(), 'héllo wörld ✓ 😀');
      assert.deepEqual([...m[2][0]], [0, 1, 2, 255]);
      assert.equal(m[2][1], true);
      assert.deepEqual([m[3][0].length, m[3][1]], [0, false]);
      assert.deepEqual([m[4][0].length, m[4][1]], [0, true]);
      assert.ok(m[5][0].equals(pattern(70000)));
      await h.closeClient(c);
    });

    test('fragmented messages (fin: false)', T, async (t) => {
      const { wss, url } = await h.startServer(Server);
      t.after(() => h.stopServer(wss));
      const p = await h.pair(Client, wss, url);
      // client -> server
      const got = h.nextMessage(p.server);
      p.client.send('frag', { fin: false });
      p.client.send('ment', { fin: false });
      p.client.send('ed', { fin: true });
      const [d, b] = await got;
      assert.equal(d.toString(), 'fragmented');
      assert.equal(b, false);
      // server -> client
      const got2 = h.nextMessage(p.client);
      p.server.send(Buffer.from([1]), { fin: false });
      p.server.send(Buffer.from([2, 3]), { fin: true });
      const [d2, b2] = await got2;
      assert.deepEqual([...d2], [1, 2, 3]);
      assert.equal(b2, true);
      await h.closeClient(p.client);
    });

    test('16 MiB messages both ways', T, async (t) => {
      const { wss, url } = await h.startServer(Server);
      t.after(() => h.stopServer(wss));
      const p = await h.pair(Client, wss, url);
      const up = pattern(16 * MiB, 1);
      const down = pattern(16 * MiB, 2);
      const atServer = h.nextMessage(p.server);
      const atClient = h.nextMessage(p.client);
      p.client.send(up);
      p.server.send(down);
      const [[d1, b1], [d2, b2]] = await Promise.all([atServer, atClient]);
      assert.equal(b1, true);
      assert.equal(b2, true);
      assert.equal(d1.length, up.length);
      assert.ok(d1.equals(up));
      assert.ok(d2.equals(down));
      await h.closeClient(p.client);
    });

    test('permessage-deflate', T, async (t) => {
      const { wss, url } = await h.startServer(Server, { perMessageDeflate: true });
      t.after(() => h.stopServer(wss));
      const p = await h.pair(Client, wss, url, { perMessageDeflate: true });
      assert.match(p.client.extensions, /permessage-deflate/);
      assert.match(p.server.extensions, /permessage-deflate/);
      const text = 'the quick brown fox jumps over the lazy dog '.repeat(50000);
      const bin = pattern(3 * MiB, 3);
      const atServer = h.messages(p.server, 3);
      p.client.send(text);
      p.client.send(bin);
      p.client.send('small');
      const m = await atServer;
      assert.equal(m[0][0].toString(), text);
      assert.ok(m[1][0].equals(bin));
      assert.equal(m[2][0].toString(), 'small');
      const atClient = h.messages(p.client, 2);
      p.server.send(text);
      p.server.send(bin, { compress: false });
      const m2 = await atClient;
      assert.equal(m2[0][0].toString(), text);
      assert.ok(m2[1][0].equals(bin));
      await h.closeClient(p.client);
    });

    test('ping and pong', T, async (t) => {
      const { wss, url } = await h.startServer(Server);
      t.after(() => h.stopServer(wss));
      const p = await h.pair(Client, wss, url);
      const sp = h.once1(p.server, 'ping');
      const cp = h.once1(p.client, 'pong');
      p.client.ping('c->s');
      assert.equal((await sp).toString(), 'c->s');
      assert.equal((await cp).toString(), 'c->s');
      const cping = h.once1(p.client, 'ping');
      const spong = h.once1(p.server, 'pong');
      p.server.ping(Buffer.alloc(125, 0x61));
      assert.equal((await cping).length, 125);
      assert.equal((await spong).toString(), 'a'.repeat(125));
      await h.closeClient(p.client);
    });

    test('close codes and reasons', T, async (t) => {
      const { wss, url } = await h.startServer(Server);
      t.after(() => h.stopServer(wss));

      // Client-initiated, with a reason.
      let p = await h.pair(Client, wss, url);
      let sc = h.once(p.server, 'close');
      let cc = h.once(p.client, 'close');
      p.client.close(4001, 'client bye ✓');
      let [code, reason] = await sc;
      assert.equal(code, 4001);
      assert.equal(reason.toString(), 'client bye ✓');
      [code, reason] = await cc;
      assert.equal(code, 4001);
      assert.equal(reason.toString(), 'client bye ✓');

      // Server-initiated.
      p = await h.pair(Client, wss, url);
      sc = h.once(p.server, 'close');
      cc = h.once(p.client, 'close');
      p.server.close(1001, 'going away');
      [code, reason] = await cc;
      assert.equal(code, 1001);
      assert.equal(reason.toString(), 'going away');
      assert.equal((await sc)[0], 1001);

      // No code: 1005 on both sides.
      p = await h.pair(Client, wss, url);
      sc = h.once(p.server, 'close');
      cc = h.once(p.client, 'close');
      p.client.close();
      assert.deepEqual((await sc).map(String), ['1005', '']);
      assert.deepEqual((await cc).map(String), ['1005', '']);

      // A code and no reason.
      p = await h.pair(Client, wss, url);
      sc = h.once(p.server, 'close');
      cc = h.once(p.client, 'close');
      p.server.close(1000);
      const [c1, r1] = await sc;
      assert.equal(c1, 1000);
      assert.equal(r1.length, 0);
      assert.equal((await cc)[0], 1000);

      // Terminated: 1006.
      p = await h.pair(Client, wss, url);
      cc = h.once(p.client, 'close');
      p.server.terminate();
      assert.equal((await cc)[0], 1006);
    });

    describe('TLS', () => {
      test('wss:// with a trusted CA', T, async (t) => {
        const certs = h.tls();
        const { wss, url } = await tlsServer(t, Server, certs, {
          verifyClient: (info) => info.secure === true
        });
        const conn = h.once(wss, 'connection');
        const c = await h.connect(Client, `${url}/secure`, { ca: certs.ca });
        const [s, req] = await conn;
        assert.equal(req.url, '/secure');
        assert.equal(req.socket.encrypted, true);
        assert.equal(c.url, `${url}/secure`);
        const big = pattern(4 * MiB, 4);
        const atServer = h.messages(s, 2);
        c.send('over tls');
        c.send(big);
        const m = await atServer;
        assert.equal(m[0][0].toString(), 'over tls');
        assert.ok(m[1][0].equals(big));
        const atClient = h.nextMessage(c);
        s.send(big);
        assert.ok((await atClient)[0].equals(big));
        const sc = h.once(s, 'close');
        await h.closeClient(c, 4000, 'tls bye');
        assert.equal((await sc)[0], 4000);
      });

      test('wss:// with permessage-deflate', T, async (t) => {
        const certs = h.tls();
        const { wss, url } = await tlsServer(t, Server, certs, { perMessageDeflate: true });
        const p = await h.pair(Client, wss, url, { ca: certs.ca });
        assert.match(p.client.extensions, /permessage-deflate/);
        const text = 'compressed and encrypted '.repeat(20000);
        const got = h.nextMessage(p.server);
        p.client.send(text);
        assert.equal((await got)[0].toString(), text);
        await h.closeClient(p.client);
      });

      test('an untrusted certificate is rejected unless rejectUnauthorized: false', T, async (t) => {
        const certs = h.tls();
        const { url } = await tlsServer(t, Server, certs);
        const c = h.client(Client, url);
        const { err, code } = await h.failure(c);
        assert.ok(err instanceof Error);
        assert.equal(err.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
        assert.equal(code, 1006);

        const other = h.client(Client, url, { ca: certs.file('other-ca.pem') });
        assert.equal((await h.failure(other)).err.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');

        const ok = await h.connect(Client, url, { rejectUnauthorized: false });
        assert.equal(ok.readyState, Client.OPEN);
        await h.closeClient(ok);
      });

      test('servername', T, async (t) => {
        const certs = h.tls();
        const cert = { cert: certs.file('a.pem'), key: certs.file('a.key') };
        const { wss, url } = await tlsServer(t, Server, cert);

        // 127.0.0.1 is not a name of a.pem.
        const bad = h.client(Client, url, { ca: certs.ca });
        const { err } = await h.failure(bad);
        assert.equal(err.code, 'ERR_TLS_CERT_ALTNAME_INVALID');

        const conn = h.once(wss, 'connection');
        const c = await h.connect(Client, url, { ca: certs.ca, servername: 'a.test' });
        const [, req] = await conn;
        assert.equal(req.socket.servername, 'a.test');
        await h.closeClient(c);
      });

      test('an expired certificate is rejected', T, async (t) => {
        const certs = h.tls();
        const cert = { cert: certs.file('expired.pem'), key: certs.file('expired.key') };
        const { url } = await tlsServer(t, Server, cert);
        const c = h.client(Client, url, { ca: certs.ca });
        const { err } = await h.failure(c);
        assert.equal(err.code, 'CERT_HAS_EXPIRED');
      });
    });
  });
}

#!/usr/bin/env node
// An interop peer for wsc on npm's `ws` (installed by tools/setup.sh; run with NODE_PATH set to
// the node_modules folder that holds it).
//
//   node ws_peer.js server      echo server on 127.0.0.1 (an ephemeral port): prints "PORT <n>",
//                               echoes text as text and binary as binary, runs until stdin closes;
//                               wss:// (an https server) with PEER_TLS_CERT and PEER_TLS_KEY
//   node ws_peer.js client URL  sends text and binary messages of 0 B to 16 MiB to an echo server
//                               at URL, checks every echo, closes with 1000; exit status 0 on
//                               success, else 1 with the reason on stderr; a wss:// URL is
//                               verified against PEER_TLS_CA
'use strict';

let WebSocket;
try {
  WebSocket = require('ws');
} catch (e) {
  process.stderr.write(`ws_peer: FAIL: cannot load npm's ws (run tools/setup.sh; NODE_PATH=${process.env.NODE_PATH}): ${e.message}\n`);
  process.exit(1);
}

const SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20];
const MAX_PAYLOAD = 64 << 20;

// Pieces of the text payload: ASCII and 2-, 3- and 4-byte UTF-8 sequences.
const PIECES = ['Hello, wsc! ', '\u00e9', 'interop ', '\u20ac', '0123456789 ', '\u{1F600}', '~', '\u00df\u00fc'].map(
  (p) => Buffer.from(p, 'utf8'));

// Valid UTF-8 of exactly n bytes, the same for every n as the other peers.
function textPayload(n) {
  const block = Buffer.concat(PIECES);
  const out = Buffer.alloc(n);
  let off = 0;
  while (off + block.length <= n) off += block.copy(out, off);
  for (let i = 0; off < n; ++i) {
    const piece = PIECES[i % PIECES.length];
    if (piece.length <= n - off) off += piece.copy(out, off);
    else {
      out.fill(0x78, off); // 'x' up to the end
      off = n;
    }
  }
  return out;
}

// n bytes: byte i is (i * 31 + 7 + (i >> 8)) & 0xff.
function binaryPayload(n) {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; ++i) out[i] = (i * 31 + 7 + (i >> 8)) & 0xff;
  return out;
}

function fail(reason) {
  process.stderr.write(`ws_peer: FAIL: ${reason}\n`);
  process.exit(1);
}

// PEER_DEFLATE=1: offer / accept permessage-deflate (threshold 0: every message compressed).
const DEFLATE = process.env.PEER_DEFLATE === '1' ? { threshold: 0 } : false;

function runServer() {
  let wss;
  if (process.env.PEER_TLS_CERT) {
    const fs = require('fs');
    const server = require('https').createServer({
      cert: fs.readFileSync(process.env.PEER_TLS_CERT), key: fs.readFileSync(process.env.PEER_TLS_KEY),
    });
    wss = new WebSocket.WebSocketServer({ server, maxPayload: MAX_PAYLOAD, perMessageDeflate: DEFLATE });
    server.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${server.address().port}\n`));
  } else {
    wss = new WebSocket.WebSocketServer({
      host: '127.0.0.1', port: 0, maxPayload: MAX_PAYLOAD, perMessageDeflate: DEFLATE,
    });
    wss.on('listening', () => process.stdout.write(`PORT ${wss.address().port}\n`));
  }
  wss.on('error', (e) => fail(`server: ${e.message}`));
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('error', (e) => process.stderr.write(`ws_peer: connection error: ${e.message}\n`));
  });
  const stop = () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close(() => process.exit(0));
  };
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}

function describe(data, isBinary) {
  return `${isBinary ? 'binary' : 'text'} of ${data.length} bytes`;
}

function runClient(url) {
  const messages = [];
  for (const n of SIZES) {
    messages.push({ binary: false, data: textPayload(n) });
    messages.push({ binary: true, data: binaryPayload(n) });
  }
  const tls = url.startsWith('wss:') ? { ca: require('fs').readFileSync(process.env.PEER_TLS_CA) } : {};
  const ws = new WebSocket(url, { maxPayload: MAX_PAYLOAD, handshakeTimeout: 30000, perMessageDeflate: DEFLATE, ...tls });
  ws.on('open', () => {
    if (DEFLATE && !/permessage-deflate/.test(ws.extensions)) fail('permessage-deflate was not negotiated');
  });
  let next = 0;
  let closing = false;
  let timer = null;
  const arm = (what) => {
    clearTimeout(timer);
    timer = setTimeout(() => fail(`timed out waiting for ${what}`), 60000);
  };
  const sendNext = () => {
    const m = messages[next];
    // Text goes as a JS string (ws sends a string as a text frame), binary as a Buffer.
    ws.send(m.binary ? m.data : m.data.toString('utf8'), { binary: m.binary });
    arm(`the echo of ${describe(m.data, m.binary)}`);
  };
  ws.on('open', () => {
    arm('the pong');
    ws.ping(Buffer.from('interop ping'));
  });
  ws.on('pong', (data) => {
    if (data.toString() !== 'interop ping') fail(`the pong carried ${JSON.stringify(data.toString())}`);
    sendNext();
  });
  ws.on('message', (data, isBinary) => {
    const m = messages[next];
    if (closing || !m) fail(`an unexpected ${describe(data, isBinary)}`);
    if (isBinary !== m.binary) fail(`sent ${describe(m.data, m.binary)}, got back ${describe(data, isBinary)} (wrong type)`);
    if (!data.equals(m.data)) {
      let first = 0;
      while (first < data.length && first < m.data.length && data[first] === m.data[first]) ++first;
      fail(`sent ${describe(m.data, m.binary)}, got back ${describe(data, isBinary)} differing from byte ${first}`);
    }
    if (++next < messages.length) {
      sendNext();
    } else {
      closing = true;
      arm('the close');
      ws.close(1000, 'done');
    }
  });
  ws.on('unexpected-response', (req, res) => fail(`the server answered ${res.statusCode}`));
  ws.on('error', (e) => fail(`${e.message}`));
  ws.on('close', (code, reason) => {
    clearTimeout(timer);
    if (!closing) fail(`the connection closed early: ${code} ${JSON.stringify(reason.toString())}`);
    // code is the one of the server's close frame: 1006 if it never answered ours.
    if (code !== 1000) fail(`the server answered the close with ${code} ${JSON.stringify(reason.toString())}, not 1000`);
    process.stderr.write(`ws_peer: OK: ${messages.length} messages echoed, closed 1000\n`);
    process.exit(0);
  });
}

const [mode, url] = process.argv.slice(2);
if (mode === 'server' && process.argv.length === 3) runServer();
else if (mode === 'client' && url && process.argv.length === 4) runClient(url);
else {
  process.stderr.write('usage: node ws_peer.js server | node ws_peer.js client URL\n');
  process.exit(2);
}

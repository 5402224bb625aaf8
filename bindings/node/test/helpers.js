'use strict';

// Shared helpers for the wsc Node.js binding's test suite.
//
// The suite is written against the documented API of npm's `ws` 8.x, so it
// must pass against `ws` itself:
//
//   WSC_TEST_IMPL=$HOME/.cache/wsc/npm/node_modules/ws node --test test/
//
// and, once the package exists, against the wsc package (the default):
//
//   node --test test/

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const events = require('node:events');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { after } = require('node:test');

const npmCache =
  process.env.WSC_NPM_CACHE || path.join(os.homedir(), '.cache/wsc/npm');
const peerPath = path.join(npmCache, 'node_modules', 'ws');

/** npm's ws, the interoperability peer. */
const peer = require(peerPath);

/** The module under test: the wsc package unless WSC_TEST_IMPL says otherwise. */
const implPath = process.env.WSC_TEST_IMPL
  ? path.resolve(process.env.WSC_TEST_IMPL)
  : path.join(__dirname, '..');
const impl = require(implPath);

/** True when the module under test is not npm's ws (wsc-only extras). */
const isWsc = impl !== peer;

const HOST = '127.0.0.1';
const TIMEOUT = 10000;
/** Options for a test: a per-test timeout. */
const T = { timeout: TIMEOUT };

// A test of ws behaviour wsc deliberately does not have (README.md, "Where wsc differs"): run
// against ws, skipped against wsc with the reason.
function differs(reason) {
  return { timeout: TIMEOUT, skip: impl !== peer ? `wsc differs: ${reason}` : false };
}

// ---------------------------------------------------------------------------
// Safety net: everything the helpers create is tracked, and whatever a test
// left open (because it failed half-way) is torn down when the file ends, so
// that a failing test cannot keep the process alive.

const tracked = new Set();

function track(thing) {
  tracked.add(thing);
  return thing;
}

function untrack(thing) {
  tracked.delete(thing);
}

function forceClose(thing) {
  try {
    if (typeof thing.terminate === 'function') {
      // A WebSocket (either implementation).
      thing.terminate();
    } else if (thing instanceof net.Socket) {
      thing.destroy();
    } else if (thing.clients instanceof Set || typeof thing.handleUpgrade === 'function') {
      // A WebSocketServer.
      if (thing.clients) for (const c of thing.clients) c.terminate();
      thing.close();
    } else if (typeof thing.close === 'function') {
      if (typeof thing.closeAllConnections === 'function') {
        thing.closeAllConnections();
      }
      thing.close();
    }
  } catch {
    // Best effort.
  }
}

after(() => {
  for (const thing of tracked) forceClose(thing);
  tracked.clear();
});

// ---------------------------------------------------------------------------
// Temporary directories and the TLS fixture.

const tmpDirs = [];

process.on('exit', () => {
  for (const dir of tmpDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Ignore.
    }
  }
});

/** A fresh temporary directory, removed when the process exits. */
function tmpDir(prefix = 'wsc-node-test-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}

const makeCerts = path.resolve(__dirname, '../../../tests/tls/make_certs.sh');
let certs = null;

/**
 * Certificates made by tests/tls/make_certs.sh (once per process) in a
 * temporary directory: `certs().ca`, `certs().server`, `certs().serverKey`,
 * and `certs().file(name)` for any other file the script writes (as a Buffer).
 */
function tls() {
  if (certs) return certs;

  const dir = tmpDir('wsc-node-certs-');
  execFileSync('bash', [makeCerts, dir], { stdio: ['ignore', 'ignore', 'pipe'] });

  const file = (name) => fs.readFileSync(path.join(dir, name));

  certs = {
    dir,
    file,
    ca: file('ca.pem'),
    cert: file('server.pem'),
    key: file('server.key')
  };
  return certs;
}

// ---------------------------------------------------------------------------
// Promises over events.

/**
 * Resolves with the arguments (an array) of the next `event`. Unlike
 * events.once() it does not reject (nor count as an 'error' listener) when the
 * emitter emits 'error' first: a WebSocket emits 'error' then 'close'.
 */
function once(emitter, event) {
  return new Promise((resolve) => {
    emitter.once(event, (...args) => resolve(args));
  });
}

/** Like once(), but rejects if 'error' is emitted first (events.once). */
function onceOrError(emitter, event) {
  return events.once(emitter, event);
}

/** Resolves with the first argument of the next `event`. */
async function once1(emitter, event) {
  const [value] = await once(emitter, event);
  return value;
}

/** Resolves with { code, reason } when `ws` emits 'close'. */
function closed(ws) {
  return new Promise((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason }));
  });
}

/** Resolves with the next error emitted by `ws`. */
function nextError(emitter) {
  return new Promise((resolve) => emitter.once('error', resolve));
}

/**
 * Resolves on 'close' with { err, code, reason, order }: the first 'error'
 * seen before it (if any), and the order of the two events.
 */
function failure(ws) {
  return new Promise((resolve) => {
    let err;
    const order = [];
    ws.once('error', (e) => {
      err = e;
      order.push('error');
    });
    ws.once('close', (code, reason) => {
      order.push('close');
      resolve({ err, code, reason, order });
    });
  });
}

/** Resolves with [data, isBinary] for the next message. */
function nextMessage(ws) {
  return new Promise((resolve) => {
    ws.once('message', (data, isBinary) => resolve([data, isBinary]));
  });
}

/** Collects `n` messages as [data, isBinary] pairs. */
function messages(ws, n) {
  return new Promise((resolve) => {
    const got = [];
    if (n === 0) return resolve(got);
    ws.on('message', function onMessage(data, isBinary) {
      got.push([data, isBinary]);
      if (got.length === n) {
        ws.removeListener('message', onMessage);
        resolve(got);
      }
    });
  });
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------
// Servers and clients.

/** Listens on an ephemeral port of 127.0.0.1 (or a path); resolves to the port. */
function listen(server, where = 0) {
  return new Promise((resolve, reject) => {
    track(server);
    const onError = (err) => reject(err);
    server.once('error', onError);
    const done = () => {
      server.removeListener('error', onError);
      const a = server.address();
      resolve(typeof a === 'string' ? a : a.port);
    };
    if (typeof where === 'string') server.listen(where, done);
    else server.listen(where, HOST, done);
  });
}

/** Closes a net/http server (and its kept connections); resolves when closed. */
function closeServer(server) {
  untrack(server);
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    if (typeof server.closeAllConnections === 'function') {
      server.closeAllConnections();
    }
    server.close(() => resolve());
  });
}

/**
 * Starts a WebSocketServer of class `WSS` listening on an ephemeral port of
 * 127.0.0.1. Resolves to { wss, port, url }.
 */
async function startServer(WSS = impl.WebSocketServer, options = {}) {
  const wss = track(new WSS({ port: 0, host: HOST, ...options }));
  await onceOrError(wss, 'listening');
  const { port } = wss.address();
  return { wss, port, url: `ws://${HOST}:${port}` };
}

/**
 * Closes a WebSocketServer: terminates its clients first (ws 8's close() does
 * not close existing connections), then resolves on its 'close' event.
 */
function stopServer(wss) {
  untrack(wss);
  return new Promise((resolve) => {
    if (wss.clients) for (const c of wss.clients) c.terminate();
    wss.close(() => resolve());
  });
}

/** Creates a tracked client WebSocket of class `WS`. */
function client(WS, ...args) {
  const ws = track(new WS(...args));
  ws.once('close', () => untrack(ws));
  return ws;
}

/** Creates a client and resolves once it is open (rejects on error). */
function connect(WS, ...args) {
  const ws = client(WS, ...args);
  return new Promise((resolve, reject) => {
    const onError = (err) => reject(err);
    ws.once('error', onError);
    ws.once('open', () => {
      ws.removeListener('error', onError);
      resolve(ws);
    });
  });
}

/**
 * Connects a client of class `WS` to `url` and resolves to { client, server }
 * once both sides are open; `wss` is the server's WebSocketServer.
 */
async function pair(WS, wss, url, ...args) {
  const serverSide = once(wss, 'connection');
  const c = await connect(WS, url, ...args);
  const [s] = await serverSide;
  track(s);
  s.once('close', () => untrack(s));
  return { client: c, server: s };
}

/** Closes a client WebSocket cleanly (if needed) and waits for 'close'. */
async function closeClient(ws, code, reason) {
  if (ws.readyState === 3) return;
  const done = closed(ws);
  if (ws.readyState === 0) ws.terminate();
  else ws.close(code, reason);
  await done;
}

/** A port on 127.0.0.1 where nothing listens (just closed). */
async function freePort() {
  const server = net.createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

/** Counts the active resources whose type looks like a socket or a server. */
function socketResources() {
  return process
    .getActiveResourcesInfo()
    .filter((r) => /TCP|Pipe|TLS|Socket|Stream|Server|Wrap/i.test(r) && r !== 'Timeout');
}

/** Opens a raw TCP connection to 127.0.0.1:port (tracked). */
function rawConnect(port) {
  return new Promise((resolve, reject) => {
    const socket = track(net.connect(port, HOST));
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
  });
}

/** Reads everything from a socket until it ends; resolves to a string. */
function readAll(socket) {
  return new Promise((resolve) => {
    const chunks = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      untrack(socket);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

module.exports = {
  differs,
  assert,
  closeClient,
  closeServer,
  closed,
  client,
  connect,
  delay,
  failure,
  forceClose,
  freePort,
  HOST,
  http,
  impl,
  implPath,
  isWsc,
  listen,
  messages,
  nextError,
  nextMessage,
  once,
  once1,
  onceOrError,
  pair,
  peer,
  peerPath,
  rawConnect,
  readAll,
  socketResources,
  startServer,
  stopServer,
  T,
  TIMEOUT,
  tls,
  tmpDir,
  track,
  untrack
};

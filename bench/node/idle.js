'use strict';
// Memory per idle connection: node --expose-gc idle.js <impl-path> [--conns 2000] [--server-cpu 0] [--json]
// Starts server.js with the same package (pinned to --server-cpu), opens one probe connection and
// echoes one message on it (so one-time costs such as code paged in by the first upgrade are in the
// baseline), then opens --conns idle connections and reports the growth of the server's and this
// client's RSS divided by --conns; then once more after one 32 B echo on every connection.
// Without --expose-gc the client side is measured without a collection first.
const path = require('path');
const { parseArgs, startServer } = require('./lib');

const opts = parseArgs(process.argv.slice(2), { conns: 2000, server_cpu: 0, batch: 100 });
const [implPath] = opts._;
if (!implPath) {
  console.error('usage: node --expose-gc idle.js <impl-path> [--conns K] [--server-cpu N] [--json]');
  process.exit(2);
}
const WebSocket = require(path.resolve(implPath));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
const echo = (ws) => new Promise((resolve) => { ws.once('message', resolve); ws.send(Buffer.alloc(32)); });

function clientMem() {
  if (global.gc) global.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap_used: m.heapUsed, external: m.external };
}

async function measure(server, expectConns) {
  let s = await server.stats();
  for (let i = 0; s.conns !== expectConns; i++) {
    if (i === 100) throw new Error(`server has ${s.conns} connections, expected ${expectConns}`);
    await sleep(50);
    s = await server.stats();
  }
  await sleep(300); // let the last writes and timers settle
  return { server: await server.stats(), client: clientMem() };
}

(async () => {
  const server = await startServer({ name: 'idle', path: implPath }, { cpu: opts.server_cpu });
  const url = `ws://127.0.0.1:${server.port}`;
  await echo(await open(url));
  const base = await measure(server, 1);

  const sockets = [];
  for (let i = 0; i < opts.conns; i += opts.batch) {
    const n = Math.min(opts.batch, opts.conns - i);
    sockets.push(...await Promise.all(Array.from({ length: n }, () => open(url))));
  }
  const opened = await measure(server, opts.conns + 1);
  await Promise.all(sockets.map(echo));
  const used = await measure(server, opts.conns + 1);
  await server.stop();

  const per = (m, side, key) => (m[side][key] - base[side][key]) / opts.conns;
  const result = { conns: opts.conns, base, opened, used };
  for (const [name, m] of [['idle', opened], ['after_echo', used]]) {
    result[`server_rss_per_conn_${name}`] = per(m, 'server', 'rss');
    result[`server_js_per_conn_${name}`] = per(m, 'server', 'heap_used') + per(m, 'server', 'external');
    result[`client_rss_per_conn_${name}`] = per(m, 'client', 'rss');
    result[`client_js_per_conn_${name}`] = per(m, 'client', 'heap_used') + per(m, 'client', 'external');
  }
  if (opts.json) console.log(JSON.stringify(result));
  else {
    const kb = (x) => `${(x / 1024).toFixed(1)} KiB`;
    console.log(`${opts.conns} idle connections, per connection (RSS; V8 heap + external in brackets):`);
    console.log(`  server: ${kb(result.server_rss_per_conn_idle)} (${kb(result.server_js_per_conn_idle)}), ` +
      `after one echo each ${kb(result.server_rss_per_conn_after_echo)} (${kb(result.server_js_per_conn_after_echo)})`);
    console.log(`  client: ${kb(result.client_rss_per_conn_idle)} (${kb(result.client_js_per_conn_idle)}), ` +
      `after one echo each ${kb(result.client_rss_per_conn_after_echo)} (${kb(result.client_js_per_conn_after_echo)})`);
  }
  process.exit(0);
})().catch((err) => { console.error(`idle: ${err.message}`); process.exit(1); });

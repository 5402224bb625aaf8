'use strict';
// Load generator: node client.js <impl-path> <url> [--conns 1] [--depth 1] [--size 32]
//                                 [--seconds 3] [--warmup 1] [--text] [--json]
// Opens --conns connections with the ws-compatible package at <impl-path>; each keeps --depth
// messages of --size bytes in flight (sends --depth, then one more per echo). Counts the echoes
// received in --seconds after --warmup and prints messages/s (--json: one JSON object).
const crypto = require('crypto');
const path = require('path');
const { parseArgs } = require('./lib');

const opts = parseArgs(process.argv.slice(2), { conns: 1, depth: 1, size: 32, seconds: 3, warmup: 1 });
const [implPath, url] = opts._;
if (!implPath || !url) {
  console.error('usage: node client.js <impl-path> <url> [--conns N] [--depth D] [--size S] [--seconds T] [--warmup W] [--text] [--json]');
  process.exit(2);
}
const WebSocket = require(path.resolve(implPath));
const binary = !opts.text;
const payload = binary ? crypto.randomBytes(opts.size) : 'x'.repeat(opts.size);

let received = 0;
const fail = (msg) => { console.error(`client: ${msg}`); process.exit(1); };

function connect() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
    ws.on('close', () => fail('connection closed during the run'));
    ws.on('message', (data, isBinary) => {
      if (data.length !== opts.size || isBinary !== binary) fail(`bad echo: ${data.length} bytes, binary=${isBinary}`);
      received++;
      ws.send(payload);
    });
  });
}

function snapshot() {
  const cpu = process.cpuUsage();
  return { t: process.hrtime.bigint(), received, cpu: cpu.user + cpu.system };
}

const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));

(async () => {
  const sockets = await Promise.all(Array.from({ length: opts.conns }, connect));
  for (const ws of sockets) for (let i = 0; i < opts.depth; i++) ws.send(payload);
  await sleep(opts.warmup);
  const a = snapshot();
  await sleep(opts.seconds);
  const b = snapshot();
  const seconds = Number(b.t - a.t) / 1e9;
  const msgs = b.received - a.received;
  const result = {
    conns: opts.conns, depth: opts.depth, size: opts.size, binary, seconds, msgs,
    msgs_per_s: msgs / seconds,
    mb_per_s: (msgs * opts.size) / seconds / 1e6,
    client_cpu_us_per_msg: (b.cpu - a.cpu) / msgs,
  };
  if (opts.json) console.log(JSON.stringify(result));
  else console.log(`${Math.round(result.msgs_per_s)} msgs/s (${opts.conns} conns x ${opts.depth} in flight, ${opts.size} B, ` +
    `${result.mb_per_s.toFixed(1)} MB/s, client CPU ${result.client_cpu_us_per_msg.toFixed(2)} us/msg)`);
  process.exit(0);
})().catch((err) => fail(err.message || String(err)));

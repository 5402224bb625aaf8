'use strict';
// The matrix: node bench/node/run.js [--runs 3] [--seconds 3] [--warmup 1] [--idle-conns 2000]
//                                    [--impls ws,ws+bufferutil,wsc] [--wsc <path>] [--out <file.json>]
// Client and server are the same package on both sides; the server is pinned to CPU 0 and the
// client to CPU 1 (taskset). Each figure is the median of --runs runs; the packages take turns
// within a run, in an order rotated run by run. Prints Markdown tables (progress on stderr); writes
// JSON to --out (default: a file under /tmp).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { parseArgs, canPin, startServer, runNode } = require('./lib');

const opts = parseArgs(process.argv.slice(2), {
  runs: 3, seconds: 3, warmup: 1, idle_conns: 2000,
  impls: 'ws,ws+bufferutil,wsc',
  wsc: path.join(__dirname, '../../bindings/node'),
  out: path.join(os.tmpdir(), `wsc-node-bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
});
const npmCache = process.env.WSC_NPM_CACHE || path.join(os.homedir(), '.cache/wsc/npm');
const wsPath = path.join(npmCache, 'node_modules/ws');
const log = (...a) => console.error(...a);

// Loads a snippet in a fresh node (a broken native addon must not take this process down).
function probe(code) {
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  return r.status === 0 ? null : (r.stderr.trim().split('\n').find((l) => /Error/.test(l)) || `exit ${r.status}`);
}
const checkApi = (p) => `const W = require(${JSON.stringify(p)});
  if (typeof W !== 'function' || typeof W.WebSocketServer !== 'function') throw new Error('not ws-compatible: exports ' + Object.keys(W));`;
// ws falls back to JS masking when bufferutil is missing; bufferutil itself falls back to JS when its addon does not load
const bufferutilNative = `const dir = require('path').dirname(require.resolve('bufferutil', { paths: [${JSON.stringify(wsPath)}] }));
  require(require.resolve('node-gyp-build', { paths: [dir] }))(dir);`;

const candidates = {
  ws: { path: wsPath, env: { WS_NO_BUFFER_UTIL: '1' }, check: () => probe(checkApi(wsPath)) },
  'ws+bufferutil': { path: wsPath, env: {}, check: () => probe(checkApi(wsPath)) || probe(bufferutilNative) },
  wsc: { path: path.resolve(opts.wsc), env: {}, check: () => probe(checkApi(path.resolve(opts.wsc))) },
};
const notes = [];
const impls = [];
for (const name of opts.impls.split(',')) {
  const c = candidates[name];
  if (!c) throw new Error(`unknown implementation ${name} (known: ${Object.keys(candidates)})`);
  const err = c.check();
  if (err) notes.push(`${name} skipped: ${c.path} cannot be used (${err})`);
  else impls.push({ name, path: c.path, env: c.env });
}
if (!canPin) notes.push('not pinned: taskset or a second CPU is missing');
for (const n of notes) log(`note: ${n}`);

const workloads = [
  { name: '1 conn x 1 in flight, 32 B', conns: 1, depth: 1, size: 32 },
  { name: '1 conn x 1 in flight, 1 KiB', conns: 1, depth: 1, size: 1024 },
  { name: '1 conn x 16 in flight, 32 B', conns: 1, depth: 16, size: 32 },
  { name: '1 conn x 16 in flight, 1 KiB', conns: 1, depth: 16, size: 1024 },
  { name: '100 conns x 16 in flight, 32 B', conns: 100, depth: 16, size: 32 },
  { name: '100 conns x 16 in flight, 1 KiB', conns: 100, depth: 16, size: 1024 },
  { name: '1 conn x 2 in flight, 1 MiB', conns: 1, depth: 2, size: 1024 * 1024 },
];

async function echoRun(impl, w) {
  const server = await startServer(impl, { cpu: 0 });
  try {
    const before = await server.stats();
    const out = await runNode('client.js', [impl.path, `ws://127.0.0.1:${server.port}`, '--json',
      '--conns', w.conns, '--depth', w.depth, '--size', w.size, '--seconds', opts.seconds, '--warmup', opts.warmup].map(String),
    { cpu: 1, env: impl.env, stdio: ['ignore', 'pipe', 'inherit'], timeout: (opts.seconds + opts.warmup + 30) * 1000 });
    const after = await server.stats();
    const r = JSON.parse(out);
    const cpu = (s) => s.cpu_user_us + s.cpu_system_us;
    return { msgs_per_s: r.msgs_per_s, client_cpu_us_per_msg: r.client_cpu_us_per_msg,
      server_cpu_us_per_msg: (cpu(after) - cpu(before)) / (after.echoed - before.echoed) };
  } finally {
    await server.stop();
  }
}

async function idleRun(impl) {
  const out = await runNode('idle.js', [impl.path, '--json', '--conns', String(opts.idle_conns), '--server-cpu', '0'],
    { cpu: 1, env: impl.env, nodeFlags: ['--expose-gc'], stdio: ['ignore', 'pipe', 'inherit'], timeout: 120e3 });
  const r = JSON.parse(out);
  return { server_rss_per_conn: r.server_rss_per_conn_idle, client_rss_per_conn: r.client_rss_per_conn_idle,
    server_js_per_conn: r.server_js_per_conn_idle, client_js_per_conn: r.client_js_per_conn_idle };
}

function median(xs) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// results[test][impl] = { runs: [...], errors: [...], median: {...} }
const results = {};
async function measure(test, impl, fn) {
  const slot = ((results[test] ||= {})[impl.name] ||= { runs: [], errors: [] });
  try {
    const r = await fn();
    slot.runs.push(r);
    log(`  ${test} | ${impl.name}: ${JSON.stringify(r, (k, v) => (typeof v === 'number' ? +v.toPrecision(4) : v))}`);
  } catch (err) {
    slot.errors.push(err.message);
    log(`  ${test} | ${impl.name}: FAILED ${err.message}`);
  }
}

// rows: [label, implName => value or null]; a wsc/<other> ratio column for every other package
function table(title, rows, fmt, better) {
  const bases = impls.filter((i) => i.name !== 'wsc').map((i) => i.name);
  const ratios = impls.some((i) => i.name === 'wsc') ? bases : [];
  const out = [`| ${title} | ${impls.map((i) => i.name).join(' | ')} |${ratios.map((b) => ` wsc/${b} |`).join('')}`,
    `|---|${'---:|'.repeat(impls.length + ratios.length)}`];
  for (const [label, get] of rows) {
    const cells = impls.map((i) => (get(i.name) === null ? 'failed' : fmt(get(i.name))));
    const ratio = (b) => (get('wsc') && get(b) ? `${(get('wsc') / get(b)).toFixed(2)}x` : '-');
    out.push(`| ${label} | ${cells.join(' | ')} |${ratios.map((b) => ` ${ratio(b)} |`).join('')}`);
  }
  return `${out.join('\n')}\n\n(${better})\n`;
}
const med = (test, key) => (name) => results[test]?.[name]?.median?.[key] ?? null;

(async () => {
  if (!impls.length) throw new Error('nothing to run');
  const started = Date.now();
  for (let run = 1; run <= opts.runs; run++) {
    log(`run ${run}/${opts.runs}`);
    const k = (run - 1) % impls.length; // rotate who goes first
    const order = [...impls.slice(k), ...impls.slice(0, k)];
    for (const w of workloads) for (const impl of order) await measure(w.name, impl, () => echoRun(impl, w));
    if (opts.idle_conns > 0) for (const impl of order) await measure('idle', impl, () => idleRun(impl));
  }
  for (const [test, byImpl] of Object.entries(results)) {
    for (const [name, slot] of Object.entries(byImpl)) {
      if (slot.errors.length) notes.push(`${name}, ${test}: ${slot.errors.length} of ${opts.runs} runs failed (${slot.errors[0]})`);
      slot.median = {};
      for (const k of Object.keys(slot.runs[0] || {})) slot.median[k] = median(slot.runs.map((r) => r[k]));
    }
  }

  const echoRows = (key) => workloads.map((w) => [w.name, med(w.name, key)]);
  const int = (x) => Math.round(x).toLocaleString('en-US');
  const us = (x) => x.toFixed(2);
  let md = `## Node: the same package as client and server, median of ${opts.runs} runs\n\n` +
    `Node ${process.version}, ${os.cpus().length} CPUs, ${canPin ? 'server on CPU 0, client on CPU 1' : 'not pinned'}, ` +
    `${opts.seconds} s after ${opts.warmup} s of warmup, binary messages echoed.\n\n` +
    table('messages/s', echoRows('msgs_per_s'), int, 'higher is better') + '\n' +
    table('server CPU us/message', echoRows('server_cpu_us_per_msg'), us, 'lower is better') + '\n' +
    table('client CPU us/message', echoRows('client_cpu_us_per_msg'), us, 'lower is better');
  if (results.idle) {
    md += `\n### ${opts.idle_conns} idle connections: growth over one open connection, per connection\n\n` +
      table('KiB per idle connection', [
        ['server RSS', med('idle', 'server_rss_per_conn')],
        ['client RSS', med('idle', 'client_rss_per_conn')],
        ['server V8 heap + external', med('idle', 'server_js_per_conn')],
        ['client V8 heap + external', med('idle', 'client_js_per_conn')],
      ], (x) => (x / 1024).toFixed(1), 'lower is better');
  }
  if (notes.length) md += `\n${notes.map((n) => `Note: ${n}`).join('\n')}\n`;
  console.log(md);

  const json = { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, pinned: canPin,
    elapsed_s: (Date.now() - started) / 1000, options: { runs: opts.runs, seconds: opts.seconds, warmup: opts.warmup, idle_conns: opts.idle_conns },
    impls, workloads, notes, results, markdown: md };
  fs.writeFileSync(opts.out, `${JSON.stringify(json, null, 2)}\n`);
  log(`results written to ${opts.out}`);
})().catch((err) => { log(`run: ${err.message}`); process.exit(1); });

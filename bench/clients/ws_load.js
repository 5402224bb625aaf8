// The load of bench/loadgen.c's echo mode on ws' client (npm), for the kit's client-side
// comparison: C connections keep D binary messages of S bytes in flight, every echoed byte is
// checked; prints the same JSON fields (messages/s, latency, the client's own CPU per message).
//   node ws_load.js --url ws://127.0.0.1:PORT/ [-c N] [-d N] [-s BYTES] [-t SECONDS] [-w SECONDS]
const WebSocket = require('ws');

const opt = { url: null, c: 1, d: 1, s: 32, t: 5, w: 1 };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^-+/, ''), v = process.argv[i + 1];
  if (!(k in opt)) throw new Error(`unknown option ${process.argv[i]}`);
  opt[k] = k === 'url' ? v : Number(v);
}
const SPREAD = 4096;
const pool = Buffer.alloc(opt.s + SPREAD);
for (let i = 0; i < pool.length; i++) pool[i] = Number((BigInt(i) * 2654435761n >> 13n) & 255n);
const message = (idx, k) => { const o = (k * 61 + idx * 17) % SPREAD; return pool.subarray(o, o + opt.s); };

let measuring = false, msgs = 0, errors = 0, mismatches = 0, opened = 0;
const lat = [];
function start() {
  const t0 = process.hrtime.bigint(), cpu0 = process.cpuUsage();
  measuring = true;
  setTimeout(() => {
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0), cpuNs = (cpu.user + cpu.system) * 1000;
    lat.sort((a, b) => a - b);
    const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] / 1000 : 0);
    const rate = msgs / secs;
    process.stdout.write(JSON.stringify({ mode: 'echo', client: 'ws', conns: opt.c, depth: opt.d, size: opt.s, seconds: secs,
      msgs, msg_per_s: rate, mb_per_s: rate * opt.s / 1e6, p50_us: q(0.5), p99_us: q(0.99), p999_us: q(0.999),
      client_cpu_s: cpuNs / 1e9, client_cpu_per_msg_ns: msgs ? cpuNs / msgs : 0, errors, mismatches }) + '\n');
    process.exit(errors || mismatches ? 1 : 0);
  }, opt.t * 1000);
}
for (let idx = 0; idx < opt.c; idx++) {
  const ws = new WebSocket(opt.url, { perMessageDeflate: false, maxPayload: 0 });
  const stamps = new Array(opt.d);
  let sent = 0, received = 0;
  const sendNext = () => { stamps[sent % opt.d] = process.hrtime.bigint(); ws.send(message(idx, sent++), { binary: true }); };
  ws.on('open', () => {
    for (let i = 0; i < opt.d; i++) sendNext();
    if (++opened === opt.c) setTimeout(start, opt.w * 1000);
  });
  ws.on('message', (data) => {
    if (!message(idx, received).equals(data)) mismatches++;
    if (measuring) { msgs++; lat.push(Number(process.hrtime.bigint() - stamps[received % opt.d])); }
    received++;
    sendNext();
  });
  ws.on('error', (e) => { errors++; console.error(`ws_load: ${e.message}`); process.exit(1); });
}

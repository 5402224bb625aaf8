'use strict';
// Echo server: node server.js <impl-path> <port>
// Requires the ws-compatible package at <impl-path>, listens on 127.0.0.1:<port> (0: any free
// port), prints "ready <port>", and echoes every message with its binary flag.
// A line "stats" on stdin prints "stats {json}" (CPU, memory, counters); SIGTERM prints the same
// and exits; when stdin is a pipe, its end exits. Run with --expose-gc to collect garbage before each report.
const path = require('path');

const [implPath, port = '0'] = process.argv.slice(2);
if (!implPath) {
  console.error('usage: node server.js <impl-path> <port>');
  process.exit(2);
}
const WebSocket = require(path.resolve(implPath));

let conns = 0;
let opened = 0;
let echoed = 0;
const wss = new WebSocket.WebSocketServer({ host: '127.0.0.1', port: Number(port), perMessageDeflate: false });
wss.on('listening', () => process.stdout.write(`ready ${wss.address().port}\n`));
wss.on('error', (err) => { console.error(err); process.exit(1); });
wss.on('connection', (ws) => {
  conns++;
  opened++;
  ws.on('message', (data, isBinary) => { echoed++; ws.send(data, { binary: isBinary }); });
  ws.on('close', () => conns--);
  ws.on('error', () => {});
});

function stats() {
  if (global.gc) global.gc();
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    pid: process.pid, conns, opened, echoed,
    cpu_user_us: cpu.user, cpu_system_us: cpu.system,
    rss: mem.rss, heap_used: mem.heapUsed, external: mem.external, array_buffers: mem.arrayBuffers,
  };
}
const report = () => process.stdout.write(`stats ${JSON.stringify(stats())}\n`);

const stdin = require('fs').fstatSync(0);
if (stdin.isFIFO() || stdin.isSocket()) { // a pipe from run.js / idle.js, not a terminal or /dev/null
  require('readline').createInterface({ input: process.stdin })
    .on('line', (line) => { if (line.trim() === 'stats') report(); })
    .on('close', () => process.exit(0));
}
process.on('SIGTERM', () => { report(); process.exit(0); });

'use strict';
// Shared by run.js and idle.js: argument parsing, CPU pinning, starting server.js.
const { spawn, spawnSync } = require('child_process');
const os = require('os');
const path = require('path');
const readline = require('readline');

// --name value / --flag pairs into an object; positionals into ._
function parseArgs(argv, defaults) {
  const opts = { ...defaults, _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { opts._.push(a); continue; }
    const key = a.slice(2).replace(/-/g, '_');
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) opts[key] = true;
    else {
      opts[key] = typeof defaults[key] === 'number' ? Number(next) : next;
      i++;
    }
  }
  return opts;
}

const canPin = os.cpus().length >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;

// spawn `node [nodeFlags] script args`, under `taskset -c cpu` when it can pin
function spawnNode(script, args, { cpu, env, nodeFlags = [], stdio = ['pipe', 'pipe', 'inherit'], timeout } = {}) {
  const argv = [process.execPath, ...nodeFlags, path.join(__dirname, script), ...args];
  if (canPin && cpu !== undefined) argv.unshift('taskset', '-c', String(cpu));
  return spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio, timeout });
}

// Starts server.js; resolves to { port, pid, stats(), stop() } once it prints "ready <port>".
function startServer(impl, { cpu } = {}) {
  const child = spawnNode('server.js', [impl.path, '0'], { cpu, env: impl.env, nodeFlags: ['--expose-gc'] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiters = [];
  let exitError = null;
  lines.on('line', (line) => {
    const sp = line.indexOf(' ');
    const tag = line.slice(0, sp);
    const i = waiters.findIndex((w) => w.tag === tag);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(line.slice(sp + 1));
  });
  const next = (tag) => new Promise((resolve, reject) => {
    if (exitError) return reject(exitError);
    waiters.push({ tag, resolve, reject });
  });
  child.on('exit', (code, signal) => {
    exitError = new Error(`${impl.name} server exited (${signal || code})`);
    for (const w of waiters.splice(0)) w.reject(exitError);
  });
  return next('ready').then((port) => ({
    port: Number(port),
    pid: child.pid,
    async stats() { child.stdin.write('stats\n'); return JSON.parse(await next('stats')); },
    stop() {
      return new Promise((resolve) => {
        if (exitError) return resolve();
        child.once('exit', resolve);
        child.stdin.end();
      });
    },
  }));
}

// Runs a node script to completion (killed after opts.timeout ms); resolves to its stdout, rejects on a
// non-zero exit.
function runNode(script, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawnNode(script, args, opts);
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('exit', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`${script} ${args.join(' ')}: exit ${signal || code}`))));
  });
}

module.exports = { parseArgs, canPin, spawnNode, startServer, runNode };

'use strict';
// Builds the addon (build/wsc_node.node) with CMake against Node's headers in /usr/include/node:
// no download, no node-gyp. libwsc comes from WSC_LIBWSC_DIR (a build tree holding libwsc.so),
// else the source tree's own build/ when it has one, else it is built here from the sources.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const here = path.resolve(__dirname, '..');
const root = path.resolve(here, '../..');
const out = path.join(here, 'build');
let libdir = process.env.WSC_LIBWSC_DIR || '';
if (!libdir && fs.existsSync(path.join(root, 'build', 'libwsc.so'))) libdir = path.join(root, 'build');
const args = ['-S', here, '-B', out, '-DCMAKE_BUILD_TYPE=Release', `-DWSC_LIBWSC_DIR=${libdir}`];
if (process.env.WSC_NODE_INCLUDE_DIR) args.push(`-DWSC_NODE_INCLUDE_DIR=${process.env.WSC_NODE_INCLUDE_DIR}`);
const run = (cmd, a) => execFileSync(cmd, a, { stdio: ['ignore', 'ignore', 'inherit'] });
run('cmake', args);
run('cmake', ['--build', out, '-j', String(os.cpus().length)]);
console.log(`wsc: built ${path.join(out, 'wsc_node.node')}${libdir ? ` (libwsc from ${libdir})` : ''}`);

// Runs tls_in_node.node (see tls_in_node.c) in Node: node tls_in_node.js ADDON MAKE_CERTS_SH
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [addonPath, makeCerts] = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsc-node-tls-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
execFileSync(makeCerts, [dir], { stdio: 'ignore' });
const addon = require(path.resolve(addonPath));
addon.run(dir);
const deadline = Date.now() + 20000;
const timer = setInterval(() => {
  const outcome = addon.poll();
  if (!outcome && Date.now() < deadline) return;
  clearInterval(timer);
  console.log(`node ${process.version}, OpenSSL ${process.versions.openssl}: ${outcome || 'timed out'}`);
  const ok = outcome.startsWith('echo "hello from node" over TLSv1.3, verify 0, peer CN=localhost,O=wsc tests, closed 1000 | ' +
    'system store: WSC_ECERT_UNTRUSTED, closed 1015 | loop freed: yes');
  process.exitCode = ok ? 0 : 1;
}, 10);

'use strict';
// Loads the addon: WSC_NODE_ADDON when set, else the one `npm install` built (build/).
const fs = require('fs');
const path = require('path');

const candidates = [
  process.env.WSC_NODE_ADDON,
  path.join(__dirname, '..', 'build', 'wsc_node.node'),
  path.join(__dirname, '..', 'build', 'Release', 'wsc_node.node')
].filter(Boolean);

const found = candidates.find((p) => fs.existsSync(p));
if (!found) {
  throw new Error(`wsc: the native addon is not built (looked for ${candidates.join(', ')}); ` +
    'run `npm install` in the package folder (it needs cmake, a C compiler and Node\'s headers)');
}
module.exports = require(found);

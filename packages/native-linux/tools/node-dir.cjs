#!/usr/bin/env node
// Prints the directory node-gyp should use as --nodedir when a Linux backend
// builds its addon: the install prefix of the Node binary running this script.
// Official Node builds and distro packages both ship the headers under
// <prefix>/include/node, so the addon builds offline against exactly the Node
// that will load it (node-gyp would otherwise try to download headers from the
// internet). Loading it is running it, so a backend's build:native can reach
// it through the package exports:
//   NODE_DIR="$(node -e "require('@hyperlight-ts/native-linux/node-dir')")" && node-gyp rebuild --nodedir="$NODE_DIR"
// Exits non-zero with an explanation when the headers are missing, so the
// build stops there.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const prefix = path.resolve(process.execPath, '..', '..');
const includeDir = path.join(prefix, 'include', 'node');
// node_api.h is what the addon includes; common.gypi is what node-gyp reads.
const required = ['node_api.h', 'common.gypi'];
const missing = required.filter((file) => !fs.existsSync(path.join(includeDir, file)));

if (missing.length > 0) {
  process.stderr.write(
    `node-dir: cannot build the native addon: ${missing.join(' and ')} not found in ${includeDir}\n` +
      `  (the Node.js headers for ${process.execPath}, ${process.version}).\n` +
      '  Install a Node.js build that ships its headers (official tarballs and the\n' +
      '  nodesource/distro "nodejs" packages do; on Debian/Ubuntu distro Node also\n' +
      '  needs "libnode-dev"), or run the build with the Node that has them.\n',
  );
  process.exit(1);
}
process.stdout.write(`${prefix}\n`);

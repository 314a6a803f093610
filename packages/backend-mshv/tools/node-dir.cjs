#!/usr/bin/env node
// Prints the --nodedir for node-gyp: the install prefix of the Node running
// this script, whose include/node holds the headers the addon must be built
// against (so the build never downloads headers). Fails with a reason when
// they are missing, which stops `NODE_DIR=$(node tools/node-dir.cjs) && ...`.
'use strict';

const { existsSync } = require('node:fs');
const { join, resolve } = require('node:path');

const prefix = resolve(process.execPath, '..', '..');
const headers = join(prefix, 'include', 'node');
const absent = ['node_api.h', 'common.gypi'].filter((name) => !existsSync(join(headers, name)));
if (absent.length > 0) {
  process.stderr.write(
    `node-dir: cannot build the MSHV addon: ${absent.join(', ')} missing from ${headers} ` +
      `(the headers of ${process.execPath}, ${process.version}); use a Node.js that ships them.\n`,
  );
  process.exit(1);
}
process.stdout.write(`${prefix}\n`);

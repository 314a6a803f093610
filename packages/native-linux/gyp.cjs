// For a Linux backend's binding.gyp: where the shared C++ lives, so the
// backend compiles it into its own addon.
//   "include_dirs": ["<!(node -p \"require('@hyperlight-ts/native-linux/gyp').includeDir\")"]
//   "sources": ["<!@(node -p \"require('@hyperlight-ts/native-linux/gyp').sources.join(' ')\")", ...]
// gyp runs these commands in the directory of the .gyp file. `sources` are
// relative to it: gyp's make generator derives each object file's path from
// its source path, which fails for absolute ones.
'use strict';

const { readdirSync } = require('node:fs');
const { join, relative } = require('node:path');

/** The directory of the shared headers and sources (absolute). */
const includeDir = join(__dirname, 'src', 'native');

/** Every shared C++ source file, sorted, relative to the current directory. */
const sources = readdirSync(includeDir)
  .filter((name) => name.endsWith('.cc'))
  .sort()
  .map((name) => relative(process.cwd(), join(includeDir, name)));

module.exports = { includeDir, sources };

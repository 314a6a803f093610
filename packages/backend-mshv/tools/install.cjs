#!/usr/bin/env node
// The package's `install` script, deliberately empty. Without an explicit
// install script npm and pnpm run `node-gyp rebuild` on install whenever a
// binding.gyp exists, with no --nodedir, so node-gyp would try to download Node
// headers and fail offline. The addon is built by `pnpm build` instead
// (build:native, through tools/node-dir.cjs).
'use strict';

#!/usr/bin/env node
// What a Linux backend's `install` script runs: nothing, deliberately
// (`"install": "node -e \"require('@hyperlight-ts/native-linux/install')\""`).
// Without an explicit install script npm and pnpm run `node-gyp rebuild` on
// install whenever a binding.gyp exists, with no --nodedir, so node-gyp would
// try to download Node headers and fail offline. The addon is built by
// `pnpm build` instead (the backend's build:native, through ./node-dir.cjs).
'use strict';

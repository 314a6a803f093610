#!/usr/bin/env node
// The package's `install` script, deliberately empty: without one, npm and
// pnpm would run `node-gyp rebuild` on install (a binding.gyp exists) without
// --nodedir and try to download Node headers. `pnpm build` builds the addon.
'use strict';

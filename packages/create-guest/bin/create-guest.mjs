#!/usr/bin/env node
// Launches the CLI that `pnpm build` compiles to dist/. The launcher lives
// outside dist/ so package managers can link the bin before the build ran.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('create-guest: @hyperlight-ts/create-guest is not built (run `pnpm build` in packages/create-guest)');
  process.exit(1);
}
await import(cli.href);

#!/usr/bin/env node
// A Linux backend's `prepack`: refuses to pack unless both prebuilt addons
// exist, naming the command that builds each missing one.
//   node ../native-linux/tools/check-prebuilds.mjs hyperlight_kvm.node
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const fileName = process.argv[2];
if (!fileName) {
  process.stderr.write('usage: check-prebuilds.mjs <addon file name>\n');
  process.exit(2);
}
const commands = { gnu: 'pnpm build', musl: 'pnpm build:musl' };
const missing = Object.entries(commands)
  .map(([libc, command]) => ({ path: join('prebuilds', `linux-x64-${libc}`, fileName), command }))
  .filter(({ path }) => !existsSync(path));
if (missing.length > 0) {
  const lines = missing.map(({ path, command }) => `  ${path} is missing: run "${command}" in ${process.cwd()}`);
  process.stderr.write(`refusing to pack without both prebuilt addons:\n${lines.join('\n')}\n`);
  process.exit(1);
}

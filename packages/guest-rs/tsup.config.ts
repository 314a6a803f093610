import { defineConfig } from 'tsup';

export default defineConfig({
  // bin/hyperlight-build-rust-guest.mjs launches dist/cli.js.
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  shims: true,
});

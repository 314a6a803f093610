import { defineConfig } from 'tsup';

// A command-line tool only (no library entry): one ESM file that bin/create-guest.mjs loads.
export default defineConfig({
  entry: ['src/cli.ts'],
  format: ['esm'],
  clean: true,
  target: 'node20',
  platform: 'node',
});

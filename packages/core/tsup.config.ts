import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', backend: 'src/backend/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  // Both entries share one copy of each module (and so of each error class) in CommonJS too.
  splitting: true,
  target: 'node20',
  platform: 'node',
  shims: true,
});

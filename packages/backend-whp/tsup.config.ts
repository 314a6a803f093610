import { defineConfig } from 'tsup';

export default defineConfig({
  // The watchdog runs in a worker thread of its own, loaded from its own file.
  entry: ['src/index.ts', 'src/watchdog-worker.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  target: 'node20',
  platform: 'node',
  shims: true,
  external: ['koffi'],
});

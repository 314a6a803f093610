import { defineConfig } from 'vitest/config';

// The global setup packs every publishable package once; each test file then
// reads the tarballs. Files run in their own processes; packing, attw and the
// changesets dry run take a while.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/pack-setup.ts'],
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});

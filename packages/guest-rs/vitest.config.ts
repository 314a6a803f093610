import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Building real guests takes a while on a cold cargo cache.
  test: { include: ['test/**/*.test.ts'], pool: 'forks', testTimeout: 300_000, hookTimeout: 300_000 },
});

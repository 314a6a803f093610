import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Compiler runs, make and cmake configure steps take seconds each.
  test: { include: ['test/**/*.test.ts'], pool: 'forks', testTimeout: 120_000, hookTimeout: 120_000 },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Seeded random-input tests run for seconds when turbo tests every package at once on 2 cores.
  test: { include: ['test/**/*.test.ts'], pool: 'forks', testTimeout: 30_000 },
});

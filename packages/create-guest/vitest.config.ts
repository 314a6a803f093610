import { defineConfig } from 'vitest/config';

// The round-trip tests build a Rust and a C guest (cargo, gcc): tens of seconds each.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], pool: 'forks', testTimeout: 300_000, hookTimeout: 300_000 },
});

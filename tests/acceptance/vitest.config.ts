import { defineConfig } from 'vitest/config';

// Each test file runs in its own process: VMs, file descriptors and signal
// handlers never leak between files.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], pool: 'forks', testTimeout: 60_000, hookTimeout: 60_000 },
});

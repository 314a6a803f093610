import { defineConfig } from 'vitest/config';

// The CLI tests spawn the CLI, and the SVG tests headless Chromium: seconds each on a loaded machine.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], pool: 'forks', testTimeout: 60_000, hookTimeout: 60_000 },
});

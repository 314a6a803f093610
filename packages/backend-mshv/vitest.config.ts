import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One process per file: fds and memfds stay per test file.
    pool: 'forks',
  },
});

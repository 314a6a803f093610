import { defineConfig } from 'vitest/config';

// The tests of tools/ (tools/test.mjs runs them with the host suites).
export default defineConfig({
  test: { root: new URL('.', import.meta.url).pathname, include: ['test/**/*.test.mjs'] },
});

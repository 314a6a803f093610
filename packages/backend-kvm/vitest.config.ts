import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One process per file: KVM fds, memfds and /proc/self/fd counts stay per test file.
    pool: 'forks',
    // Prints once why the *.kvm.test.ts files are skipped, when they are.
    globalSetup: ['test/global-setup.ts'],
  },
});

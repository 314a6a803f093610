import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One process per file: KVM fds, memfds and /proc/self/fd counts stay per test file.
    pool: 'forks',
    // One file at a time: two processes driving KVM at once froze the nested-KVM
    // VM of tools/kvm-vm (QEMU TCG) in several runs. The suite takes seconds on real KVM.
    fileParallelism: false,
    // Prints once why the *.kvm.test.ts files are skipped, when they are.
    globalSetup: ['test/global-setup.ts'],
  },
});

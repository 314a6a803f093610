import { defineConfig } from 'vitest/config';

// Each test file runs in its own process, so sandboxes never outlive their file.
// Under nested KVM with full CPU emulation, zlib's larger inputs take a while.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], pool: 'forks', testTimeout: 300_000, hookTimeout: 300_000 },
});

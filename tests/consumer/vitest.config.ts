import { defineConfig } from 'vitest/config';

// Two projects: `host` packs the packages once (global setup) and prepares
// the apps (installs, guest builds, checks that need no hypervisor); `kvm`
// runs the prepared apps and needs /dev/kvm. The nested-KVM VM has no
// network, so it runs only `kvm`, on apps the host prepared.
// Each test file runs in its own process; installs and builds take a while.
const timeouts = { testTimeout: 180_000, hookTimeout: 180_000 };
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'host',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.kvm.test.ts'],
          globalSetup: ['test/support/pack-setup.ts'],
          pool: 'forks',
          ...timeouts,
        },
      },
      { test: { name: 'kvm', include: ['test/**/*.kvm.test.ts'], pool: 'forks', ...timeouts } },
    ],
  },
});

// explainLoadFailure with the dynamic loader's messages that cannot be made
// real on this machine (an older glibc: tools/check-old-glibc.mjs loads the
// prebuilds there; the backends' load-native tests make the others real).
import { describe, expect, it } from 'vitest';
import { explainLoadFailure, type HostSystem, PREBUILD_REQUIREMENTS } from '../../src/index.js';

// Any readable x86-64 ELF file passes the file checks that come first.
const plausibleElf = process.execPath;

describe('explainLoadFailure', () => {
  it('names the glibc the gnu build needs, the missing version and this system\'s glibc', () => {
    const host: HostSystem = { platform: 'linux', arch: 'x64', libcFamily: 'glibc', libcVersion: '2.17' };
    const loaderMessage =
      "/lib64/libc.so.6: version `GLIBC_2.27' not found (required by /app/node_modules/@hyperlight-ts/backend-kvm/prebuilds/linux-x64-gnu/hyperlight_kvm.node)";
    const explanation = explainLoadFailure({ path: plausibleElf, libc: 'gnu', host, loaderMessage });
    expect(PREBUILD_REQUIREMENTS.glibc).toBe('2.28');
    expect(explanation).toContain('the glibc build needs glibc 2.28 or later (RHEL/Rocky/Alma 8, Debian 10');
    expect(explanation).toContain('the loader is missing GLIBC_2.27); this system has glibc 2.17');
  });
});

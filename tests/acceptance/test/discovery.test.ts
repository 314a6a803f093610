// Discovery against the real backend packages, installed as an application
// installs them (this package depends on all three). Runs with or without a
// hypervisor: whatever this machine has, every candidate gets a reason.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, checkHypervisor, discoverBackend, UninitializedSandbox } from '@hyperlight-ts/core';
import { backendUnderTestName } from './support/backend-under-test.js';
import { simpleGuest } from './support/guests.js';

const UNUSABLE_REASONS = ['unsupported-platform', 'load-failed', 'device-missing', 'permission-denied', 'api-mismatch'];

describe.skipIf(process.platform !== 'linux')('backend discovery on Linux', () => {
  it('tries KVM, then MSHV, and says why each one it passed over is unusable', () => {
    const { backend, candidates } = checkHypervisor({ env: {} });
    expect(candidates.map((c) => c.backend)).toEqual(backend === 'kvm' ? [] : backend === 'mshv' ? ['kvm'] : ['kvm', 'mshv']);
    for (const candidate of candidates) {
      expect(UNUSABLE_REASONS).toContain(candidate.reason); // installed: never "not-installed"
      expect(candidate.detail).not.toBe('');
    }
  });

  it('HYPERLIGHT_BACKEND=whp: the whp package loads on Linux and says it is unsupported here', () => {
    const { backend, candidates } = checkHypervisor({ env: { HYPERLIGHT_BACKEND: 'whp' } });
    expect(backend).toBeUndefined();
    expect(candidates).toEqual([{ backend: 'whp', reason: 'unsupported-platform', detail: expect.any(String) }]);
    const error = (() => {
      try {
        UninitializedSandbox.create(simpleGuest('rust'), { backend: 'whp' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as BackendUnavailableError).message).toContain('whp: unsupported-platform (');
  });

  it.skipIf(existsSync('/dev/mshv'))('HYPERLIGHT_BACKEND=mshv without /dev/mshv: the mshv package says the device is missing', () => {
    const { backend, candidates } = checkHypervisor({ env: { HYPERLIGHT_BACKEND: 'mshv' } });
    expect(backend).toBeUndefined();
    expect(candidates).toEqual([{ backend: 'mshv', reason: 'device-missing', detail: expect.stringContaining('/dev/mshv') }]);
  });

  it('the suite runs against the backend discovery picks', () => {
    if (backendUnderTestName === undefined) expect(() => discoverBackend()).toThrow(BackendUnavailableError);
    else expect(discoverBackend().name).toBe(backendUnderTestName);
  });
});

import { describe, expect, it } from 'vitest';
import type { Backend, BackendStatus } from '../../src/backend/backend.js';
import { checkHypervisor, discoverBackend, isHypervisorPresent, type PackageLoader } from '../../src/backend/discover.js';
import { BackendUnavailableError, ConfigurationError } from '../../src/errors.js';

const fakeBackend = (name: Backend['name'], status: BackendStatus): Backend => ({
  name,
  check: () => status,
  createVm: () => {
    throw new Error('not used');
  },
  mapSnapshotFile: () => {
    throw new Error('not used');
  },
  cancelCall: () => false,
});

const notFound = (pkg: string): Error => Object.assign(new Error(`Cannot find module '${pkg}'`), { code: 'MODULE_NOT_FOUND' });

/** A loader over a fixed set of "installed" packages. */
const loader = (installed: Record<string, unknown>): PackageLoader => (pkg) => {
  if (!(pkg in installed)) throw notFound(pkg);
  const value = installed[pkg];
  if (value instanceof Error) throw value;
  return value;
};

const usable = fakeBackend('kvm', { usable: true, detail: 'ok' });

describe('discoverBackend', () => {
  it('auto-detects the first usable candidate for the platform', () => {
    const load = loader({ '@hyperlight-ts/backend-kvm': { backend: usable } });
    expect(discoverBackend({ platform: 'linux', env: {}, load })).toBe(usable);
  });

  it('falls through to the next candidate and reports why each failed', () => {
    const kvm = fakeBackend('kvm', { usable: false, reason: 'device-missing', detail: '/dev/kvm does not exist' });
    const load = loader({ '@hyperlight-ts/backend-kvm': { backend: kvm } });
    const error = (() => {
      try {
        discoverBackend({ platform: 'linux', env: {}, load });
      } catch (e) {
        return e as BackendUnavailableError;
      }
    })();
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error?.code).toBe('HL_ERR_BACKEND_UNAVAILABLE');
    expect(error?.candidates).toEqual([
      { backend: 'kvm', reason: 'device-missing', detail: '/dev/kvm does not exist' },
      { backend: 'mshv', reason: 'not-installed', detail: 'install @hyperlight-ts/backend-mshv' },
    ]);
    expect(error?.message).toContain('kvm: device-missing (/dev/kvm does not exist)');
  });

  it('distinguishes a package that fails to load from one that is missing', () => {
    const load = loader({ '@hyperlight-ts/backend-kvm': new Error('invalid ELF header') });
    expect(checkHypervisor({ platform: 'linux', env: {}, load }).candidates[0]).toEqual({
      backend: 'kvm', reason: 'load-failed', detail: 'invalid ELF header',
    });
  });

  it('reports permission and API problems from the backend', () => {
    for (const reason of ['permission-denied', 'api-mismatch'] as const) {
      const kvm = fakeBackend('kvm', { usable: false, reason, detail: 'x' });
      const load = loader({ '@hyperlight-ts/backend-kvm': { backend: kvm } });
      expect(checkHypervisor({ platform: 'linux', env: {}, load }).candidates[0]?.reason).toBe(reason);
    }
  });

  it('remembers a usable backend: later discoveries neither load nor check again, checkHypervisor() does', () => {
    let loads = 0;
    let checks = 0;
    const counted: Backend = { ...usable, check: () => (checks++, { usable: true, detail: 'ok' }) };
    const load: PackageLoader = (pkg) => {
      loads++;
      return loader({ '@hyperlight-ts/backend-kvm': { backend: counted } })(pkg);
    };
    expect(discoverBackend({ platform: 'linux', env: {}, load })).toBe(counted);
    expect(discoverBackend({ platform: 'linux', env: {}, load })).toBe(counted);
    expect([loads, checks]).toEqual([1, 1]);
    expect(discoverBackend({ platform: 'linux', env: { HYPERLIGHT_BACKEND: 'kvm' }, load })).toBe(counted); // another choice
    expect([loads, checks]).toEqual([2, 2]);
    expect(checkHypervisor({ platform: 'linux', env: {}, load }).backend).toBe('kvm');
    expect([loads, checks]).toEqual([3, 3]);
  });

  it('does not remember failures: a backend that becomes usable is found', () => {
    let status: BackendStatus = { usable: false, reason: 'permission-denied', detail: 'x' };
    const flaky: Backend = { ...usable, check: () => status };
    const load = loader({ '@hyperlight-ts/backend-kvm': { backend: flaky } });
    expect(() => discoverBackend({ platform: 'linux', env: { HYPERLIGHT_BACKEND: 'kvm' }, load })).toThrow(BackendUnavailableError);
    status = { usable: true, detail: 'ok' };
    expect(discoverBackend({ platform: 'linux', env: { HYPERLIGHT_BACKEND: 'kvm' }, load })).toBe(flaky);
  });

  it('honours HYPERLIGHT_BACKEND and tries only that backend', () => {
    const load = loader({ '@hyperlight-ts/backend-kvm': { backend: usable } });
    expect(() => discoverBackend({ platform: 'linux', env: { HYPERLIGHT_BACKEND: 'mshv' }, load })).toThrow(/mshv: not-installed/);
    expect(discoverBackend({ platform: 'linux', env: { HYPERLIGHT_BACKEND: 'kvm' }, load })).toBe(usable);
  });

  it('rejects an unknown HYPERLIGHT_BACKEND', () => {
    expect(() => discoverBackend({ env: { HYPERLIGHT_BACKEND: 'vmware' }, load: loader({}) })).toThrow(ConfigurationError);
  });

  it('an explicit choice wins over the environment', () => {
    const load = loader({ '@hyperlight-ts/backend-kvm': { backend: usable } });
    expect(discoverBackend({ choice: 'kvm', platform: 'linux', env: { HYPERLIGHT_BACKEND: 'whp' }, load })).toBe(usable);
    expect(discoverBackend({ choice: usable, env: { HYPERLIGHT_BACKEND: 'whp' }, load: loader({}) })).toBe(usable);
  });

  it('says when no backend supports the platform', () => {
    const { backend, candidates } = checkHypervisor({ platform: 'aix', env: {}, load: loader({}) });
    expect(backend).toBeUndefined();
    expect(candidates.every((c) => c.reason === 'unsupported-platform')).toBe(true);
    expect(isHypervisorPresent({ platform: 'aix', env: {}, load: loader({}) })).toBe(false);
  });

  it('rejects a package without a backend export', () => {
    const load = loader({ '@hyperlight-ts/backend-kvm': { somethingElse: 1 } });
    expect(checkHypervisor({ platform: 'linux', env: {}, load }).candidates[0]).toMatchObject({ reason: 'load-failed' });
  });
});

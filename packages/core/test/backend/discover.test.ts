import { describe, expect, it } from 'vitest';
import type { Backend, BackendName, BackendStatus, BackendUnavailableReason } from '../../src/backend/backend.js';
import { BACKEND_PACKAGES, checkHypervisor, discoverBackend, isHypervisorPresent, type PackageLoader } from '../../src/backend/discover.js';
import { BackendUnavailableError, ConfigurationError } from '../../src/errors.js';
import { CORE_VERSION } from '../../src/backend/package-version.js';

/** A stand-in backend: only `check()` answers; discovery never creates a VM. */
const fakeBackend = (name: BackendName, status: BackendStatus): Backend => ({
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

const usableBackend = (name: BackendName): Backend => fakeBackend(name, { usable: true, detail: `${name} ok` });
const unusableBackend = (name: BackendName, reason: BackendUnavailableReason, detail: string): Backend =>
  fakeBackend(name, { usable: false, reason, detail });

const notFound = (pkg: string): Error => Object.assign(new Error(`Cannot find module '${pkg}'`), { code: 'MODULE_NOT_FOUND' });

/** A loader over a fixed set of "installed" packages; an Error value is what loading that package throws. */
const loader = (installed: Partial<Record<BackendName, unknown>>): PackageLoader => {
  const byPackage = new Map(Object.entries(installed).map(([name, value]) => [BACKEND_PACKAGES[name as BackendName], value]));
  return (pkg) => {
    if (!byPackage.has(pkg)) throw notFound(pkg);
    const value = byPackage.get(pkg);
    if (value instanceof Error) throw value;
    return value;
  };
};

const installed = (backend: Backend): { backend: Backend } => ({ backend });

/** The error discoverBackend() throws for these options (fails the test when it returns). */
function unavailable(options: Parameters<typeof discoverBackend>[0]): BackendUnavailableError {
  try {
    discoverBackend(options);
  } catch (error) {
    if (error instanceof BackendUnavailableError) return error;
    throw error;
  }
  throw new Error('discoverBackend() found a backend');
}

const linux = { platform: 'linux', env: {} } as const;
const windows = { platform: 'win32', env: {} } as const;

describe('discoverBackend: versions', () => {
  it('refuses a backend from another release, naming the version to install', () => {
    const kvm = usableBackend('kvm');
    const load: PackageLoader = (pkg) => {
      if (pkg === BACKEND_PACKAGES.kvm) return installed(kvm);
      if (pkg === `${BACKEND_PACKAGES.kvm}/package.json`) return { version: '99.0.0' };
      throw notFound(pkg);
    };
    const [kvmFailure] = checkHypervisor({ ...linux, load }).candidates;
    expect(kvmFailure).toMatchObject({ backend: 'kvm', reason: 'load-failed' });
    expect(kvmFailure?.detail).toContain(`@hyperlight-ts/backend-kvm 99.0.0 does not match @hyperlight-ts/core ${CORE_VERSION}`);
  });

  it('takes a backend of the same release', () => {
    const kvm = usableBackend('kvm');
    const load: PackageLoader = (pkg) => (pkg === BACKEND_PACKAGES.kvm ? installed(kvm) : { version: CORE_VERSION });
    expect(discoverBackend({ ...linux, load })).toBe(kvm);
  });
});

describe('discoverBackend: each backend missing', () => {
  it('names the package to install for every candidate of the platform, in order', () => {
    expect(checkHypervisor({ ...linux, load: loader({}) }).candidates).toEqual([
      { backend: 'kvm', reason: 'not-installed', detail: `install @hyperlight-ts/backend-kvm@${CORE_VERSION}` },
      { backend: 'mshv', reason: 'not-installed', detail: `install @hyperlight-ts/backend-mshv@${CORE_VERSION}` },
    ]);
    expect(checkHypervisor({ ...windows, load: loader({}) }).candidates).toEqual([
      { backend: 'whp', reason: 'not-installed', detail: `install @hyperlight-ts/backend-whp@${CORE_VERSION}` },
    ]);
  });

  it('an explicit choice of a missing backend names its package', () => {
    for (const name of ['kvm', 'mshv', 'whp'] as const) {
      expect(unavailable({ ...linux, env: { HYPERLIGHT_BACKEND: name }, load: loader({}) }).candidates).toEqual([
        { backend: name, reason: 'not-installed', detail: `install @hyperlight-ts/backend-${name}@${CORE_VERSION}` },
      ]);
    }
  });

  it('a backend whose own dependency is missing failed to load; it is not "not installed"', () => {
    const load = loader({ whp: notFound('koffi') });
    expect(checkHypervisor({ ...windows, load }).candidates).toEqual([
      { backend: 'whp', reason: 'load-failed', detail: "Cannot find module 'koffi'" },
    ]);
  });
});

describe('discoverBackend: present but unusable', () => {
  const cases: readonly [BackendName, BackendUnavailableReason, string][] = [
    ['kvm', 'device-missing', '/dev/kvm does not exist'],
    ['kvm', 'permission-denied', 'open /dev/kvm: EACCES; add the user to the kvm group'],
    ['kvm', 'api-mismatch', 'KVM_GET_API_VERSION says 11'],
    ['mshv', 'device-missing', '/dev/mshv does not exist'],
    ['mshv', 'permission-denied', 'open /dev/mshv: EACCES'],
    ['mshv', 'api-mismatch', 'MSHV_CREATE_PARTITION: ENOTTY (an old out-of-tree /dev/mshv driver)'],
    ['mshv', 'load-failed', 'the addon was built for another Node ABI'],
    ['whp', 'device-missing', 'enable the Windows Hypervisor Platform feature'],
    ['whp', 'load-failed', 'koffi could not load'],
    ['whp', 'unsupported-platform', 'WHP runs on Windows only'],
  ];
  it.each(cases)('%s: its check() reason %s and detail pass through', (name, reason, detail) => {
    const load = loader({ [name]: installed(unusableBackend(name, reason, detail)) });
    const error = unavailable({ ...linux, env: { HYPERLIGHT_BACKEND: name }, load });
    expect(error.candidates).toEqual([{ backend: name, reason, detail }]);
    expect(error.message).toContain(`${name}: ${reason} (${detail})`);
  });

  it('a package that throws while loading failed to load, with the loader\'s message', () => {
    const load = loader({ kvm: new Error('invalid ELF header') });
    expect(checkHypervisor({ ...linux, load }).candidates[0]).toEqual({ backend: 'kvm', reason: 'load-failed', detail: 'invalid ELF header' });
  });

  it('a package without a backend export, or exporting another backend, failed to load', () => {
    expect(checkHypervisor({ ...linux, load: loader({ kvm: { somethingElse: 1 } }) }).candidates[0]).toEqual({
      backend: 'kvm', reason: 'load-failed', detail: '@hyperlight-ts/backend-kvm does not export a backend',
    });
    expect(checkHypervisor({ ...linux, load: loader({ kvm: installed(usableBackend('mshv')) }) }).candidates[0]).toEqual({
      backend: 'kvm', reason: 'load-failed', detail: '@hyperlight-ts/backend-kvm exports the backend "mshv"',
    });
  });

  it('a check() that throws (breaking its contract) counts as a failed load, and discovery goes on', () => {
    const broken: Backend = { ...usableBackend('kvm'), check: () => { throw new Error('boom'); } };
    const mshv = usableBackend('mshv');
    const { backend, candidates } = checkHypervisor({ ...linux, load: loader({ kvm: installed(broken), mshv: installed(mshv) }) });
    expect(backend).toBe('mshv');
    expect(candidates).toEqual([{ backend: 'kvm', reason: 'load-failed', detail: 'check() threw: boom' }]);
  });

  it('HYPERLIGHT_BACKEND=whp on Linux gives the installed whp package\'s own answer', () => {
    const whp = unusableBackend('whp', 'unsupported-platform', 'the Windows Hypervisor Platform exists only on Windows');
    const load = loader({ kvm: installed(usableBackend('kvm')), whp: installed(whp) });
    expect(unavailable({ ...linux, env: { HYPERLIGHT_BACKEND: 'whp' }, load }).candidates).toEqual([
      { backend: 'whp', reason: 'unsupported-platform', detail: 'the Windows Hypervisor Platform exists only on Windows' },
    ]);
  });

  it('lists every candidate with its reason and detail in the error message', () => {
    const load = loader({ kvm: installed(unusableBackend('kvm', 'permission-denied', 'open /dev/kvm: EACCES')) });
    const error = unavailable({ ...linux, load });
    expect(error.code).toBe('HL_ERR_BACKEND_UNAVAILABLE');
    expect(error.candidates).toEqual([
      { backend: 'kvm', reason: 'permission-denied', detail: 'open /dev/kvm: EACCES' },
      { backend: 'mshv', reason: 'not-installed', detail: `install @hyperlight-ts/backend-mshv@${CORE_VERSION}` },
    ]);
    expect(error.message).toBe([
      'no usable hypervisor backend:',
      '  - kvm: permission-denied (open /dev/kvm: EACCES)',
      `  - mshv: not-installed (install @hyperlight-ts/backend-mshv@${CORE_VERSION})`,
    ].join('\n'));
  });

  it('says when no backend supports the platform', () => {
    const { backend, candidates } = checkHypervisor({ platform: 'aix', env: {}, load: loader({}) });
    expect(backend).toBeUndefined();
    expect(candidates.map((c) => [c.backend, c.reason])).toEqual([
      ['kvm', 'unsupported-platform'], ['mshv', 'unsupported-platform'], ['whp', 'unsupported-platform'],
    ]);
    expect(isHypervisorPresent({ platform: 'aix', env: {}, load: loader({}) })).toBe(false);
  });
});

describe('discoverBackend: usable', () => {
  it('Linux: KVM first when it is usable (MSHV is not even loaded)', () => {
    const kvm = usableBackend('kvm');
    const load = loader({ kvm: installed(kvm), mshv: new Error('must not be loaded') });
    expect(discoverBackend({ ...linux, load })).toBe(kvm);
  });

  it('Linux: falls from KVM to MSHV, keeping why KVM was passed over', () => {
    const mshv = usableBackend('mshv');
    for (const kvm of [undefined, installed(unusableBackend('kvm', 'device-missing', '/dev/kvm does not exist'))]) {
      const load = loader(kvm ? { kvm, mshv: installed(mshv) } : { mshv: installed(mshv) });
      expect(discoverBackend({ ...linux, load })).toBe(mshv);
      expect(checkHypervisor({ ...linux, load })).toEqual({
        backend: 'mshv',
        candidates: [kvm
          ? { backend: 'kvm', reason: 'device-missing', detail: '/dev/kvm does not exist' }
          : { backend: 'kvm', reason: 'not-installed', detail: `install @hyperlight-ts/backend-kvm@${CORE_VERSION}` }],
      });
    }
  });

  it('Windows: WHP, and never a Linux backend', () => {
    const whp = usableBackend('whp');
    const load = loader({ kvm: installed(usableBackend('kvm')), mshv: installed(usableBackend('mshv')), whp: installed(whp) });
    expect(discoverBackend({ ...windows, load })).toBe(whp);
  });

  it('HYPERLIGHT_BACKEND picks one backend and tries only that one', () => {
    const kvm = usableBackend('kvm');
    const mshv = usableBackend('mshv');
    const load = loader({ kvm: installed(kvm), mshv: installed(mshv) });
    expect(discoverBackend({ ...linux, env: { HYPERLIGHT_BACKEND: 'mshv' }, load })).toBe(mshv);
    expect(discoverBackend({ ...linux, env: { HYPERLIGHT_BACKEND: 'kvm' }, load })).toBe(kvm);
    expect(() => discoverBackend({ ...linux, env: { HYPERLIGHT_BACKEND: 'whp' }, load })).toThrow(/whp: not-installed/);
  });

  it('an empty HYPERLIGHT_BACKEND means auto-detection', () => {
    const kvm = usableBackend('kvm');
    expect(discoverBackend({ ...linux, env: { HYPERLIGHT_BACKEND: '' }, load: loader({ kvm: installed(kvm) }) })).toBe(kvm);
  });

  it('rejects an unknown HYPERLIGHT_BACKEND, naming the known ones', () => {
    expect(() => discoverBackend({ env: { HYPERLIGHT_BACKEND: 'vmware' }, load: loader({}) })).toThrow(ConfigurationError);
    expect(() => checkHypervisor({ env: { HYPERLIGHT_BACKEND: 'vmware' }, load: loader({}) })).toThrow(/known: kvm, mshv, whp/);
  });

  it('an explicit choice wins over the environment', () => {
    const kvm = usableBackend('kvm');
    const load = loader({ kvm: installed(kvm) });
    expect(discoverBackend({ choice: 'kvm', ...linux, env: { HYPERLIGHT_BACKEND: 'whp' }, load })).toBe(kvm);
    expect(discoverBackend({ choice: kvm, env: { HYPERLIGHT_BACKEND: 'whp' }, load: loader({}) })).toBe(kvm);
  });

  it('a backend object given as the choice is checked, not loaded', () => {
    const mshv = unusableBackend('mshv', 'permission-denied', 'open /dev/mshv: EACCES');
    expect(unavailable({ choice: mshv, load: loader({}) }).candidates).toEqual([
      { backend: 'mshv', reason: 'permission-denied', detail: 'open /dev/mshv: EACCES' },
    ]);
  });

  it('remembers a usable backend: later discoveries neither load nor check again, checkHypervisor() does', () => {
    let loads = 0;
    let checks = 0;
    const counted: Backend = { ...usableBackend('kvm'), check: () => (checks++, { usable: true, detail: 'ok' }) };
    const inner = loader({ kvm: installed(counted) });
    const load: PackageLoader = (pkg) => (pkg.endsWith('/package.json') || loads++, inner(pkg));
    expect(discoverBackend({ ...linux, load })).toBe(counted);
    expect(discoverBackend({ ...linux, load })).toBe(counted);
    expect([loads, checks]).toEqual([1, 1]);
    expect(discoverBackend({ ...linux, env: { HYPERLIGHT_BACKEND: 'kvm' }, load })).toBe(counted); // another choice
    expect([loads, checks]).toEqual([2, 2]);
    expect(checkHypervisor({ ...linux, load }).backend).toBe('kvm');
    expect([loads, checks]).toEqual([3, 3]);
  });

  it('does not remember failures: a backend that becomes usable is found', () => {
    let status: BackendStatus = { usable: false, reason: 'permission-denied', detail: 'x' };
    const flaky: Backend = { ...usableBackend('kvm'), check: () => status };
    const load = loader({ kvm: installed(flaky) });
    expect(() => discoverBackend({ ...linux, env: { HYPERLIGHT_BACKEND: 'kvm' }, load })).toThrow(BackendUnavailableError);
    status = { usable: true, detail: 'ok' };
    expect(discoverBackend({ ...linux, env: { HYPERLIGHT_BACKEND: 'kvm' }, load })).toBe(flaky);
  });
});

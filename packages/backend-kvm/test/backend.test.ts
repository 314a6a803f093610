import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkKvm, openFailure } from '../src/backend.js';
import { BackendError } from '@hyperlight-ts/core/backend';
import { backend, KvmError, loadNative } from '../src/index.js';

const scratch = mkdtempSync(join(tmpdir(), 'backend-kvm-check-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('backend.check()', () => {
  it('is the kvm backend', () => {
    expect(backend.name).toBe('kvm');
  });

  it('reports device-missing when /dev/kvm does not exist', () => {
    const status = backend.check();
    if (existsSync('/dev/kvm')) {
      // Machines with KVM: the hypervisor tests cover the usable case.
      expect(status.usable || status.reason !== 'device-missing').toBe(true);
      return;
    }
    expect(status).toEqual({
      usable: false,
      reason: 'device-missing',
      detail: expect.stringContaining('/dev/kvm does not exist'),
    });
  });

  it('reports usable with the API version when KVM works', () => {
    const status = backend.check();
    if (!status.usable) return; // covered by the case above
    expect(status.detail).toBe('KVM API 12 on /dev/kvm');
  });

  it('reports unsupported-platform off Linux x86-64', () => {
    expect(checkKvm({ platform: 'win32', arch: 'x64' })).toEqual({
      usable: false,
      reason: 'unsupported-platform',
      detail: 'KVM needs Linux on x86-64; this is win32/x64',
    });
    expect(checkKvm({ platform: 'linux', arch: 'arm64' })).toMatchObject({ reason: 'unsupported-platform' });
  });

  it('reports load-failed with the real cause when the addon does not load', () => {
    const status = checkKvm({
      load: () => {
        throw new Error('the KVM addon is not built: /x/hyperlight_kvm.node does not exist');
      },
    });
    expect(status).toEqual({
      usable: false,
      reason: 'load-failed',
      detail: 'the KVM addon is not built: /x/hyperlight_kvm.node does not exist',
    });
  });

  it('reports device-missing for a device path that does not exist', () => {
    const status = checkKvm({ devicePath: join(scratch, 'no-such-kvm') });
    expect(status).toMatchObject({ usable: false, reason: 'device-missing' });
    expect(!status.usable && status.detail).toContain('ENOENT');
  });

  it('reports api-mismatch for a device that does not answer KVM ioctls', () => {
    const notKvm = join(scratch, 'not-kvm');
    writeFileSync(notKvm, '');
    const status = checkKvm({ devicePath: notKvm });
    expect(status).toMatchObject({ usable: false, reason: 'api-mismatch' });
    expect(!status.usable && status.detail).toContain('KVM_GET_API_VERSION failed: ENOTTY');
  });

  it('never throws, even when the addon loader returns garbage', () => {
    const status = checkKvm({ load: () => ({}) as ReturnType<typeof loadNative> });
    expect(status.usable).toBe(false);
  });
});

describe('openFailure', () => {
  const failure = (code: string) => Object.assign(new Error(`open /dev/kvm failed: ${code}`), { code });

  it.each([
    ['ENOENT', 'device-missing'],
    ['ENXIO', 'device-missing'],
    ['ENODEV', 'device-missing'],
    ['EACCES', 'permission-denied'],
    ['EPERM', 'permission-denied'],
    ['EMFILE', 'device-missing'],
  ])('maps %s to %s', (code, reason) => {
    const status = openFailure('/dev/kvm', failure(code));
    expect(status).toMatchObject({ usable: false, reason });
    expect(!status.usable && status.detail).toContain(code);
  });

  it('tells the user how to get permission', () => {
    const status = openFailure('/dev/kvm', failure('EACCES'));
    expect(!status.usable && status.detail).toMatch(/readable and writable.*group/);
  });
});

describe('backend.createVm() argument checks (before touching KVM)', () => {
  it.each([0, -4096, 4095, 4096.5, Number.NaN, 2 ** 53, '4096', undefined])('rejects memorySize %s', (memorySize) => {
    expect(() => backend.createVm({ memorySize } as never)).toThrow(
      expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('memorySize') }),
    );
  });
});

describe('backend.createVm({ memory }) argument checks (before touching KVM)', () => {
  const { GuestMemory } = loadNative();

  it('rejects a memory that is not a snapshot of this backend', () => {
    const lookalike = { size: 0x10000, read() {}, dispose() {}, [Symbol.dispose]() {} };
    expect(() => backend.createVm({ memorySize: 0x10000, memory: lookalike })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('kvm backend') }),
    );
  });

  it('rejects a snapshot of another size', () => {
    using memory = new GuestMemory(0x2000);
    using snapshot = memory.snapshot();
    expect(() => backend.createVm({ memorySize: 0x10000, memory: snapshot })).toThrow(
      expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: 'memory holds 8192 bytes, expected 65536' }),
    );
  });
});

describe('backend.mapSnapshotFile() (needs no KVM)', () => {
  it('maps a window of a file and checks it', () => {
    const path = join(scratch, 'image.bin');
    writeFileSync(path, Buffer.concat([Buffer.alloc(4096, 1), Buffer.alloc(8192, 2)]));
    const fd = openSync(path, 'r');
    try {
      using snapshot = backend.mapSnapshotFile({ path, fd }, 4096, 8192);
      expect(snapshot.size).toBe(8192);
      const bytes = new Uint8Array(3);
      snapshot.read(8189, bytes);
      expect(Array.from(bytes)).toEqual([2, 2, 2]);
      expect(() => backend.mapSnapshotFile({ path, fd }, 4096, 3 * 4096)).toThrow(expect.objectContaining({ name: 'RangeError' }));
    } finally {
      closeSync(fd);
    }
  });

  it('a descriptor that is not open is a KvmError (fstat EBADF), the system error as cause', () => {
    const path = join(scratch, 'closed.bin');
    writeFileSync(path, Buffer.alloc(4096));
    const fd = openSync(path, 'r');
    closeSync(fd);
    let error: unknown;
    try {
      backend.mapSnapshotFile({ path, fd }, 0, 4096);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KvmError);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ backend: 'kvm', syscall: 'fstat', code: 'EBADF', errno: 9, cause: expect.objectContaining({ code: 'EBADF' }) });
  });
});

describe('backend.cancelCall() (needs no KVM)', () => {
  it('returns false for tokens that name no live VM, without throwing', () => {
    const tokens = [
      { backend: 'kvm', id: 2 ** 40 },
      { backend: 'kvm', id: 0 },
      { backend: 'kvm', id: -1 },
      { backend: 'kvm', id: 1.5 },
      { backend: 'kvm', id: Number.NaN },
      { backend: 'mshv', id: 1 },
      { backend: 'kvm' },
      null,
      undefined,
    ];
    for (const token of tokens) expect(backend.cancelCall(token as never, 'killed')).toBe(false);
  });

  it('rejects a reason that is not a CancelReason', () => {
    expect(() => backend.cancelCall({ backend: 'kvm', id: 1 }, 'stop' as never)).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });

  it('the addon checks its arguments too, and names its kick signal', () => {
    const addon = loadNative();
    expect(addon.cancelCall(2 ** 40, 1)).toBe(false);
    expect(() => addon.cancelCall(1, 0)).toThrow(RangeError);
    expect(() => addon.cancelCall(1, 5)).toThrow(RangeError);
    expect(() => addon.cancelCall('1' as never, 1)).toThrow(TypeError);
    expect(addon.kickSignal()).toBeGreaterThanOrEqual(40); // SIGRTMIN+6 with glibc
    expect(addon.kickSignal()).toBe(addon.kickSignal()); // chosen once
  });
});

import { describe, expect, it } from 'vitest';
import { createBackend } from '../src/backend.js';
import { HVCALL, HV_PARTITION_PROPERTY } from '../src/mshv-abi.js';
import { MshvError } from '../src/mshv-error.js';
import { FakeSurface } from './helpers/fake-surface.js';

const backendOver = (surface: FakeSurface) => createBackend(() => surface);

describe('check()', () => {
  it('is usable when a partition can be created, and closes it again', () => {
    const surface = new FakeSurface();
    expect(backendOver(surface).check()).toMatchObject({ usable: true });
    expect(surface.log.map((call) => `${call.fd}:${call.op}`)).toEqual(['surface:open', 'device:MSHV_CREATE_PARTITION', 'partition:close', 'device:close']);
    expect(surface.calls('MSHV_CREATE_PARTITION')[0]!.arg).toEqual(new Uint8Array(16)); // pt_flags 0, isolation none
  });

  it.each([
    ['ENOENT', 2, 'device-missing', /does not exist/],
    ['EACCES', 13, 'permission-denied', /0600/],
    ['EPERM', 1, 'permission-denied', /root/],
    ['ENXIO', 6, 'device-missing', /cannot be opened/],
  ])('open %s → %s', (code, errno, reason, detail) => {
    const surface = new FakeSurface();
    surface.openError = { op: 'open', code, errno };
    expect(backendOver(surface).check()).toMatchObject({ usable: false, reason, detail: expect.stringMatching(detail) });
  });

  it.each([['ENOTTY', 25], ['EINVAL', 22]])('CREATE_PARTITION %s → api-mismatch (old out-of-tree driver)', (code, errno) => {
    const surface = new FakeSurface();
    surface.failures.push({ op: 'MSHV_CREATE_PARTITION', code, errno });
    expect(backendOver(surface).check()).toMatchObject({ usable: false, reason: 'api-mismatch', detail: expect.stringContaining('out-of-tree') });
    expect(surface.calls('close').map((call) => call.fd)).toEqual(['device']);
  });

  it('reports an addon that cannot load as load-failed, never throwing', () => {
    const backend = createBackend(() => { throw new Error('addon not built'); });
    expect(backend.check()).toEqual({ usable: false, reason: 'load-failed', detail: 'addon not built' });
    expect(backend.cancelCall({ backend: 'mshv', id: 1 }, 'killed')).toBe(false);
  });
});

describe('createVm()', () => {
  it('follows the creation sequence and maps main memory writable and executable at GPA 0', () => {
    const surface = new FakeSurface();
    surface.properties.set(HV_PARTITION_PROPERTY.PROCESSOR_CLOCK_FREQUENCY, 2_500_000_000n);
    using vm = backendOver(surface).createVm({ memorySize: 0x10000 });
    const ops = surface.log.filter((call) => call.fd !== 'surface' || call.op === 'createGuestMemory').map((call) => call.hvcall === undefined ? call.op : `hvcall 0x${call.hvcall.toString(16)}`);
    expect(ops).toEqual([
      'MSHV_CREATE_PARTITION', 'close', // the /dev/mshv fd closes once the partition exists
      'hvcall 0x45', 'MSHV_INITIALIZE_PARTITION', 'MSHV_CREATE_VP', 'createGuestMemory', 'MSHV_SET_GUEST_MEMORY',
      'MSHV_GET_VP_STATE', 'MSHV_SET_VP_STATE', 'hvcall 0x51', 'hvcall 0x44',
    ]);
    const property = new DataView(surface.hvcalls(HVCALL.SET_PARTITION_PROPERTY)[0]!.pointers![0]!.buffer);
    expect([property.getUint32(8, true), property.getBigUint64(16, true)]).toEqual([0x0001_0001, 0n]);
    expect(surface.calls('MSHV_CREATE_VP')[0]!.arg).toEqual(new Uint8Array(4));
    const region = new DataView(surface.calls('MSHV_SET_GUEST_MEMORY')[0]!.arg!.buffer);
    expect([region.getBigUint64(0, true), region.getBigUint64(8, true), region.getBigUint64(16, true), region.getUint8(24)])
      .toEqual([0x10000n, 0n, surface.memories[0]!.address, 0b011]);
    expect(vm.tscFrequencyHz).toBe(2_500_000_000);
    expect(vm.xsaveEnabled).toBe(true);
    expect(surface.registers.get(0x0004_0005)![0]).toBe(7); // XCR0 = x87 | SSE | AVX
  });

  it('resets the FPU to power-on state, keeping XCOMP_BV, and grows the XSAVE buffer when the kernel asks', () => {
    const surface = new FakeSurface();
    surface.xsaveBytes = 8192;
    using _vm = backendOver(surface).createVm({ memorySize: 0x1000 });
    const gets = surface.calls('MSHV_GET_VP_STATE');
    expect(gets.map((call) => new DataView(call.arg!.buffer).getUint32(4, true))).toEqual([4096, 8192]);
    const set = surface.calls('MSHV_SET_VP_STATE')[0]!;
    const state = new DataView(set.pointers![0]!.buffer);
    expect(set.pointers![0]!.byteLength).toBe(8192);
    expect([state.getUint16(0, true), state.getUint32(24, true), state.getBigUint64(512, true), state.getBigUint64(520, true)])
      .toEqual([0x37f, 0x1f80, 3n, 0x8000_0000_0000_0007n]);
    expect(set.pointers![0]!.subarray(528).every((byte) => byte === 0)).toBe(true);
  });

  it('falls back to XCR0 = x87|SSE, then to no XSAVE; undefined TSC frequency when the property is unknown', () => {
    const surface = new FakeSurface();
    surface.failures.push({ op: 'MSHV_ROOT_HVCALL', hvcall: HVCALL.SET_VP_REGISTERS, code: 'EINVAL', errno: 22, hvStatus: 5 });
    using vm = backendOver(surface).createVm({ memorySize: 0x1000 });
    expect(vm.xsaveEnabled).toBe(true);
    expect(surface.registers.get(0x0004_0005)![0]).toBe(3);
    expect(vm.tscFrequencyHz).toBeUndefined();
    const none = new FakeSurface();
    none.failures.push({ op: 'MSHV_ROOT_HVCALL', hvcall: HVCALL.SET_VP_REGISTERS, code: 'EINVAL', errno: 22, times: 2 });
    using vm2 = backendOver(none).createVm({ memorySize: 0x1000 });
    expect(vm2.xsaveEnabled).toBe(false);
  });

  it('turns a failure into an MshvError and releases what it created', () => {
    const surface = new FakeSurface();
    surface.failures.push({ op: 'MSHV_INITIALIZE_PARTITION', code: 'EBUSY', errno: 16 });
    const error = (() => { try { backendOver(surface).createVm({ memorySize: 0x1000 }); } catch (e) { return e; } })() as MshvError;
    expect(error).toBeInstanceOf(MshvError);
    expect(error).toMatchObject({ name: 'MshvError', backend: 'mshv', ioctl: 'MSHV_INITIALIZE_PARTITION', errno: 16, code: 'EBUSY' });
    expect(surface.calls('close').map((call) => call.fd)).toEqual(['device', 'partition']);
  });

  it('reports a failing hypercall with its HV status, and retries EAGAIN', () => {
    const retried = new FakeSurface();
    retried.failures.push({ op: 'MSHV_ROOT_HVCALL', hvcall: HVCALL.SET_PARTITION_PROPERTY, code: 'EAGAIN', errno: 11, hvStatus: 0xb, times: 3 });
    using _vm = backendOver(retried).createVm({ memorySize: 0x1000 });
    expect(retried.hvcalls(HVCALL.SET_PARTITION_PROPERTY)).toHaveLength(4);

    const failed = new FakeSurface();
    failed.failures.push({ op: 'MSHV_ROOT_HVCALL', hvcall: HVCALL.SET_PARTITION_PROPERTY, code: 'EINVAL', errno: 22, hvStatus: 0x5 });
    expect(() => backendOver(failed).createVm({ memorySize: 0x1000 })).toThrow(expect.objectContaining({
      name: 'MshvError', ioctl: 'MSHV_ROOT_HVCALL', errno: 22, code: 'EINVAL', hvStatus: 5,
      detail: expect.stringMatching(/HVCALL_SET_PARTITION_PROPERTY.*HV_STATUS_INVALID_PARAMETER \(0x5\)/),
    }));
  });

  it('validates its options before touching the device', () => {
    const surface = new FakeSurface();
    const backend = backendOver(surface);
    expect(() => backend.createVm({ memorySize: 1000 })).toThrow(RangeError);
    expect(() => backend.createVm({ memorySize: 0x1000, memory: { size: 0x1000, read() {}, dispose() {}, [Symbol.dispose]() {} } })).toThrow(TypeError);
    expect(surface.log).toEqual([]);
  });

  it('maps snapshot files through the fd and names a failed mapping', () => {
    const surface = new FakeSurface();
    const backend = backendOver(surface);
    expect(backend.mapSnapshotFile({ path: '/tmp/s', fd: 9 }, 4096, 8192).size).toBe(8192);
    expect(surface.calls('mapSnapshotFile')[0]!.detail).toEqual([9, 4096, 8192]);
    surface.failures.push({ op: 'mapSnapshotFile', code: 'ENODEV', errno: 19 });
    expect(() => backend.mapSnapshotFile({ path: '/tmp/s', fd: 9 }, 0, 4096)).toThrow(expect.objectContaining({ name: 'MshvError', code: 'ENODEV', detail: expect.stringContaining('/tmp/s') }));
  });
});

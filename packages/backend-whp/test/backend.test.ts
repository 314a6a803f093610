import { openSync, closeSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendError } from '@hyperlight-ts/core/backend';
import { describe, expect, it } from 'vitest';
import { backend, createWhpBackend, WhpError } from '../src/index.js';
import { REGISTRY_LAYOUT } from '../src/cancel-registry.js';
import type { CallTimer } from '../src/whp-call-target.js';
import { exitContext, FakeWhpApi } from './helpers/fake-whp-api.js';

const MEMORY_SIZE = 0x10000;

function setup(configure?: (api: FakeWhpApi) => void) {
  const api = new FakeWhpApi();
  configure?.(api);
  const armed: [number, number, number][] = [];
  const timer: CallTimer = { arm: (id, seq, ms) => armed.push([id, seq, ms]), disarm: () => undefined };
  const registry = new SharedArrayBuffer(REGISTRY_LAYOUT.size);
  const whp = createWhpBackend({ platform: 'win32', arch: 'x64', loadApi: () => api, registryMemory: () => registry, timer });
  return { api, whp, armed };
}

describe('check', () => {
  it('says unsupported-platform off Windows, and the package imports on Linux', () => {
    expect(backend.name).toBe('whp');
    expect(backend.check()).toMatchObject({ usable: false, reason: 'unsupported-platform' });
    expect(() => backend.createVm({ memorySize: MEMORY_SIZE })).toThrow(BackendError);
    expect(backend.cancelCall({ backend: 'whp', id: 1 }, 'killed')).toBe(false);
  });

  it('says device-missing when the DLL is absent or no hypervisor is present', () => {
    const missing = createWhpBackend({ platform: 'win32', arch: 'x64', loadApi: () => { throw Object.assign(new Error('no dll'), { code: 'ERR_HYPERLIGHT_WHP_DLL_MISSING' }); } });
    expect(missing.check()).toMatchObject({ usable: false, reason: 'device-missing', detail: expect.stringContaining('enable the Windows Hypervisor Platform') });
    const { whp } = setup((api) => { api.hypervisorPresent = 0; });
    expect(whp.check()).toMatchObject({ usable: false, reason: 'device-missing' });
    expect(setup().whp.check()).toMatchObject({ usable: true });
  });

  it('says load-failed when koffi cannot load', () => {
    const broken = createWhpBackend({ platform: 'win32', arch: 'x64', loadApi: () => { throw new Error('no koffi'); } });
    expect(broken.check()).toMatchObject({ usable: false, reason: 'load-failed' });
  });
});

describe('createVm', () => {
  it('creates, configures and maps main memory read/write/execute at 0, with power-on FPU state', () => {
    const { api, whp } = setup();
    using vm = whp.createVm({ memorySize: MEMORY_SIZE });
    expect(vm.memory.byteLength).toBe(MEMORY_SIZE);
    const names = api.names().filter((n) => n.startsWith('WHv'));
    expect(names.slice(0, 5)).toEqual(['WHvCreatePartition', 'WHvSetPartitionProperty', 'WHvSetupPartition', 'WHvCreateVirtualProcessor', 'WHvMapGpaRange']);
    expect(api.calls.find((c) => c.fn === 'WHvSetPartitionProperty')!.args).toEqual([0xabcn, 0x1fff, [1, 0, 0, 0]]);
    expect(api.calls.find((c) => c.fn === 'WHvMapGpaRange')!.args.slice(2)).toEqual([0n, MEMORY_SIZE, 7]);
    expect(new DataView(api.registers.get(0x1018)!.buffer).getUint16(0, true)).toBe(0x37f);
    expect(new DataView(api.registers.get(0x1019)!.buffer).getUint32(8, true)).toBe(0x1f80);
  });

  it('refuses a second live VM in the process, and allows one after dispose', () => {
    const { whp } = setup();
    const first = whp.createVm({ memorySize: MEMORY_SIZE });
    expect(() => whp.createVm({ memorySize: MEMORY_SIZE })).toThrow(/one partition per process/);
    first.dispose();
    whp.createVm({ memorySize: MEMORY_SIZE }).dispose();
  });

  it('turns a failing HRESULT into WhpError and deletes the partition', () => {
    const { api, whp } = setup((a) => a.failures.set('WHvSetupPartition', 0x80070057 | 0));
    const error = (() => { try { whp.createVm({ memorySize: MEMORY_SIZE }); } catch (e) { return e; } })() as WhpError;
    expect(error).toBeInstanceOf(WhpError);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ name: 'WhpError', hresult: 0x80070057, func: 'WHvSetupPartition', backend: 'whp' });
    expect(error.message).toContain('0x80070057');
    expect(api.names()).toContain('WHvDeletePartition');
  });

  it('validates memorySize', () => {
    expect(() => setup().whp.createVm({ memorySize: 100 })).toThrow(RangeError);
  });
});

describe('run', () => {
  it('completes out: one WHvSetVirtualProcessorRegisters with RIP past the instruction', () => {
    const { api, whp } = setup();
    using vm = whp.createVm({ memorySize: MEMORY_SIZE });
    api.exits.push(exitContext(2, { 10: [1, 1], 32: [8, 0x1000n], 68: [4, 1 | (1 << 1)], 72: [2, 0x99], 80: [8, 7n] }));
    api.calls.length = 0;
    expect(vm.run()).toEqual({ kind: 'io-out', port: 0x99, size: 1, value: 7 });
    expect(api.calls.map((c) => [c.fn, c.args])).toEqual([['WHvRunVirtualProcessor', []], ['WHvSetVirtualProcessorRegisters', [[0x10]]]]);
    expect(new DataView(api.registers.get(0x10)!.buffer).getBigUint64(0, true)).toBe(0x1001n);
  });

  it('completes in: RIP and RAX in one call', () => {
    const { api, whp } = setup();
    using vm = whp.createVm({ memorySize: MEMORY_SIZE });
    api.exits.push(exitContext(2, { 10: [1, 2], 32: [8, 0x1000n], 68: [4, 2 << 1], 72: [2, 0x60], 80: [8, 0xffff_ffffn] }));
    expect(vm.run()).toEqual({ kind: 'io-in', port: 0x60, size: 2 });
    expect(api.calls.at(-1)!.args).toEqual([[0x10, 0x00]]);
    expect(new DataView(api.registers.get(0x00)!.buffer).getBigUint64(0, true)).toBe(0xffff_0000n);
  });

  it('re-enters after a cancel no open call explains, and reports one that it does', () => {
    const { api, whp } = setup();
    using vm = whp.createVm({ memorySize: MEMORY_SIZE });
    api.exits.push(exitContext(0x2001), exitContext(8));
    expect(vm.run()).toEqual({ kind: 'halt' });
    vm.callGuard.begin();
    api.exits.push(exitContext(0x2001));
    api.onRun = () => whp.cancelCall(vm.callGuard.token, 'killed');
    expect(vm.run()).toEqual({ kind: 'cancelled' });
    expect(api.names()).toContain('WHvCancelRunVirtualProcessor');
    api.onRun = undefined;
    const runs = api.names().filter((n) => n === 'WHvRunVirtualProcessor').length;
    expect(vm.run()).toEqual({ kind: 'cancelled' }); // still cancelled: no entry
    expect(api.names().filter((n) => n === 'WHvRunVirtualProcessor').length).toBe(runs);
    expect(vm.callGuard.end()).toBe('killed');
  });

  it('runs asynchronously, and dispose resolves a pending run with cancelled', async () => {
    const { api, whp } = setup();
    const vm = whp.createVm({ memorySize: MEMORY_SIZE });
    api.exits.push(exitContext(8));
    await expect(vm.runAsync()).resolves.toEqual({ kind: 'halt' });
    api.exits.push(exitContext(0x2001));
    const pending = vm.runAsync();
    expect(() => vm.getRegisters()).toThrow(/pending/);
    vm.dispose();
    await expect(pending).resolves.toEqual({ kind: 'cancelled' });
    expect(api.names()).not.toContain('WHvDeletePartition');
    await new Promise((resolve) => setImmediate(resolve));
    expect(api.names()).toContain('WHvDeletePartition');
  });

  it('passes the timeout to the watchdog and throws WhpError when the run fails', () => {
    const { api, whp, armed } = setup();
    using vm = whp.createVm({ memorySize: MEMORY_SIZE });
    vm.callGuard.begin(50);
    expect(armed).toEqual([[vm.callGuard.token.id, 1, 50]]);
    vm.callGuard.end();
    api.failures.set('WHvRunVirtualProcessor', 0x80004005 | 0);
    api.exits.push(exitContext(8));
    expect(() => vm.run()).toThrow(expect.objectContaining({ func: 'WHvRunVirtualProcessor', hresult: 0x80004005 }));
  });
});

describe('memory', () => {
  it('maps regions with Read|Execute (+Write unless readOnly), copies sources, refuses overlaps, unmaps on dispose', () => {
    const { api, whp } = setup();
    using vm = whp.createVm({ memorySize: MEMORY_SIZE });
    new Uint8Array(vm.memory)[0x20] = 0x42;
    using snapshot = vm.snapshotMemory();
    const region = vm.mapRegion({ gpa: 0x100000n, size: MEMORY_SIZE, source: snapshot, readOnly: true });
    expect(new Uint8Array(region.memory)[0x20]).toBe(0x42);
    expect(api.calls.filter((c) => c.fn === 'WHvMapGpaRange').at(-1)!.args.slice(2)).toEqual([0x100000n, MEMORY_SIZE, 5]);
    vm.mapRegion({ gpa: 0x200000n, size: 0x1000 });
    expect(api.calls.filter((c) => c.fn === 'WHvMapGpaRange').at(-1)!.args.slice(4)).toEqual([7]);
    expect(() => vm.mapRegion({ gpa: 0x8000n, size: 0x1000 })).toThrow(RangeError);
    expect(() => vm.mapRegion({ gpa: 0x10f000n, size: 0x2000 })).toThrow(RangeError);
    expect(() => vm.mapRegion({ gpa: 0x300000n, size: 0x1000, source: snapshot })).toThrow(RangeError);
    region.dispose();
    region.dispose();
    expect(api.calls.filter((c) => c.fn === 'WHvUnmapGpaRange').map((c) => c.args.slice(1))).toEqual([[0x100000n, MEMORY_SIZE]]);
  });

  it('restores main memory by copying the snapshot back; refuses another size or backend', () => {
    const { whp } = setup();
    using vm = whp.createVm({ memorySize: MEMORY_SIZE });
    const bytes = new Uint8Array(vm.memory);
    bytes[5] = 1;
    using snapshot = vm.snapshotMemory();
    bytes[5] = 2;
    bytes[0x3000] = 9;
    vm.restoreMemory(snapshot);
    expect([bytes[5], bytes[0x3000]]).toEqual([1, 0]);
    expect(() => vm.restoreMemory({ size: MEMORY_SIZE, read: () => undefined, dispose: () => undefined, [Symbol.dispose]: () => undefined })).toThrow(TypeError);
    const copy = new Uint8Array(4);
    snapshot.read(4, copy);
    expect([...copy]).toEqual([0, 1, 0, 0]);
  });

  it('maps snapshot files by path from a 64 KiB-aligned view', () => {
    const { api, whp } = setup();
    const dir = mkdtempSync(join(tmpdir(), 'whp-'));
    const path = join(dir, 'snap.bin');
    const contents = new Uint8Array(0x30000);
    contents[0x11000] = 0x77;
    writeFileSync(path, contents);
    api.fileContents = contents;
    const fd = openSync(path, 'r');
    try {
      using snapshot = whp.mapSnapshotFile({ path, fd }, 0x11000, 0x2000);
      const byte = new Uint8Array(1);
      snapshot.read(0, byte);
      expect(byte[0]).toBe(0x77);
      expect(api.calls.find((c) => c.fn === 'MapViewOfFile')!.args.slice(2)).toEqual([0x10000, 0x3000]);
      expect(() => whp.mapSnapshotFile({ path, fd }, 0x100, 0x1000)).toThrow(RangeError);
      expect(() => whp.mapSnapshotFile({ path, fd }, 0, 0x40000)).toThrow(RangeError);
      api.failures.set('CreateFileW', 0);
      expect(() => whp.mapSnapshotFile({ path, fd }, 0, 0x1000)).toThrow(expect.objectContaining({ func: 'CreateFileW', hresult: 0x80070005 }));
    } finally {
      closeSync(fd);
    }
  });
});

import type { Registers } from '@hyperlight-ts/core/backend';
import { describe, expect, it } from 'vitest';
import { createBackend } from '../src/backend.js';
import { HVCALL } from '../src/mshv-abi.js';
import type { MshvVirtualMachine } from '../src/mshv-virtual-machine.js';
import { FakeSurface } from './helpers/fake-surface.js';
import { ioPortMessage, plainMessage } from './helpers/messages.js';

function setup(options: { registerPage?: boolean } = {}): { surface: FakeSurface; vm: MshvVirtualMachine } {
  const surface = new FakeSurface();
  surface.registerPage = options.registerPage ?? true;
  const vm = createBackend(() => surface).createVm({ memorySize: 0x4000 }) as MshvVirtualMachine;
  surface.log.length = 0;
  return { surface, vm };
}

const regs: Registers = {
  rax: 1n, rbx: 2n, rcx: 3n, rdx: 4n, rsi: 5n, rdi: 6n, rsp: 7n, rbp: 8n, r8: 9n, r9: 10n, r10: 11n, r11: 12n,
  r12: 13n, r13: 14n, r14: 15n, r15: 16n, rip: 0x1000n, rflags: 2n,
};

const regionArgs = (surface: FakeSurface) => surface.calls('MSHV_SET_GUEST_MEMORY').map((call) => {
  const view = new DataView(call.arg!.buffer);
  return [view.getBigUint64(0, true), view.getBigUint64(8, true), view.getBigUint64(16, true), view.getUint8(24)];
});

describe('MshvVirtualMachine registers and exits', () => {
  it('loads registers by hypercall while the register page is invalid, and advances RIP past an out by hypercall', () => {
    const { surface, vm } = setup();
    surface.runs.push({ message: ioPortMessage({ port: 0x3f8, size: 1, write: true, rax: 0x41n, rip: 0x1000n, length: 1 }) });
    expect(vm.run(regs)).toEqual({ kind: 'io-out', port: 0x3f8, size: 1, value: 0x41 });
    const sets = surface.hvcalls(HVCALL.SET_VP_REGISTERS);
    expect(sets).toHaveLength(2);
    expect(new DataView(sets[0]!.arg!.buffer).getUint16(2, true)).toBe(18); // 18 registers, one hypercall
    expect(vm.getRegisters().rip).toBe(0x1001n);
  });

  it('uses the register page once valid: GPRs in hardware order, dirty bits, RIP and RAX after an in', () => {
    const { surface, vm } = setup();
    surface.runs.push({ message: plainMessage(0x8001_0007), pageValid: true });
    vm.run(regs);
    const page = new DataView(surface.vp!.registerPage!);
    for (const [offset, value] of [[8, 1n], [16, 3n], [24, 4n], [32, 2n], [40, 7n], [128, 16n], [136, 0x1000n]] as const) page.setBigUint64(offset, value, true);
    expect(vm.getRegisters()).toMatchObject({ rax: 1n, rcx: 3n, rdx: 4n, rbx: 2n, rsp: 7n, r15: 16n, rip: 0x1000n });
    surface.log.length = 0;
    page.setUint32(4, 0, true);
    vm.setRegisters({ ...regs, rcx: 0x33n });
    expect(page.getBigUint64(16, true)).toBe(0x33n);
    expect(page.getUint32(4, true)).toBe(0b10011);
    surface.runs.push({ message: ioPortMessage({ port: 0x60, size: 2, write: false, rax: 0xffff_ffffn, rip: 0x2000n, length: 2 }), pageValid: true });
    page.setUint32(4, 0, true);
    expect(vm.run()).toEqual({ kind: 'io-in', port: 0x60, size: 2 });
    expect([page.getBigUint64(136, true), page.getBigUint64(8, true), page.getUint32(4, true)]).toEqual([0x2002n, 0xffff_0000n, 0b11]);
    expect(surface.hvcalls(HVCALL.SET_VP_REGISTERS)).toHaveLength(0);
  });

  it('works without a register page at all', () => {
    const { surface, vm } = setup({ registerPage: false });
    surface.runs.push({ message: ioPortMessage({ port: 1, size: 4, write: false, rax: 0x1_2345_6789n, rip: 0x10n, length: 1 }) });
    expect(vm.run(regs).kind).toBe('io-in');
    expect(vm.getRegisters()).toMatchObject({ rip: 0x11n, rax: 0n });
  });

  it('re-enters after a stray interruption, and returns cancelled for a cancel (before entering too)', () => {
    const { surface, vm } = setup();
    surface.runs.push('eintr', { message: plainMessage(0x8001_0007) });
    expect(vm.run()).toEqual({ kind: 'halt' });
    expect(surface.calls('MSHV_RUN_VP')).toHaveLength(2);
    vm.callGuard.begin();
    surface.runs.push({ cancel: 1 });
    expect(vm.run()).toEqual({ kind: 'cancelled' });
    expect(vm.run()).toEqual({ kind: 'cancelled' });
    expect(surface.calls('MSHV_RUN_VP')).toHaveLength(3);
    expect(vm.callGuard.end()).toBe('killed');
  });

  it('names a failed run', () => {
    const { surface, vm } = setup();
    surface.runs.push({ error: 'EFAULT', errno: 14 });
    expect(() => vm.run()).toThrow(expect.objectContaining({ name: 'MshvError', ioctl: 'MSHV_RUN_VP', code: 'EFAULT' }));
  });

  it('runs asynchronously, and dispose settles a pending run with cancelled', async () => {
    const { surface, vm } = setup();
    surface.runs.push('eintr', { message: plainMessage(0x8000_0021) });
    expect(await vm.runAsync(regs)).toEqual({ kind: 'triple-fault' });
    surface.runs.push({ message: plainMessage(0x8001_0007) });
    const pending = vm.runAsync();
    expect(() => vm.getRegisters()).toThrow(expect.objectContaining({ code: 'ERR_HYPERLIGHT_RUN_PENDING' }));
    vm.dispose();
    expect(await pending).toEqual({ kind: 'cancelled' });
    expect(() => vm.run()).toThrow(expect.objectContaining({ code: 'ERR_HYPERLIGHT_DISPOSED' }));
  });
});

describe('MshvVirtualMachine memory', () => {
  it('restores by unmapping, resetting the host memory, and mapping the identical triple again', () => {
    const { surface, vm } = setup();
    const snapshot = vm.snapshotMemory();
    new Uint8Array(vm.memory)[5] = 9;
    vm.restoreMemory(snapshot);
    expect(new Uint8Array(vm.memory)[5]).toBe(0);
    expect(surface.log.filter((c) => c.fd !== 'vp').map((c) => c.op)).toEqual([
      'MSHV_SET_GUEST_MEMORY', 'snapshot', 'MSHV_SET_GUEST_MEMORY',
      'MSHV_SET_GUEST_MEMORY', 'restore', 'MSHV_SET_GUEST_MEMORY',
    ]);
    const address = surface.memories[0]!.address;
    expect(regionArgs(surface)).toEqual([
      [0x4000n, 0n, address, 0b100], [0x4000n, 0n, address, 0b011], [0x4000n, 0n, address, 0b100], [0x4000n, 0n, address, 0b011],
    ]);
    expect(() => vm.restoreMemory({ size: 0x4000, read() {}, dispose() {}, [Symbol.dispose]() {} })).toThrow(TypeError);
  });

  it('maps regions read-only or writable, refuses overlaps, and unmaps with the UNMAP flag only', () => {
    const { surface, vm } = setup();
    const readOnly = vm.mapRegion({ gpa: 0x10_0000n, size: 0x2000, readOnly: true });
    const writable = vm.mapRegion({ gpa: 0x20_0000n, size: 0x1000 });
    expect(readOnly).toMatchObject({ gpa: 0x10_0000n, size: 0x2000, readOnly: true });
    expect(readOnly.memory.byteLength).toBe(0x2000);
    expect(() => vm.mapRegion({ gpa: 0x3000n, size: 0x2000 })).toThrow(RangeError); // overlaps main memory
    expect(() => vm.mapRegion({ gpa: 0x10_1000n, size: 0x1000 })).toThrow(RangeError);
    expect(() => vm.mapRegion({ gpa: 0x30_0800n, size: 0x1000 })).toThrow(RangeError);
    readOnly.dispose();
    readOnly.dispose();
    const [ro, rw] = surface.memories.slice(1);
    expect(regionArgs(surface)).toEqual([
      [0x2000n, 0x100n, ro!.address, 0b010], [0x1000n, 0x200n, rw!.address, 0b011], [0x2000n, 0x100n, ro!.address, 0b100],
    ]);
    expect(ro!.disposed).toBe(true);
    vm.dispose();
    expect(rw!.disposed).toBe(true);
    writable.dispose(); // after the VM: nothing left to do
  });

  it('maps a region over a snapshot and releases its memory when the kernel refuses', () => {
    const { surface, vm } = setup();
    const snapshot = vm.snapshotMemory();
    surface.failures.push({ op: 'MSHV_SET_GUEST_MEMORY', code: 'EEXIST', errno: 17 });
    expect(() => vm.mapRegion({ gpa: 0x10_0000n, size: 0x4000, source: snapshot })).toThrow(expect.objectContaining({ name: 'MshvError', ioctl: 'MSHV_SET_GUEST_MEMORY', code: 'EEXIST' }));
    expect(surface.memories.at(-1)!.disposed).toBe(true);
    expect(() => vm.mapRegion({ gpa: 0x10_0000n, size: 0x1000, source: snapshot })).toThrow(RangeError);
  });
});

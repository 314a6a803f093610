import type { Registers, SpecialRegisters, VmExit } from '@hyperlight-ts/core';
import { VM_EXIT_KINDS } from '@hyperlight-ts/core/backend';
import { describe, expect, it } from 'vitest';
import {
  KVM, KVM_MEM, KvmError, KvmVirtualMachine, RUN_BLOCK, type GuestMemory, type VcpuFd, type VmFd,
} from '../src/index.js';
import { fakeParts, FakeSnapshotMemory, type ExitScript } from './helpers/fake-vcpu.js';
import { registersAt } from './helpers/kvm.js';

/** A VM over a {@link FakeVcpu} playing `script`. */
function fakeMachine(script: ExitScript, options: { availableTss?: boolean } = {}) {
  const { fake, fakeVm, disposed, parts } = fakeParts(script, options);
  const machine = new KvmVirtualMachine(parts);
  const u64 = new BigUint64Array(fake.runBlock);
  return { machine, fake, fakeVm, disposed, u64, parts };
}

/** An MMIO exit at `gpa`, a write when `write`. */
const mmio = (gpa: bigint, write: boolean): ExitScript => (u32, u64) => {
  u64[RUN_BLOCK.mmioGpaU64] = gpa;
  u32[RUN_BLOCK.mmioIsWriteU32] = write ? 1 : 0;
  u32[RUN_BLOCK.mmioSizeU32] = 8;
  return KVM.KVM_EXIT_MMIO;
};

/** What the addon throws for a failed syscall. */
const systemError = (syscall: string, code: string, errno: number): Error =>
  Object.assign(new Error(`${syscall} failed: ${code} (some words)`), { code, errno: -errno, syscall });

function exitOf(script: ExitScript): VmExit {
  return fakeMachine(script).machine.run();
}

describe('KvmVirtualMachine exit decoding', () => {
  it('io-out: port, size and the zero-extended value', () => {
    const exit = exitOf((u32) => {
      u32[RUN_BLOCK.ioDirectionU32] = KVM.KVM_EXIT_IO_OUT;
      u32[RUN_BLOCK.ioPortU32] = 0x10;
      u32[RUN_BLOCK.ioSizeU32] = 4;
      u32[RUN_BLOCK.ioValueU32] = 0xfffffffe;
      return KVM.KVM_EXIT_IO;
    });
    expect(exit).toEqual({ kind: 'io-out', port: 0x10, size: 4, value: 0xfffffffe });
  });

  it('io-in: port and size', () => {
    const exit = exitOf((u32) => {
      u32[RUN_BLOCK.ioDirectionU32] = KVM.KVM_EXIT_IO_IN;
      u32[RUN_BLOCK.ioPortU32] = 0x60;
      u32[RUN_BLOCK.ioSizeU32] = 1;
      return KVM.KVM_EXIT_IO;
    });
    expect(exit).toEqual({ kind: 'io-in', port: 0x60, size: 1 });
  });

  it('MMIO outside every slot is an unmapped memory-fault, with the access from is_write', () => {
    expect(exitOf(mmio(0xfee0_0000_1234n, true))).toEqual({ kind: 'memory-fault', gpa: 0xfee0_0000_1234n, access: 'write', unmapped: true });
    expect(exitOf(mmio(0x1000n, false))).toEqual({ kind: 'memory-fault', gpa: 0x1000n, access: 'read', unmapped: true });
  });

  it('MMIO inside a slot (a write to a read-only region) is a memory-fault that is not unmapped', () => {
    let gpa = 0n;
    const { machine } = fakeMachine((u32, u64, vcpu) => mmio(gpa, true)(u32, u64, vcpu));
    machine.mapRegion({ gpa: 0x10_0000n, size: 0x2000, readOnly: true });
    gpa = 0x10_1ff8n;
    expect(machine.run()).toEqual({ kind: 'memory-fault', gpa, access: 'write', unmapped: false });
    gpa = 0x10_2000n; // just past the region
    expect(machine.run()).toEqual({ kind: 'memory-fault', gpa, access: 'write', unmapped: true });
    gpa = 0xff8n; // main memory
    expect(machine.run()).toMatchObject({ unmapped: false });
  });

  it.each([
    [KVM.KVM_EXIT_HLT, 'halt'],
    [KVM.KVM_EXIT_SHUTDOWN, 'triple-fault'],
  ] as const)('reason %i is %s', (reason, kind) => {
    expect(exitOf(() => reason)).toEqual({ kind });
  });

  it('every VmExit kind is reachable from some KVM exit', () => {
    const kinds = new Set<string>();
    // KVM_EXIT_INTR without a cancel is re-entered, never returned.
    for (const reason of [...Object.values(KVM).filter((value) => value !== KVM.KVM_EXIT_INTR), 1234]) {
      for (const direction of [KVM.KVM_EXIT_IO_IN, KVM.KVM_EXIT_IO_OUT]) {
        kinds.add(exitOf((u32) => ((u32[RUN_BLOCK.ioDirectionU32] = direction), reason)).kind);
      }
    }
    // `cancelled` comes from the call-state word, not from an exit reason.
    const { machine } = fakeMachine(() => KVM.KVM_EXIT_INTR);
    machine.callGuard.begin();
    machine.callGuard.cancel('killed');
    kinds.add(machine.run().kind);
    expect([...kinds].sort()).toEqual([...VM_EXIT_KINDS].sort());
  });

  it('hypervisor-error (KVM_EXIT_INTERNAL_ERROR) names the suberror and shows its data', () => {
    const exit = exitOf((u32, u64) => {
      u32[RUN_BLOCK.internalSuberrorU32] = KVM.KVM_INTERNAL_ERROR_DELIVERY_EV;
      u32[RUN_BLOCK.internalNdataU32] = 6;
      for (let k = 0; k < RUN_BLOCK.internalDataCount; k++) u64[RUN_BLOCK.internalDataU64 + k] = BigInt(0x10 + k);
      return KVM.KVM_EXIT_INTERNAL_ERROR;
    });
    expect(exit).toEqual({
      kind: 'hypervisor-error',
      detail: 'KVM_EXIT_INTERNAL_ERROR: suberror 3 (KVM_INTERNAL_ERROR_DELIVERY_EV), data [0x10, 0x11, 0x12, 0x13, +2 more]',
    });
  });

  it('invalid-state (KVM_EXIT_FAIL_ENTRY) shows the hardware reason', () => {
    const exit = exitOf((u32, u64) => {
      u64[RUN_BLOCK.failEntryReasonU64] = 0x80000021n;
      u32[RUN_BLOCK.failEntryCpuU32] = 1;
      return KVM.KVM_EXIT_FAIL_ENTRY;
    });
    expect(exit).toEqual({
      kind: 'invalid-state',
      detail: 'KVM_EXIT_FAIL_ENTRY: hardware_entry_failure_reason 0x80000021 on cpu 1',
    });
  });

  it('other exits are unknown, with the number and the name when known', () => {
    expect(exitOf(() => KVM.KVM_EXIT_DEBUG)).toEqual({ kind: 'unknown', detail: 'KVM exit reason 4 (KVM_EXIT_DEBUG)' });
    expect(exitOf(() => 1234)).toEqual({ kind: 'unknown', detail: 'KVM exit reason 1234' });
  });
});

describe('KvmVirtualMachine registers', () => {
  const distinct = (): Registers => {
    const regs = registersAt(0x1000);
    let value = 0x1111_0000_0000_0001n;
    for (const name of Object.keys(regs) as (keyof Registers)[]) regs[name] = value++;
    return regs;
  };

  it('run(regs) puts them in the run block in kvm_regs order and asks the vCPU to load them', () => {
    const { machine, fake } = fakeMachine(() => KVM.KVM_EXIT_HLT);
    const regs = distinct();
    machine.run(regs);
    expect(fake.runs).toEqual([{ loadRegs: true, regs: Object.values(regs), async: false }]);
  });

  it('setRegisters() is loaded by the next run only', () => {
    const { machine, fake } = fakeMachine(() => KVM.KVM_EXIT_HLT);
    machine.setRegisters(distinct());
    machine.run();
    machine.run();
    expect(fake.runs.map((run) => run.loadRegs)).toEqual([true, false]);
  });

  it('getRegisters() reads the registers the vCPU left in the run block, without a call', () => {
    const { machine, fake, u64 } = fakeMachine(() => KVM.KVM_EXIT_HLT);
    const regs = distinct();
    u64.set(Object.values(regs), RUN_BLOCK.regsU64);
    expect(machine.getRegisters()).toEqual(regs);
    expect(fake.runs).toHaveLength(0);
  });
});

describe('KvmVirtualMachine TR type on AMD hosts', () => {
  const sregsWithTr = (type: number) => ({ tr: { type, selector: 0x28 }, cr3: 0x1000n }) as unknown as SpecialRegisters;

  it('loads a busy TR as available and reports it busy again, so snapshots stay neutral', () => {
    const { machine, fake } = fakeMachine(() => KVM.KVM_EXIT_HLT, { availableTss: true });
    machine.setSpecialRegisters(sregsWithTr(0xb));
    expect(fake.sregs?.tr).toEqual({ type: 0x9, selector: 0x28 });
    expect(machine.getSpecialRegisters()).toEqual(sregsWithTr(0xb));
  });

  it('passes TR through unchanged elsewhere, and any type other than busy everywhere', () => {
    const intel = fakeMachine(() => KVM.KVM_EXIT_HLT);
    intel.machine.setSpecialRegisters(sregsWithTr(0xb));
    expect(intel.fake.sregs?.tr.type).toBe(0xb);
    expect(intel.machine.getSpecialRegisters().tr.type).toBe(0xb);
    const amd = fakeMachine(() => KVM.KVM_EXIT_HLT, { availableTss: true });
    amd.machine.setSpecialRegisters(sregsWithTr(0x3));
    expect(amd.fake.sregs?.tr.type).toBe(0x3);
  });
});

describe('KvmVirtualMachine errors', () => {
  it('a failed syscall becomes a KvmError with errno, code and syscall, the system error as cause', () => {
    const { machine, fake } = fakeMachine(() => KVM.KVM_EXIT_HLT);
    const cause = systemError('KVM_RUN', 'EFAULT', 14);
    Object.assign(fake, { run: () => { throw cause; } });
    let error: unknown;
    try {
      machine.run();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KvmError);
    expect(error).toMatchObject({
      name: 'KvmError', backend: 'kvm', operation: 'KVM_RUN', syscall: 'KVM_RUN', errno: 14, code: 'EFAULT',
      detail: 'EFAULT (some words)', message: 'kvm: KVM_RUN failed: EFAULT (some words)', cause,
    });
  });

  it('every method that reaches the addon converts its system errors', async () => {
    const { machine, fake, parts } = fakeMachine(() => KVM.KVM_EXIT_HLT);
    const fail = (syscall: string) => () => { throw systemError(syscall, 'EINVAL', 22); };
    Object.assign(fake, {
      getSregs: fail('KVM_GET_SREGS'), stageSregs: fail('KVM_SET_SREGS'), getXsave: fail('KVM_GET_XSAVE2'),
      setXsave: fail('KVM_SET_XSAVE'), runAsyncFails: systemError('KVM_RUN', 'EINVAL', 22),
    });
    Object.assign(parts.memory, { snapshot: fail('memfd_create'), restore: fail('mmap'), privatePageCount: fail('pread') });
    const calls: [string, () => unknown][] = [
      ['KVM_GET_SREGS', () => machine.getSpecialRegisters()],
      ['KVM_SET_SREGS', () => machine.setSpecialRegisters({ tr: { type: 0xb } } as SpecialRegisters)],
      ['KVM_GET_XSAVE2', () => machine.getFpuState()],
      ['KVM_SET_XSAVE', () => machine.setFpuState(new Uint8Array(4096))],
      ['memfd_create', () => machine.snapshotMemory()],
      ['mmap', () => machine.restoreMemory({} as never)],
      ['pread', () => machine.privatePageCount()],
    ];
    for (const [syscall, call] of calls) expect(call, syscall).toThrow(expect.objectContaining({ name: 'KvmError', syscall, errno: 22 }));
    await expect(machine.runAsync()).rejects.toBeInstanceOf(KvmError);
  });

  it('leaves errors that are not system errors alone', () => {
    const { machine, fake } = fakeMachine(() => KVM.KVM_EXIT_HLT);
    const typeError = Object.assign(new TypeError('rax must be a bigint'), { code: 'ERR_INVALID_ARG_TYPE' });
    Object.assign(fake, { run: () => { throw typeError; } });
    expect(() => machine.run()).toThrow(typeError);
  });
});

describe('KvmVirtualMachine.mapRegion()', () => {
  it('maps a zeroed region in the lowest free slot, read-only with KVM_MEM_READONLY', () => {
    const { machine, fakeVm } = fakeMachine(() => KVM.KVM_EXIT_HLT);
    const a = machine.mapRegion({ gpa: 0x10_0000n, size: 0x2000 });
    const b = machine.mapRegion({ gpa: 0x20_0000n, size: 0x1000, readOnly: true });
    expect(a).toMatchObject({ gpa: 0x10_0000n, size: 0x2000, readOnly: false, slot: 1 });
    expect(b).toMatchObject({ gpa: 0x20_0000n, size: 0x1000, readOnly: true, slot: 2 });
    expect(a.memory.byteLength).toBe(0x2000);
    expect(fakeVm.slotCalls).toEqual([
      { slot: 1, baseGpa: 0x10_0000n, memory: expect.objectContaining({ memorySize: 0x2000, source: undefined }), flags: 0 },
      { slot: 2, baseGpa: 0x20_0000n, memory: expect.objectContaining({ memorySize: 0x1000 }), flags: KVM_MEM.KVM_MEM_READONLY },
    ]);
  });

  it('backs a region with a source snapshot mapped copy-on-write (a GuestMemory made from it)', () => {
    const { machine, fakeVm } = fakeMachine(() => KVM.KVM_EXIT_HLT);
    const source = new FakeSnapshotMemory(0x3000);
    machine.mapRegion({ gpa: 0x4000n, size: 0x3000, source: source as never });
    expect(fakeVm.slotCalls[0]!.memory).toMatchObject({ source });
  });

  it('dispose() deletes the slot (size 0), releases the memory, and frees the slot for reuse', () => {
    const { machine, fakeVm, disposed } = fakeMachine(() => KVM.KVM_EXIT_HLT);
    const region = machine.mapRegion({ gpa: 0x10_0000n, size: 0x1000 });
    const memory = fakeVm.slotCalls[0]!.memory;
    region.dispose();
    region[Symbol.dispose]();
    expect(fakeVm.slotCalls[1]).toEqual({ slot: 1, baseGpa: 0x10_0000n, memory, memorySize: 0 });
    expect(fakeVm.slotCalls).toHaveLength(2);
    expect(disposed).toEqual(['region memory 1']);
    expect(region.mapped).toBe(false);
    expect(machine.mapRegion({ gpa: 0x10_0000n, size: 0x1000 }).slot).toBe(1);
  });

  it('the VM dispose() releases every region with it', () => {
    const { machine, fakeVm, disposed } = fakeMachine(() => KVM.KVM_EXIT_HLT);
    const region = machine.mapRegion({ gpa: 0x10_0000n, size: 0x1000 });
    machine.dispose();
    expect(disposed).toEqual(['vcpu', 'vm', 'memory', 'region memory 1']);
    region.dispose(); // nothing left to do
    expect(fakeVm.slotCalls).toHaveLength(1);
  });

  it.each([
    ['an unaligned gpa', { gpa: 0x10_0800n, size: 0x1000 }, /gpa must be a multiple of 4096/],
    ['an unaligned size', { gpa: 0x10_0000n, size: 0x1800 }, /size must be a positive multiple of 4096/],
    ['a zero size', { gpa: 0x10_0000n, size: 0 }, /size must be a positive multiple/],
    ['a negative gpa', { gpa: -0x1000n, size: 0x1000 }, /gpa must be/],
    ['a range past 2^64', { gpa: (1n << 64n) - 0x1000n, size: 0x2000 }, /at most 2\^64/],
    ['main memory', { gpa: 0n, size: 0x1000 }, /overlaps main memory/],
    ['another region', { gpa: 0x1f_f000n, size: 0x2000 }, /overlaps the region at 0x200000/],
  ])('refuses %s with a RangeError', (_what, options, message) => {
    const { machine, fakeVm } = fakeMachine(() => KVM.KVM_EXIT_HLT);
    machine.mapRegion({ gpa: 0x20_0000n, size: 0x1000 });
    expect(() => machine.mapRegion(options)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringMatching(message) }));
    expect(fakeVm.slotCalls).toHaveLength(1);
  });

  it("refuses another backend's snapshot (TypeError), a source of another size (RangeError), a gpa that is no bigint", () => {
    const { machine } = fakeMachine(() => KVM.KVM_EXIT_HLT);
    const foreign = { size: 0x1000, read: () => undefined, dispose: () => undefined, [Symbol.dispose]: () => undefined };
    expect(() => machine.mapRegion({ gpa: 0x10_0000n, size: 0x1000, source: foreign })).toThrow(expect.objectContaining({ name: 'TypeError' }));
    expect(() => machine.mapRegion({ gpa: 0x10_0000n, size: 0x1000, source: new FakeSnapshotMemory(0x2000) as never }))
      .toThrow(expect.objectContaining({ name: 'RangeError', message: 'source holds 8192 bytes, expected 4096' }));
    expect(() => machine.mapRegion({ gpa: 0x10_0000 as never, size: 0x1000 })).toThrow(expect.objectContaining({ name: 'TypeError' }));
  });

  it('a slot KVM refuses is a KvmError, and the region memory is released', () => {
    const { machine, fakeVm, disposed } = fakeMachine(() => KVM.KVM_EXIT_HLT);
    fakeVm.refuse = systemError('KVM_SET_USER_MEMORY_REGION', 'EINVAL', 22);
    expect(() => machine.mapRegion({ gpa: 0x10_0000n, size: 0x1000 })).toThrow(
      expect.objectContaining({ name: 'KvmError', syscall: 'KVM_SET_USER_MEMORY_REGION', code: 'EINVAL' }));
    expect(disposed).toEqual(['region memory 1']);
  });

  it('a region cannot be unmapped while a runAsync is pending', async () => {
    const { machine } = fakeMachine(() => KVM.KVM_EXIT_HLT);
    const region = machine.mapRegion({ gpa: 0x10_0000n, size: 0x1000 });
    const run = machine.runAsync();
    expect(() => region.dispose()).toThrow(expect.objectContaining({ code: 'ERR_HYPERLIGHT_RUN_PENDING' }));
    await run;
    region.dispose();
    expect(region.mapped).toBe(false);
  });
});

describe('KvmVirtualMachine.dispose()', () => {
  it('releases vCPU, VM and memory once, then every method throws ERR_HYPERLIGHT_DISPOSED', async () => {
    const { machine, disposed } = fakeMachine(() => KVM.KVM_EXIT_HLT);
    machine.dispose();
    machine[Symbol.dispose]();
    expect(disposed).toEqual(['vcpu', 'vm', 'memory']);
    const calls: [string, () => unknown][] = [
      ['run', () => machine.run()],
      ['runAsync', () => machine.runAsync()],
      ['getRegisters', () => machine.getRegisters()],
      ['setRegisters', () => machine.setRegisters(registersAt(0))],
      ['getSpecialRegisters', () => machine.getSpecialRegisters()],
      ['setSpecialRegisters', () => machine.setSpecialRegisters({} as never)],
      ['getFpuState', () => machine.getFpuState()],
      ['setFpuState', () => machine.setFpuState(new Uint8Array(4096))],
      ['snapshotMemory', () => machine.snapshotMemory()],
      ['restoreMemory', () => machine.restoreMemory({} as never)],
      ['privatePageCount', () => machine.privatePageCount()],
      ['mapRegion', () => machine.mapRegion({ gpa: 0x10_0000n, size: 0x1000 })],
    ];
    const disposedError = (method: string) =>
      expect.objectContaining({ code: 'ERR_HYPERLIGHT_DISPOSED', message: `VirtualMachine.${method}: used after dispose()` });
    for (const [method, call] of calls) {
      if (method === 'runAsync') await expect(call()).rejects.toEqual(disposedError(method));
      else expect(call).toThrow(disposedError(method));
    }
  });
});

describe('KvmVirtualMachine.tscFrequencyHz', () => {
  function machineWithTsc(getTscKhz: () => number) {
    const { parts, fake } = fakeParts(() => KVM.KVM_EXIT_HLT);
    let reads = 0;
    Object.assign(fake, { getTscKhz: () => (reads++, getTscKhz()) });
    return { machine: new KvmVirtualMachine(parts), reads: () => reads };
  }

  it('is KVM_GET_TSC_KHZ in Hz, read once', () => {
    const { machine, reads } = machineWithTsc(() => 2_400_000);
    expect(machine.tscFrequencyHz).toBe(2_400_000_000);
    expect(machine.tscFrequencyHz).toBe(2_400_000_000);
    expect(reads()).toBe(1);
  });

  it('is undefined when KVM does not know it (the ioctl fails or answers 0)', () => {
    const eio = machineWithTsc(() => {
      throw Object.assign(new Error('EIO'), { code: 'EIO', syscall: 'KVM_GET_TSC_KHZ' });
    });
    expect(eio.machine.tscFrequencyHz).toBeUndefined();
    expect(eio.machine.tscFrequencyHz).toBeUndefined();
    expect(eio.reads()).toBe(1);
    expect(machineWithTsc(() => 0).machine.tscFrequencyHz).toBeUndefined();
  });

  it('throws ERR_HYPERLIGHT_DISPOSED when first read after dispose', () => {
    const { machine } = machineWithTsc(() => 1_000_000);
    machine.dispose();
    expect(() => machine.tscFrequencyHz).toThrow(expect.objectContaining({ code: 'ERR_HYPERLIGHT_DISPOSED' }));
  });
});

describe('KvmVirtualMachine memory snapshots and FPU state', () => {
  it('passes them straight to the GuestMemory and the vCPU', () => {
    const log: unknown[][] = [];
    const snapshot = { size: 4096 };
    const state = new Uint8Array(4096);
    const runBlock = new ArrayBuffer(RUN_BLOCK.size);
    const vcpu = {
      runBlock,
      callState: new ArrayBuffer(4),
      cancelId: 1,
      getXsave: () => (log.push(['getXsave']), state),
      setXsave: (bytes: Uint8Array) => log.push(['setXsave', bytes]),
    } as unknown as VcpuFd;
    const memory = {
      buffer: new ArrayBuffer(4096),
      snapshot: () => (log.push(['snapshot']), snapshot),
      restore: (value: unknown) => log.push(['restore', value]),
      privatePageCount: () => (log.push(['privatePageCount']), 7),
    } as unknown as GuestMemory;
    const machine = new KvmVirtualMachine({ addon: fakeParts(() => 0).parts.addon, memory, vm: {} as VmFd, vcpu, xsaveEnabled: true, availableTss: false });
    expect(machine.getFpuState()).toBe(state);
    machine.setFpuState(state);
    expect(machine.snapshotMemory()).toBe(snapshot);
    machine.restoreMemory(snapshot as never);
    expect(machine.privatePageCount()).toBe(7);
    expect(log).toEqual([['getXsave'], ['setXsave', state], ['snapshot'], ['restore', snapshot], ['privatePageCount']]);
  });
});

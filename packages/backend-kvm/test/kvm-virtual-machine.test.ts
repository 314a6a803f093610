import type { Registers, VmExit } from '@hyperlight-ts/core';
import { describe, expect, it } from 'vitest';
import { KVM, KvmVirtualMachine, RUN_BLOCK, type GuestMemory, type VcpuFd, type VmFd } from '../src/index.js';
import { fakeParts, type ExitScript } from './helpers/fake-vcpu.js';
import { registersAt } from './helpers/kvm.js';

/** A VM over a {@link FakeVcpu} playing `script`. */
function fakeMachine(script: ExitScript) {
  const { fake, disposed, parts } = fakeParts(script);
  const machine = new KvmVirtualMachine(parts);
  const u64 = new BigUint64Array(fake.runBlock);
  return { machine, fake, disposed, u64 };
}

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

  it('mmio: gpa, direction and size', () => {
    const exit = exitOf((u32, u64) => {
      u64[RUN_BLOCK.mmioGpaU64] = 0xfee0_0000_1234n;
      u32[RUN_BLOCK.mmioIsWriteU32] = 1;
      u32[RUN_BLOCK.mmioSizeU32] = 8;
      return KVM.KVM_EXIT_MMIO;
    });
    expect(exit).toEqual({ kind: 'mmio', gpa: 0xfee0_0000_1234n, write: true, size: 8 });
  });

  it.each([
    [KVM.KVM_EXIT_HLT, 'halt'],
    [KVM.KVM_EXIT_SHUTDOWN, 'shutdown'],
  ] as const)('reason %i is %s', (reason, kind) => {
    expect(exitOf(() => reason)).toEqual({ kind });
  });

  it('internal-error names the suberror and shows its data', () => {
    const exit = exitOf((u32, u64) => {
      u32[RUN_BLOCK.internalSuberrorU32] = KVM.KVM_INTERNAL_ERROR_DELIVERY_EV;
      u32[RUN_BLOCK.internalNdataU32] = 6;
      for (let k = 0; k < RUN_BLOCK.internalDataCount; k++) u64[RUN_BLOCK.internalDataU64 + k] = BigInt(0x10 + k);
      return KVM.KVM_EXIT_INTERNAL_ERROR;
    });
    expect(exit).toEqual({
      kind: 'internal-error',
      detail: 'KVM_EXIT_INTERNAL_ERROR: suberror 3 (KVM_INTERNAL_ERROR_DELIVERY_EV), data [0x10, 0x11, 0x12, 0x13, +2 more]',
    });
  });

  it('fail-entry shows the hardware reason', () => {
    const exit = exitOf((u32, u64) => {
      u64[RUN_BLOCK.failEntryReasonU64] = 0x80000021n;
      u32[RUN_BLOCK.failEntryCpuU32] = 1;
      return KVM.KVM_EXIT_FAIL_ENTRY;
    });
    expect(exit).toEqual({
      kind: 'fail-entry',
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
      ['resetFpu', () => machine.resetFpu()],
      ['getFpuState', () => machine.getFpuState()],
      ['setFpuState', () => machine.setFpuState(new Uint8Array(4096))],
      ['snapshotMemory', () => machine.snapshotMemory()],
      ['restoreMemory', () => machine.restoreMemory({} as never)],
      ['privatePageCount', () => machine.privatePageCount()],
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
    const machine = new KvmVirtualMachine({ memory, vm: {} as VmFd, vcpu, xsaveEnabled: true, availableTss: false });
    expect(machine.getFpuState()).toBe(state);
    machine.setFpuState(state);
    expect(machine.snapshotMemory()).toBe(snapshot);
    machine.restoreMemory(snapshot as never);
    expect(machine.privatePageCount()).toBe(7);
    expect(log).toEqual([['getXsave'], ['setXsave', state], ['snapshot'], ['restore', snapshot], ['privatePageCount']]);
  });
});

// KvmVirtualMachine's use of its call guard: cancelled runs, interrupted
// KVM_RUNs and runAsync(), against a vCPU stand-in that implements the
// addon's side of the call-state word in JavaScript
// (test/helpers/fake-vcpu.ts). The guard itself is tested in
// @hyperlight-ts/native-linux; the *.kvm.test.ts files run the same behaviour
// against the addon and KVM.
import type { CancelReason } from '@hyperlight-ts/core';
import { describe, expect, it } from 'vitest';
import { CALL_STATE, KVM, KvmVirtualMachine, RUN_BLOCK } from '../src/index.js';
import { fakeParts, type ExitScript } from './helpers/fake-vcpu.js';
import { registersAt } from './helpers/kvm.js';

const halt: ExitScript = () => KVM.KVM_EXIT_HLT;

function machineOf(script: ExitScript) {
  const { fake, disposed, parts } = fakeParts(script);
  return { fake, disposed, machine: new KvmVirtualMachine(parts) };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('KvmVirtualMachine.run() and the call guard', () => {
  it('a cancelled call: run() returns cancelled without entering the guest or loading registers', () => {
    const { machine, fake } = machineOf(halt);
    machine.callGuard.begin();
    machine.callGuard.cancel('killed');
    expect(machine.run(registersAt(0x2000))).toEqual({ kind: 'cancelled' });
    expect(fake.runs).toEqual([]);
    expect(machine.getRegisters().rip).toBe(0n);
    expect(machine.callGuard.end()).toBe('killed');
    expect(machine.run(registersAt(0x2000))).toEqual({ kind: 'halt' }); // the next call runs
    expect(fake.runs).toHaveLength(1);
  });

  it('an interrupted KVM_RUN without a reason is re-entered; registers are asked for once', () => {
    let interruptions = 2;
    const { machine, fake } = machineOf(() => (interruptions-- > 0 ? KVM.KVM_EXIT_INTR : KVM.KVM_EXIT_HLT));
    machine.callGuard.begin();
    expect(machine.run(registersAt(0x1000))).toEqual({ kind: 'halt' });
    expect(fake.runs.map((run) => run.loadRegs)).toEqual([true, false, false]);
    machine.callGuard.end();
  });

  it('an interrupted KVM_RUN with a reason returns cancelled', () => {
    const { machine, fake } = machineOf((_u32, _u64, vcpu) => {
      vcpu.cancel(CALL_STATE.timeout); // as the watchdog would, while the guest runs
      return KVM.KVM_EXIT_INTR;
    });
    machine.callGuard.begin();
    expect(machine.run()).toEqual({ kind: 'cancelled' });
    expect(fake.runs).toHaveLength(1);
    expect(machine.callGuard.cancelReason).toBe('timeout');
    expect(machine.callGuard.end()).toBe('timeout');
  });

  it('a real exit that comes after a cancel is dropped: run() returns cancelled', () => {
    const { machine, fake } = machineOf((u32, _u64, vcpu) => {
      u32[RUN_BLOCK.ioDirectionU32] = KVM.KVM_EXIT_IO_OUT;
      u32[RUN_BLOCK.ioPortU32] = 0x10;
      u32[RUN_BLOCK.ioSizeU32] = 1;
      if (fake.runs.length === 2) vcpu.cancel(CALL_STATE.killed); // while the guest makes its exit
      return KVM.KVM_EXIT_IO;
    });
    machine.callGuard.begin();
    expect(machine.run()).toMatchObject({ kind: 'io-out', port: 0x10 });
    expect(machine.run()).toEqual({ kind: 'cancelled' });
    expect(machine.run()).toEqual({ kind: 'cancelled' });
    expect(fake.runs).toHaveLength(2);
    expect(machine.callGuard.end()).toBe('killed');
  });

  it('dispose() cancels the open call with disposed, and listeners hear it', async () => {
    const { machine } = machineOf(halt);
    const heard: CancelReason[] = [];
    machine.callGuard.onCancel((reason) => heard.push(reason));
    machine.callGuard.begin();
    machine.dispose();
    expect(machine.callGuard.cancelReason).toBe('disposed');
    await tick();
    expect(heard).toEqual(['disposed']);
    expect(machine.callGuard.cancel('killed')).toBe(false);
    expect(machine.callGuard.end()).toBe('disposed');
    expect(() => machine.callGuard.begin()).toThrow(expect.objectContaining({ code: 'ERR_HYPERLIGHT_DISPOSED' }));
  });
});

describe('KvmVirtualMachine.runAsync()', () => {
  it('resolves with the decoded exit, loading the registers given', async () => {
    const { machine, fake } = machineOf(halt);
    await expect(machine.runAsync(registersAt(0x1000))).resolves.toEqual({ kind: 'halt' });
    expect(fake.runs).toEqual([expect.objectContaining({ loadRegs: true, async: true })]);
    await expect(machine.runAsync()).resolves.toEqual({ kind: 'halt' });
    expect(fake.runs[1]).toMatchObject({ loadRegs: false, async: true });
  });

  it('while pending, only callGuard and dispose may be used', async () => {
    const { machine } = machineOf(halt);
    const pending = machine.runAsync(registersAt(0x1000));
    const busy = expect.objectContaining({ code: 'ERR_HYPERLIGHT_RUN_PENDING' });
    expect(() => machine.run()).toThrow(busy);
    expect(() => machine.getRegisters()).toThrow(busy);
    expect(() => machine.setRegisters(registersAt(0))).toThrow(busy);
    expect(() => machine.snapshotMemory()).toThrow(busy);
    await expect(machine.runAsync()).rejects.toEqual(busy);
    machine.callGuard.begin();
    expect(machine.callGuard.cancelReason).toBeUndefined();
    machine.callGuard.end();
    await expect(pending).resolves.toEqual({ kind: 'halt' });
    expect(machine.getRegisters().rip).toBe(0x1000n);
  });

  it('an exit delivered after a cancel from this thread resolves cancelled', async () => {
    const { machine, fake } = machineOf(halt);
    machine.callGuard.begin();
    const run = machine.runAsync();
    machine.callGuard.cancel('killed'); // before the run's result reaches this thread
    await expect(run).resolves.toEqual({ kind: 'cancelled' });
    expect(fake.runs).toHaveLength(1);
    expect(machine.callGuard.end()).toBe('killed');
  });

  it('a cancelled call resolves cancelled without starting a run', async () => {
    const { machine, fake } = machineOf(halt);
    machine.callGuard.begin();
    machine.callGuard.cancel('aborted');
    await expect(machine.runAsync()).resolves.toEqual({ kind: 'cancelled' });
    expect(fake.runs).toEqual([]);
    machine.callGuard.end();
  });

  it('an interrupted run with a reason resolves cancelled; without one it runs again', async () => {
    let step = 0;
    const { machine, fake } = machineOf((_u32, _u64, vcpu) => {
      step++;
      if (step === 1) return KVM.KVM_EXIT_INTR; // stray
      if (step === 2) return KVM.KVM_EXIT_HLT;
      vcpu.cancel(CALL_STATE.killed);
      return KVM.KVM_EXIT_INTR;
    });
    machine.callGuard.begin();
    await expect(machine.runAsync()).resolves.toEqual({ kind: 'halt' });
    expect(fake.runs).toHaveLength(2);
    await expect(machine.runAsync()).resolves.toEqual({ kind: 'cancelled' });
    expect(machine.callGuard.end()).toBe('killed');
  });

  it('rejects with the error of a failed run, and when the addon refuses to start', async () => {
    const { machine, fake } = machineOf(halt);
    fake.runAsyncFails = Object.assign(new Error('KVM_RUN failed: EFAULT (Bad address)'), { code: 'EFAULT', syscall: 'KVM_RUN' });
    await expect(machine.runAsync()).rejects.toBe(fake.runAsyncFails);
    fake.runAsyncFails = undefined;
    fake.runAsyncThrows = new TypeError('refused');
    await expect(machine.runAsync()).rejects.toBe(fake.runAsyncThrows);
    fake.runAsyncThrows = undefined;
    await expect(machine.runAsync()).resolves.toEqual({ kind: 'halt' }); // nothing stayed pending
  });

  it('dispose() while pending resolves the run with cancelled and releases everything', async () => {
    const { machine, disposed } = machineOf(halt);
    machine.callGuard.begin();
    const pending = machine.runAsync();
    machine.dispose();
    await expect(pending).resolves.toEqual({ kind: 'cancelled' });
    expect(disposed).toEqual(['vcpu', 'vm', 'memory']);
    expect(machine.callGuard.end()).toBe('disposed');
  });
});

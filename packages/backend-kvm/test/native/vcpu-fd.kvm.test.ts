import type { Registers, SpecialRegisters } from '@hyperlight-ts/core';
import { afterEach, describe, expect, it } from 'vitest';
import { KVM, loadNative, RUN_BLOCK, type GuestMemory, type VcpuFd, type VmFd } from '../../src/index.js';
import { expectEveryMemberDisposed } from '../../../native-linux/test/helpers/disposed.js';
import { kvmUsable, openFdCount, realModeSregs, registersAt } from '../helpers/kvm.js';

describe.skipIf(!kvmUsable)('VcpuFd (needs /dev/kvm)', () => {
  const addon = kvmUsable ? loadNative() : undefined!;
  const kvm = kvmUsable ? new addon.Kvm() : undefined!;
  const cleanup: Disposable[] = [];
  afterEach(() => {
    for (const item of cleanup.splice(0).reverse()) item[Symbol.dispose]();
  });

  /** A VM with 64 KiB at GPA 0 and vCPU 0 in real mode with CS base 0, `code` at 0x1000. */
  function realModeVcpu(code: readonly number[] = [0xf4]): { vm: VmFd; vcpu: VcpuFd; memory: GuestMemory } {
    const memory = new addon.GuestMemory(0x10000);
    const vm = kvm.createVm();
    vm.setUserMemoryRegion({ slot: 0, baseGpa: 0, memory });
    const vcpu = vm.createVcpu(0);
    cleanup.push(memory, vm, vcpu);
    vcpu.setSregs(realModeSregs(vcpu.getSregs()));
    new Uint8Array(memory.buffer).set(code, 0x1000);
    vcpu.setRegs(registersAt(0x1000));
    return { vm, vcpu, memory };
  }

  function distinctRegisters(rip: number): Registers {
    const regs = registersAt(rip);
    let value = 0x0102_0304_0506_0708n;
    for (const name of ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const) {
      regs[name] = value;
      value = (value + 0x1111_1111_1111_1111n) & 0xffff_ffff_ffff_ffffn;
    }
    return regs;
  }

  it('KVM_SET_REGS / KVM_GET_REGS round-trip every register, and the run block mirrors them', () => {
    const { vcpu } = realModeVcpu();
    const regs = distinctRegisters(0x1000);
    vcpu.setRegs(regs);
    expect(vcpu.getRegs()).toEqual(regs);
    expect(Array.from(new BigUint64Array(vcpu.runBlock, 0, RUN_BLOCK.regCount))).toEqual(Object.values(regs));
  });

  it('run(true) loads the run block registers through sync_regs and stores them back at the exit', () => {
    const { vcpu } = realModeVcpu([0xf4]); // hlt
    const regs = distinctRegisters(0x1000);
    new BigUint64Array(vcpu.runBlock, 0, RUN_BLOCK.regCount).set(Object.values(regs));
    expect(vcpu.run(true)).toBe(KVM.KVM_EXIT_HLT);
    const after = { ...regs, rip: 0x1001n };
    expect(Array.from(new BigUint64Array(vcpu.runBlock, 0, RUN_BLOCK.regCount))).toEqual(Object.values(after));
    expect(vcpu.getRegs()).toEqual(after); // the vCPU really has them (KVM_GET_REGS)
  });

  it('KVM_SET_SREGS / KVM_GET_SREGS round-trip', () => {
    const { vcpu } = realModeVcpu();
    const sregs: SpecialRegisters = {
      ...vcpu.getSregs(),
      gdt: { base: 0x3000n, limit: 0x27 },
      idt: { base: 0x4000n, limit: 0x3ff },
      cr2: 0x1234_5678n,
    };
    sregs.es = { ...sregs.es, selector: 0x100, base: 0x1000n };
    vcpu.setSregs(sregs);
    expect(vcpu.getSregs()).toEqual(sregs);
  });

  it('stageSregs() applies them in the next KVM_RUN without an ioctl of its own', () => {
    const { vcpu } = realModeVcpu([0xf4]);
    const staged: SpecialRegisters = { ...vcpu.getSregs(), gdt: { base: 0x5000n, limit: 0x17 }, cr2: 0xabcn };
    vcpu.stageSregs(staged);
    expect(vcpu.getSregs()).toEqual(staged); // staged, not yet loaded
    expect(vcpu.run(true)).toBe(KVM.KVM_EXIT_HLT);
    expect(vcpu.getSregs()).toEqual(staged); // now read back with KVM_GET_SREGS
  });

  it('a staged value KVM rejects makes run() throw EINVAL, and is then dropped', () => {
    const { vcpu } = realModeVcpu([0xf4]);
    const good = vcpu.getSregs();
    // CR0.PG without CR0.PE is invalid on every x86 CPU.
    vcpu.stageSregs({ ...good, cr0: (good.cr0 | 0x8000_0000n) & ~1n });
    expect(() => vcpu.run(true)).toThrow(
      expect.objectContaining({ code: 'EINVAL', syscall: 'KVM_RUN', message: expect.stringContaining('stageSregs') }),
    );
    expect(vcpu.getSregs()).toEqual(good);
    vcpu.setRegs(registersAt(0x1000));
    expect(vcpu.run()).toBe(KVM.KVM_EXIT_HLT);
  });

  it('names the bad field when registers are malformed', () => {
    const { vcpu } = realModeVcpu();
    expect(() => vcpu.setRegs({ ...registersAt(0), rdx: 5 } as never)).toThrow(
      expect.objectContaining({ name: 'TypeError', message: 'regs.rdx must be a bigint' }),
    );
    expect(() => vcpu.setRegs({ ...registersAt(0), rdx: -5n })).toThrow(
      expect.objectContaining({ name: 'RangeError', message: 'regs.rdx must be in [0, 2^64)' }),
    );
    const sregs = vcpu.getSregs();
    expect(() => vcpu.setSregs({ ...sregs, cs: { ...sregs.cs, dpl: 4 } })).toThrow('sregs.cs.dpl must be an integer in [0, 3]');
    expect(() => vcpu.stageSregs({ ...sregs, ss: { ...sregs.ss, g: 1 as never } })).toThrow('sregs.ss.g must be a boolean');
  });

  it('KVM_SET_CPUID2 / KVM_GET_CPUID2 round-trip', () => {
    const { vcpu } = realModeVcpu();
    const supported = kvm.getSupportedCpuid();
    vcpu.setCpuid2(supported);
    const stored = vcpu.getCpuid2();
    expect(stored.length).toBe(supported.length);
    expect(stored.find((entry) => entry.function === 0)).toEqual(supported.find((entry) => entry.function === 0));
  });

  it('KVM_SET_XCRS / KVM_GET_XCRS (after CPUID allows more than x87)', () => {
    const { vcpu } = realModeVcpu();
    vcpu.setCpuid2(kvm.getSupportedCpuid());
    vcpu.setXcrs([{ xcr: 0, value: 0x3n }]); // x87 | SSE
    expect(vcpu.getXcrs().find((xcr) => xcr.xcr === 0)?.value).toBe(0x3n);
    expect(() => vcpu.setXcrs([{ xcr: 0, value: 0x2n }])).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'KVM_SET_XCRS' }));
  });

  it('KVM_GET_TSC_KHZ: the guest TSC frequency in kHz, between 100 MHz and 10 GHz', () => {
    const { vcpu } = realModeVcpu();
    const khz = vcpu.getTscKhz();
    expect(Number.isInteger(khz)).toBe(true);
    expect(khz).toBeGreaterThan(100_000);
    expect(khz).toBeLessThan(10_000_000);
  });

  it('KVM_SET_FPU resetFpu() restores FCW 0x37f and MXCSR 0x1f80', () => {
    const { vcpu, memory } = realModeVcpu([
      0xd9, 0x2e, 0x10, 0x30, //       fldcw [0x3010]
      0x0f, 0xae, 0x16, 0x14, 0x30, // ldmxcsr [0x3014]
      0xf4, //                         hlt
      0xd9, 0x3e, 0x00, 0x30, //       fnstcw [0x3000]
      0x0f, 0xae, 0x1e, 0x04, 0x30, // stmxcsr [0x3004]
      0xf4, //                         hlt
    ]);
    const sregs = vcpu.getSregs();
    vcpu.setSregs({ ...sregs, cr4: sregs.cr4 | 0x200n }); // CR4.OSFXSR, so (ld|st)mxcsr are allowed
    const data = new DataView(memory.buffer);
    data.setUint16(0x3010, 0x027f, true);
    data.setUint32(0x3014, 0x3f80, true); // round down instead of to nearest
    expect(vcpu.run()).toBe(KVM.KVM_EXIT_HLT); // FCW and MXCSR changed by the guest
    vcpu.resetFpu();
    expect(vcpu.run()).toBe(KVM.KVM_EXIT_HLT);
    expect(data.getUint16(0x3000, true)).toBe(0x37f);
    expect(data.getUint32(0x3004, true)).toBe(0x1f80);
  });

  it('KVM_GET_XSAVE / KVM_SET_XSAVE carry MXCSR back into the guest', () => {
    const { vcpu, memory } = realModeVcpu([0x0f, 0xae, 0x16, 0x14, 0x30, 0xf4]); // ldmxcsr [0x3014]; hlt
    new Uint8Array(memory.buffer).set([0x0f, 0xae, 0x1e, 0x04, 0x30, 0xf4], 0x1100); // stmxcsr [0x3004]; hlt
    const sregs = vcpu.getSregs();
    vcpu.setSregs({ ...sregs, cr4: sregs.cr4 | 0x200n }); // CR4.OSFXSR
    const data = new DataView(memory.buffer);
    data.setUint32(0x3014, 0x3f80, true);
    expect(vcpu.run()).toBe(KVM.KVM_EXIT_HLT);
    const state = vcpu.getXsave();
    expect(state).toBeInstanceOf(Uint8Array);
    expect(state.byteLength === 416 || state.byteLength >= 4096).toBe(true);
    const storeMxcsr = (): number => {
      vcpu.setRegs(registersAt(0x1100));
      expect(vcpu.run()).toBe(KVM.KVM_EXIT_HLT);
      return data.getUint32(0x3004, true);
    };
    vcpu.resetFpu();
    expect(storeMxcsr()).toBe(0x1f80);
    vcpu.setXsave(state);
    expect(storeMxcsr()).toBe(0x3f80);
    expect(vcpu.getXsave()).toEqual(vcpu.getXsave());

    expect(() => vcpu.setXsave(state.subarray(1))).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    expect(() => vcpu.setXsave(Array.from(state) as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    if (state.byteLength >= 4096) {
      const invalid = state.slice();
      new DataView(invalid.buffer).setUint32(24, 0xffffffff, true); // MXCSR reserved bits
      expect(() => vcpu.setXsave(invalid)).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'KVM_SET_XSAVE' }));
    }
  });

  it('records an io-out exit in the run block', () => {
    const { vcpu } = realModeVcpu([0x66, 0xb8, 0x78, 0x56, 0x34, 0x12, 0x66, 0xe7, 0x10, 0xf4]); // mov eax,0x12345678; out 0x10,eax
    const u32 = new Uint32Array(vcpu.runBlock);
    expect(vcpu.run()).toBe(KVM.KVM_EXIT_IO);
    expect(u32[RUN_BLOCK.exitReasonU32]).toBe(KVM.KVM_EXIT_IO);
    expect(u32[RUN_BLOCK.ioDirectionU32]).toBe(KVM.KVM_EXIT_IO_OUT);
    expect(u32[RUN_BLOCK.ioPortU32]).toBe(0x10);
    expect(u32[RUN_BLOCK.ioSizeU32]).toBe(4);
    expect(u32[RUN_BLOCK.ioCountU32]).toBe(1);
    expect(u32[RUN_BLOCK.ioValueU32]).toBe(0x12345678);
    expect(vcpu.run()).toBe(KVM.KVM_EXIT_HLT);
  });

  it('setImmediateExit(true) makes the next run return KVM_EXIT_INTR without entering the guest, once', () => {
    const { vcpu } = realModeVcpu([0xf4]);
    vcpu.setImmediateExit(true);
    expect(vcpu.run(true)).toBe(KVM.KVM_EXIT_INTR);
    expect(new Uint32Array(vcpu.runBlock)[RUN_BLOCK.exitReasonU32]).toBe(KVM.KVM_EXIT_INTR);
    expect(vcpu.getRegs().rip).toBe(0x1000n); // the guest did not run
    expect(vcpu.run()).toBe(KVM.KVM_EXIT_HLT); // the flag was cleared
    expect(() => vcpu.setImmediateExit(1 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('cancel(code) lands in callState only while a call is open, and sets immediate_exit', () => {
    const { vcpu } = realModeVcpu([0xf4]);
    const word = new Uint32Array(vcpu.callState);
    expect(vcpu.cancelId).toBeGreaterThan(0);
    expect(vcpu.cancel(1)).toBe(false); // no call open
    expect(word[0]).toBe(0);
    Atomics.store(word, 0, (5 << 4) | 1); // call 5 open
    expect(vcpu.cancel(3)).toBe(true);
    expect(vcpu.cancel(1)).toBe(false); // the first reason stays
    expect(word[0]).toBe((5 << 4) | (3 << 1) | 1);
    expect(vcpu.run(true)).toBe(KVM.KVM_EXIT_INTR); // immediate_exit: the guest did not run
    expect(vcpu.getRegs().rip).toBe(0x1000n);
    expect(loadNative().cancelCall(vcpu.cancelId, 1)).toBe(false);
    Atomics.store(word, 0, 6 << 4); // ended; then call 7
    Atomics.store(word, 0, (7 << 4) | 1);
    expect(loadNative().cancelCall(vcpu.cancelId, 2)).toBe(true);
    expect(word[0]).toBe((7 << 4) | (2 << 1) | 1);
    expect(() => vcpu.cancel(0)).toThrow(RangeError);
    expect(() => vcpu.cancel(5)).toThrow(RangeError);
    expect(() => vcpu.armTimeout(0)).toThrow(RangeError);
    Atomics.store(word, 0, 8 << 4);
    expect(() => vcpu.armTimeout(10)).toThrow(/no call is open/);
    const id = vcpu.cancelId;
    vcpu.dispose();
    expect(loadNative().cancelCall(id, 1)).toBe(false); // gone from the registry
    expect(Atomics.load(word, 0)).toBe(8 << 4); // the word outlives the vCPU
  });

  it('runAsync(loadRegs, done) runs on the vCPU thread; meanwhile other members throw ERR_HYPERLIGHT_RUN_PENDING', async () => {
    const { vcpu } = realModeVcpu([0xe6, 0x10, 0xf4]); // out 0x10, al; hlt
    const exits: number[] = [];
    const done = (): Promise<void> =>
      new Promise((resolve, reject) =>
        vcpu.runAsync(true, (error, reason) => {
          if (error) reject(error);
          exits.push(reason);
          resolve();
        }),
      );
    new BigUint64Array(vcpu.runBlock, 0, RUN_BLOCK.regCount).set(Object.values(registersAt(0x1000)));
    const pending = done();
    const busy = expect.objectContaining({ code: 'ERR_HYPERLIGHT_RUN_PENDING' });
    expect(() => vcpu.run()).toThrow(busy);
    expect(() => vcpu.getRegs()).toThrow(busy);
    expect(() => vcpu.runAsync(false, () => {})).toThrow(busy);
    expect(vcpu.cancel(1)).toBe(false); // the call-guard members still work
    await pending;
    expect(exits).toEqual([KVM.KVM_EXIT_IO]);
    expect(new Uint32Array(vcpu.runBlock)[RUN_BLOCK.ioPortU32]).toBe(0x10);
    expect(vcpu.run()).toBe(KVM.KVM_EXIT_HLT); // back on this thread
    expect(() => vcpu.runAsync(false, 'no' as never)).toThrow(TypeError);
  });

  it('closes both of its mappings and its fd on dispose()', () => {
    const memory = new addon.GuestMemory(0x1000);
    const vm = kvm.createVm();
    cleanup.push(memory, vm);
    const before = openFdCount();
    const vcpu = vm.createVcpu(0);
    expect(openFdCount()).toBe(before + 1);
    vcpu.dispose();
    expect(openFdCount()).toBe(before);
  });

  it('every method throws ERR_HYPERLIGHT_DISPOSED after dispose(); dispose() is idempotent', () => {
    const { vcpu } = realModeVcpu();
    vcpu.dispose();
    vcpu.dispose();
    vcpu[Symbol.dispose]();
    const checked = expectEveryMemberDisposed(vcpu, addon.VcpuFd.prototype, 'VcpuFd');
    expect(checked.sort()).toEqual(
      [
        'runBlock', 'run', 'setImmediateExit', 'getRegs', 'setRegs', 'getSregs', 'setSregs', 'stageSregs', 'resetFpu',
        'getCpuid2', 'setCpuid2', 'getXcrs', 'setXcrs', 'getXsave', 'setXsave', 'getTscKhz',
        'runAsync', 'callState', 'cancelId', 'cancel', 'armTimeout', 'setCancelListener',
      ].sort(),
    );
  });
});

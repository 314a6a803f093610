import type { SpecialRegisters } from '@hyperlight-ts/core';
import { FakeCallTarget } from '../../../core/test/support/fake-call-target.js';
import {
  RUN_BLOCK, type GuestMemory, type KvmVirtualMachineParts, type UserMemoryRegion, type VcpuFd, type VmFd,
} from '../../src/index.js';

/** One `run`/`runAsync` of a {@link FakeVcpu}: whether it loaded registers, and the registers in the block. */
export interface FakeRun {
  readonly loadRegs: boolean;
  readonly regs: bigint[];
  readonly async: boolean;
}

/** Plays one guest entry: writes the exit into the block and returns the `KVM_EXIT_*` reason. */
export type ExitScript = (u32: Uint32Array, u64: BigUint64Array, vcpu: FakeVcpu) => number;

/**
 * A stand-in vCPU: core's FakeCallTarget (the addon's side of the call-state
 * word in JavaScript) with a run block and scripted exits, so
 * KvmVirtualMachine is tested without KVM.
 */
export class FakeVcpu extends FakeCallTarget {
  readonly runBlock = new ArrayBuffer(RUN_BLOCK.size);
  readonly runs: FakeRun[] = [];
  readonly disposed: string[];
  /** Throws from runAsync() itself (synchronously) when set. */
  runAsyncThrows: Error | undefined;
  /** runAsync() completes with this error when set. */
  runAsyncFails: Error | undefined;
  /** What stageSregs() was last given; getSregs() answers it. */
  sregs: SpecialRegisters | undefined;
  readonly #u32 = new Uint32Array(this.runBlock);
  readonly #u64 = new BigUint64Array(this.runBlock);

  constructor(readonly script: ExitScript, disposed: string[] = []) {
    super();
    this.disposed = disposed;
  }

  run(loadRegs?: boolean): number {
    this.runs.push({ loadRegs: loadRegs === true, regs: Array.from(this.#u64.subarray(0, RUN_BLOCK.regCount)), async: false });
    return this.#play();
  }

  runAsync(loadRegs: boolean, done: (error: Error | null, exitReason: number) => void): void {
    if (this.runAsyncThrows) throw this.runAsyncThrows;
    this.runs.push({ loadRegs, regs: Array.from(this.#u64.subarray(0, RUN_BLOCK.regCount)), async: true });
    setImmediate(() => {
      if (this.runAsyncFails) done(this.runAsyncFails, 0);
      else done(null, this.#play());
    });
  }

  stageSregs(sregs: SpecialRegisters): void {
    this.sregs = sregs;
  }

  getSregs(): SpecialRegisters {
    if (this.sregs === undefined) throw new Error('no special registers staged');
    return this.sregs;
  }

  dispose(): void {
    this.disposed.push('vcpu');
  }

  #play(): number {
    const reason = this.script(this.#u32, this.#u64, this);
    this.#u32[RUN_BLOCK.exitReasonU32] = reason;
    return reason;
  }
}

/** Stands in for the addon's SnapshotMemory class (only its prototype is checked). */
export class FakeSnapshotMemory {
  constructor(readonly size: number) {}
}

/** Stands in for the addon's GuestMemory: a plain buffer of `memorySize` bytes; `name` is what disposal records. */
export class FakeGuestMemory {
  readonly buffer: ArrayBuffer;
  constructor(
    readonly memorySize: number,
    readonly source: FakeSnapshotMemory | undefined,
    readonly name: string,
    private readonly disposed: string[],
  ) {
    this.buffer = new ArrayBuffer(memorySize);
  }
  dispose(): void {
    this.disposed.push(this.name);
  }
}

/** A VM fd stand-in that records every `setUserMemoryRegion` and can be told to refuse the next ones. */
export interface FakeVm {
  readonly slotCalls: UserMemoryRegion[];
  /** setUserMemoryRegion throws this when set. */
  refuse: Error | undefined;
}

/**
 * The parts of a KvmVirtualMachine around a {@link FakeVcpu} with 4096 bytes
 * of main memory; `disposed` records the order of disposal (`region memory
 * <n>` for the n-th region's memory).
 */
export function fakeParts(script: ExitScript, options: { availableTss?: boolean } = {}) {
  const disposed: string[] = [];
  const fake = new FakeVcpu(script, disposed);
  const fakeVm: FakeVm = { slotCalls: [], refuse: undefined };
  const vm = {
    dispose: () => disposed.push('vm'),
    setUserMemoryRegion: (region: UserMemoryRegion) => {
      if (fakeVm.refuse) throw fakeVm.refuse;
      fakeVm.slotCalls.push(region);
    },
  } as unknown as VmFd;
  const memory = new FakeGuestMemory(4096, undefined, 'memory', disposed) as unknown as GuestMemory;
  let made = 0;
  const addon = {
    SnapshotMemory: FakeSnapshotMemory,
    GuestMemory: class extends FakeGuestMemory {
      constructor(size: number, source?: FakeSnapshotMemory) {
        super(size, source, `region memory ${++made}`, disposed);
      }
    },
  } as unknown as KvmVirtualMachineParts['addon'];
  const parts: KvmVirtualMachineParts = {
    addon, memory, vm, vcpu: fake as unknown as VcpuFd, xsaveEnabled: true, availableTss: options.availableTss ?? false,
  };
  return { fake, fakeVm, disposed, parts };
}

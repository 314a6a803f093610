/**
 * The `VirtualMachine` core drives: one VM, one vCPU, main memory in slot 0
 * at guest-physical 0 and one slot per mapped region. Registers travel through
 * the vCPU's run block, so `setRegisters`, `getRegisters` and the registers
 * passed to `run` cost no ioctl and `run` is one call into the addon.
 *
 *   created --run()--> exited --run()--> ... --dispose()--> disposed (every method throws)
 *   exited --runAsync()--> pending (only callGuard and dispose) --promise settles--> exited
 *   pending --dispose()--> run stopped, thread joined, promise resolves `cancelled`
 *
 * Cancels ({@link CallStateGuard}) land in the vCPU's call-state word; `run`
 * looks at it before entering the guest and after every interrupted
 * `KVM_RUN`, and re-enters after interruptions that carry no reason.
 *
 * Memory: own memfd --snapshotMemory()--> copy-on-write over that snapshot
 * --restoreMemory(it)--> private pages discarded (see GuestMemory in native.ts).
 *
 * Every native call's system error leaves this class as a {@link KvmError}.
 */
import type {
  MemorySnapshot, RegionOptions, Registers, SpecialRegisters, VirtualMachine, VmExit,
} from '@hyperlight-ts/core';
import { assertVmIdle, CallStateGuard, checkRegionRange } from '@hyperlight-ts/core/backend';
import type { GuestMemory, SnapshotMemory } from '@hyperlight-ts/native-linux';
import { KVM, KVM_EXIT_NAMES, KVM_INTERNAL_ERROR_NAMES, KVM_MEM } from './kvm-constants.js';
import { asKvmError, kvmCall } from './kvm-error.js';
import { KvmGuestRegion } from './kvm-guest-region.js';
import { kvmSnapshot } from './kvm-snapshot.js';
import type { NativeAddon, VcpuFd, VmFd } from './native.js';
import { RUN_BLOCK } from './run-block.js';

const HALT: VmExit = Object.freeze({ kind: 'halt' });
const TRIPLE_FAULT: VmExit = Object.freeze({ kind: 'triple-fault' });
const CANCELLED: VmExit = Object.freeze({ kind: 'cancelled' });

/** Main memory's KVM slot; regions take the lowest free slot above it. */
const MAIN_SLOT = 0;
/** 64-bit TSS types (SDM Vol. 3A §3.5, Table 3-2): core always loads TR busy. */
const TSS_BUSY_TYPE = 0xb;
const TSS_AVAILABLE_TYPE = 0x9;

interface PendingRun {
  readonly resolve: (exit: VmExit) => void;
  readonly reject: (error: unknown) => void;
}

/** The native objects a {@link KvmVirtualMachine} owns, created by `backend.createVm`. */
export interface KvmVirtualMachineParts {
  /** The addon's memory classes, for {@link KvmVirtualMachine.mapRegion}. */
  readonly addon: Pick<NativeAddon, 'GuestMemory' | 'SnapshotMemory'>;
  /** Main memory, already in slot 0 at guest-physical 0. */
  readonly memory: GuestMemory;
  readonly vm: VmFd;
  readonly vcpu: VcpuFd;
  /** Whether XCR0 was set from CPUID leaf 0xD (core then sets CR4.OSXSAVE). */
  readonly xsaveEnabled: boolean;
  /**
   * Load TR as an *available* 64-bit TSS (type 0x9) instead of the busy one
   * (0xB) core asks for. For AMD hosts: SVM does not check TR's type, and
   * QEMU's emulation (TCG, e.g. `tools/kvm-vm`) accepts no other type in its
   * I/O permission check (QEMU target/i386/tcg seg_helper.c, `check_io`), so
   * with a busy TR every guest `out` raises #GP there. Never on Intel: VMX
   * refuses to enter a 64-bit guest whose TR is not busy (SDM Vol. 3C, "Checks
   * on Guest Segment Registers").
   */
  readonly availableTss: boolean;
}

/** A KVM-backed {@link VirtualMachine}; created by `backend.createVm()`. */
export class KvmVirtualMachine implements VirtualMachine {
  /** Guest memory at guest-physical 0, zero-copy; detached (length 0) after dispose. */
  readonly memory: ArrayBuffer;
  readonly xsaveEnabled: boolean;
  /** Brackets guest calls so they can be cancelled from any thread or by a timeout. */
  readonly callGuard: CallStateGuard;
  readonly #addon: Pick<NativeAddon, 'GuestMemory' | 'SnapshotMemory'>;
  readonly #availableTss: boolean;
  readonly #guestMemory: GuestMemory;
  /** Bytes of main memory. */
  readonly #memorySize: number;
  /** Mapped regions by KVM slot. */
  readonly #regions = new Map<number, KvmGuestRegion>();
  readonly #vm: VmFd;
  readonly #vcpu: VcpuFd;
  /** The run block as uint64 words (registers, 64-bit exit fields). */
  readonly #words: BigUint64Array;
  /** The run block as uint32 words (exit reason and 32-bit exit fields). */
  readonly #halfWords: Uint32Array;
  /** The run block holds registers written by setRegisters() that the vCPU has not loaded. */
  #registersPending = false;
  /** The runAsync() in progress. */
  #pending: PendingRun | undefined;
  #disposed = false;
  /** {@link tscFrequencyHz} once read; null before the first read. */
  #tscFrequencyHz: number | undefined | null = null;

  /** Takes ownership of `parts`; use `backend.createVm()` instead. */
  constructor(parts: KvmVirtualMachineParts) {
    this.#addon = parts.addon;
    this.#guestMemory = parts.memory;
    this.#vm = parts.vm;
    this.#vcpu = parts.vcpu;
    this.xsaveEnabled = parts.xsaveEnabled;
    this.#availableTss = parts.availableTss;
    this.memory = parts.memory.buffer;
    this.#memorySize = this.memory.byteLength;
    const block = parts.vcpu.runBlock;
    this.#words = new BigUint64Array(block, 0, RUN_BLOCK.size / 8);
    this.#halfWords = new Uint32Array(block, 0, RUN_BLOCK.size / 4);
    this.callGuard = new CallStateGuard('kvm', parts.vcpu, new Uint32Array(parts.vcpu.callState));
  }

  /**
   * The guest's TSC frequency in Hz (`KVM_GET_TSC_KHZ` times 1000), read on
   * first use; undefined when KVM does not report it.
   * @throws Error `ERR_HYPERLIGHT_DISPOSED` after dispose (before the first read).
   */
  get tscFrequencyHz(): number | undefined {
    if (this.#tscFrequencyHz === null) {
      this.#assertIdle('tscFrequencyHz');
      let khz = 0;
      try {
        khz = this.#vcpu.getTscKhz();
      } catch {
        // EIO and the like: KVM does not know the frequency, which is what undefined says.
      }
      this.#tscFrequencyHz = khz > 0 ? khz * 1000 : undefined;
    }
    return this.#tscFrequencyHz;
  }

  /**
   * Reads the special registers (`KVM_GET_SREGS`, or the values staged for
   * the next run). TR reads as busy (0xB) where the host loads it available.
   * @throws Error `ERR_HYPERLIGHT_DISPOSED` after dispose; KvmError when the ioctl fails.
   */
  getSpecialRegisters(): SpecialRegisters {
    this.#assertIdle('getSpecialRegisters');
    const sregs = kvmCall(() => this.#vcpu.getSregs());
    return this.#availableTss ? withTrType(sregs, TSS_AVAILABLE_TYPE, TSS_BUSY_TYPE) : sregs;
  }

  /**
   * Stages the special registers; the next `run` loads them in the same
   * `KVM_RUN` (sync_regs), so this costs no ioctl. Values KVM rejects make that
   * `run` throw KvmError EINVAL. A busy TR is loaded available on AMD hosts
   * ({@link KvmVirtualMachineParts.availableTss}).
   * @throws TypeError/RangeError for a malformed field; Error `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  setSpecialRegisters(sregs: SpecialRegisters): void {
    this.#assertIdle('setSpecialRegisters');
    const staged = this.#availableTss ? withTrType(sregs, TSS_BUSY_TYPE, TSS_AVAILABLE_TYPE) : sregs;
    kvmCall(() => this.#vcpu.stageSregs(staged));
  }

  /**
   * The general registers at the last exit (or as last set); no ioctl.
   * @throws Error `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  getRegisters(): Registers {
    this.#assertIdle('getRegisters');
    const w = this.#words;
    const i = RUN_BLOCK.regsU64;
    // A literal (not a loop over names) keeps one object shape and no dictionary mode.
    return {
      rax: w[i]!, rbx: w[i + 1]!, rcx: w[i + 2]!, rdx: w[i + 3]!,
      rsi: w[i + 4]!, rdi: w[i + 5]!, rsp: w[i + 6]!, rbp: w[i + 7]!,
      r8: w[i + 8]!, r9: w[i + 9]!, r10: w[i + 10]!, r11: w[i + 11]!,
      r12: w[i + 12]!, r13: w[i + 13]!, r14: w[i + 14]!, r15: w[i + 15]!,
      rip: w[i + 16]!, rflags: w[i + 17]!,
    };
  }

  /**
   * Sets the general registers, loaded by the next `run` in the same `KVM_RUN`; no ioctl.
   * Values are taken modulo 2^64.
   * @throws TypeError when a field is not a bigint; Error `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  setRegisters(regs: Registers): void {
    this.#assertIdle('setRegisters');
    this.#writeRegisters(regs);
    this.#registersPending = true;
  }

  /**
   * The x87/SSE/AVX state: the vCPU's XSAVE area (`KVM_GET_XSAVE2`), or a
   * `struct kvm_fpu` where KVM lacks XSAVE support.
   * @throws Error `ERR_HYPERLIGHT_DISPOSED` after dispose; KvmError when the ioctl fails.
   */
  getFpuState(): Uint8Array {
    this.#assertIdle('getFpuState');
    return kvmCall(() => this.#vcpu.getXsave());
  }

  /**
   * Loads state returned by `getFpuState()` of a VM on this machine (`KVM_SET_XSAVE`).
   * @throws TypeError unless `state` is a Uint8Array; RangeError when its length
   *   is not this KVM's XSAVE size (state from another machine); KvmError
   *   (EINVAL) when KVM refuses its contents; Error `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  setFpuState(state: Uint8Array): void {
    this.#assertIdle('setFpuState');
    kvmCall(() => this.#vcpu.setXsave(state));
  }

  /**
   * Copies guest memory into a new sealed memfd (only pages that can hold
   * data; zero pages stay holes) and continues copy-on-write over it.
   * @throws KvmError when the copy cannot be made; Error `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  snapshotMemory(): MemorySnapshot {
    this.#assertIdle('snapshotMemory');
    return kvmCall(() => this.#guestMemory.snapshot());
  }

  /**
   * Makes guest memory equal to `snapshot`: over the snapshot it already runs
   * on, only the pages written since are discarded (found in the kernel's page
   * tables, not in anything the guest can write); over another, the memory is
   * remapped. KVM drops its stale translations through the kernel's MMU
   * notifiers. Not while the vCPU runs (it never does between calls here).
   * @throws TypeError when `snapshot` is not one of this backend's snapshots;
   *   RangeError when its size differs; KvmError; Error
   *   `ERR_HYPERLIGHT_DISPOSED` after dispose (of the VM or the snapshot).
   */
  restoreMemory(snapshot: MemorySnapshot): void {
    this.#assertIdle('restoreMemory');
    kvmCall(() => this.#guestMemory.restore(snapshot as SnapshotMemory));
  }

  /**
   * Pages of guest memory held privately (see {@link VirtualMachine.privatePageCount}).
   * @throws KvmError when `/proc/self/pagemap` cannot be read; Error `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  privatePageCount(): number {
    this.#assertIdle('privatePageCount');
    return kvmCall(() => this.#guestMemory.privatePageCount());
  }

  /**
   * Maps `options.size` bytes at `options.gpa` in a new KVM slot (the lowest
   * free one), backed by a new memory of their own: zeroed, or
   * `options.source` mapped copy-on-write. `readOnly` sets `KVM_MEM_READONLY`.
   * @throws RangeError (`ERR_OUT_OF_RANGE`) for an unaligned or overlapping
   *   range, or a source of another size; TypeError (`ERR_INVALID_ARG_TYPE`)
   *   for another backend's snapshot; KvmError when KVM refuses the slot (e.g.
   *   no free slot); Error `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  mapRegion(options: RegionOptions): KvmGuestRegion {
    this.#assertIdle('mapRegion');
    const { gpa, size } = checkRegionRange(options, this.#memorySize, this.#regions.values());
    const readOnly = options.readOnly === true;
    const source = options.source === undefined ? undefined : kvmSnapshot(this.#addon, options.source, size, 'source');
    let slot = MAIN_SLOT + 1;
    while (this.#regions.has(slot)) slot++;
    const memory = kvmCall(() => new this.#addon.GuestMemory(size, source));
    try {
      kvmCall(() => this.#vm.setUserMemoryRegion({ slot, baseGpa: gpa, memory, flags: readOnly ? KVM_MEM.KVM_MEM_READONLY : 0 }));
    } catch (error) {
      memory.dispose();
      throw error;
    }
    const region = new KvmGuestRegion(gpa, size, readOnly, slot, memory, this.#unmapRegion);
    this.#regions.set(slot, region);
    return region;
  }

  /**
   * Runs the vCPU until the next exit, first loading `regs` (and anything set
   * with `setRegisters`/`setSpecialRegisters`) in the same `KVM_RUN`.
   * After an `io-out`/`io-in` exit, `rip` still points at the `out`/`in`; the
   * next `run` completes that instruction unless `rip` was changed.
   *
   * Returns `cancelled` when the open call is cancelled: at once, without
   * entering the guest (and without loading `regs`), when it already was;
   * otherwise as soon as the cancel interrupts `KVM_RUN`, and also when the
   * guest exited by itself but the cancel came before `run` returned (the
   * exit is dropped: no host function runs for a cancelled call). A cancel
   * after `run` returned shows in `callGuard.end()`. A `KVM_RUN` interrupted
   * for no cancel (a stray signal, a kick meant for an earlier call) is
   * simply re-entered.
   * @throws KvmError (`syscall: 'KVM_RUN'`) when KVM fails; TypeError when a
   *   register is not a bigint; Error `ERR_HYPERLIGHT_RUN_PENDING` while a
   *   `runAsync` is pending; Error `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  run(regs?: Registers): VmExit {
    this.#assertIdle('run');
    if (this.callGuard.cancelled) return CANCELLED;
    if (regs !== undefined) this.#writeRegisters(regs);
    const loadRegisters = regs !== undefined || this.#registersPending;
    this.#registersPending = false;
    // One try around the loop (no closure per run): run() is the hot path.
    try {
      let reason = this.#vcpu.run(loadRegisters);
      for (;;) {
        if (this.callGuard.cancelled) return CANCELLED;
        if (reason !== KVM.KVM_EXIT_INTR) return this.#decodeExit(reason);
        // Back in JavaScript between runs: where a worker's terminate() takes
        // effect. Registers an interrupted run did not load stay staged in the addon.
        reason = this.#vcpu.run(false);
      }
    } catch (error) {
      throw asKvmError(error);
    }
  }

  /**
   * {@link run} on the vCPU's own thread (created on first use, then reused),
   * so this thread's event loop keeps running; the pending run keeps the
   * event loop alive. While it is pending only `callGuard` and `dispose` may
   * be used; `dispose()` stops it and the promise resolves with `cancelled`.
   * As with `run`, an exit that arrives after the call was cancelled (here:
   * before the promise settles) resolves `cancelled`.
   * @returns a promise of the exit; it rejects with the errors `run` throws.
   */
  runAsync(regs?: Registers): Promise<VmExit> {
    try {
      this.#assertIdle('runAsync');
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.callGuard.cancelled) return Promise.resolve(CANCELLED);
    return new Promise<VmExit>((resolve, reject) => {
      if (regs !== undefined) this.#writeRegisters(regs);
      const loadRegisters = regs !== undefined || this.#registersPending;
      this.#registersPending = false;
      this.#pending = { resolve, reject };
      try {
        this.#vcpu.runAsync(loadRegisters, this.#onAsyncDone);
      } catch (error) {
        this.#pending = undefined;
        reject(asKvmError(error));
      }
    });
  }

  /**
   * Releases the vCPU, the VM, main memory and every region (every fd closes
   * now). The open call, if any, is cancelled with `'disposed'`; a pending
   * `runAsync` is stopped (its thread joined) and resolves with `cancelled`.
   * Idempotent.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.callGuard.cancel('disposed');
    const pending = this.#pending;
    this.#pending = undefined;
    this.#vcpu.dispose();
    this.#vm.dispose();
    this.#guestMemory.dispose();
    // The VM is gone, and its slots with it.
    for (const region of this.#regions.values()) region.release();
    this.#regions.clear();
    this.callGuard.release();
    pending?.resolve(CANCELLED);
  }

  /** Same as {@link KvmVirtualMachine.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Throws after dispose and while a runAsync is pending. */
  #assertIdle(method: string): void {
    assertVmIdle(method, this.#disposed, this.#pending !== undefined);
  }

  /** A region's dispose(): deletes its slot (KVM takes size 0 as deletion). */
  readonly #unmapRegion = (region: KvmGuestRegion): void => {
    this.#assertIdle('GuestRegion.dispose');
    kvmCall(() => this.#vm.setUserMemoryRegion({ slot: region.slot, baseGpa: region.gpa, memory: region.guestMemory, memorySize: 0 }));
    this.#regions.delete(region.slot);
  };

  /** Whether any slot maps guest-physical `gpa`. */
  #isMapped(gpa: bigint): boolean {
    if (gpa < BigInt(this.#memorySize)) return true;
    for (const region of this.#regions.values()) {
      if (gpa >= region.gpa && gpa < region.gpa + BigInt(region.size)) return true;
    }
    return false;
  }

  /** The addon's end of a runAsync(), on this thread's event loop. */
  readonly #onAsyncDone = (error: Error | null, reason: number): void => {
    const pending = this.#pending;
    if (pending === undefined) return; // dispose() settled it already
    if (error !== null) {
      this.#pending = undefined;
      pending.reject(asKvmError(error));
      return;
    }
    const cancelled = this.callGuard.cancelled;
    if (reason === KVM.KVM_EXIT_INTR && !cancelled) {
      // The addon retries stray interruptions itself; run on if one gets here.
      try {
        this.#vcpu.runAsync(false, this.#onAsyncDone);
      } catch (runError) {
        this.#pending = undefined;
        pending.reject(asKvmError(runError));
      }
      return;
    }
    this.#pending = undefined;
    pending.resolve(cancelled ? CANCELLED : this.#decodeExit(reason));
  };

  #writeRegisters(regs: Registers): void {
    const w = this.#words;
    const i = RUN_BLOCK.regsU64;
    w[i] = regs.rax; w[i + 1] = regs.rbx; w[i + 2] = regs.rcx; w[i + 3] = regs.rdx;
    w[i + 4] = regs.rsi; w[i + 5] = regs.rdi; w[i + 6] = regs.rsp; w[i + 7] = regs.rbp;
    w[i + 8] = regs.r8; w[i + 9] = regs.r9; w[i + 10] = regs.r10; w[i + 11] = regs.r11;
    w[i + 12] = regs.r12; w[i + 13] = regs.r13; w[i + 14] = regs.r14; w[i + 15] = regs.r15;
    w[i + 16] = regs.rip; w[i + 17] = regs.rflags;
  }

  #decodeExit(reason: number): VmExit {
    const h = this.#halfWords;
    switch (reason) {
      case KVM.KVM_EXIT_IO: {
        const port = h[RUN_BLOCK.ioPortU32]!;
        const size = h[RUN_BLOCK.ioSizeU32]!;
        if (h[RUN_BLOCK.ioDirectionU32] === KVM.KVM_EXIT_IO_OUT) {
          return { kind: 'io-out', port, size, value: h[RUN_BLOCK.ioValueU32]! };
        }
        return { kind: 'io-in', port, size };
      }
      case KVM.KVM_EXIT_MMIO: {
        // KVM exits with MMIO for guest-physical addresses no slot backs and
        // for writes to a KVM_MEM_READONLY slot; which one, only the slots tell.
        const gpa = this.#words[RUN_BLOCK.mmioGpaU64]!;
        const access = h[RUN_BLOCK.mmioIsWriteU32] !== 0 ? 'write' : 'read';
        return { kind: 'memory-fault', gpa, access, unmapped: !this.#isMapped(gpa) };
      }
      case KVM.KVM_EXIT_HLT:
        return HALT;
      case KVM.KVM_EXIT_SHUTDOWN:
        return TRIPLE_FAULT;
      case KVM.KVM_EXIT_INTERNAL_ERROR:
        return { kind: 'hypervisor-error', detail: this.#internalErrorDetail() };
      case KVM.KVM_EXIT_FAIL_ENTRY: {
        const hardwareReason = this.#words[RUN_BLOCK.failEntryReasonU64]!;
        return {
          kind: 'invalid-state',
          detail: `KVM_EXIT_FAIL_ENTRY: hardware_entry_failure_reason 0x${hardwareReason.toString(16)} on cpu ${h[RUN_BLOCK.failEntryCpuU32]}`,
        };
      }
      default:
        return { kind: 'unknown', detail: `KVM exit reason ${reason}${nameSuffix(KVM_EXIT_NAMES.get(reason))}` };
    }
  }

  #internalErrorDetail(): string {
    const h = this.#halfWords;
    const suberror = h[RUN_BLOCK.internalSuberrorU32]!;
    const ndata = h[RUN_BLOCK.internalNdataU32]!;
    const shown = Math.min(ndata, RUN_BLOCK.internalDataCount);
    const data = Array.from({ length: shown }, (_, k) => `0x${this.#words[RUN_BLOCK.internalDataU64 + k]!.toString(16)}`);
    const more = ndata > shown ? `, +${ndata - shown} more` : '';
    return (
      `KVM_EXIT_INTERNAL_ERROR: suberror ${suberror}${nameSuffix(KVM_INTERNAL_ERROR_NAMES.get(suberror))}` +
      (shown > 0 ? `, data [${data.join(', ')}${more}]` : '')
    );
  }
}

/** `sregs` with TR's type `to` where it is `from`. */
function withTrType(sregs: SpecialRegisters, from: number, to: number): SpecialRegisters {
  return sregs.tr.type === from ? { ...sregs, tr: { ...sregs.tr, type: to } } : sregs;
}

function nameSuffix(name: string | undefined): string {
  return name === undefined ? '' : ` (${name})`;
}

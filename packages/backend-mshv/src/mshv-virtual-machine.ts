/**
 * The `VirtualMachine` core drives on MSHV: one partition, one VP, main memory
 * at guest-physical 0 and any regions added with `mapRegion`.
 *
 *   created --run()--> exited --run()--> ... --dispose()--> disposed (every method throws)
 *   exited --runAsync()--> pending (only callGuard and dispose) --promise settles--> exited
 *
 * Registers: while the VP's register page is valid (the hypervisor sets it
 * after an intercept) the general registers are read and written there, and
 * the hypervisor loads written groups (dirty bits) on the next run, with no
 * hypercall; otherwise `HVCALL_GET/SET_VP_REGISTERS`. Special registers always
 * use hypercalls. After a port-I/O exit this class moves RIP past the
 * instruction (and zeroes what an `in` read), which MSHV leaves to the VMM.
 *
 * Cancels ({@link CallStateGuard}) land in the VP's call-state word;
 * `run` looks at it before entering and after every return of `MSHV_RUN_VP`,
 * and re-enters after interruptions that carry no reason.
 */
import {
  assertVmIdle, CallStateGuard, checkRegionRange, type GuestRegion, type MemorySnapshot, type RegionOptions, type Registers,
  type SpecialRegisters, type VirtualMachine, type VmExit,
} from '@hyperlight-ts/core/backend';
import { GuestMapping } from './guest-mapping.js';
import { decodeMessage, type ResumeState } from './hv-message.js';
import {
  decodeRegisters, decodeSpecialRegisters, encodeRegisters, encodeSpecialRegisters, GENERAL_REGISTER_LIST,
  GENERAL_REGISTER_NAMES, SPECIAL_REGISTER_NAMES, u64Value,
} from './hv-registers.js';
import { getVpRegisters, type RegisterAssoc, setVpRegisters } from './hvcall.js';
import { HV_REGISTER, HVMSG, REGISTER_PAGE } from './mshv-abi.js';
import { asMshvError } from './mshv-error.js';
import type { MshvPartition, MshvSurface, MshvVp, SnapshotMemory } from './mshv-ioctls.js';
import { vpXsaveState, setVpXsaveState } from './vp-state.js';

/** The VP's index in its partition (one VP per VM). */
export const VP_INDEX = 0;

const CANCELLED: VmExit = Object.freeze({ kind: 'cancelled' });

/** Register page order of the 16 general registers from offset `gprs`. */
const PAGE_GPR_ORDER: readonly (keyof Registers)[] = [
  'rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
];

interface PendingRun {
  readonly resolve: (exit: VmExit) => void;
  readonly reject: (error: unknown) => void;
}

/** The objects an {@link MshvVirtualMachine} owns, made by `backend.createVm`. */
export interface MshvVirtualMachineParts {
  readonly surface: MshvSurface;
  readonly partition: MshvPartition;
  readonly vp: MshvVp;
  /** Main memory at guest-physical 0, already mapped. */
  readonly main: GuestMapping;
  readonly xsaveEnabled: boolean;
  readonly tscFrequencyHz: number | undefined;
}

/** An MSHV-backed {@link VirtualMachine}; created by `backend.createVm()`. */
export class MshvVirtualMachine implements VirtualMachine {
  /** Main memory, zero-copy; detached (length 0) after dispose. */
  readonly memory: ArrayBuffer;
  readonly xsaveEnabled: boolean;
  readonly tscFrequencyHz: number | undefined;
  /** Brackets guest calls so they can be cancelled from any thread or by a timeout. */
  readonly callGuard: CallStateGuard;
  readonly #surface: MshvSurface;
  readonly #partition: MshvPartition;
  readonly #vp: MshvVp;
  readonly #main: GuestMapping;
  readonly #message: DataView;
  readonly #page: DataView | null;
  readonly #regions = new Set<GuestMapping>();
  #pending: PendingRun | undefined;
  #disposed = false;

  /** Takes ownership of `parts`; use `backend.createVm()` instead. */
  constructor(parts: MshvVirtualMachineParts) {
    this.#surface = parts.surface;
    this.#partition = parts.partition;
    this.#vp = parts.vp;
    this.#main = parts.main;
    this.xsaveEnabled = parts.xsaveEnabled;
    this.tscFrequencyHz = parts.tscFrequencyHz;
    this.memory = parts.main.memory.buffer;
    this.#message = new DataView(parts.vp.message);
    this.#page = parts.vp.registerPage === null ? null : new DataView(parts.vp.registerPage);
    this.callGuard = new CallStateGuard('mshv', parts.vp, new Uint32Array(parts.vp.callState));
  }

  /**
   * Reads the special registers (one hypercall). Segments report `unusable` as `!present`.
   * @throws MshvError; Error `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  getSpecialRegisters(): SpecialRegisters {
    this.#assertIdle('getSpecialRegisters');
    return decodeSpecialRegisters(getVpRegisters(this.#vp, VP_INDEX, SPECIAL_REGISTER_NAMES));
  }

  /**
   * Writes the special registers (one hypercall; `apicBase` and `unusable` are ignored).
   * @throws TypeError/RangeError for a malformed field; MshvError; Error `ERR_HYPERLIGHT_DISPOSED`.
   */
  setSpecialRegisters(sregs: SpecialRegisters): void {
    this.#assertIdle('setSpecialRegisters');
    setVpRegisters(this.#vp, VP_INDEX, encodeSpecialRegisters(sregs));
  }

  /**
   * The general registers at the last exit (or as last set): from the register page when it is valid, else one hypercall.
   * @throws MshvError; Error `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  getRegisters(): Registers {
    this.#assertIdle('getRegisters');
    const page = this.#validPage();
    if (page === null) return decodeRegisters(getVpRegisters(this.#vp, VP_INDEX, GENERAL_REGISTER_LIST));
    const regs = {} as Registers;
    PAGE_GPR_ORDER.forEach((key, i) => { regs[key] = page.getBigUint64(REGISTER_PAGE.gprs + 8 * i, true); });
    regs.rip = page.getBigUint64(REGISTER_PAGE.rip, true);
    regs.rflags = page.getBigUint64(REGISTER_PAGE.rflags, true);
    return regs;
  }

  /**
   * Writes the general registers for the next run (register page, else one hypercall).
   * @throws TypeError when a field is not a bigint; MshvError; Error `ERR_HYPERLIGHT_DISPOSED`.
   */
  setRegisters(regs: Registers): void {
    this.#assertIdle('setRegisters');
    this.#loadRegisters(regs);
  }

  /**
   * The VP's XSAVE area in compacted form (`MSHV_GET_VP_STATE`), a multiple of 4096 bytes.
   * @throws MshvError; Error `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  getFpuState(): Uint8Array {
    this.#assertIdle('getFpuState');
    return vpXsaveState(this.#vp);
  }

  /**
   * Loads state from `getFpuState()` (`MSHV_SET_VP_STATE`).
   * @throws TypeError unless a Uint8Array; RangeError unless a positive multiple of 4096 bytes; MshvError.
   */
  setFpuState(state: Uint8Array): void {
    this.#assertIdle('setFpuState');
    setVpXsaveState(this.#vp, state);
  }

  /**
   * Copies main memory into a new snapshot and continues copy-on-write over it.
   * The range is unmapped from the partition meanwhile, so pinning kernels see the remapped memory.
   * @throws MshvError; a system error when the copy cannot be made; Error `ERR_HYPERLIGHT_DISPOSED`.
   */
  snapshotMemory(): MemorySnapshot {
    this.#assertIdle('snapshotMemory');
    return this.#main.whileUnmapped(() => this.#main.memory.snapshot());
  }

  /**
   * Makes main memory equal to `snapshot`: unmaps it from the partition,
   * resets the host memory (private pages discarded, or remapped), maps it again.
   * @throws TypeError for another backend's snapshot; RangeError for another size; MshvError; a system error.
   */
  restoreMemory(snapshot: MemorySnapshot): void {
    this.#assertIdle('restoreMemory');
    const own = this.#ownSnapshot(snapshot, this.#main.memory.memorySize, 'snapshot');
    this.#main.whileUnmapped(() => this.#main.memory.restore(own));
  }

  /**
   * Pages of main memory held privately; on kernels that pin guest memory, every page the VM mapped (an upper bound).
   * @throws a system error when `/proc/self/pagemap` cannot be read; Error `ERR_HYPERLIGHT_DISPOSED`.
   */
  privatePageCount(): number {
    this.#assertIdle('privatePageCount');
    return this.#main.memory.privatePageCount();
  }

  /**
   * Maps another region (`MSHV_SET_GUEST_MEMORY`; read-only = without the WRITABLE flag).
   * @throws RangeError for an unaligned or overlapping range or a source of another size;
   *   TypeError for a gpa that is not a bigint or another backend's snapshot; MshvError when the kernel refuses.
   */
  mapRegion(options: RegionOptions): GuestRegion {
    this.#assertIdle('mapRegion');
    const regions = [...this.#regions].map((mapping) => ({ gpa: mapping.gpa, size: mapping.memory.memorySize }));
    const { gpa, size } = checkRegionRange(options, this.#main.memory.memorySize, regions);
    const source = options.source === undefined ? undefined : this.#ownSnapshot(options.source, size, 'source');
    const memory = this.#surface.createGuestMemory(size, source);
    const mapping = new GuestMapping(this.#partition, memory, gpa, options.readOnly === true);
    try {
      mapping.map();
    } catch (error) {
      memory.dispose();
      throw error;
    }
    this.#regions.add(mapping);
    return this.#region(mapping);
  }

  /**
   * Runs the VP until the next exit, first loading `regs`. After `io-out`/`io-in`
   * RIP is already past the instruction. Returns `cancelled` when the open
   * call is (or gets) cancelled; the exit that raced with the cancel is dropped.
   * @throws MshvError (`MSHV_RUN_VP`, or a register hypercall); TypeError for a
   *   bad register; Error `ERR_HYPERLIGHT_RUN_PENDING`/`ERR_HYPERLIGHT_DISPOSED`.
   */
  run(regs?: Registers): VmExit {
    this.#assertIdle('run');
    if (this.callGuard.cancelled) return CANCELLED;
    if (regs !== undefined) this.#loadRegisters(regs);
    for (;;) {
      let messageType: number;
      try {
        messageType = this.#vp.run();
      } catch (error) {
        throw asMshvError('MSHV_RUN_VP', error);
      }
      if (this.callGuard.cancelled) return CANCELLED;
      if (messageType !== HVMSG.NONE) return this.#finishExit();
      // A signal with no cancel reason (the worker watchdog, a stray one): back in JS, then on.
    }
  }

  /**
   * {@link run} on the VP's own thread, so this thread's event loop keeps
   * running. While pending only `callGuard` and `dispose` may be used;
   * `dispose()` stops it and the promise resolves with `cancelled`.
   * @returns a promise of the exit; it rejects with the errors `run` throws.
   */
  runAsync(regs?: Registers): Promise<VmExit> {
    try {
      this.#assertIdle('runAsync');
      if (this.callGuard.cancelled) return Promise.resolve(CANCELLED);
      if (regs !== undefined) this.#loadRegisters(regs);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<VmExit>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#startAsync(reject);
    });
  }

  /**
   * Releases the VP, the partition, main memory and every region. The open
   * call is cancelled with `'disposed'`; a pending `runAsync` is stopped and
   * resolves with `cancelled`. Idempotent.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.callGuard.cancel('disposed');
    const pending = this.#pending;
    this.#pending = undefined;
    this.#vp.dispose();
    for (const region of this.#regions) region.memory.dispose();
    this.#regions.clear();
    this.#partition.dispose();
    this.#main.memory.dispose();
    this.callGuard.release();
    pending?.resolve(CANCELLED);
  }

  /** Same as {@link MshvVirtualMachine.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #region(mapping: GuestMapping): GuestRegion {
    const dispose = (): void => {
      if (!this.#regions.delete(mapping)) return;
      try {
        mapping.unmap();
      } finally {
        mapping.memory.dispose();
      }
    };
    return {
      gpa: mapping.gpa,
      size: mapping.memory.memorySize,
      readOnly: mapping.readOnly,
      memory: mapping.memory.buffer,
      dispose,
      [Symbol.dispose]: dispose,
    };
  }

  #startAsync(reject: (error: unknown) => void): void {
    try {
      this.#vp.runAsync(this.#onAsyncDone);
    } catch (error) {
      this.#pending = undefined;
      reject(asMshvError('MSHV_RUN_VP', error));
    }
  }

  /** The addon's end of a runAsync(), on this thread's event loop. */
  readonly #onAsyncDone = (error: Error | null, messageType: number): void => {
    const pending = this.#pending;
    if (pending === undefined) return; // dispose() settled it already
    if (error !== null) {
      this.#pending = undefined;
      pending.reject(asMshvError('MSHV_RUN_VP', error));
      return;
    }
    const cancelled = this.callGuard.cancelled;
    if (messageType === HVMSG.NONE && !cancelled) {
      this.#startAsync(pending.reject); // the addon retries stray interruptions itself; run on if one gets here
      return;
    }
    this.#pending = undefined;
    try {
      pending.resolve(cancelled ? CANCELLED : this.#finishExit());
    } catch (finishError) {
      pending.reject(finishError);
    }
  };

  /** Decodes the message of the last run and completes an intercepted `in`/`out`. */
  #finishExit(): VmExit {
    const { exit, resume } = decodeMessage(this.#message);
    if (resume !== undefined) this.#resumeAfter(resume);
    return exit;
  }

  #resumeAfter(resume: ResumeState): void {
    const page = this.#validPage();
    if (page !== null) {
      let dirty = REGISTER_PAGE.dirtyIp;
      page.setBigUint64(REGISTER_PAGE.rip, resume.rip, true);
      if (resume.rax !== undefined) {
        page.setBigUint64(REGISTER_PAGE.gprs, resume.rax, true);
        dirty |= REGISTER_PAGE.dirtyGeneral;
      }
      page.setUint32(REGISTER_PAGE.dirty, page.getUint32(REGISTER_PAGE.dirty, true) | dirty, true);
      return;
    }
    const registers: RegisterAssoc[] = [{ name: HV_REGISTER.RIP, value: u64Value(resume.rip, 'rip') }];
    if (resume.rax !== undefined) registers.push({ name: HV_REGISTER.RAX, value: u64Value(resume.rax, 'rax') });
    setVpRegisters(this.#vp, VP_INDEX, registers);
  }

  #loadRegisters(regs: Registers): void {
    const page = this.#validPage();
    if (page === null) {
      setVpRegisters(this.#vp, VP_INDEX, encodeRegisters(regs));
      return;
    }
    const values = encodeRegisters(regs); // validates every field before the page changes
    const byName = new Map(values.map(({ name, value }) => [name, value]));
    const at = (key: keyof Registers): Uint8Array => byName.get(GENERAL_REGISTER_NAMES[key])!;
    const bytes = new Uint8Array(page.buffer, page.byteOffset, page.byteLength);
    PAGE_GPR_ORDER.forEach((key, i) => bytes.set(at(key).subarray(0, 8), REGISTER_PAGE.gprs + 8 * i));
    bytes.set(at('rip').subarray(0, 8), REGISTER_PAGE.rip);
    bytes.set(at('rflags').subarray(0, 8), REGISTER_PAGE.rflags);
    const dirty = REGISTER_PAGE.dirtyGeneral | REGISTER_PAGE.dirtyIp | REGISTER_PAGE.dirtyFlags;
    page.setUint32(REGISTER_PAGE.dirty, page.getUint32(REGISTER_PAGE.dirty, true) | dirty, true);
  }

  #validPage(): DataView | null {
    return this.#page !== null && this.#page.getUint8(REGISTER_PAGE.isValid) !== 0 ? this.#page : null;
  }

  #ownSnapshot(snapshot: MemorySnapshot, size: number, what: string): SnapshotMemory {
    if (!this.#surface.isSnapshot(snapshot)) {
      const error = new TypeError(`${what} must be a MemorySnapshot of the mshv backend (from snapshotMemory() or mapSnapshotFile())`);
      throw Object.assign(error, { code: 'ERR_INVALID_ARG_TYPE' });
    }
    if (snapshot.size !== size) throw rangeError(`${what} holds ${snapshot.size} bytes but the memory has ${size}`);
    return snapshot;
  }

  /** Throws after dispose and while a runAsync is pending. */
  #assertIdle(method: string): void {
    assertVmIdle(method, this.#disposed, this.#pending !== undefined);
  }
}

function rangeError(message: string): RangeError {
  return Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' });
}


/**
 * The `VirtualMachine` core drives, over one WHP partition with one virtual
 * processor (index 0) and main memory at guest-physical 0.
 *
 *   created --run()--> exited --run()--> ... --dispose()--> disposed (every method throws)
 *   exited --runAsync()--> pending (only callGuard and dispose) --promise settles--> exited
 *   pending --dispose()--> run cancelled, promise resolves `cancelled`; the partition
 *     is deleted once the run has returned
 *
 * After a port I/O exit the instruction is completed here (RIP past it, and
 * for `in` zeros in AL/AX/EAX) with one WHvSetVirtualProcessorRegisters, as
 * core's exit contract requires. A run stopped by WHvCancelRunVirtualProcessor
 * that no cancel of the open call explains (a cancel aimed at an earlier
 * call) is entered again.
 *
 * Memory is copied, not shared copy-on-write: snapshotMemory copies the
 * non-zero pages, restoreMemory copies the whole snapshot back.
 */
import {
  assertVmIdle, type CallStateGuard, checkRegionRange, type GuestRegion, type MemorySnapshot, type RegionOptions,
  type Registers, type SpecialRegisters, type VirtualMachine, type VmExit,
} from '@hyperlight-ts/core/backend';
import { CANCELED, decodeExitContext, type DecodedExit } from './exit-context.js';
import { HostMemory } from './host-memory.js';
import { EXIT_CONTEXT, WHV_MAP_GPA_RANGE as MAP, WHV_REGISTER, WHV_REGISTER_VALUE_SIZE } from './whp-abi.js';
import type { PartitionHandle, WhpApi } from './whp-api.js';
import { checkHresult } from './whp-error.js';
import {
  decodeRegisters, decodeSpecialRegisters, encodeRegisters, encodeSpecialRegisters, GENERAL_REGISTER_NAMES,
  SPECIAL_REGISTER_NAMES,
} from './whp-registers.js';
import { copyNonZeroPages, WhpSnapshot } from './whp-snapshot.js';

const VP = 0;
const PAGE_SIZE = 4096;
const CANCELLED: VmExit = Object.freeze({ kind: 'cancelled' });
/** Where the scratch page holds each 16-byte-aligned array handed to WHP. */
const SCRATCH = { general: 0, special: 512, completion: 1024, exitContext: 2048, size: PAGE_SIZE } as const;
const RIP_ONLY = Uint32Array.of(WHV_REGISTER.rip);
const RIP_RAX = Uint32Array.of(WHV_REGISTER.rip, WHV_REGISTER.rax);
/** XSAVE areas are at most a few KiB on today's CPUs; WHP says how much it wrote. */
const XSAVE_BUFFER_SIZE = 16384;

/** What a {@link WhpVirtualMachine} owns, created by `backend.createVm`. */
export interface WhpVirtualMachineParts {
  readonly api: WhpApi;
  readonly partition: PartitionHandle;
  /** Main memory, already mapped at guest-physical 0. */
  readonly memory: HostMemory;
  readonly callGuard: CallStateGuard;
  readonly xsaveEnabled: boolean;
  readonly tscFrequencyHz: number | undefined;
}

interface PendingRun {
  readonly resolve: (exit: VmExit) => void;
  readonly reject: (error: unknown) => void;
}

/** A WHP-backed {@link VirtualMachine}; created by `backend.createVm()`. */
export class WhpVirtualMachine implements VirtualMachine {
  readonly memory: ArrayBuffer;
  readonly xsaveEnabled: boolean;
  readonly tscFrequencyHz: number | undefined;
  readonly callGuard: CallStateGuard;
  readonly #api: WhpApi;
  readonly #partition: PartitionHandle;
  readonly #mainMemory: HostMemory;
  readonly #scratch: HostMemory;
  readonly #regions = new Set<WhpGuestRegion>();
  #pending: PendingRun | undefined;
  /** A runAsync is inside WHvRunVirtualProcessor: the teardown waits for it. */
  #nativeRunning = false;
  #disposed = false;

  /** Takes ownership of `parts`; use `backend.createVm()` instead. */
  constructor(parts: WhpVirtualMachineParts) {
    this.#api = parts.api;
    this.#partition = parts.partition;
    this.#mainMemory = parts.memory;
    this.memory = parts.memory.buffer;
    this.callGuard = parts.callGuard;
    this.xsaveEnabled = parts.xsaveEnabled;
    this.tscFrequencyHz = parts.tscFrequencyHz;
    this.#scratch = HostMemory.allocate(parts.api, SCRATCH.size);
  }

  /**
   * Reads segment, table and control registers, EFER and APIC base.
   * @throws WhpError; Error `ERR_HYPERLIGHT_DISPOSED`/`ERR_HYPERLIGHT_RUN_PENDING`.
   */
  getSpecialRegisters(): SpecialRegisters {
    this.#assertIdle('getSpecialRegisters');
    const values = this.#values(SCRATCH.special, SPECIAL_REGISTER_NAMES.length);
    checkHresult('WHvGetVirtualProcessorRegisters', this.#api.getVirtualProcessorRegisters(this.#partition, VP, SPECIAL_REGISTER_NAMES, values));
    return decodeSpecialRegisters(values);
  }

  /**
   * Writes them (WHP takes TR's busy TSS type 0xB as it is).
   * @throws WhpError when WHP refuses a value; Error `ERR_HYPERLIGHT_DISPOSED`/`ERR_HYPERLIGHT_RUN_PENDING`.
   */
  setSpecialRegisters(sregs: SpecialRegisters): void {
    this.#assertIdle('setSpecialRegisters');
    const values = this.#values(SCRATCH.special, SPECIAL_REGISTER_NAMES.length);
    encodeSpecialRegisters(sregs, values);
    checkHresult('WHvSetVirtualProcessorRegisters', this.#api.setVirtualProcessorRegisters(this.#partition, VP, SPECIAL_REGISTER_NAMES, values));
  }

  /**
   * Reads the general registers.
   * @throws WhpError; Error `ERR_HYPERLIGHT_DISPOSED`/`ERR_HYPERLIGHT_RUN_PENDING`.
   */
  getRegisters(): Registers {
    this.#assertIdle('getRegisters');
    const values = this.#values(SCRATCH.general, GENERAL_REGISTER_NAMES.length);
    checkHresult('WHvGetVirtualProcessorRegisters', this.#api.getVirtualProcessorRegisters(this.#partition, VP, GENERAL_REGISTER_NAMES, values));
    return decodeRegisters(values);
  }

  /**
   * Writes the general registers (one WHvSetVirtualProcessorRegisters).
   * @throws TypeError when a field is not a bigint; WhpError; Error `ERR_HYPERLIGHT_DISPOSED`/`ERR_HYPERLIGHT_RUN_PENDING`.
   */
  setRegisters(regs: Registers): void {
    this.#assertIdle('setRegisters');
    this.#writeRegisters(regs);
  }

  /**
   * The XSAVE state (WHvGetVirtualProcessorXsaveState).
   * @throws WhpError; Error `ERR_HYPERLIGHT_DISPOSED`/`ERR_HYPERLIGHT_RUN_PENDING`.
   */
  getFpuState(): Uint8Array {
    this.#assertIdle('getFpuState');
    const buffer = new Uint8Array(XSAVE_BUFFER_SIZE);
    const written = new Uint32Array(1);
    checkHresult('WHvGetVirtualProcessorXsaveState', this.#api.getVirtualProcessorXsaveState(this.#partition, VP, buffer, written));
    return buffer.slice(0, Math.min(written[0]!, XSAVE_BUFFER_SIZE));
  }

  /**
   * Loads state from {@link getFpuState}.
   * @throws TypeError unless a Uint8Array; WhpError when WHP refuses it.
   */
  setFpuState(state: Uint8Array): void {
    this.#assertIdle('setFpuState');
    if (!(state instanceof Uint8Array)) throw Object.assign(new TypeError('setFpuState: state must be a Uint8Array'), { code: 'ERR_INVALID_ARG_TYPE' });
    checkHresult('WHvSetVirtualProcessorXsaveState', this.#api.setVirtualProcessorXsaveState(this.#partition, VP, state));
  }

  /**
   * Copies main memory's non-zero pages into a new snapshot (no copy-on-write on WHP).
   * @throws WhpError when memory for the copy cannot be had.
   */
  snapshotMemory(): MemorySnapshot {
    this.#assertIdle('snapshotMemory');
    return WhpSnapshot.copyOf(this.#api, this.#mainMemory.bytes);
  }

  /**
   * Copies `snapshot` over main memory (its full size: WHP dirty-page
   * tracking is not used yet).
   * @throws TypeError for another backend's snapshot; RangeError for another size; Error `ERR_HYPERLIGHT_DISPOSED`.
   */
  restoreMemory(snapshot: MemorySnapshot): void {
    this.#assertIdle('restoreMemory');
    this.#mainMemory.bytes.set(whpSnapshotOf(snapshot, this.#mainMemory.size).bytes);
  }

  /**
   * An upper bound: every page of main memory, since the VM holds a full private copy.
   * @throws Error `ERR_HYPERLIGHT_DISPOSED`.
   */
  privatePageCount(): number {
    this.#assertIdle('privatePageCount');
    return this.#mainMemory.size / PAGE_SIZE;
  }

  /**
   * Maps a region (readable and executable; writable unless `readOnly`), zeroed or a copy of `source`.
   * @throws RangeError for an unaligned or overlapping range or a source of another size;
   *   TypeError for a gpa that is not a bigint or another backend's snapshot; WhpError when WHP refuses.
   */
  mapRegion(options: RegionOptions): GuestRegion {
    this.#assertIdle('mapRegion');
    const { gpa, size } = checkRegionRange(options, this.#mainMemory.size, this.#regions);
    const source = options.source === undefined ? undefined : whpSnapshotOf(options.source, size);
    const memory = HostMemory.allocate(this.#api, size);
    try {
      if (source !== undefined) copyNonZeroPages(source.bytes, memory.bytes);
      const readOnly = options.readOnly === true;
      const flags = MAP.read | MAP.execute | (readOnly ? 0 : MAP.write);
      checkHresult('WHvMapGpaRange', this.#api.mapGpaRange(this.#partition, memory.address, gpa, size, flags));
      const region = new WhpGuestRegion(gpa, size, readOnly, memory, () => {
        this.#regions.delete(region);
        if (!this.#disposed) checkHresult('WHvUnmapGpaRange', this.#api.unmapGpaRange(this.#partition, gpa, size));
      });
      this.#regions.add(region);
      return region;
    } catch (error) {
      memory.release();
      throw error;
    }
  }

  /**
   * Runs the vCPU to its next exit, first writing `regs` (one call).
   * Returns `cancelled` when the open call is cancelled: without entering
   * the guest when it already was, and instead of the exit when the cancel
   * came before `run` returned.
   * @throws WhpError when WHP fails; Error `ERR_HYPERLIGHT_RUN_PENDING`/`ERR_HYPERLIGHT_DISPOSED`.
   */
  run(regs?: Registers): VmExit {
    this.#assertIdle('run');
    if (this.callGuard.cancelled) return CANCELLED;
    if (regs !== undefined) this.#writeRegisters(regs);
    const context = this.#exitContext();
    for (;;) {
      checkHresult('WHvRunVirtualProcessor', this.#api.runVirtualProcessor(this.#partition, VP, context));
      const exit = this.#finish(decodeExitContext(context));
      if (exit !== undefined) return exit;
    }
  }

  /**
   * {@link run} on koffi's native thread pool, so this thread's event loop
   * keeps running. While pending only `callGuard` and `dispose` may be used.
   * @returns a promise of the exit; it rejects with the errors `run` throws.
   */
  runAsync(regs?: Registers): Promise<VmExit> {
    try {
      this.#assertIdle('runAsync');
      if (this.callGuard.cancelled) return Promise.resolve(CANCELLED);
      if (regs !== undefined) this.#writeRegisters(regs);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<VmExit>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#startAsyncRun();
    });
  }

  /**
   * Cancels the open call with `'disposed'`, unmaps every region and deletes
   * the partition (after a pending runAsync has returned; its promise
   * resolves `cancelled` now). `memory` stays readable but no longer belongs
   * to a guest. Idempotent.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.callGuard.cancel('disposed');
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.resolve(CANCELLED);
    if (!this.#nativeRunning) this.#teardown();
  }

  /** Same as {@link WhpVirtualMachine.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #startAsyncRun(): void {
    const context = this.#exitContext();
    this.#nativeRunning = true;
    this.#api.runVirtualProcessorAsync(this.#partition, VP, context, (error, hresult) => {
      this.#nativeRunning = false;
      const pending = this.#pending;
      if (pending === undefined) {
        // dispose() came while the vCPU ran; the partition may go now.
        if (this.#disposed) this.#teardown();
        return;
      }
      try {
        if (error !== null) throw error;
        checkHresult('WHvRunVirtualProcessor', hresult);
        const exit = this.#finish(decodeExitContext(context));
        if (exit === undefined) {
          this.#startAsyncRun();
          return;
        }
        this.#pending = undefined;
        pending.resolve(exit);
      } catch (failure) {
        this.#pending = undefined;
        pending.reject(failure);
      }
    });
  }

  /** The exit to return for `decoded`, or undefined to run again (a stale cancel). */
  #finish(decoded: DecodedExit): VmExit | undefined {
    if (this.callGuard.cancelled) return CANCELLED;
    if (decoded === CANCELED) return undefined;
    if (decoded.completion !== undefined) {
      const { rip, rax } = decoded.completion;
      const names = rax === undefined ? RIP_ONLY : RIP_RAX;
      const values = this.#values(SCRATCH.completion, names.length);
      const view = new DataView(values.buffer, values.byteOffset, values.byteLength);
      view.setBigUint64(0, rip, true);
      if (rax !== undefined) view.setBigUint64(WHV_REGISTER_VALUE_SIZE, rax, true);
      checkHresult('WHvSetVirtualProcessorRegisters', this.#api.setVirtualProcessorRegisters(this.#partition, VP, names, values));
    }
    return decoded.exit;
  }

  #writeRegisters(regs: Registers): void {
    const values = this.#values(SCRATCH.general, GENERAL_REGISTER_NAMES.length);
    encodeRegisters(regs, values);
    checkHresult('WHvSetVirtualProcessorRegisters', this.#api.setVirtualProcessorRegisters(this.#partition, VP, GENERAL_REGISTER_NAMES, values));
  }

  #teardown(): void {
    // Free the registry slot first: it waits out cancels that hold the partition handle.
    this.callGuard.release();
    this.#api.deleteVirtualProcessor(this.#partition, VP);
    // Deleting the partition unmaps every range; regions only give back their memory.
    this.#api.deletePartition(this.#partition);
    for (const region of [...this.#regions]) region.dispose();
    this.#mainMemory.release();
    this.#scratch.release();
  }

  /** A zeroed 16-byte-aligned slice of the scratch page for `count` register values. */
  #values(offset: number, count: number): Uint8Array {
    return this.#scratch.bytes.subarray(offset, offset + count * WHV_REGISTER_VALUE_SIZE).fill(0);
  }

  #exitContext(): Uint8Array {
    return this.#scratch.bytes.subarray(SCRATCH.exitContext, SCRATCH.exitContext + EXIT_CONTEXT.size);
  }

  #assertIdle(method: string): void {
    assertVmIdle(method, this.#disposed, this.#pending !== undefined);
  }
}

/** A region of {@link WhpVirtualMachine.mapRegion}. */
class WhpGuestRegion implements GuestRegion {
  readonly memory: ArrayBuffer;
  #disposed = false;

  constructor(readonly gpa: bigint, readonly size: number, readonly readOnly: boolean, private readonly host: HostMemory, private readonly unmap: () => void) {
    this.memory = host.buffer;
  }

  /** Unmaps the region and gives its memory back. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    try {
      this.unmap();
    } finally {
      this.host.release();
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * `snapshot` as this backend's snapshot of `size` bytes.
 * @throws TypeError for another backend's snapshot; RangeError for another size.
 */
export function whpSnapshotOf(snapshot: MemorySnapshot, size: number): WhpSnapshot {
  if (!(snapshot instanceof WhpSnapshot)) {
    throw Object.assign(new TypeError('expected a MemorySnapshot of the whp backend (from snapshotMemory() or mapSnapshotFile())'), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
  }
  if (snapshot.size !== size) throw outOfRange(`the snapshot holds ${snapshot.size} bytes, not ${size}`);
  return snapshot;
}

function outOfRange(message: string): RangeError {
  return Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' });
}

/**
 * The hypervisor-neutral interface every backend package implements
 * (`@hyperlight-ts/backend-kvm`, `-mshv`, `-whp`). Core builds all guest state
 * (memory contents, page tables, descriptor tables, register values) and drives
 * a backend only through these types, so no hypervisor API leaks past here.
 */

/** Names of the backends core knows how to discover. */
export type BackendName = 'kvm' | 'mshv' | 'whp';

/** Why a backend cannot be used on this machine. */
export type BackendUnavailableReason =
  | 'not-installed'
  | 'unsupported-platform'
  | 'load-failed'
  | 'device-missing'
  | 'permission-denied'
  | 'api-mismatch';

/** The result of asking a backend whether it can run here. */
export type BackendStatus =
  | { readonly usable: true; readonly detail: string }
  | { readonly usable: false; readonly reason: BackendUnavailableReason; readonly detail: string };

/** General-purpose registers, instruction pointer and flags (x86-64). */
export interface Registers {
  rax: bigint; rbx: bigint; rcx: bigint; rdx: bigint;
  rsi: bigint; rdi: bigint; rsp: bigint; rbp: bigint;
  r8: bigint; r9: bigint; r10: bigint; r11: bigint;
  r12: bigint; r13: bigint; r14: bigint; r15: bigint;
  rip: bigint; rflags: bigint;
}

/** A segment register in its hidden (descriptor-cache) form. */
export interface Segment {
  base: bigint;
  limit: number;
  selector: number;
  /** Descriptor type field (4 bits). */
  type: number;
  present: boolean;
  dpl: number;
  /** Default operation size (D/B bit). */
  db: boolean;
  /** Code/data (true) or system (false) descriptor (S bit). */
  s: boolean;
  /** 64-bit code segment (L bit). */
  l: boolean;
  /** Granularity (G bit). */
  g: boolean;
  avl: boolean;
  /**
   * The VMX "unusable" flag. Backends whose hypervisor has no such flag (MSHV,
   * WHP) ignore it when setting and report `!present` when getting.
   */
  unusable: boolean;
}

/** GDTR or IDTR. */
export interface DescriptorTable {
  base: bigint;
  limit: number;
}

/** Segment, descriptor-table and control registers. */
export interface SpecialRegisters {
  cs: Segment; ds: Segment; es: Segment; fs: Segment; gs: Segment; ss: Segment;
  tr: Segment; ldt: Segment;
  gdt: DescriptorTable; idt: DescriptorTable;
  cr0: bigint; cr2: bigint; cr3: bigint; cr4: bigint; cr8: bigint;
  efer: bigint;
  /**
   * The local APIC base MSR. A backend whose VMs have no local APIC may ignore
   * it when setting, so core must not rely on reading back what it wrote.
   */
  apicBase: bigint;
}

/** How the guest touched memory in a {@link VmExit} `memory-fault`. */
export type MemoryAccess = 'read' | 'write' | 'execute';

/**
 * Why `VirtualMachine.run()` returned. The same kinds on every hypervisor:
 * each backend decodes its own exit messages into these, and handles its
 * quirks (instruction-pointer advance, retries, stray signals) itself.
 */
export type VmExit =
  /**
   * The guest wrote `value` (`size` = 1, 2 or 4 bytes, zero-extended) to I/O
   * `port`. The next `run()` resumes after the instruction.
   */
  | { readonly kind: 'io-out'; readonly port: number; readonly size: number; readonly value: number }
  /**
   * The guest read from I/O `port`; it reads zeroes, and the next `run()`
   * resumes after the instruction.
   */
  | { readonly kind: 'io-in'; readonly port: number; readonly size: number }
  /**
   * The guest touched guest-physical `gpa`: with `unmapped`, memory no region
   * backs; otherwise an access the region does not allow (a write to a
   * read-only region).
   */
  | { readonly kind: 'memory-fault'; readonly gpa: bigint; readonly access: MemoryAccess; readonly unmapped: boolean }
  /** The vCPU executed `hlt`. */
  | { readonly kind: 'halt' }
  /** The vCPU could not deliver an exception (a triple fault) and stopped. */
  | { readonly kind: 'triple-fault' }
  /**
   * The open guest call was cancelled ({@link CallGuard}); the guest stopped
   * wherever it was, or never entered. Interruptions that are not a cancel
   * (stray signals, hypervisor retries) never surface: the backend resumes
   * the guest itself.
   */
  | { readonly kind: 'cancelled' }
  /** The hypervisor refused to enter the guest: the CPU state is invalid. `detail` names its own code. */
  | { readonly kind: 'invalid-state'; readonly detail: string }
  /** The hypervisor could not continue (an internal error, an unsupported feature). `detail` names its own code. */
  | { readonly kind: 'hypervisor-error'; readonly detail: string }
  /** An exit this interface does not model; `detail` names the raw reason. */
  | { readonly kind: 'unknown'; readonly detail: string };

/** Every {@link VmExit} kind, for exhaustiveness checks of a backend's decoder. */
export const VM_EXIT_KINDS = [
  'io-out', 'io-in', 'memory-fault', 'halt', 'triple-fault', 'cancelled', 'invalid-state', 'hypervisor-error', 'unknown',
] as const satisfies readonly VmExit['kind'][];

/** Why a guest call was cancelled. */
export type CancelReason =
  /** `kill()` of an interrupt handle, from any thread. */
  | 'killed'
  /** The deadline given to {@link CallGuard.begin} passed. */
  | 'timeout'
  /** An `AbortSignal` of the call fired. */
  | 'aborted'
  /** The sandbox was disposed while the call ran. */
  | 'disposed';

/**
 * Names one VM's {@link CallGuard} to {@link Backend.cancelCall} from any
 * thread of the process. Plain data: it survives `postMessage` to a worker.
 */
export interface CancelToken {
  readonly backend: BackendName;
  /** Unique in the process for its lifetime; never reused. */
  readonly id: number;
}

/**
 * Brackets each guest call so it can be stopped from any thread. A call may
 * span many `run()`s with host-function calls between them; a cancel lands on
 * the call, not on one run:
 * - while the vCPU runs guest code, that `run()` returns `cancelled` promptly;
 * - between runs (e.g. during a host function), the next `run()` returns
 *   `cancelled` without entering the guest;
 * - with no call open, a cancel does nothing, so it can never hit a later call.
 *
 * `begin`, `end`, `cancelReason` and `onCancel` belong to the VM's own thread;
 * `cancel` and {@link Backend.cancelCall} work from any thread.
 */
export interface CallGuard {
  /**
   * Opens a call. With `timeoutMs` (> 0), the backend cancels it with
   * `'timeout'` that many milliseconds from now unless {@link end} comes
   * first, even while this thread is blocked inside `run()`.
   * @throws Error when a call is already open.
   */
  begin(timeoutMs?: number): void;
  /**
   * Closes the call: later cancels do nothing and the timeout is disarmed.
   * @returns the reason the call was cancelled, or undefined.
   */
  end(): CancelReason | undefined;
  /** Why the open call was cancelled; undefined when it was not (or no call is open). */
  readonly cancelReason: CancelReason | undefined;
  /**
   * Cancels the open call. The first reason wins.
   * @returns false when no call is open or it was already cancelled.
   */
  cancel(reason: CancelReason): boolean;
  /**
   * Calls `listener` on this thread, from the event loop, once the open call
   * is cancelled by any thread or by its timeout (soon, if it already was).
   * Until the returned function removes it, the listener keeps the event loop
   * alive. For waiting on something other than the vCPU, e.g. an async host
   * function.
   */
  onCancel(listener: (reason: CancelReason) => void): () => void;
  /** This guard's name for {@link Backend.cancelCall}. */
  readonly token: CancelToken;
}

/**
 * An immutable image of guest memory that VMs map copy-on-write: every VM
 * created from it (or restored to it) reads its bytes until it writes a page,
 * and that write lands in a page private to the VM. Made by
 * {@link VirtualMachine.snapshotMemory} or {@link Backend.mapSnapshotFile}.
 *
 * Released by `dispose()` (or `using`); VMs that map it keep their own
 * reference, so disposing never changes what a running VM sees.
 */
export interface MemorySnapshot extends Disposable {
  /** Bytes; a multiple of 4096. */
  readonly size: number;
  /**
   * Copies `target.byteLength` bytes starting at byte `offset` into `target`.
   * Never-written pages read as zeros and cost no memory.
   * @throws RangeError when the range is outside the snapshot; an Error after dispose.
   */
  read(offset: number, target: Uint8Array): void;
  /** Releases this object's hold on the memory. Idempotent. */
  dispose(): void;
}

/** Options for {@link Backend.createVm}. */
export interface VmOptions {
  /** Bytes of guest memory, mapped writable at guest-physical address 0. A multiple of 4096. */
  memorySize: number;
  /**
   * Start from this snapshot's contents, mapped copy-on-write (no copy), instead
   * of zeroed memory. Its `size` must equal `memorySize`.
   */
  memory?: MemorySnapshot;
}

/** Options for {@link VirtualMachine.mapRegion}. */
export interface RegionOptions {
  /** Guest-physical address of the first byte; a multiple of 4096. */
  readonly gpa: bigint;
  /** Bytes; a positive multiple of 4096. */
  readonly size: number;
  /**
   * Initial contents: this snapshot (its `size` must equal `size`), mapped
   * copy-on-write. Guest (and host) writes land in pages private to the
   * region; the snapshot never changes. Without it the region reads as zeros.
   */
  readonly source?: MemorySnapshot;
  /**
   * The guest may only read (and execute) the region: a write exits as
   * `memory-fault` with `access: 'write'` and `unmapped: false`, and changes
   * nothing. The host's view stays writable.
   */
  readonly readOnly?: boolean;
}

/**
 * Guest-physical memory mapped by {@link VirtualMachine.mapRegion}. `dispose()`
 * unmaps it (idempotent): the guest then faults on its addresses, and `memory`
 * is detached. Disposing the VM unmaps every region.
 */
export interface GuestRegion extends Disposable {
  readonly gpa: bigint;
  readonly size: number;
  readonly readOnly: boolean;
  /** The host's view of the region's bytes, shared zero-copy with the guest. */
  readonly memory: ArrayBuffer;
  /** Unmaps the region. Must not be called while the vCPU runs. Idempotent. */
  dispose(): void;
}

/**
 * One micro VM with one vCPU. Its main memory is one contiguous guest-physical
 * region at address 0; {@link mapRegion} adds others. Released
 * deterministically by `dispose()` (or `using`); after that every method
 * throws and `memory` is detached (zero length).
 *
 * A new VM's CPU is at power-on state: x87/SSE state as after `FNINIT` with
 * MXCSR 0x1F80, whatever the hypervisor starts with.
 *
 * Methods throw {@link BackendError} (a backend's own subclass) when the
 * hypervisor refuses, and `RangeError`/`TypeError` for arguments that break
 * the contract below.
 */
export interface VirtualMachine extends Disposable {
  /** Guest memory, shared zero-copy with the hypervisor mapping. */
  readonly memory: ArrayBuffer;
  /** Whether the vCPU runs with XSAVE enabled (core then sets CR4.OSXSAVE). */
  readonly xsaveEnabled: boolean;
  /**
   * The guest's time stamp counter frequency in Hz (what `rdtsc` in the guest
   * counts), when the hypervisor reports it; undefined otherwise. Guest
   * tracing converts time stamps with it.
   */
  readonly tscFrequencyHz?: number;
  /** Reads the special registers. TR reads as a busy 64-bit TSS (type 0xB) whatever the backend loads. */
  getSpecialRegisters(): SpecialRegisters;
  /**
   * Writes the special registers (applied before the next run; invalid values
   * may only fail there). TR must be a busy 64-bit TSS (type 0xB), as the
   * architecture requires; a backend whose hypervisor wants another type
   * translates it.
   */
  setSpecialRegisters(sregs: SpecialRegisters): void;
  /** Reads the general registers as they were at the last exit. */
  getRegisters(): Registers;
  /** Writes the general registers (applied before the next run). */
  setRegisters(regs: Registers): void;
  /**
   * The x87/SSE/AVX state, in the backend's own format (KVM: the `KVM_GET_XSAVE`
   * area; MSHV: the compacted XSAVE area of `MSHV_GET_VP_STATE`; WHP:
   * `WHvGetVirtualProcessorXsaveState`). Only {@link setFpuState} of a VM of
   * the same backend and CPU reads it.
   * @throws BackendError when the hypervisor refuses.
   */
  getFpuState(): Uint8Array;
  /**
   * Loads x87/SSE/AVX state returned by {@link getFpuState}.
   * @throws BackendError when the hypervisor refuses it (another CPU's state).
   */
  setFpuState(state: Uint8Array): void;
  /**
   * Copies main memory into a new immutable {@link MemorySnapshot}. Where the
   * backend can, memory then continues copy-on-write over that snapshot, so
   * restoring to it costs the pages written since. Pages that were never
   * written are not copied.
   * @throws BackendError when memory for the copy cannot be had.
   */
  snapshotMemory(): MemorySnapshot;
  /**
   * Makes every byte of main memory, as the guest sees it, equal to
   * `snapshot` again, whatever the guest wrote (nothing the guest controls is
   * consulted). Where the backend can, the cost grows with the pages written
   * since the VM last matched `snapshot`, not with its size. Must not be
   * called while the vCPU runs.
   * @throws RangeError when `snapshot.size` differs from the VM's memory;
   *   TypeError when it is another backend's snapshot; BackendError.
   */
  restoreMemory(snapshot: MemorySnapshot): void;
  /**
   * Pages of main memory the VM holds privately: written since it last
   * matched a snapshot (all touched pages when it never did), or an upper
   * bound where the backend cannot tell. What restore discards and what the
   * VM costs beyond the snapshot it shares.
   * @throws BackendError when the count cannot be read.
   */
  privatePageCount(): number;
  /**
   * Maps another region of guest-physical memory. It must not overlap main
   * memory or another region.
   * @throws RangeError for an unaligned or overlapping range, or a `source`
   *   of another size; TypeError for another backend's snapshot;
   *   BackendError when the hypervisor refuses.
   */
  mapRegion(options: RegionOptions): GuestRegion;
  /** Makes guest calls cancellable from any thread, or after a timeout. */
  readonly callGuard: CallGuard;
  /**
   * Runs the vCPU until the next exit. When `regs` is given they are loaded
   * first, in the same crossing into the hypervisor where the API allows.
   * Blocks the calling thread; returns `cancelled` when the open call is
   * cancelled ({@link CallGuard}).
   * @throws Error while a {@link runAsync} is pending.
   */
  run(regs?: Registers): VmExit;
  /**
   * {@link run} on a thread the backend owns, so the calling thread's event
   * loop keeps running. While it is pending, only `callGuard` and `dispose`
   * may be used; `dispose()` stops the run and the promise resolves with
   * `cancelled`. The pending run keeps the event loop alive.
   * @returns a promise that rejects where `run()` would throw.
   */
  runAsync(regs?: Registers): Promise<VmExit>;
  /**
   * Releases the vCPU, VM and memory. Idempotent. A pending {@link runAsync}
   * is stopped first (its promise resolves with `cancelled`).
   */
  dispose(): void;
}

/** An open snapshot file, for {@link Backend.mapSnapshotFile}. */
export interface SnapshotFile {
  readonly path: string;
  /** A descriptor open for reading on `path`. */
  readonly fd: number;
}

/** A hypervisor backend, exported by a backend package as `backend`. */
export interface Backend {
  readonly name: BackendName;
  /** Checks whether this backend can create VMs here; never throws. */
  check(): BackendStatus;
  /**
   * Creates a VM with `options.memorySize` bytes of main memory (zeroed, or
   * `options.memory`'s contents) and a vCPU at power-on state.
   * @throws BackendError (the backend's own subclass) when the hypervisor
   *   refuses; core wraps it in `HypervisorError`.
   */
  createVm(options: VmOptions): VirtualMachine;
  /**
   * Maps `size` bytes of an open file from byte `offset` as a
   * {@link MemorySnapshot}, without copying where the platform allows. A
   * backend uses `file.fd` or opens `file.path` again (where a descriptor
   * cannot become a native handle); it keeps its own handle, so the caller
   * may close `fd` afterwards. The file must not change while the snapshot or
   * a VM made from it exists.
   * @throws RangeError for an offset or size that is not a multiple of 4096 or lies outside the file;
   *   BackendError when the file cannot be mapped.
   */
  mapSnapshotFile(file: SnapshotFile, offset: number, size: number): MemorySnapshot;
  /**
   * Cancels the open call of the VM `token` names ({@link CallGuard.cancel}),
   * from any thread of this process, including a worker that loaded this
   * backend itself. Never throws for a token that names no live VM.
   * @returns false when the VM is gone, no call is open, or it was already cancelled.
   */
  cancelCall(token: CancelToken, reason: CancelReason): boolean;
}

/**
 * Types of the native addon (`build/Release/hyperlight_kvm.node`): a thin,
 * safe wrapper over KVM with one class per fd, each method named after the
 * ioctl it issues (as rust-vmm's kvm-ioctls). Load it with `loadNative()`.
 *
 * Common rules:
 * - A failed syscall throws a Node-style system error: `code` is the errno
 *   name (`'EACCES'`), `errno` the negative errno, `syscall` the ioctl or call
 *   (`'KVM_CREATE_VM'`), `path` for `open`.
 * - A bad argument throws `TypeError` (`code: 'ERR_INVALID_ARG_TYPE'`) or
 *   `RangeError` (`code: 'ERR_OUT_OF_RANGE'`) naming the field.
 * - After `dispose()` (idempotent; also `[Symbol.dispose]`) every member
 *   throws `Error` with `code: 'ERR_HYPERLIGHT_DISPOSED'` naming it. Objects
 *   dropped without `dispose()` are released when garbage-collected.
 */
import type { Registers, SpecialRegisters } from '@hyperlight-ts/core';
import type { CALL_STATE } from '@hyperlight-ts/core/backend';
import type { GuestMemory, GuestMemoryConstructor, NativeCallTarget, SnapshotMemory } from '@hyperlight-ts/native-linux';
import type { KvmConstantName } from './kvm-constants.js';
import type { RUN_BLOCK } from './run-block.js';

/** One `struct kvm_cpuid_entry2`. */
export interface CpuidEntry {
  /** CPUID leaf (EAX input). */
  function: number;
  /** Sub-leaf (ECX input); significant when `flags` has `KVM_CPUID_FLAG_SIGNIFCANT_INDEX`. */
  index: number;
  flags: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

/** One extended control register (`struct kvm_xcr`); XCR0 is `xcr: 0`. */
export interface Xcr {
  xcr: number;
  value: bigint;
}

/** A guest-physical memory slot for {@link VmFd.setUserMemoryRegion}. */
export interface UserMemoryRegion {
  /** Slot number (KVM puts the address-space id in bits 16-31). */
  slot: number;
  /** Guest-physical address of the slot's first byte; a multiple of 4096. */
  baseGpa: number | bigint;
  /** The memory that backs the slot. The VM keeps it mapped while it exists. */
  memory: GuestMemory;
  /** Byte offset into `memory`; a multiple of 4096. Default 0. */
  memoryOffset?: number;
  /** Bytes in the slot; a multiple of 4096. Default: the rest of `memory`. 0 deletes the slot. */
  memorySize?: number;
  /** `KVM_MEM_*` flags. Default 0. */
  flags?: number;
}

/** The `/dev/kvm` system fd. */
export interface Kvm extends Disposable {
  /**
   * `KVM_GET_API_VERSION`; 12 on every kernel since 2.6.22.
   * @throws system error on ioctl failure; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  getApiVersion(): number;
  /**
   * `KVM_CHECK_EXTENSION`: 0 when `capability` (a `KVM_CAP_*` number) is absent, else a positive value.
   * @throws system error on ioctl failure; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  checkExtension(capability: number): number;
  /**
   * `KVM_GET_VCPU_MMAP_SIZE`: bytes of a vCPU's `kvm_run` mapping.
   * @throws system error on ioctl failure; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  getVcpuMmapSize(): number;
  /**
   * `KVM_GET_SUPPORTED_CPUID`: the CPUID table KVM can offer a guest.
   * @throws system error on ioctl failure; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  getSupportedCpuid(): CpuidEntry[];
  /**
   * `KVM_CREATE_VM` (default machine type).
   * @throws system error on ioctl failure; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  createVm(): VmFd;
  /** Closes the fd. VMs created from it stay usable. Idempotent. */
  dispose(): void;
}

/** Constructor of {@link Kvm}. */
export interface KvmConstructor {
  /**
   * Opens `devicePath` (default `/dev/kvm`) read-write and close-on-exec.
   * @throws system error (`syscall: 'open'`, `path`) when it cannot be opened.
   */
  new (devicePath?: string): Kvm;
  readonly prototype: Kvm;
}

/** One VM fd. */
export interface VmFd extends Disposable {
  /**
   * `KVM_SET_USER_MEMORY_REGION`: maps `region.memory` (or part of it) into guest-physical memory.
   * @throws TypeError/RangeError for a bad region; system error on ioctl failure;
   *   `ERR_HYPERLIGHT_DISPOSED` after dispose or when `region.memory` was disposed.
   */
  setUserMemoryRegion(region: UserMemoryRegion): void;
  /**
   * `KVM_CREATE_VCPU`, then maps the vCPU's `kvm_run`. With
   * `options.workerThread` (the vCPU belongs to a worker thread) the addon's
   * watchdog interrupts a `KVM_RUN` that lasts over 100-200 ms now and then,
   * without a cancel reason, so JavaScript runs again and `worker.terminate()`
   * can take effect.
   * @throws TypeError for bad arguments; system error on ioctl/mmap failure (EAGAIN
   *   when no real-time signal is free to kick vCPUs with); `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  createVcpu(vcpuId: number, options?: { workerThread?: boolean }): VcpuFd;
  /**
   * Closes the VM fd. The kernel VM lives on until its vCPUs are disposed too,
   * and its memory stays mapped until then. Idempotent.
   */
  dispose(): void;
}

/**
 * One vCPU fd and its `kvm_run` mapping; its call-guard members
 * (`callState`, `cancelId`, `cancel`, `armTimeout`, `setCancelListener`) are native-linux's.
 */
export interface VcpuFd extends NativeCallTarget, Disposable {
  /**
   * The run block (layout: {@link RUN_BLOCK}), shared zero-copy with the addon.
   * Its registers mirror the vCPU's as of the last `run`, `getRegs` or `setRegs`.
   * @throws `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  readonly runBlock: ArrayBuffer;
  /**
   * `KVM_RUN` until the next exit; returns the `KVM_EXIT_*` reason
   * (`KVM_EXIT_INTR` when a signal or `immediate_exit` interrupted it). With
   * `loadRegs` the run block's registers are loaded first in the same `KVM_RUN`
   * (`KVM_CAP_SYNC_REGS`). Afterwards the run block holds the exit details and
   * the registers at the exit. `in` and MMIO reads are answered with zeroes.
   * @throws system error for any `KVM_RUN` failure except EINTR; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  run(loadRegs?: boolean): number;
  /**
   * Sets `kvm_run.immediate_exit`: the next `run` returns `KVM_EXIT_INTR` at
   * once without entering the guest, and clears the flag. (A canceller sets it,
   * then kicks a running vCPU with a signal.)
   * @throws TypeError unless `enabled` is a boolean; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  setImmediateExit(enabled: boolean): void;
  /**
   * `run(loadRegs)` on the vCPU's own thread ("hl-vcpu", created on first use
   * and reused), so this thread's event loop keeps running. `done(error,
   * exitReason)` is called from this thread's event loop: `error` is the
   * system error `run` would throw, or null. `KVM_EXIT_INTR` comes back only
   * when the call-state word holds a cancel reason or the vCPU is being
   * disposed; other interruptions are re-entered on the thread. While pending,
   * the event loop stays alive and every member except `callState`,
   * `cancelId`, `cancel`, `armTimeout`, `setCancelListener` and `dispose`
   * throws `ERR_HYPERLIGHT_RUN_PENDING` (also `run` and `runAsync`).
   * `dispose()` stops the run and joins the thread; `done` is then not called.
   * @throws TypeError unless `done` is a function; `ERR_HYPERLIGHT_RUN_PENDING`; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  runAsync(loadRegs: boolean, done: (error: Error | null, exitReason: number) => void): void;
  /**
   * `KVM_GET_REGS`; also refreshes the run block.
   * @throws system error on ioctl failure; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  getRegs(): Registers;
  /**
   * `KVM_SET_REGS`; also refreshes the run block.
   * @throws TypeError/RangeError for a bad field; system error; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  setRegs(regs: Registers): void;
  /**
   * `KVM_GET_SREGS`, or the staged registers when {@link VcpuFd.stageSregs} left some for the next run.
   * @throws system error on ioctl failure; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  getSregs(): SpecialRegisters;
  /**
   * `KVM_SET_SREGS` (the interrupt bitmap is zero: no interrupt controller exists).
   * @throws TypeError/RangeError for a bad field; system error; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  setSregs(sregs: SpecialRegisters): void;
  /**
   * Writes `sregs` into `kvm_run`'s sync_regs area so the next `run` loads them
   * in the same `KVM_RUN` (no ioctl now; about 6 µs less than `setSregs` where
   * every ioctl is a VM exit). Falls back to `KVM_SET_SREGS` when the kernel
   * cannot sync special registers. Invalid values make that `run` throw EINVAL.
   * @throws TypeError/RangeError for a bad field; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  stageSregs(sregs: SpecialRegisters): void;
  /**
   * `KVM_SET_FPU` with the x87/SSE power-on state: FCW 0x37f, MXCSR 0x1f80, all registers zero.
   * @throws system error on ioctl failure; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  resetFpu(): void;
  /**
   * `KVM_GET_XSAVE2` (`KVM_GET_XSAVE` on kernels without it): the x87/SSE/AVX
   * state as an XSAVE area in standard format, as many bytes as
   * `KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2)` says (at least 4096). Without
   * `KVM_CAP_XSAVE`: `KVM_GET_FPU`, a `struct kvm_fpu` (416 bytes).
   * @throws system error on ioctl failure; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  getXsave(): Uint8Array;
  /**
   * `KVM_SET_XSAVE` (`KVM_SET_FPU` without `KVM_CAP_XSAVE`, which leaves MXCSR
   * unchanged): loads state returned by {@link VcpuFd.getXsave} of a vCPU of this KVM.
   * @throws TypeError unless `state` is a Uint8Array; RangeError unless it has
   *   `getXsave()`'s length; system error (EINVAL for contents KVM refuses, e.g.
   *   features the guest's CPUID lacks); `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  setXsave(state: Uint8Array): void;
  /**
   * `KVM_GET_CPUID2`: the CPUID table the guest sees.
   * @throws system error on ioctl failure; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  getCpuid2(): CpuidEntry[];
  /**
   * `KVM_SET_CPUID2` (before the first run; without it `cpuid` returns zeros in the guest).
   * @throws TypeError/RangeError for a bad entry; system error; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  setCpuid2(entries: readonly CpuidEntry[]): void;
  /**
   * `KVM_GET_XCRS`.
   * @throws system error on ioctl failure; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  getXcrs(): Xcr[];
  /**
   * `KVM_SET_XCRS`.
   * @throws TypeError/RangeError for a bad entry; system error (EINVAL for a value
   *   the guest's CPUID does not allow); `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  setXcrs(xcrs: readonly Xcr[]): void;
  /**
   * `KVM_GET_TSC_KHZ`: the frequency of the guest's time stamp counter in kHz
   * (0 when KVM reports none).
   * @throws system error on ioctl failure (EIO when KVM does not know it); `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  getTscKhz(): number;
  /**
   * Stops a pending `runAsync` (and joins its thread), then unmaps `kvm_run`
   * and closes the vCPU fd; `cancelCall` no longer finds it. Idempotent.
   */
  dispose(): void;
}

/** Classes the addon creates itself (`new` from JS throws TypeError). */
export interface InternalConstructor<T> {
  readonly prototype: T;
}

/** The values the addon was compiled with; checked at load against the TS copies. */
export interface NativeAbi {
  readonly kvm: Readonly<Record<KvmConstantName, number>>;
  readonly runBlock: Readonly<Record<keyof typeof RUN_BLOCK, number>>;
  readonly callState: Readonly<Record<keyof typeof CALL_STATE, number>>;
}

/** Everything the addon exports. */
export interface NativeAddon {
  readonly Kvm: KvmConstructor;
  readonly VmFd: InternalConstructor<VmFd>;
  readonly VcpuFd: InternalConstructor<VcpuFd>;
  readonly GuestMemory: GuestMemoryConstructor;
  readonly SnapshotMemory: InternalConstructor<SnapshotMemory>;
  /**
   * A {@link SnapshotMemory} over `size` bytes of the regular file open as
   * `fd`, from byte `offset`; nothing is copied. The addon opens the file again
   * read-only (an fd of its own, with its own file offset), so the caller may
   * close `fd` at once. The file must not change while the snapshot or a
   * GuestMemory made from it exists.
   * @throws TypeError/RangeError for arguments that are not integers, an offset
   *   or size that is not a multiple of 4096 (or size 0), or a window outside
   *   the file; system error (`fstat` EBADF; `mmap` ENODEV for a file that is
   *   not regular, EACCES for one not open for reading).
   */
  mapSnapshotFile(fd: number, offset: number, size: number): SnapshotMemory;
  /**
   * Cancels the open call of the vCPU whose `cancelId` is `id`, from any
   * thread of the process (every worker's copy of the addon shares one
   * registry), with reason code `reasonCode` (1-4).
   * @returns false when no live vCPU has that id, no call is open, or it was already cancelled.
   * @throws TypeError/RangeError for a bad reason code.
   */
  cancelCall(id: number, reasonCode: number): boolean;
  /**
   * The signal that kicks vCPU threads out of `KVM_RUN`: the first real-time
   * signal from SIGRTMIN+6 whose disposition was the default, chosen once per
   * process and installed with an empty handler (SA_RESTART). -1 when none was free.
   */
  kickSignal(): number;
  readonly abi: NativeAbi;
}

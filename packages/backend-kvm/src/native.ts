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
   * `KVM_CREATE_VCPU`, then maps the vCPU's `kvm_run`.
   * @throws system error on ioctl/mmap failure; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  createVcpu(vcpuId: number): VcpuFd;
  /**
   * Closes the VM fd. The kernel VM lives on until its vCPUs are disposed too,
   * and its memory stays mapped until then. Idempotent.
   */
  dispose(): void;
}

/** One vCPU fd and its `kvm_run` mapping. */
export interface VcpuFd extends Disposable {
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
  /** Unmaps `kvm_run` and closes the vCPU fd. Idempotent. */
  dispose(): void;
}

/**
 * Guest RAM: a memfd (sealed against resizing) mapped `MAP_SHARED`, exposed
 * as a zero-copy external `ArrayBuffer`.
 */
export interface GuestMemory extends Disposable {
  /**
   * The memory, zero-copy. `dispose()` detaches it (length 0) before anything is unmapped.
   * @throws `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  readonly buffer: ArrayBuffer;
  /**
   * Bytes of memory.
   * @throws `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  readonly memorySize: number;
  /**
   * Detaches `buffer` and closes the memfd. The mapping itself goes when no VM
   * slot uses it any more. Idempotent.
   */
  dispose(): void;
}

/** Constructor of {@link GuestMemory}. */
export interface GuestMemoryConstructor {
  /**
   * Creates `memorySize` bytes of zeroed memory.
   * @throws RangeError unless `memorySize` is a positive multiple of 4096; system error
   *   (`memfd_create`, `ftruncate`, `mmap`) when the memory cannot be created.
   */
  new (memorySize: number): GuestMemory;
  readonly prototype: GuestMemory;
}

/** Classes the addon creates itself (`new` from JS throws TypeError). */
export interface InternalConstructor<T> {
  readonly prototype: T;
}

/** The values the addon was compiled with; checked at load against the TS copies. */
export interface NativeAbi {
  readonly kvm: Readonly<Record<KvmConstantName, number>>;
  readonly runBlock: Readonly<Record<keyof typeof RUN_BLOCK, number>>;
}

/** Everything the addon exports. */
export interface NativeAddon {
  readonly Kvm: KvmConstructor;
  readonly VmFd: InternalConstructor<VmFd>;
  readonly VcpuFd: InternalConstructor<VcpuFd>;
  readonly GuestMemory: GuestMemoryConstructor;
  readonly abi: NativeAbi;
}

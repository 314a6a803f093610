/**
 * Layout of a vCPU's run block: 256 bytes shared zero-copy between the addon
 * and TypeScript (`VcpuFd.runBlock`). TS writes the registers to load, calls
 * `VcpuFd.run(true)` once, and reads the exit and the registers at the exit
 * from the same bytes: one JS -> C++ crossing per guest entry, no objects
 * built on either side. The C++ definition is `src/native/run_block.h`;
 * `load-native.ts` checks the two agree.
 */
import type { Registers } from '@hyperlight-ts/core';

/** Where each field lives in the run block, as indexes into its u64 / u32 views. */
export const RUN_BLOCK = {
  /** Bytes in the block. */
  size: 256,
  /** uint64 index of the first register; 18 follow in {@link REGISTER_NAMES} order. */
  regsU64: 0,
  regCount: 18,
  /** uint64 index of `kvm_run.mmio.phys_addr`. */
  mmioGpaU64: 18,
  /** uint64 index of `kvm_run.fail_entry.hardware_entry_failure_reason`. */
  failEntryReasonU64: 19,
  /** uint64 index of `kvm_run.internal.data[0]`; `internalDataCount` words follow. */
  internalDataU64: 20,
  internalDataCount: 4,
  /** uint32 index of the exit reason (`KVM_EXIT_*`; `KVM_EXIT_INTR` when interrupted). */
  exitReasonU32: 48,
  /** uint32 index of `KVM_EXIT_IO_IN` / `KVM_EXIT_IO_OUT`. */
  ioDirectionU32: 49,
  /** uint32 index of the I/O access size in bytes (1, 2 or 4). */
  ioSizeU32: 50,
  ioPortU32: 51,
  /** uint32 index of the element count (> 1 for `rep ins`/`rep outs`). */
  ioCountU32: 52,
  /** uint32 index of the first value written by `out`, zero-extended. */
  ioValueU32: 53,
  /** uint32 index of `kvm_run.mmio.len` (bytes). */
  mmioSizeU32: 54,
  mmioIsWriteU32: 55,
  internalSuberrorU32: 56,
  internalNdataU32: 57,
  failEntryCpuU32: 58,
} as const;

/** Register order in the block: that of `struct kvm_regs`. */
export const REGISTER_NAMES = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
  'rip', 'rflags',
] as const satisfies readonly (keyof Registers)[];

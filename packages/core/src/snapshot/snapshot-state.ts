/**
 * What a snapshot records besides guest memory: everything needed to check
 * that it belongs to a sandbox, and the CPU state to put back. Host-side and
 * immutable; nothing here is read from guest memory.
 */
import type { BackendName, Registers, SpecialRegisters } from '../backend/backend.js';
import type { MemoryLayoutOptions } from '../mem/layout.js';
import type { ParameterTypeName, ValueTypeName } from '../protocol/values.js';

/** A guest or host function signature as a snapshot records it. */
export interface RecordedFunction {
  readonly name: string;
  readonly params: readonly ParameterTypeName[];
  readonly returns: ValueTypeName;
}

/** The host-side half of a snapshot. */
export interface SnapshotState {
  /** Backend whose VM produced {@link fpuState}; only VMs of that backend can load it. */
  readonly backend: BackendName;
  /** SHA-256 of the guest ELF file, lowercase hex. */
  readonly binaryDigest: string;
  /** The sizes and image segments the memory layout was computed from. */
  readonly layout: MemoryLayoutOptions;
  /** Offset in bytes of the ELF entry point from the image start. */
  readonly entryOffset: number;
  /** Link-time virtual address of the image start (`ElfImage.vaddrBase`), for trace sessions of sandboxes made from the snapshot. */
  readonly linkBase: bigint;
  /** The `maxLogLevel` written into the PEB. */
  readonly maxLogLevel: number;
  /** SHA-256 of the init data blob (of zero bytes when there is none), lowercase hex. */
  readonly initDataDigest: string;
  /** The functions the guest published at initialisation. */
  readonly guestFunctions: readonly RecordedFunction[];
  /** The host functions registered when the snapshot was taken; a sandbox using it must provide each. */
  readonly hostFunctions: readonly RecordedFunction[];
  readonly registers: Registers;
  readonly specialRegisters: SpecialRegisters;
  /** `VirtualMachine.getFpuState()` at the snapshot. */
  readonly fpuState: Uint8Array;
  /** Whether the VM ran with XSAVE enabled (CR4.OSXSAVE depends on it). */
  readonly xsaveEnabled: boolean;
}

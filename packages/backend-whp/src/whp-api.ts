/**
 * The native functions this backend calls, as plain TypeScript: handles and
 * addresses are bigints, buffers are typed arrays the callee reads or fills.
 * `koffi-binding.ts` implements it over WinHvPlatform.dll and kernel32.dll;
 * tests implement it with a recording stand-in, so everything above this
 * line runs (and is tested) on any OS.
 *
 * WHv* functions return their HRESULT (any sign; negative = failure).
 * kernel32 functions return 0n (or false) on failure, and then
 * {@link WhpApi.lastError} gives `GetLastError()`.
 */

/** A WinHvPlatform partition handle (`WHV_PARTITION_HANDLE`, a pointer). */
export type PartitionHandle = bigint;

/** The functions of WinHvPlatform.dll and kernel32.dll the backend uses. */
export interface WhpApi {
  /** `WHvGetCapability(code, buffer, buffer.byteLength, &written)`. */
  getCapability(code: number, buffer: Uint8Array): number;
  /** `WHvCreatePartition(&handle)`; `handle[0]` receives it. */
  createPartition(handle: BigUint64Array): number;
  /** `WHvSetPartitionProperty(partition, code, value, value.byteLength)`. */
  setPartitionProperty(partition: PartitionHandle, code: number, value: Uint8Array): number;
  /** `WHvSetupPartition(partition)`. */
  setupPartition(partition: PartitionHandle): number;
  /** `WHvDeletePartition(partition)`. */
  deletePartition(partition: PartitionHandle): number;
  /** `WHvMapGpaRange(partition, source, gpa, size, flags)`; `source` is a page-aligned address in this process. */
  mapGpaRange(partition: PartitionHandle, source: bigint, gpa: bigint, size: number, flags: number): number;
  /** `WHvUnmapGpaRange(partition, gpa, size)`. */
  unmapGpaRange(partition: PartitionHandle, gpa: bigint, size: number): number;
  /** `WHvCreateVirtualProcessor(partition, vpIndex, 0)`. */
  createVirtualProcessor(partition: PartitionHandle, vpIndex: number): number;
  /** `WHvDeleteVirtualProcessor(partition, vpIndex)`. */
  deleteVirtualProcessor(partition: PartitionHandle, vpIndex: number): number;
  /**
   * `WHvGetVirtualProcessorRegisters(partition, vpIndex, names, names.length, values)`;
   * `values` holds 16 bytes per name and must be 16-byte aligned in memory.
   */
  getVirtualProcessorRegisters(partition: PartitionHandle, vpIndex: number, names: Uint32Array, values: Uint8Array): number;
  /** `WHvSetVirtualProcessorRegisters(...)`, same shapes as the getter. */
  setVirtualProcessorRegisters(partition: PartitionHandle, vpIndex: number, names: Uint32Array, values: Uint8Array): number;
  /** `WHvRunVirtualProcessor(partition, vpIndex, exitContext, 224)`: blocks until the next exit. */
  runVirtualProcessor(partition: PartitionHandle, vpIndex: number, exitContext: Uint8Array): number;
  /**
   * The same call on a thread of the native pool; `done` runs on this
   * thread's event loop with the HRESULT (or an error of the binding itself).
   */
  runVirtualProcessorAsync(
    partition: PartitionHandle, vpIndex: number, exitContext: Uint8Array,
    done: (error: Error | null, hresult: number) => void,
  ): void;
  /** `WHvCancelRunVirtualProcessor(partition, vpIndex, 0)`; any thread. */
  cancelRunVirtualProcessor(partition: PartitionHandle, vpIndex: number): number;
  /** `WHvGetVirtualProcessorXsaveState(partition, vpIndex, buffer, size, &written)`; `written[0]` receives the size. */
  getVirtualProcessorXsaveState(partition: PartitionHandle, vpIndex: number, buffer: Uint8Array, written: Uint32Array): number;
  /** `WHvSetVirtualProcessorXsaveState(partition, vpIndex, buffer, size)`. */
  setVirtualProcessorXsaveState(partition: PartitionHandle, vpIndex: number, buffer: Uint8Array): number;

  /** `VirtualAlloc(address or NULL, size, allocationType, protect)`: the address, or 0n. */
  virtualAlloc(address: bigint, size: number, allocationType: number, protect: number): bigint;
  /** `VirtualFree(address, size, freeType)`. */
  virtualFree(address: bigint, size: number, freeType: number): boolean;
  /** `CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL)`: a handle, or 0n. */
  openFileForReading(path: string): bigint;
  /** `CreateFileMappingW(file or INVALID_HANDLE_VALUE when 0n, NULL, protect, size, name)`: a handle, or 0n. */
  createFileMapping(file: bigint, protect: number, size: number, name: string | null): bigint;
  /** `MapViewOfFile(mapping, access, offset, size)`: the address, or 0n. */
  mapViewOfFile(mapping: bigint, access: number, offset: number, size: number): bigint;
  /** `UnmapViewOfFile(address)`. */
  unmapViewOfFile(address: bigint): boolean;
  /** `CloseHandle(handle)`. */
  closeHandle(handle: bigint): boolean;
  /** `GetLastError()` of the last kernel32 call on this thread. */
  lastError(): number;
  /** An ArrayBuffer over `size` bytes at `address` of this process, without copying. */
  view(address: bigint, size: number): ArrayBuffer;
}

/** kernel32 constants the backend passes through {@link WhpApi}. */
export const KERNEL32 = {
  MEM_COMMIT: 0x1000,
  MEM_RESERVE: 0x2000,
  MEM_RESET: 0x80000,
  MEM_RELEASE: 0x8000,
  PAGE_READONLY: 0x02,
  PAGE_READWRITE: 0x04,
  FILE_MAP_WRITE: 0x0002,
  FILE_MAP_READ: 0x0004,
  /** MapViewOfFile offsets must be multiples of this (SYSTEM_INFO.dwAllocationGranularity on x64 Windows). */
  allocationGranularity: 0x10000,
} as const;

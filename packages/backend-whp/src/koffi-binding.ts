/**
 * {@link WhpApi} over WinHvPlatform.dll and kernel32.dll through koffi (a
 * prebuilt Node-API FFI: no compiler on the user's machine). koffi is
 * required only when this function runs, so the package loads on every OS.
 *
 * Handles and addresses travel as `uint64_t`: on x64 Windows a pointer is
 * passed like one, and a plain integer (unlike a koffi pointer object) can be
 * handed to another thread (the watchdog worker).
 */
import { createRequire } from 'node:module';
import type { WhpApi } from './whp-api.js';

/** Error `code` of {@link loadKoffiBinding} when WinHvPlatform.dll is absent (the Windows feature is off). */
export const DLL_MISSING_ERROR_CODE = 'ERR_HYPERLIGHT_WHP_DLL_MISSING';

/** The C prototypes bound from WinHvPlatform.dll, by WhpApi method name. */
export const WHP_PROTOTYPES = {
  getCapability: 'int32_t __stdcall WHvGetCapability(uint32_t code, _Inout_ void *buffer, uint32_t size, _Out_ uint32_t *written)',
  createPartition: 'int32_t __stdcall WHvCreatePartition(_Inout_ void *partition)',
  setPartitionProperty: 'int32_t __stdcall WHvSetPartitionProperty(uint64_t partition, uint32_t code, void *value, uint32_t size)',
  setupPartition: 'int32_t __stdcall WHvSetupPartition(uint64_t partition)',
  deletePartition: 'int32_t __stdcall WHvDeletePartition(uint64_t partition)',
  mapGpaRange: 'int32_t __stdcall WHvMapGpaRange(uint64_t partition, uint64_t source, uint64_t gpa, uint64_t size, uint32_t flags)',
  unmapGpaRange: 'int32_t __stdcall WHvUnmapGpaRange(uint64_t partition, uint64_t gpa, uint64_t size)',
  createVirtualProcessor: 'int32_t __stdcall WHvCreateVirtualProcessor(uint64_t partition, uint32_t vp, uint32_t flags)',
  deleteVirtualProcessor: 'int32_t __stdcall WHvDeleteVirtualProcessor(uint64_t partition, uint32_t vp)',
  getVirtualProcessorRegisters:
    'int32_t __stdcall WHvGetVirtualProcessorRegisters(uint64_t partition, uint32_t vp, void *names, uint32_t count, _Inout_ void *values)',
  setVirtualProcessorRegisters:
    'int32_t __stdcall WHvSetVirtualProcessorRegisters(uint64_t partition, uint32_t vp, void *names, uint32_t count, void *values)',
  runVirtualProcessor: 'int32_t __stdcall WHvRunVirtualProcessor(uint64_t partition, uint32_t vp, _Inout_ void *context, uint32_t size)',
  cancelRunVirtualProcessor: 'int32_t __stdcall WHvCancelRunVirtualProcessor(uint64_t partition, uint32_t vp, uint32_t flags)',
  getVirtualProcessorXsaveState:
    'int32_t __stdcall WHvGetVirtualProcessorXsaveState(uint64_t partition, uint32_t vp, _Inout_ void *buffer, uint32_t size, _Inout_ void *written)',
  setVirtualProcessorXsaveState:
    'int32_t __stdcall WHvSetVirtualProcessorXsaveState(uint64_t partition, uint32_t vp, void *buffer, uint32_t size)',
} as const;

/** The C prototypes bound from kernel32.dll. */
export const KERNEL32_PROTOTYPES = {
  virtualAlloc: 'uint64_t __stdcall VirtualAlloc(uint64_t address, uint64_t size, uint32_t type, uint32_t protect)',
  virtualFree: 'bool __stdcall VirtualFree(uint64_t address, uint64_t size, uint32_t type)',
  createFile:
    'uint64_t __stdcall CreateFileW(str16 path, uint32_t access, uint32_t share, void *security, uint32_t disposition, uint32_t flags, uint64_t template)',
  createFileMapping:
    'uint64_t __stdcall CreateFileMappingW(uint64_t file, void *security, uint32_t protect, uint32_t sizeHigh, uint32_t sizeLow, str16 name)',
  mapViewOfFile: 'uint64_t __stdcall MapViewOfFile(uint64_t mapping, uint32_t access, uint32_t offsetHigh, uint32_t offsetLow, uint64_t size)',
  unmapViewOfFile: 'bool __stdcall UnmapViewOfFile(uint64_t address)',
  closeHandle: 'bool __stdcall CloseHandle(uint64_t handle)',
  getLastError: 'uint32_t __stdcall GetLastError()',
} as const;

const GENERIC_READ = 0x8000_0000;
const FILE_SHARE_READ = 0x1;
const OPEN_EXISTING = 3;
/** `INVALID_HANDLE_VALUE` ((HANDLE)-1) as an unsigned 64-bit integer. */
const INVALID_HANDLE_VALUE = 0xffff_ffff_ffff_ffffn;
const TWO_POW_32 = 0x1_0000_0000;

// Only the koffi surface used here, so its types need not be exported.
interface KoffiFunction {
  (...args: unknown[]): unknown;
  async(...args: unknown[]): void;
}
interface Koffi {
  load(path: string): { func(prototype: string): KoffiFunction };
  view(address: bigint, size: number): ArrayBuffer;
}

/**
 * Loads koffi and binds the DLLs. Windows only.
 * @throws Error {@link DLL_MISSING_ERROR_CODE} when WinHvPlatform.dll is
 *   absent; another Error when koffi cannot be loaded.
 */
export function loadKoffiBinding(): WhpApi {
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  let whp: ReturnType<Koffi['load']>;
  try {
    whp = koffi.load('WinHvPlatform.dll');
  } catch (error) {
    throw Object.assign(new Error(`WinHvPlatform.dll cannot be loaded: ${String(error)}`, { cause: error }), { code: DLL_MISSING_ERROR_CODE });
  }
  const kernel32 = koffi.load('kernel32.dll');
  const w = Object.fromEntries(Object.entries(WHP_PROTOTYPES).map(([name, proto]) => [name, whp.func(proto)])) as Record<
    keyof typeof WHP_PROTOTYPES, KoffiFunction
  >;
  const k = Object.fromEntries(Object.entries(KERNEL32_PROTOTYPES).map(([name, proto]) => [name, kernel32.func(proto)])) as Record<
    keyof typeof KERNEL32_PROTOTYPES, KoffiFunction
  >;
  const written = new Uint32Array(1);
  const u64 = (value: unknown): bigint => BigInt(value as number | bigint);
  return {
    getCapability: (code, buffer) => w.getCapability(code, buffer, buffer.byteLength, written) as number,
    createPartition: (handle) => w.createPartition(handle) as number,
    setPartitionProperty: (p, code, value) => w.setPartitionProperty(p, code, value, value.byteLength) as number,
    setupPartition: (p) => w.setupPartition(p) as number,
    deletePartition: (p) => w.deletePartition(p) as number,
    mapGpaRange: (p, source, gpa, size, flags) => w.mapGpaRange(p, source, gpa, size, flags) as number,
    unmapGpaRange: (p, gpa, size) => w.unmapGpaRange(p, gpa, size) as number,
    createVirtualProcessor: (p, vp) => w.createVirtualProcessor(p, vp, 0) as number,
    deleteVirtualProcessor: (p, vp) => w.deleteVirtualProcessor(p, vp) as number,
    getVirtualProcessorRegisters: (p, vp, names, values) => w.getVirtualProcessorRegisters(p, vp, names, names.length, values) as number,
    setVirtualProcessorRegisters: (p, vp, names, values) => w.setVirtualProcessorRegisters(p, vp, names, names.length, values) as number,
    runVirtualProcessor: (p, vp, context) => w.runVirtualProcessor(p, vp, context, context.byteLength) as number,
    runVirtualProcessorAsync: (p, vp, context, done) => {
      w.runVirtualProcessor.async(p, vp, context, context.byteLength, (error: Error | null, hresult: number) => done(error, hresult));
    },
    cancelRunVirtualProcessor: (p, vp) => w.cancelRunVirtualProcessor(p, vp, 0) as number,
    getVirtualProcessorXsaveState: (p, vp, buffer, out) => w.getVirtualProcessorXsaveState(p, vp, buffer, buffer.byteLength, out) as number,
    setVirtualProcessorXsaveState: (p, vp, buffer) => w.setVirtualProcessorXsaveState(p, vp, buffer, buffer.byteLength) as number,
    virtualAlloc: (address, size, type, protect) => u64(k.virtualAlloc(address, size, type, protect)),
    virtualFree: (address, size, type) => k.virtualFree(address, size, type) as boolean,
    openFileForReading: (path) => {
      const handle = u64(k.createFile(path, GENERIC_READ, FILE_SHARE_READ, null, OPEN_EXISTING, 0, 0));
      return handle === INVALID_HANDLE_VALUE ? 0n : handle;
    },
    createFileMapping: (file, protect, size, name) =>
      u64(k.createFileMapping(file === 0n ? INVALID_HANDLE_VALUE : file, null, protect, Math.floor(size / TWO_POW_32), size % TWO_POW_32, name)),
    mapViewOfFile: (mapping, access, offset, size) =>
      u64(k.mapViewOfFile(mapping, access, Math.floor(offset / TWO_POW_32), offset % TWO_POW_32, size)),
    unmapViewOfFile: (address) => k.unmapViewOfFile(address) as boolean,
    closeHandle: (handle) => k.closeHandle(handle) as boolean,
    lastError: () => k.getLastError() as number,
    view: (address, size) => koffi.view(address, size),
  };
}

/**
 * A recording stand-in for WinHvPlatform.dll and kernel32.dll: every call is
 * logged, memory is JS ArrayBuffers at made-up addresses, runs return the
 * exit contexts a test queues, and any function can be told to fail.
 */
import type { WhpApi } from '../../src/whp-api.js';

export interface FakeCall {
  readonly fn: string;
  readonly args: readonly unknown[];
}

export class FakeWhpApi implements WhpApi {
  readonly calls: FakeCall[] = [];
  /** HRESULTs to return instead of S_OK, by function name. */
  readonly failures = new Map<string, number>();
  /** Exit contexts the next runs copy out. */
  readonly exits: Uint8Array[] = [];
  /** Runs this hook before returning a run's exit (e.g. to cancel "from another thread"). */
  onRun: (() => void) | undefined;
  readonly memory = new Map<bigint, ArrayBuffer>();
  /** Register values by WHV_REGISTER_NAME, as 16-byte values. */
  readonly registers = new Map<number, Uint8Array>();
  hypervisorPresent = 1;
  #nextAddress = 0x10000n;

  #log(fn: string, ...args: unknown[]): number {
    this.calls.push({ fn, args });
    return this.failures.get(fn) ?? 0;
  }

  names(): string[] {
    return this.calls.map((call) => call.fn);
  }

  getCapability(code: number, buffer: Uint8Array): number {
    if (code === 0) new DataView(buffer.buffer, buffer.byteOffset).setUint32(0, this.hypervisorPresent, true);
    return this.#log('WHvGetCapability', code);
  }
  createPartition(handle: BigUint64Array): number {
    handle[0] = 0xabcn;
    return this.#log('WHvCreatePartition');
  }
  setPartitionProperty(p: bigint, code: number, value: Uint8Array): number {
    return this.#log('WHvSetPartitionProperty', p, code, [...value]);
  }
  setupPartition(p: bigint): number {
    return this.#log('WHvSetupPartition', p);
  }
  deletePartition(p: bigint): number {
    return this.#log('WHvDeletePartition', p);
  }
  mapGpaRange(p: bigint, source: bigint, gpa: bigint, size: number, flags: number): number {
    return this.#log('WHvMapGpaRange', p, source, gpa, size, flags);
  }
  unmapGpaRange(p: bigint, gpa: bigint, size: number): number {
    return this.#log('WHvUnmapGpaRange', p, gpa, size);
  }
  createVirtualProcessor(p: bigint, vp: number): number {
    return this.#log('WHvCreateVirtualProcessor', p, vp);
  }
  deleteVirtualProcessor(p: bigint, vp: number): number {
    return this.#log('WHvDeleteVirtualProcessor', p, vp);
  }
  getVirtualProcessorRegisters(p: bigint, vp: number, names: Uint32Array, values: Uint8Array): number {
    names.forEach((name, i) => values.set(this.registers.get(name) ?? new Uint8Array(16), i * 16));
    return this.#log('WHvGetVirtualProcessorRegisters', [...names]);
  }
  setVirtualProcessorRegisters(p: bigint, vp: number, names: Uint32Array, values: Uint8Array): number {
    const hresult = this.#log('WHvSetVirtualProcessorRegisters', [...names]);
    if (hresult === 0) names.forEach((name, i) => this.registers.set(name, values.slice(i * 16, i * 16 + 16)));
    return hresult;
  }
  runVirtualProcessor(p: bigint, vp: number, context: Uint8Array): number {
    this.onRun?.();
    const exit = this.exits.shift();
    if (exit === undefined) throw new Error('fake: no exit queued');
    context.set(exit);
    return this.#log('WHvRunVirtualProcessor');
  }
  runVirtualProcessorAsync(p: bigint, vp: number, context: Uint8Array, done: (error: Error | null, hresult: number) => void): void {
    setImmediate(() => {
      try {
        done(null, this.runVirtualProcessor(p, vp, context));
      } catch (error) {
        done(error as Error, 0);
      }
    });
  }
  cancelRunVirtualProcessor(p: bigint, vp: number): number {
    return this.#log('WHvCancelRunVirtualProcessor', p, vp);
  }
  getVirtualProcessorXsaveState(p: bigint, vp: number, buffer: Uint8Array, written: Uint32Array): number {
    buffer.fill(0x5a, 0, 64);
    written[0] = 64;
    return this.#log('WHvGetVirtualProcessorXsaveState');
  }
  setVirtualProcessorXsaveState(p: bigint, vp: number, buffer: Uint8Array): number {
    return this.#log('WHvSetVirtualProcessorXsaveState', buffer.byteLength);
  }
  virtualAlloc(address: bigint, size: number, type: number): bigint {
    this.#log('VirtualAlloc', address, size, type);
    if (this.failures.has('VirtualAlloc')) return 0n;
    if (address !== 0n) return address;
    const at = this.#nextAddress;
    this.#nextAddress += BigInt(size) + 0x1000n;
    this.memory.set(at, new ArrayBuffer(size));
    return at;
  }
  virtualFree(address: bigint, size: number, type: number): boolean {
    this.#log('VirtualFree', address, size, type);
    return true;
  }
  openFileForReading(path: string): bigint {
    this.#log('CreateFileW', path);
    return this.failures.has('CreateFileW') ? 0n : 0x77n;
  }
  createFileMapping(file: bigint, protect: number, size: number, name: string | null): bigint {
    this.#log('CreateFileMappingW', file, protect, size, name);
    return 0x78n;
  }
  fileContents = new Uint8Array(0);
  mapViewOfFile(mapping: bigint, access: number, offset: number, size: number): bigint {
    this.#log('MapViewOfFile', mapping, access, offset, size);
    const at = this.#nextAddress;
    this.#nextAddress += BigInt(size) + 0x1000n;
    this.memory.set(at, this.fileContents.slice(offset, offset + size).buffer);
    return at;
  }
  unmapViewOfFile(address: bigint): boolean {
    this.#log('UnmapViewOfFile', address);
    return true;
  }
  closeHandle(handle: bigint): boolean {
    this.#log('CloseHandle', handle);
    return true;
  }
  lastError(): number {
    return 5; // ERROR_ACCESS_DENIED
  }
  view(address: bigint, size: number): ArrayBuffer {
    const buffer = this.memory.get(address);
    if (buffer === undefined || buffer.byteLength < size) throw new Error(`fake: no memory at 0x${address.toString(16)}`);
    return buffer;
  }
}

/** A 224-byte exit context with `reason` and the given fields (offset → [bytes, value]). */
export function exitContext(reason: number, fields: Record<number, [1 | 2 | 4 | 8, number | bigint]> = {}): Uint8Array {
  const bytes = new Uint8Array(224);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, reason, true);
  for (const [offset, [size, value]] of Object.entries(fields)) {
    const at = Number(offset);
    if (size === 1) view.setUint8(at, Number(value));
    else if (size === 2) view.setUint16(at, Number(value), true);
    else if (size === 4) view.setUint32(at, Number(value), true);
    else view.setBigUint64(at, BigInt(value), true);
  }
  return bytes;
}

/**
 * Fixtures for the snapshot-file tests: an in-memory MemorySnapshot, a `map`
 * that copies the file region instead of mapping it, a realistic state, and a
 * second, independent reading of docs/snapshot-file-format.md used to build
 * hostile files with valid checksums.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { MemorySnapshot, Registers, SnapshotFile } from '../../src/backend/backend.js';
import { guestSpecialRegisters } from '../../src/arch/x86_64/special-registers.js';
import { MemoryLayout, PAGE_SIZE, type MemoryLayoutOptions } from '../../src/mem/layout.js';
import { LogLevel } from '../../src/protocol/codec.js';
import type { SnapshotState } from '../../src/snapshot/snapshot-state.js';
import { prng } from '../fixtures/elf-builder.js';

/** A MemorySnapshot over a byte array; `failReadAt` makes reads at or past that offset throw. */
export class FakeMemorySnapshot implements MemorySnapshot {
  disposed = false;
  reads = 0;
  constructor(readonly bytes: Uint8Array, readonly failReadAt = Infinity) {}
  get size(): number {
    return this.bytes.byteLength;
  }
  read(offset: number, target: Uint8Array): void {
    if (this.disposed) throw new Error('read after dispose');
    if (offset < 0 || offset + target.byteLength > this.size) throw new RangeError(`read ${offset}+${target.byteLength} outside ${this.size}`);
    if (offset + target.byteLength > this.failReadAt) throw new Error('simulated read failure');
    this.reads++;
    target.set(this.bytes.subarray(offset, offset + target.byteLength));
  }
  dispose(): void {
    this.disposed = true;
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** A `map` for readSnapshotFile that copies the region into a FakeMemorySnapshot and records each call. */
export function copyingMap(): {
  map: (file: SnapshotFile, offset: number, size: number) => FakeMemorySnapshot;
  calls: { path: string; fd: number; offset: number; size: number }[];
  results: FakeMemorySnapshot[];
} {
  const calls: { path: string; fd: number; offset: number; size: number }[] = [];
  const results: FakeMemorySnapshot[] = [];
  const map = ({ path, fd }: SnapshotFile, offset: number, size: number): FakeMemorySnapshot => {
    calls.push({ path, fd, offset, size });
    const bytes = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, bytes, done, size - done, offset + done);
      if (n === 0) throw new RangeError('region outside the file');
      done += n;
    }
    const memory = new FakeMemorySnapshot(bytes);
    results.push(memory);
    return memory;
  };
  return { map, calls, results };
}

/** Open file descriptors of this process, or undefined where /proc is missing. */
export function openFdCount(): number | undefined {
  return existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : undefined;
}

const KIB = 1024;

/** The options a small guest produces: a code and a data segment. */
export const LAYOUT_OPTIONS: MemoryLayoutOptions = {
  imageSize: 40 * KIB,
  imageSegments: [
    { offset: 0, memSize: 24 * KIB, readable: true, writable: false, executable: true },
    { offset: 24 * KIB + 0x10, memSize: 16 * KIB - 0x10, readable: true, writable: true, executable: false },
  ],
  inputSize: 64 * KIB,
  outputSize: 64 * KIB,
  logSize: 16 * KIB,
  traceSize: 64 * KIB,
  heapSize: 1024 * KIB,
  stackSize: 256 * KIB,
  initDataSize: 100,
};

/** The guest memory size of {@link LAYOUT_OPTIONS}. */
export const LAYOUT_MEMORY_SIZE = MemoryLayout.compute(LAYOUT_OPTIONS).totalSize;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A KVM-sized XSAVE area: legacy region with FCW 0x37f and MXCSR 0x1f80, some XMM bytes, the rest zero. */
function fpuState(): Uint8Array {
  const area = new Uint8Array(4096);
  const view = new DataView(area.buffer);
  view.setUint16(0, 0x37f, true);
  view.setUint32(24, 0x1f80, true);
  view.setUint32(28, 0xffff, true);
  for (let i = 160; i < 176; i++) area[i] = i;
  return area;
}

/** A state as a sandbox would record it after initialisation, with edge values in the registers. */
export function sampleState(): SnapshotState {
  const layout = MemoryLayout.compute(LAYOUT_OPTIONS);
  const registers: Registers = {
    rax: 0n, rbx: 0x1234n, rcx: 0xffff_ffff_ffff_ffffn, rdx: 1n << 63n,
    rsi: 0x7f00n, rdi: 0x4_0000n, rsp: BigInt(layout.totalSize - 16), rbp: 0n,
    r8: 8n, r9: 9n, r10: 10n, r11: 0x202n, r12: 12n, r13: 13n, r14: 14n, r15: 0xdead_beef_cafe_f00dn,
    rip: 0x2_1000n, rflags: 0x2n,
  };
  return {
    backend: 'kvm',
    binaryDigest: sha256('guest binary'),
    layout: LAYOUT_OPTIONS,
    entryOffset: 0x1040,
    linkBase: 0x20_0000n,
    maxLogLevel: LogLevel.Info,
    initDataDigest: sha256('init data'),
    guestFunctions: [
      { name: 'echo', params: ['string'], returns: 'string' },
      { name: 'add', params: ['i32', 'i64', 'u32', 'u64', 'f32', 'f64', 'bool', 'bytes'], returns: 'f64' },
      { name: 'noop', params: [], returns: 'void' },
      { name: 'héllo 🦀', params: [], returns: 'bytes' },
    ],
    hostFunctions: [{ name: 'host_print', params: ['string'], returns: 'i32' }],
    registers,
    specialRegisters: guestSpecialRegisters(layout, { xsave: true }),
    fpuState: fpuState(),
    xsaveEnabled: true,
  };
}

/** A memory image with `pages` filled with seeded random bytes and every other page zero. */
export function memoryWithPages(size: number, pages: readonly number[], seed = 1): Uint8Array {
  const bytes = new Uint8Array(size);
  const random = prng(seed);
  for (const page of pages) {
    for (let i = page * PAGE_SIZE; i < (page + 1) * PAGE_SIZE; i++) bytes[i] = random() & 0xff;
  }
  return bytes;
}

// The format, read again from the document rather than from the implementation.

/** Header size and field offsets from docs/snapshot-file-format.md. */
export const Header = {
  size: 64,
  magic: 0,
  version: 8,
  architecture: 12,
  reserved16: 14,
  metadataOffset: 16,
  metadataSize: 24,
  memoryOffset: 32,
  memorySize: 40,
  metadataCrc: 48,
  memoryCrc: 52,
  reserved32: 56,
  headerCrc: 60,
} as const;

/** The regions of a well-formed snapshot file. */
export interface SnapshotFileParts {
  readonly header: Buffer;
  readonly metadata: Buffer;
  readonly memoryOffset: number;
  readonly memory: Buffer;
}

/** Splits a well-formed file into its regions, using the sizes its header gives. */
export function splitSnapshotFile(file: Buffer): SnapshotFileParts {
  const metadataSize = Number(file.readBigUInt64LE(Header.metadataSize));
  const memoryOffset = Number(file.readBigUInt64LE(Header.memoryOffset));
  const memorySize = Number(file.readBigUInt64LE(Header.memorySize));
  return {
    header: file.subarray(0, Header.size),
    metadata: file.subarray(Header.size, Header.size + metadataSize),
    memoryOffset,
    memory: file.subarray(memoryOffset, memoryOffset + memorySize),
  };
}

/** A copy of `file` with its header edited and the header checksum recomputed. */
export function withHeader(file: Buffer, edit: (header: Buffer) => void): Buffer {
  const copy = Buffer.from(file);
  const header = copy.subarray(0, Header.size);
  edit(header);
  header.writeUInt32LE(crc32(header.subarray(0, Header.headerCrc)), Header.headerCrc);
  return copy;
}

/** A file like `file` but with other metadata bytes: sizes, offsets and every checksum made consistent. */
export function withMetadata(file: Buffer, metadata: Buffer): Buffer {
  const { header, memory } = splitSnapshotFile(file);
  const memoryOffset = Math.ceil((Header.size + metadata.byteLength) / 4096) * 4096;
  const out = Buffer.alloc(memoryOffset + memory.byteLength);
  header.copy(out, 0);
  metadata.copy(out, Header.size);
  memory.copy(out, memoryOffset);
  return withHeader(out, (h) => {
    h.writeBigUInt64LE(BigInt(metadata.byteLength), Header.metadataSize);
    h.writeBigUInt64LE(BigInt(memoryOffset), Header.memoryOffset);
    h.writeUInt32LE(crc32(metadata), Header.metadataCrc);
  });
}

/** A file like `file` whose metadata JSON went through `edit` (which may mutate it or return a replacement). */
export function withEditedMetadata(file: Buffer, edit: (json: Record<string, any>) => unknown): Buffer {
  const json = JSON.parse(splitSnapshotFile(file).metadata.toString('utf8')) as Record<string, any>;
  const replaced = edit(json);
  return withMetadata(file, Buffer.from(JSON.stringify(replaced === undefined ? json : replaced), 'utf8'));
}

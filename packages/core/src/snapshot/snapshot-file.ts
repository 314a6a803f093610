/**
 * Snapshot files: a {@link SnapshotState} and its guest memory image in one
 * file, loaded by mapping the image rather than copying it. The byte layout is
 * specified in docs/snapshot-file-format.md; keep the two in step.
 *
 * A file is input: everything in it is validated before anything is mapped,
 * and every failure is a {@link SnapshotFileError} naming the problem.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, unlinkSync, writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import type {
  BackendName, DescriptorTable, MemorySnapshot, Registers, Segment, SnapshotFile, SpecialRegisters,
} from '../backend/backend.js';
import { SnapshotFileError } from '../errors.js';
import type { ImageSegmentAccess, MemoryLayoutOptions } from '../mem/layout.js';
import { LogLevel } from '../protocol/codec.js';
import { PARAMETER_TYPES, VALUE_TYPES, type ParameterTypeName, type ValueTypeName } from '../protocol/values.js';
import type { RecordedFunction, SnapshotState } from './snapshot-state.js';

/** The format version this build writes, and the only one it reads (2: the layout's trace area and the image's link base). */
export const SNAPSHOT_FILE_VERSION = 2;

/** `\x89HLSNAP\n`: the high byte and the newline catch 7-bit and newline-translating copies, as PNG's do. */
const MAGIC = Buffer.from([0x89, 0x48, 0x4c, 0x53, 0x4e, 0x41, 0x50, 0x0a]);
/** ELF `e_machine` of x86-64 (System V gABI, EM_X86_64): the only architecture this build reads. */
const EM_X86_64 = 62;
const HEADER_SIZE = 64;
/** Byte offsets of the header fields (docs/snapshot-file-format.md, "Header"). */
const Field = {
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
/** The memory image starts on a page boundary so it can be mapped straight from the file. */
const PAGE_SIZE = 4096;
/** Far above any real state (the FPU area is a few KiB); bounds what a hostile header makes us allocate. */
const MAX_METADATA_SIZE = 16 * 1024 * 1024;
/** Memory is checksummed, and written, in chunks of this size. */
const CHUNK_SIZE = 1024 * 1024;
const ZERO_CHUNK = Buffer.alloc(CHUNK_SIZE);
const ZERO_PAGE = ZERO_CHUNK.subarray(0, PAGE_SIZE);

// ---------------------------------------------------------------------------
// Metadata: one codec per field, used both to write (checking the state) and
// to read (validating the file), so the two can never accept different things.
// Every check throws a RangeError naming the field; the reader turns it into
// a 'corrupt' SnapshotFileError.
// ---------------------------------------------------------------------------

interface Codec<T> {
  /** The JSON form of `value`; throws RangeError when `value` is not a valid T. */
  encode(value: unknown, at: string): unknown;
  /** The T that `json` encodes; throws RangeError when `json` is not a valid encoding. */
  decode(json: unknown, at: string): T;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  switch (typeof value) {
    case 'string': return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}...` : JSON.stringify(value);
    case 'number': case 'boolean': return String(value);
    case 'bigint': return `${value}n`;
    default: return `a value of type ${typeof value}`;
  }
}

function invalid(at: string, expected: string, value: unknown): RangeError {
  return new RangeError(`${at}: expected ${expected}, got ${describe(value)}`);
}

/** A codec whose JSON form is the value itself, for values `accepts` admits. */
function plain<T>(expected: string, accepts: (value: unknown) => value is T): Codec<T> {
  const check = (value: unknown, at: string): T => {
    if (!accepts(value)) throw invalid(at, expected, value);
    return value;
  };
  return { encode: check, decode: check };
}

const U64_MAX = (1n << 64n) - 1n;
/** Canonical lowercase hex without leading zeros: one spelling per value. */
const U64_HEX = /^0x(?:0|[1-9a-f][0-9a-f]{0,15})$/;

/** A 64-bit register value as a `0x`-prefixed hex string (JSON numbers stop being exact at 2^53). */
const u64: Codec<bigint> = {
  encode(value, at) {
    if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) throw invalid(at, 'a bigint in 0..2^64-1', value);
    return `0x${value.toString(16)}`;
  },
  decode(json, at) {
    if (typeof json !== 'string' || !U64_HEX.test(json)) throw invalid(at, 'a canonical 0x-prefixed hex string of at most 16 digits', json);
    return BigInt(json);
  },
};

function uint(max: number): Codec<number> {
  return plain(`an integer in 0..${max}`, (value): value is number =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max);
}

/** A size or offset in bytes. */
const size = uint(Number.MAX_SAFE_INTEGER);
const bool = plain('a boolean', (value): value is boolean => typeof value === 'boolean');
const string = plain('a string', (value): value is string => typeof value === 'string');
const sha256Hex = plain('64 lowercase hex digits', (value): value is string =>
  typeof value === 'string' && /^[0-9a-f]{64}$/.test(value));

function oneOf<T extends string>(values: readonly T[]): Codec<T> {
  return plain(`one of ${values.join(', ')}`, (value): value is T =>
    typeof value === 'string' && (values as readonly string[]).includes(value));
}

/** Canonical padded base64, so every byte string has one spelling and nothing is silently dropped. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Bytes as base64. Decodes to a plain Uint8Array. */
const bytes: Codec<Uint8Array> = {
  encode(value, at) {
    if (!(value instanceof Uint8Array)) throw invalid(at, 'a Uint8Array', value);
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  },
  decode(json, at) {
    if (typeof json !== 'string' || !BASE64.test(json)) throw invalid(at, 'a base64 string', json);
    const decoded = Buffer.from(json, 'base64');
    // The pattern admits non-zero unused bits in the last group; those would not round-trip.
    if (decoded.toString('base64') !== json) throw invalid(at, 'canonical base64', json);
    return new Uint8Array(decoded);
  },
};

function array<T>(item: Codec<T>): Codec<readonly T[]> {
  const check = (value: unknown, at: string): readonly unknown[] => {
    if (!Array.isArray(value)) throw invalid(at, 'an array', value);
    return value;
  };
  return {
    encode: (value, at) => check(value, at).map((entry, index) => item.encode(entry, `${at}[${index}]`)),
    decode: (json, at) => check(json, at).map((entry, index) => item.decode(entry, `${at}[${index}]`)),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * An object with exactly the fields of `fields` (the mapped type makes the
 * list complete at compile time). Encoding picks those fields and ignores
 * others; decoding rejects missing and unknown fields.
 */
function object<T>(fields: { readonly [K in keyof T]-?: Codec<T[K]> }): Codec<T> {
  const keys = Object.keys(fields) as (keyof T & string)[];
  return {
    encode(value, at) {
      if (!isRecord(value)) throw invalid(at, 'an object', value);
      const json: Record<string, unknown> = {};
      for (const key of keys) json[key] = fields[key].encode(value[key], `${at}.${key}`);
      return json;
    },
    decode(json, at) {
      if (!isRecord(json)) throw invalid(at, 'an object', json);
      for (const key of Object.keys(json)) {
        if (!Object.hasOwn(fields, key)) throw new RangeError(`${at}: unknown field ${JSON.stringify(key)}`);
      }
      const value: Partial<Record<keyof T, unknown>> = {};
      for (const key of keys) {
        if (!Object.hasOwn(json, key)) throw new RangeError(`${at}.${key}: missing`);
        value[key] = fields[key].decode(json[key], `${at}.${key}`);
      }
      return value as T;
    },
  };
}

/** Complete at compile time: a new backend name will not build until listed. */
const BACKEND_NAMES = Object.keys({ kvm: true, mshv: true, whp: true } satisfies Record<BackendName, true>) as BackendName[];

const registers = object<Registers>({
  rax: u64, rbx: u64, rcx: u64, rdx: u64, rsi: u64, rdi: u64, rsp: u64, rbp: u64,
  r8: u64, r9: u64, r10: u64, r11: u64, r12: u64, r13: u64, r14: u64, r15: u64,
  rip: u64, rflags: u64,
});

/** Field widths as the VMX access-rights layout and the SDM's descriptor format give them. */
const segment = object<Segment>({
  base: u64, limit: uint(0xffff_ffff), selector: uint(0xffff), type: uint(0xf), present: bool, dpl: uint(3),
  db: bool, s: bool, l: bool, g: bool, avl: bool, unusable: bool,
});

const descriptorTable = object<DescriptorTable>({ base: u64, limit: uint(0xffff) });

const specialRegisters = object<SpecialRegisters>({
  cs: segment, ds: segment, es: segment, fs: segment, gs: segment, ss: segment, tr: segment, ldt: segment,
  gdt: descriptorTable, idt: descriptorTable,
  cr0: u64, cr2: u64, cr3: u64, cr4: u64, cr8: u64, efer: u64, apicBase: u64,
});

const layout = object<MemoryLayoutOptions>({
  imageSize: size,
  imageSegments: array(object<ImageSegmentAccess>({
    offset: size, memSize: size, readable: bool, writable: bool, executable: bool,
  })),
  inputSize: size, outputSize: size, logSize: size, traceSize: size, heapSize: size, stackSize: size, initDataSize: size,
});

const recordedFunction = object<RecordedFunction>({
  name: string,
  params: array(oneOf<ParameterTypeName>(PARAMETER_TYPES)),
  returns: oneOf<ValueTypeName>(VALUE_TYPES),
});

const snapshotState = object<SnapshotState>({
  backend: oneOf(BACKEND_NAMES),
  binaryDigest: sha256Hex,
  layout,
  entryOffset: size,
  linkBase: u64,
  maxLogLevel: uint(LogLevel.Off),
  initDataDigest: sha256Hex,
  guestFunctions: array(recordedFunction),
  hostFunctions: array(recordedFunction),
  registers,
  specialRegisters,
  fpuState: bytes,
  xsaveEnabled: bool,
});

// ---------------------------------------------------------------------------
// File I/O helpers. Node opens every fd with O_CLOEXEC (libuv uv_fs_open).
// ---------------------------------------------------------------------------

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function ioError(path: string, what: string, cause: unknown): SnapshotFileError {
  return new SnapshotFileError(path, 'io', `${what}: ${message(cause)}`, { cause });
}

/** Reads into all of `target` from `position`; returns the bytes read, fewer only at end of file. */
function readFully(fd: number, target: Uint8Array, position: number): number {
  let done = 0;
  while (done < target.byteLength) {
    const n = readSync(fd, target, done, target.byteLength - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

function writeFully(fd: number, source: Uint8Array, position: number): void {
  let done = 0;
  while (done < source.byteLength) {
    done += writeSync(fd, source, done, source.byteLength - done, position + done);
  }
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

function isZero(bytes: Uint8Array): boolean {
  return Buffer.compare(bytes, bytes.byteLength === PAGE_SIZE ? ZERO_PAGE : ZERO_CHUNK.subarray(0, bytes.byteLength)) === 0;
}

/**
 * Writes the non-zero pages of `chunk` at `position`, one write per run of
 * them. Zero pages are skipped, so they stay holes in the file.
 */
function writeNonZeroPages(fd: number, chunk: Buffer, position: number): void {
  if (isZero(chunk)) return;
  let runStart = -1;
  for (let page = 0; page <= chunk.byteLength; page += PAGE_SIZE) {
    const zero = page === chunk.byteLength || isZero(chunk.subarray(page, page + PAGE_SIZE));
    if (!zero && runStart < 0) runStart = page;
    if (zero && runStart >= 0) {
      writeFully(fd, chunk.subarray(runStart, page), position + runStart);
      runStart = -1;
    }
  }
}

/** Makes a completed rename durable: the directory entry is only on disk once the directory is synced. */
function syncDirectory(directory: string): void {
  // Windows cannot open a directory as a file; NTFS journals the rename itself.
  if (process.platform === 'win32') return;
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/**
 * Writes `state` and `memory` to `path` as a snapshot file, atomically: the
 * file is built under a temporary name in the same directory, synced to disk
 * and renamed over `path`, so a crash or failure never leaves a half-written
 * file at `path` (an existing file there stays intact until the rename). Zero
 * pages of memory are not written and stay holes (the file is sparse). The
 * file is created with mode 0600: guest memory may hold secrets.
 *
 * @param path - where to write; its directory must exist
 * @param state - the host-side half of the snapshot
 * @param memory - the guest memory image; read, never disposed
 * @throws SnapshotFileError with problem `'io'` when the file cannot be written
 *   (cause = the system error) or `memory` cannot be read; no temporary file is left behind.
 * @throws RangeError when `state` is not a valid snapshot state or `memory.size`
 *   is not a positive multiple of 4096; nothing is written.
 * @example
 * using memory = vm.snapshotMemory();
 * writeSnapshotFile('/var/lib/app/warm.hlsnap', state, memory);
 */
export function writeSnapshotFile(path: string, state: SnapshotState, memory: MemorySnapshot): void {
  const metadata = Buffer.from(JSON.stringify(snapshotStateEncode(state)), 'utf8');
  if (metadata.byteLength > MAX_METADATA_SIZE) {
    throw new RangeError(`invalid snapshot state: its metadata takes ${metadata.byteLength} bytes, more than ${MAX_METADATA_SIZE}`);
  }
  const memorySize = memory.size;
  if (!Number.isSafeInteger(memorySize) || memorySize <= 0 || memorySize % PAGE_SIZE !== 0) {
    throw new RangeError(`memory size ${memorySize} is not a positive multiple of ${PAGE_SIZE}`);
  }
  const memoryOffset = alignUp(HEADER_SIZE + metadata.byteLength, PAGE_SIZE);

  const tempPath = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tempPath, 'wx', 0o600);
    writeFully(fd, metadata, HEADER_SIZE);
    const chunk = Buffer.alloc(Math.min(CHUNK_SIZE, memorySize));
    let memoryCrc = 0;
    for (let offset = 0; offset < memorySize; offset += chunk.byteLength) {
      const view = chunk.subarray(0, Math.min(chunk.byteLength, memorySize - offset));
      try {
        memory.read(offset, view);
      } catch (error) {
        throw ioError(path, `cannot read guest memory at offset ${offset}`, error);
      }
      memoryCrc = crc32(view, memoryCrc);
      writeNonZeroPages(fd, view, memoryOffset + offset);
    }
    // Extends the file over the trailing zero pages without writing them.
    ftruncateSync(fd, memoryOffset + memorySize);
    writeFully(fd, encodeHeader(metadata.byteLength, crc32(metadata), memoryOffset, memorySize, memoryCrc), 0);
    fsyncSync(fd);
    const closing = fd;
    fd = undefined;
    closeSync(closing);
    renameSync(tempPath, path);
  } catch (error) {
    if (fd !== undefined) {
      try { closeSync(fd); } catch { /* already failing; the first error is the one to report */ }
    }
    try { unlinkSync(tempPath); } catch { /* never created, or already renamed */ }
    if (error instanceof SnapshotFileError) throw error;
    throw ioError(path, `cannot write (via ${basename(tempPath)})`, error);
  }
  try {
    syncDirectory(dirname(path));
  } catch (error) {
    throw ioError(path, 'written, but the directory could not be synced, so the file may not survive a crash', error);
  }
}

function snapshotStateEncode(state: SnapshotState): unknown {
  try {
    return snapshotState.encode(state, 'state');
  } catch (error) {
    if (error instanceof RangeError) throw new RangeError(`invalid snapshot state: ${error.message}`);
    throw error;
  }
}

function encodeHeader(metadataSize: number, metadataCrc: number, memoryOffset: number, memorySize: number, memoryCrc: number): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(SNAPSHOT_FILE_VERSION, Field.version);
  header.writeUInt16LE(EM_X86_64, Field.architecture);
  header.writeBigUInt64LE(BigInt(HEADER_SIZE), Field.metadataOffset);
  header.writeBigUInt64LE(BigInt(metadataSize), Field.metadataSize);
  header.writeBigUInt64LE(BigInt(memoryOffset), Field.memoryOffset);
  header.writeBigUInt64LE(BigInt(memorySize), Field.memorySize);
  header.writeUInt32LE(metadataCrc, Field.metadataCrc);
  header.writeUInt32LE(memoryCrc, Field.memoryCrc);
  header.writeUInt32LE(crc32(header.subarray(0, Field.headerCrc)), Field.headerCrc);
  return header;
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

interface Header {
  readonly metadataSize: number;
  readonly metadataCrc: number;
  readonly memoryOffset: number;
  readonly memorySize: number;
  readonly memoryCrc: number;
}

/**
 * Validates the header against the file's length. Order matters: magic and
 * version come first because a later version may change everything after
 * them, then the header checksum, so the architecture and the sizes are
 * only trusted once the header is known to be intact.
 */
function decodeHeader(path: string, fd: number, fileSize: number): Header {
  const fail = (problem: 'not-a-snapshot' | 'truncated' | 'corrupt' | 'version' | 'architecture', detail: string) =>
    new SnapshotFileError(path, problem, detail);
  const header = Buffer.alloc(HEADER_SIZE);
  const got = readFully(fd, header, 0);
  const magicBytes = Math.min(got, MAGIC.byteLength);
  if (!header.subarray(0, magicBytes).equals(MAGIC.subarray(0, magicBytes))) {
    throw fail('not-a-snapshot', 'not a hyperlight snapshot file (bad magic)');
  }
  if (got < Field.architecture) throw fail('truncated', `the file has ${fileSize} bytes, shorter than the ${HEADER_SIZE}-byte header`);
  const version = header.readUInt32LE(Field.version);
  if (version !== SNAPSHOT_FILE_VERSION) {
    throw fail('version', `format version ${version}; this build reads only version ${SNAPSHOT_FILE_VERSION} (save the snapshot again with this build)`);
  }
  if (got < HEADER_SIZE) throw fail('truncated', `the file has ${fileSize} bytes, shorter than the ${HEADER_SIZE}-byte header`);
  const headerCrc = crc32(header.subarray(0, Field.headerCrc));
  if (headerCrc !== header.readUInt32LE(Field.headerCrc)) throw fail('corrupt', 'header checksum mismatch');

  const architecture = header.readUInt16LE(Field.architecture);
  if (architecture !== EM_X86_64) {
    throw fail('architecture', `saved on architecture ${architecture} (ELF e_machine); this build loads only x86-64 (${EM_X86_64})`);
  }
  if (header.readUInt16LE(Field.reserved16) !== 0 || header.readUInt32LE(Field.reserved32) !== 0) {
    throw fail('corrupt', 'reserved header fields are not zero');
  }
  const sizeField = (name: keyof typeof Field): number => {
    const value = header.readBigUInt64LE(Field[name]);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw fail('corrupt', `header ${name} ${value} is out of range`);
    return Number(value);
  };
  const metadataOffset = sizeField('metadataOffset');
  const metadataSize = sizeField('metadataSize');
  const memoryOffset = sizeField('memoryOffset');
  const memorySize = sizeField('memorySize');
  if (metadataOffset !== HEADER_SIZE) throw fail('corrupt', `metadata offset ${metadataOffset}, expected ${HEADER_SIZE}`);
  if (metadataSize === 0 || metadataSize > MAX_METADATA_SIZE) {
    throw fail('corrupt', `metadata size ${metadataSize} is outside 1..${MAX_METADATA_SIZE}`);
  }
  const expectedMemoryOffset = alignUp(HEADER_SIZE + metadataSize, PAGE_SIZE);
  if (memoryOffset !== expectedMemoryOffset) {
    throw fail('corrupt', `memory offset ${memoryOffset}, expected ${expectedMemoryOffset} (the first page boundary after the metadata)`);
  }
  if (memorySize === 0 || memorySize % PAGE_SIZE !== 0 || memoryOffset + memorySize > Number.MAX_SAFE_INTEGER) {
    throw fail('corrupt', `memory size ${memorySize} is not a positive multiple of ${PAGE_SIZE}`);
  }

  const expectedSize = memoryOffset + memorySize;
  if (fileSize < expectedSize) {
    const where = fileSize < HEADER_SIZE + metadataSize ? 'inside the metadata'
      : fileSize < memoryOffset ? 'before the memory image' : 'inside the memory image';
    throw fail('truncated', `the file ends ${where}: ${fileSize} of ${expectedSize} bytes`);
  }
  if (fileSize > expectedSize) throw fail('corrupt', `${fileSize - expectedSize} unexpected bytes after the memory image`);
  return {
    metadataSize,
    metadataCrc: header.readUInt32LE(Field.metadataCrc),
    memoryOffset,
    memorySize,
    memoryCrc: header.readUInt32LE(Field.memoryCrc),
  };
}

/** Reads exactly `target.byteLength` bytes; the length was checked, so a short read means the file shrank meanwhile. */
function readRegion(path: string, fd: number, target: Uint8Array, position: number, what: string): void {
  if (readFully(fd, target, position) < target.byteLength) {
    throw new SnapshotFileError(path, 'truncated', `the file ended while reading the ${what} (was it changed during the load?)`);
  }
}

function decodeMetadata(path: string, fd: number, header: Header): SnapshotState {
  const metadata = Buffer.alloc(header.metadataSize);
  readRegion(path, fd, metadata, HEADER_SIZE, 'metadata');
  if (crc32(metadata) !== header.metadataCrc) throw new SnapshotFileError(path, 'corrupt', 'metadata checksum mismatch');
  // Between the metadata and the page-aligned memory image: zeros, so every byte of the file is checked.
  const padding = Buffer.alloc(header.memoryOffset - HEADER_SIZE - header.metadataSize);
  readRegion(path, fd, padding, HEADER_SIZE + header.metadataSize, 'padding');
  if (!isZero(padding)) throw new SnapshotFileError(path, 'corrupt', 'non-zero bytes between the metadata and the memory image');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(metadata));
  } catch (error) {
    throw new SnapshotFileError(path, 'corrupt', `metadata is not UTF-8 JSON: ${message(error)}`, { cause: error });
  }
  try {
    return snapshotState.decode(json, 'metadata');
  } catch (error) {
    if (error instanceof RangeError) throw new SnapshotFileError(path, 'corrupt', `malformed ${error.message}`);
    throw error;
  }
}

function checkMemory(path: string, fd: number, header: Header): void {
  const chunk = Buffer.alloc(Math.min(CHUNK_SIZE, header.memorySize));
  let crc = 0;
  for (let offset = 0; offset < header.memorySize; offset += chunk.byteLength) {
    const view = chunk.subarray(0, Math.min(chunk.byteLength, header.memorySize - offset));
    readRegion(path, fd, view, header.memoryOffset + offset, 'memory image');
    crc = crc32(view, crc);
  }
  if (crc !== header.memoryCrc) throw new SnapshotFileError(path, 'corrupt', 'memory image checksum mismatch');
}

/**
 * Reads the snapshot file at `path`, validates all of it (header, metadata
 * and every byte of the memory image against their checksums, and each
 * metadata field for type and range), then maps its memory image with `map`
 * without copying it. Nothing is half-loaded: on any failure the file is
 * closed and no {@link MemorySnapshot} is left behind; `map` is only called
 * once the whole file has been validated.
 *
 * The file must not change while the returned memory (or a VM made from it)
 * exists (see `Backend.mapSnapshotFile`).
 *
 * @param path - the snapshot file
 * @param map - maps `size` bytes of the open `file` from byte `offset`
 *   (`backend.mapSnapshotFile`); `file.fd` is closed once it returns
 * @returns the state and the mapped memory, which the caller disposes
 * @throws SnapshotFileError with problem `'io'` (cannot open or read the file,
 *   or `map` failed; cause = the error), `'not-a-snapshot'` (bad magic),
 *   `'truncated'` (shorter than its header says), `'corrupt'` (checksum
 *   mismatch or malformed contents), `'version'` (another format version) or
 *   `'architecture'` (saved for another architecture).
 * @example
 * const { state, memory } = readSnapshotFile('/var/lib/app/warm.hlsnap',
 *   (file, offset, size) => backend.mapSnapshotFile(file, offset, size));
 */
export function readSnapshotFile(
  path: string,
  map: (file: SnapshotFile, offset: number, size: number) => MemorySnapshot,
): { state: SnapshotState; memory: MemorySnapshot } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw ioError(path, 'cannot open', error);
  }
  let open = true;
  let memory: MemorySnapshot | undefined;
  try {
    let fileSize: number;
    try {
      fileSize = fstatSync(fd).size;
    } catch (error) {
      throw ioError(path, 'cannot stat', error);
    }
    let state: SnapshotState;
    let header: Header;
    try {
      header = decodeHeader(path, fd, fileSize);
      state = decodeMetadata(path, fd, header);
      checkMemory(path, fd, header);
    } catch (error) {
      if (error instanceof SnapshotFileError) throw error;
      throw ioError(path, 'cannot read', error);
    }
    try {
      memory = map({ path, fd }, header.memoryOffset, header.memorySize);
    } catch (error) {
      throw ioError(path, 'cannot map the memory image', error);
    }
    if (memory.size !== header.memorySize) {
      throw new SnapshotFileError(path, 'io', `mapping the memory image gave ${memory.size} bytes, expected ${header.memorySize}`);
    }
    // close(2) releases the fd even when it reports an error, so never retry it.
    open = false;
    try {
      closeSync(fd);
    } catch (error) {
      throw ioError(path, 'cannot close', error);
    }
    return { state, memory };
  } catch (error) {
    memory?.dispose();
    if (open) {
      try { closeSync(fd); } catch { /* already failing; the first error is the one to report */ }
    }
    throw error;
  }
}

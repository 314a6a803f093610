import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotFileError, type SnapshotFileProblem } from '../../src/errors.js';
import { readSnapshotFile, SNAPSHOT_FILE_VERSION, writeSnapshotFile } from '../../src/snapshot/snapshot-file.js';
import type { SnapshotState } from '../../src/snapshot/snapshot-state.js';
import {
  copyingMap, FakeMemorySnapshot, Header, LAYOUT_MEMORY_SIZE, memoryWithPages, openFdCount, sampleState,
  splitSnapshotFile, withEditedMetadata, withHeader, withMetadata,
} from './snapshot-file-helpers.js';

const PAGE = 4096;
const MIB = 1024 * 1024;
const EM_AARCH64 = 183;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hl-snapshot-file-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Non-zero pages spread over the image: first chunk, across a chunk boundary, and the last page. */
function sampleMemory(): Uint8Array {
  const pages = LAYOUT_MEMORY_SIZE / PAGE;
  return memoryWithPages(LAYOUT_MEMORY_SIZE, [1, 3, 4, 255, 256, pages - 1]);
}

/** Writes a good snapshot and returns its path and bytes. */
function goodFile(name = 'good.hlsnap'): { path: string; file: Buffer; state: SnapshotState; memory: Uint8Array } {
  const path = join(dir, name);
  const state = sampleState();
  const memory = sampleMemory();
  writeSnapshotFile(path, state, new FakeMemorySnapshot(memory));
  return { path, file: readFileSync(path), state, memory };
}

/** Writes `bytes` to a file in the test directory. */
function fileWith(bytes: Uint8Array, name = 'hostile.hlsnap'): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/**
 * Loads `path` expecting `problem`; checks that `map` was never called and
 * that no file descriptor is left open.
 */
function expectRejected(path: string, problem: SnapshotFileProblem, detail?: RegExp): SnapshotFileError {
  const { map, calls } = copyingMap();
  const fdsBefore = openFdCount();
  let caught: unknown;
  try {
    readSnapshotFile(path, map);
  } catch (error) {
    caught = error;
  }
  expect(openFdCount()).toBe(fdsBefore);
  expect(caught).toBeInstanceOf(SnapshotFileError);
  const error = caught as SnapshotFileError;
  expect({ problem: error.problem, detail: error.detail }).toMatchObject({ problem });
  if (detail) expect(error.detail).toMatch(detail);
  expect(error.code).toBe('HL_ERR_SNAPSHOT_FILE');
  expect(error.path).toBe(path);
  expect(calls).toEqual([]);
  return error;
}

function readAll(memory: FakeMemorySnapshot): Uint8Array {
  const bytes = new Uint8Array(memory.size);
  memory.read(0, bytes);
  return bytes;
}

describe('round trip', () => {
  it('gives back the same state and memory, mapped from the page-aligned image', () => {
    const { path, file, state, memory } = goodFile();
    const { map, calls, results } = copyingMap();
    const fdsBefore = openFdCount();
    const loaded = readSnapshotFile(path, map);
    expect(openFdCount()).toBe(fdsBefore);

    expect(loaded.state).toStrictEqual({ ...state, fpuState: new Uint8Array(state.fpuState) });
    expect(loaded.state.fpuState).toBeInstanceOf(Uint8Array);
    expect(typeof loaded.state.registers.rcx).toBe('bigint');
    expect(loaded.memory).toBe(results[0]);
    expect(memory.subarray(PAGE, 2 * PAGE).some((byte) => byte !== 0)).toBe(true);
    expect(Buffer.from(readAll(results[0]!)).equals(memory)).toBe(true);

    const { memoryOffset } = splitSnapshotFile(file);
    expect(memoryOffset % PAGE).toBe(0);
    expect(calls).toEqual([{ path, fd: expect.any(Number), offset: memoryOffset, size: LAYOUT_MEMORY_SIZE }]);
    expect(file.byteLength).toBe(memoryOffset + LAYOUT_MEMORY_SIZE);
    expect(results[0]!.disposed).toBe(false);
  });

  it('leaves zero pages as holes', () => {
    const { path } = goodFile();
    const { size, blocks } = statSync(path);
    // Allocated: the header/metadata pages and the 6 non-zero pages, plus slack for filesystem metadata.
    const allocated = blocks * 512;
    expect(size).toBeGreaterThan(MIB);
    expect(allocated).toBeLessThanOrEqual((2 + 6 + 4) * PAGE);
    expect(allocated).toBeGreaterThanOrEqual(6 * PAGE);
  });

  it('writes an all-zero image as one hole, and a fully random one in full', () => {
    const state = sampleState();
    const zeros = join(dir, 'zeros.hlsnap');
    writeSnapshotFile(zeros, state, new FakeMemorySnapshot(new Uint8Array(3 * MIB + PAGE)));
    expect(statSync(zeros).blocks * 512).toBeLessThanOrEqual(4 * PAGE);

    const random = memoryWithPages(3 * MIB + PAGE, Array.from({ length: (3 * MIB + PAGE) / PAGE }, (_, i) => i), 7);
    const full = join(dir, 'random.hlsnap');
    writeSnapshotFile(full, state, new FakeMemorySnapshot(random));
    expect(statSync(full).blocks * 512).toBeGreaterThanOrEqual(random.byteLength);

    for (const [path, expected] of [[zeros, new Uint8Array(3 * MIB + PAGE)], [full, random]] as const) {
      const { results } = ((m) => (readSnapshotFile(path, m.map), m))(copyingMap());
      expect(Buffer.from(readAll(results[0]!)).equals(expected)).toBe(true);
    }
  });

  it('reads memory in bounded chunks and never disposes it', () => {
    const memory = new FakeMemorySnapshot(sampleMemory());
    writeSnapshotFile(join(dir, 'a.hlsnap'), sampleState(), memory);
    expect(memory.reads).toBe(Math.ceil(LAYOUT_MEMORY_SIZE / MIB));
    expect(memory.disposed).toBe(false);
  });

  it('replaces an existing file, creates it private to the owner, and leaves nothing else in the directory', () => {
    const { path } = goodFile();
    const other = memoryWithPages(LAYOUT_MEMORY_SIZE, [2]);
    writeSnapshotFile(path, sampleState(), new FakeMemorySnapshot(other));
    expect(readdirSync(dir)).toEqual(['good.hlsnap']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const { map, results } = copyingMap();
    readSnapshotFile(path, map);
    expect(Buffer.from(readAll(results[0]!)).equals(other)).toBe(true);
  });

  it('writes the same bytes for the same snapshot', () => {
    const a = goodFile('a.hlsnap').file;
    const b = goodFile('b.hlsnap').file;
    expect(a.equals(b)).toBe(true);
  });

  it('writes the header the format document specifies', () => {
    const { file } = goodFile();
    const { header, metadata } = splitSnapshotFile(file);
    expect([...header.subarray(0, 8)]).toEqual([0x89, 0x48, 0x4c, 0x53, 0x4e, 0x41, 0x50, 0x0a]);
    expect(header.readUInt32LE(Header.version)).toBe(SNAPSHOT_FILE_VERSION);
    expect(header.readUInt16LE(Header.architecture)).toBe(62);
    expect(header.readBigUInt64LE(Header.metadataOffset)).toBe(64n);
    expect(header.readUInt32LE(Header.metadataCrc)).toBe(crc32(metadata));
    expect(header.readUInt32LE(Header.memoryCrc)).toBe(crc32(sampleMemory()));
    expect(header.readUInt32LE(Header.headerCrc)).toBe(crc32(header.subarray(0, 60)));
    const json = JSON.parse(metadata.toString('utf8'));
    expect(json.registers.rcx).toBe('0xffffffffffffffff');
    expect(json.registers.rax).toBe('0x0');
    expect(json.specialRegisters.cr0).toBe('0x80010033');
    expect(typeof json.fpuState).toBe('string');
  });
});

describe('writing', () => {
  it('leaves no file and no temporary file when reading memory fails midway', () => {
    const path = join(dir, 'snap.hlsnap');
    // Two chunks are written before the third read fails.
    const memory = new FakeMemorySnapshot(new Uint8Array(3 * MIB).fill(1), 2 * MIB);
    const fdsBefore = openFdCount();
    const error = (() => {
      try {
        writeSnapshotFile(path, sampleState(), memory);
      } catch (e) {
        return e;
      }
      return undefined;
    })() as SnapshotFileError;
    expect(error).toBeInstanceOf(SnapshotFileError);
    expect(error.problem).toBe('io');
    expect(error.detail).toMatch(/guest memory at offset 2097152/);
    expect((error.cause as Error).message).toBe('simulated read failure');
    expect(openFdCount()).toBe(fdsBefore);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps an existing file intact when a replacement fails', () => {
    const { path, file } = goodFile();
    const failing = new FakeMemorySnapshot(new Uint8Array(LAYOUT_MEMORY_SIZE).fill(9), MIB);
    expect(() => writeSnapshotFile(path, sampleState(), failing)).toThrow(SnapshotFileError);
    expect(readdirSync(dir)).toEqual(['good.hlsnap']);
    expect(readFileSync(path).equals(file)).toBe(true);
  });

  it('cleans up when the final rename fails', () => {
    const path = join(dir, 'occupied');
    mkdirSync(join(path, 'child'), { recursive: true });
    const fdsBefore = openFdCount();
    let error: unknown;
    try {
      writeSnapshotFile(path, sampleState(), new FakeMemorySnapshot(sampleMemory()));
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ problem: 'io', cause: { syscall: 'rename' } });
    expect(openFdCount()).toBe(fdsBefore);
    expect(readdirSync(dir)).toEqual(['occupied']);
  });

  it('reports a missing directory as io with the system error', () => {
    const path = join(dir, 'missing', 'snap.hlsnap');
    expect(() => writeSnapshotFile(path, sampleState(), new FakeMemorySnapshot(sampleMemory())))
      .toThrow(expect.objectContaining({ problem: 'io', cause: expect.objectContaining({ code: 'ENOENT' }) }));
  });

  it('refuses an invalid state or memory size before creating anything', () => {
    const path = join(dir, 'snap.hlsnap');
    const memory = new FakeMemorySnapshot(sampleMemory());
    const bad = (edit: (state: Record<string, any>) => void): SnapshotState => {
      const state = structuredClone(sampleState()) as Record<string, any>;
      edit(state);
      return state as SnapshotState;
    };
    expect(() => writeSnapshotFile(path, bad((s) => { s.registers.rax = 5; }), memory))
      .toThrow(/invalid snapshot state: state\.registers\.rax: expected a bigint/);
    expect(() => writeSnapshotFile(path, bad((s) => { s.registers.rax = 1n << 64n; }), memory)).toThrow(RangeError);
    expect(() => writeSnapshotFile(path, bad((s) => { s.guestFunctions[0].returns = 'any'; }), memory))
      .toThrow(/state\.guestFunctions\[0\]\.returns/);
    expect(() => writeSnapshotFile(path, bad((s) => { delete s.layout.heapSize; }), memory)).toThrow(/state\.layout\.heapSize/);
    expect(() => writeSnapshotFile(path, bad((s) => { s.fpuState = [1, 2]; }), memory)).toThrow(/state\.fpuState/);
    expect(() => writeSnapshotFile(path, sampleState(), new FakeMemorySnapshot(new Uint8Array(PAGE + 1)))).toThrow(RangeError);
    expect(() => writeSnapshotFile(path, sampleState(), new FakeMemorySnapshot(new Uint8Array(0)))).toThrow(RangeError);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('records only the fields of the state, ignoring extra properties', () => {
    const path = join(dir, 'snap.hlsnap');
    const state = sampleState();
    writeSnapshotFile(path, { ...state, layout: { ...state.layout, extra: 1 } } as SnapshotState, new FakeMemorySnapshot(sampleMemory()));
    expect(readSnapshotFile(path, copyingMap().map).state).toStrictEqual({ ...state, fpuState: new Uint8Array(state.fpuState) });
  });
});

describe('rejection', () => {
  it('reports a missing file as io with the system error', () => {
    const error = expectRejected(join(dir, 'nope.hlsnap'), 'io', /cannot open/);
    expect(error.cause).toMatchObject({ code: 'ENOENT', syscall: 'open' });
  });

  it('reports a directory as io', () => {
    const error = expectRejected(dir, 'io');
    expect(error.cause).toMatchObject({ code: 'EISDIR' });
  });

  it('calls an empty file or a prefix of the magic truncated', () => {
    expectRejected(fileWith(new Uint8Array(0)), 'truncated', /0 bytes/);
    expectRejected(fileWith(new Uint8Array([0x89, 0x48, 0x4c])), 'truncated');
  });

  it('calls anything with other first bytes not a snapshot', () => {
    expectRejected(fileWith(Buffer.from('ab')), 'not-a-snapshot', /bad magic/);
    expectRejected(fileWith(Buffer.from('#!/bin/sh\necho this is a script that is long enough to fill a header\n')), 'not-a-snapshot');
    expectRejected(fileWith(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Uint8Array(120)])), 'not-a-snapshot');
    const { file } = goodFile();
    for (let i = 0; i < 8; i++) {
      const copy = Buffer.from(file);
      copy[i]! ^= 0x20;
      expectRejected(fileWith(copy), 'not-a-snapshot');
    }
  });

  it('calls a file cut anywhere truncated', () => {
    const { file } = goodFile();
    const { metadata, memoryOffset } = splitSnapshotFile(file);
    const cuts = [
      1, 7, 8, 11, 12, 40, 63, 64, 64 + 1, 64 + (metadata.byteLength >> 1), 64 + metadata.byteLength - 1,
      64 + metadata.byteLength, memoryOffset - 1, memoryOffset, memoryOffset + PAGE, memoryOffset + MIB + 17, file.byteLength - 1,
    ];
    for (const cut of cuts) {
      const where = cut < 64 ? /header/ : cut < 64 + metadata.byteLength ? /inside the metadata/
        : cut < memoryOffset ? /before the memory image/ : /inside the memory image/;
      expectRejected(fileWith(file.subarray(0, cut)), 'truncated', where);
    }
  });

  it('calls a flipped header byte corrupt, except in the magic and version', () => {
    const { file } = goodFile();
    for (let i = 8; i < Header.size; i++) {
      const copy = Buffer.from(file);
      copy[i]! ^= 0x01;
      expectRejected(fileWith(copy), i < 12 ? 'version' : 'corrupt', i < 12 ? /format version/ : /header checksum/);
    }
  });

  it('calls flipped metadata or memory bytes corrupt', () => {
    const { file } = goodFile();
    const { metadata, memoryOffset, memory } = splitSnapshotFile(file);
    for (const at of [0, metadata.byteLength >> 1, metadata.byteLength - 1]) {
      const copy = Buffer.from(file);
      copy[64 + at]! ^= 0x04;
      expectRejected(fileWith(copy), 'corrupt', /metadata checksum/);
    }
    // A byte in a written page, a byte in a hole, and the very last byte.
    for (const at of [PAGE + 5, 100 * PAGE, memory.byteLength - 1]) {
      const copy = Buffer.from(file);
      copy[memoryOffset + at]! ^= 0x80;
      expectRejected(fileWith(copy), 'corrupt', /memory image checksum/);
    }
  });

  it('calls non-zero padding or trailing bytes corrupt', () => {
    const { file } = goodFile();
    const { memoryOffset } = splitSnapshotFile(file);
    const padded = Buffer.from(file);
    padded[memoryOffset - 1] = 1;
    expectRejected(fileWith(padded), 'corrupt', /between the metadata and the memory image/);
    expectRejected(fileWith(Buffer.concat([file, Buffer.alloc(PAGE)])), 'corrupt', /4096 unexpected bytes/);
  });

  it('rejects another format version, before anything else', () => {
    const { file } = goodFile();
    const next = Buffer.from(file);
    next.writeUInt32LE(SNAPSHOT_FILE_VERSION + 1, Header.version);
    expectRejected(fileWith(next), 'version', /format version 3; this build reads only version 2/);
    expectRejected(fileWith(withHeader(next, () => {})), 'version');
    // Version 1 files predate the trace area: their memory is laid out without it.
    const previous = Buffer.from(file);
    previous.writeUInt32LE(1, Header.version);
    expectRejected(fileWith(previous), 'version', /format version 1; this build reads only version 2/);
    // A newer version may have another header, so even a short file says "version".
    expectRejected(fileWith(next.subarray(0, 12)), 'version');
  });

  it('rejects another architecture once the header checksum holds', () => {
    const { file } = goodFile();
    const arm = withHeader(file, (h) => h.writeUInt16LE(EM_AARCH64, Header.architecture));
    expectRejected(fileWith(arm), 'architecture', /architecture 183/);
  });

  it('rejects inconsistent header fields even with a valid checksum', () => {
    const { file } = goodFile();
    const { metadata, memoryOffset } = splitSnapshotFile(file);
    const cases: [string, (h: Buffer) => void, RegExp][] = [
      ['reserved16', (h) => h.writeUInt16LE(1, Header.reserved16), /reserved/],
      ['reserved32', (h) => h.writeUInt32LE(1, Header.reserved32), /reserved/],
      ['metadataOffset', (h) => h.writeBigUInt64LE(128n, Header.metadataOffset), /metadata offset 128/],
      ['metadataSize 0', (h) => h.writeBigUInt64LE(0n, Header.metadataSize), /metadata size 0/],
      ['metadataSize huge', (h) => h.writeBigUInt64LE(1n << 40n, Header.metadataSize), /metadata size/],
      ['memoryOffset misaligned', (h) => h.writeBigUInt64LE(BigInt(memoryOffset + 8), Header.memoryOffset), /memory offset/],
      ['memoryOffset aligned but not the first boundary', (h) => h.writeBigUInt64LE(BigInt(memoryOffset + PAGE), Header.memoryOffset), /memory offset/],
      ['memorySize 0', (h) => h.writeBigUInt64LE(0n, Header.memorySize), /memory size 0/],
      ['memorySize unaligned', (h) => h.writeBigUInt64LE(BigInt(LAYOUT_MEMORY_SIZE - 8), Header.memorySize), /memory size/],
      ['memorySize beyond 2^53', (h) => h.writeBigUInt64LE(1n << 60n, Header.memorySize), /out of range/],
      ['memoryOffset beyond 2^53', (h) => h.writeBigUInt64LE(0xffff_ffff_ffff_f000n, Header.memoryOffset), /out of range/],
    ];
    expect(metadata.byteLength).toBeGreaterThan(0);
    for (const [, edit, detail] of cases) expectRejected(fileWith(withHeader(file, edit)), 'corrupt', detail);
  });

  it('checks that the builder used below makes files the reader accepts', () => {
    const { file, state } = goodFile();
    const rebuilt = withEditedMetadata(file, () => undefined);
    expect(readSnapshotFile(fileWith(rebuilt), copyingMap().map).state.registers).toStrictEqual(state.registers);
    // Metadata long enough to move the memory image one page further.
    const longer = withEditedMetadata(file, (json) => {
      json.hostFunctions = Array.from({ length: 300 }, (_, i) => ({ name: `f${i}`, params: ['bytes'], returns: 'void' }));
    });
    expect(splitSnapshotFile(longer).memoryOffset).toBeGreaterThan(splitSnapshotFile(file).memoryOffset);
    expect(readSnapshotFile(fileWith(longer, 'longer'), copyingMap().map).state.hostFunctions).toHaveLength(300);
  });

  describe('malformed metadata with a valid checksum', () => {
    const cases: [string, (json: Record<string, any>) => unknown, RegExp][] = [
      ['register as a number', (j) => { j.registers.rax = 5; }, /registers\.rax: expected a canonical 0x-prefixed hex/],
      ['register beyond 64 bits', (j) => { j.registers.rip = `0x1${'0'.repeat(16)}`; }, /registers\.rip/],
      ['register with leading zeros', (j) => { j.registers.rbx = '0x01234'; }, /registers\.rbx/],
      ['register in upper case', (j) => { j.registers.rbx = '0X1234'; }, /registers\.rbx/],
      ['register negative', (j) => { j.registers.rbx = '-0x1'; }, /registers\.rbx/],
      ['register missing', (j) => { delete j.registers.r15; }, /registers\.r15: missing/],
      ['unknown register', (j) => { j.registers.rzz = '0x0'; }, /registers: unknown field "rzz"/],
      ['segment DPL 4', (j) => { j.specialRegisters.cs.dpl = 4; }, /specialRegisters\.cs\.dpl: expected an integer in 0\.\.3, got 4/],
      ['segment type 16', (j) => { j.specialRegisters.tr.type = 16; }, /specialRegisters\.tr\.type/],
      ['segment flag as a number', (j) => { j.specialRegisters.ss.present = 1; }, /specialRegisters\.ss\.present: expected a boolean/],
      ['GDT limit beyond 16 bits', (j) => { j.specialRegisters.gdt.limit = 0x10000; }, /specialRegisters\.gdt\.limit/],
      ['control register as a number', (j) => { j.specialRegisters.cr3 = 4096; }, /specialRegisters\.cr3/],
      ['negative size', (j) => { j.layout.heapSize = -1; }, /layout\.heapSize: expected an integer/],
      ['fractional size', (j) => { j.layout.stackSize = 1.5; }, /layout\.stackSize/],
      ['unsafe size', (j) => { j.layout.inputSize = 2 ** 53; }, /layout\.inputSize/],
      ['size as a string', (j) => { j.layout.outputSize = '4096'; }, /layout\.outputSize/],
      ['segment access as a string', (j) => { j.layout.imageSegments[1].writable = 'yes'; }, /layout\.imageSegments\[1\]\.writable/],
      ['segments not an array', (j) => { j.layout.imageSegments = {}; }, /layout\.imageSegments: expected an array/],
      ['entry offset negative', (j) => { j.entryOffset = -4; }, /entryOffset/],
      ['log level out of range', (j) => { j.maxLogLevel = 7; }, /maxLogLevel: expected an integer in 0\.\.6/],
      ['digest in upper case', (j) => { j.binaryDigest = j.binaryDigest.toUpperCase(); }, /binaryDigest: expected 64 lowercase hex/],
      ['digest too short', (j) => { j.initDataDigest = 'abcd'; }, /initDataDigest/],
      ['unknown backend', (j) => { j.backend = 'hyperv'; }, /backend: expected one of kvm, mshv, whp/],
      ['unknown return type', (j) => { j.guestFunctions[0].returns = 'i128'; }, /guestFunctions\[0\]\.returns/],
      ['void parameter', (j) => { j.guestFunctions[1].params[2] = 'void'; }, /guestFunctions\[1\]\.params\[2\]/],
      ['function name not a string', (j) => { j.hostFunctions[0].name = 42; }, /hostFunctions\[0\]\.name: expected a string/],
      ['function list not an array', (j) => { j.hostFunctions = {}; }, /hostFunctions: expected an array/],
      ['FPU state not base64', (j) => { j.fpuState = 'not base64!'; }, /fpuState: expected a base64 string/],
      ['FPU state not canonical base64', (j) => { j.fpuState = 'AB=='; }, /fpuState: expected canonical base64/],
      ['FPU state as a byte array', (j) => { j.fpuState = [1, 2, 3]; }, /fpuState/],
      ['xsave as a number', (j) => { j.xsaveEnabled = 1; }, /xsaveEnabled: expected a boolean/],
      ['field missing', (j) => { delete j.layout; }, /metadata\.layout: missing/],
      ['unknown field', (j) => { j.comment = 'hi'; }, /metadata: unknown field "comment"/],
      ['__proto__ field', () => JSON.parse(`{"__proto__": {"backend": "kvm"}}`), /unknown field "__proto__"/],
      ['top level an array', () => [], /metadata: expected an object, got an array/],
      ['top level null', () => null, /metadata: expected an object, got null/],
    ];
    it.each(cases)('%s', (_, edit, detail) => {
      const { file } = goodFile();
      expectRejected(fileWith(withEditedMetadata(file, edit)), 'corrupt', detail);
    });

    it('rejects metadata that is not JSON or not UTF-8', () => {
      const { file } = goodFile();
      expectRejected(fileWith(withMetadata(file, Buffer.from('{"backend": "kvm",'))), 'corrupt', /not UTF-8 JSON/);
      expectRejected(fileWith(withMetadata(file, Buffer.from([0x22, 0xff, 0xfe, 0x22]))), 'corrupt', /not UTF-8 JSON/);
    });
  });
});

describe('mapping', () => {
  it('turns a map failure into io, with the fd closed', () => {
    const { path } = goodFile();
    const cause = Object.assign(new Error('mmap failed'), { code: 'ENOMEM', syscall: 'mmap' });
    const fdsBefore = openFdCount();
    let seenFd = -1;
    let error: unknown;
    try {
      readSnapshotFile(path, ({ fd }) => {
        seenFd = fd;
        throw cause;
      });
    } catch (e) {
      error = e;
    }
    expect(seenFd).toBeGreaterThan(2);
    expect(error).toMatchObject({ problem: 'io', cause });
    expect((error as SnapshotFileError).detail).toMatch(/cannot map the memory image: mmap failed/);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('disposes a mapping of the wrong size', () => {
    const { path } = goodFile();
    const wrong = new FakeMemorySnapshot(new Uint8Array(PAGE));
    const fdsBefore = openFdCount();
    expect(() => readSnapshotFile(path, () => wrong)).toThrow(expect.objectContaining({ problem: 'io' }));
    expect(wrong.disposed).toBe(true);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('passes an fd that is closed once readSnapshotFile returns', () => {
    const { path } = goodFile();
    const { map, calls } = copyingMap();
    const fdsBefore = openFdCount();
    readSnapshotFile(path, map);
    expect(openFdCount()).toBe(fdsBefore);
    expect(() => statSync(`/proc/self/fd/${calls[0]!.fd}`)).toThrow();
  });
});

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { guestPath } from '@hyperlight-ts/fixture-guests';
import { MultiUseSandbox, Snapshot, SnapshotFileError, type SnapshotFileProblem } from '@hyperlight-ts/core';
import { forEachGuest, simpleSandbox, TEST_HOST_FUNCTIONS } from './support/guests.js';
import { copyGuestMemory, describePages, differingPages } from './support/internals.js';
import { handlesUncountable, mappingCount, openFdCount } from './support/process.js';
import { thrownAs } from './support/thrown.js';

// Header fields patched below (docs/snapshot-file-format.md, "Header"). The
// file-format unit tests cover every field and check; these are end-to-end spot checks.
const VERSION_OFFSET = 8; // u32
const ARCHITECTURE_OFFSET = 12; // u16, ELF e_machine
const MEMORY_OFFSET_OFFSET = 32; // u64, where the memory image starts
const HEADER_CRC_OFFSET = 60; // u32, CRC-32 of the bytes before it
const EM_AARCH64 = 183;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hyperlight-snapshot-test-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a copy of `source` changed by `patch` and returns its path. */
function patched(source: string, name: string, patch: (bytes: Buffer) => Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, patch(readFileSync(source)));
  return path;
}

/** Recomputes the header checksum, so a patched field is judged on its own. */
function resealHeader(bytes: Buffer): Buffer {
  bytes.writeUInt32LE(crc32(bytes.subarray(0, HEADER_CRC_OFFSET)), HEADER_CRC_OFFSET);
  return bytes;
}

/** Takes a snapshot of `sandbox`, saves it to `path` and releases it. */
function saveSnapshot(sandbox: MultiUseSandbox, path: string): void {
  using snapshot = sandbox.snapshot();
  snapshot.save(path);
}

/** `Snapshot.load(path)` fails with SnapshotFileError for `problem`. */
function expectLoadFailure(path: string, problem: SnapshotFileProblem): SnapshotFileError {
  const error = thrownAs(SnapshotFileError, () => Snapshot.load(path));
  expect(error.code).toBe('HL_ERR_SNAPSHOT_FILE');
  expect(error.problem, error.message).toBe(problem);
  expect(error.path).toBe(path);
  return error;
}

forEachGuest('snapshots on disk', (language) => {
  it('save, load, fromSnapshot: the new sandbox continues from the saved state', () => {
    const path = join(dir, `${language}-round-trip.hlsnap`);
    using source = simpleSandbox(language);
    for (let i = 1; i <= 4; i++) source.call('Increment', 'i32');
    source.call('WriteStackMarker', 'void', 0x5eed_5eedn);
    saveSnapshot(source, path);
    const atSnapshot = copyGuestMemory(source);
    expect(source.call('Increment', 'i32')).toBe(5);

    using loaded = Snapshot.load(path);
    expect(loaded.memorySize).toBe(atSnapshot.length);
    using copy = MultiUseSandbox.fromSnapshot(loaded, { hostFunctions: TEST_HOST_FUNCTIONS });
    const pages = differingPages(copy, atSnapshot);
    expect(pages, `pages that differ: ${describePages(pages)}`).toEqual([]);
    expect(copy.call('Increment', 'i32')).toBe(5);
    expect(copy.call('Increment', 'i32')).toBe(6);
    expect(copy.call('ReadStackMarker', 'u64')).toBe(0x5eed_5eedn);
    expect(copy.call('CallHostAdd', 'i32', 2, 2)).toBe(4);
  });

  it('a loaded snapshot restores an existing sandbox, even after a crash', () => {
    const path = join(dir, `${language}-restore.hlsnap`);
    using sandbox = simpleSandbox(language);
    sandbox.call('Increment', 'i32');
    saveSnapshot(sandbox, path);
    sandbox.call('Increment', 'i32');
    sandbox.call('SetMxcsr', 'void', 0x7f80);
    expect(() => sandbox.call('Ud2', 'void')).toThrow();
    using loaded = Snapshot.load(path);
    sandbox.restore(loaded);
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('Increment', 'i32')).toBe(2);
    expect(sandbox.call('GetMxcsr', 'u32')).toBe(0x1f80);
    // Restoring the same loaded snapshot again, and into another sandbox.
    sandbox.restore(loaded);
    expect(sandbox.call('Increment', 'i32')).toBe(2);
    using other = simpleSandbox(language);
    other.restore(loaded);
    expect(other.call('Increment', 'i32')).toBe(2);
  });

  it('save() replaces a file atomically and leaves nothing else behind', () => {
    const sub = mkdtempSync(join(dir, `${language}-atomic-`));
    const path = join(sub, 'warm.hlsnap');
    using sandbox = simpleSandbox(language);
    saveSnapshot(sandbox, path);
    using first = Snapshot.load(path);
    sandbox.call('Increment', 'i32');
    sandbox.call('Increment', 'i32');
    saveSnapshot(sandbox, path);
    expect(readdirSync(sub)).toEqual(['warm.hlsnap']);
    // A snapshot loaded from the file it replaced keeps its own contents.
    using fromFirst = MultiUseSandbox.fromSnapshot(first, { hostFunctions: TEST_HOST_FUNCTIONS });
    expect(fromFirst.call('Increment', 'i32')).toBe(1);
    using second = Snapshot.load(path);
    using fromSecond = MultiUseSandbox.fromSnapshot(second, { hostFunctions: TEST_HOST_FUNCTIONS });
    expect(fromSecond.call('Increment', 'i32')).toBe(3);
  });

  it('a sandbox made from a loaded snapshot outlives the snapshot', () => {
    const path = join(dir, `${language}-outlive.hlsnap`);
    using sandbox = simpleSandbox(language);
    saveSnapshot(sandbox, path);
    const loaded = Snapshot.load(path);
    using copy = MultiUseSandbox.fromSnapshot(loaded, { hostFunctions: TEST_HOST_FUNCTIONS });
    loaded.dispose();
    expect(copy.call('Increment', 'i32')).toBe(1);
    copy.call('DirtyPages', 'u32', 32, 3);
    expect(copy.call('ReadDirtyPage', 'u32', 31)).toBe(3);
  });

  it('rejects missing, foreign, truncated, corrupt, newer-version and other-architecture files', () => {
    const path = join(dir, `${language}-good.hlsnap`);
    using sandbox = simpleSandbox(language);
    saveSnapshot(sandbox, path);
    const size = statSync(path).size;

    expectLoadFailure(join(dir, 'no-such-file.hlsnap'), 'io');
    expectLoadFailure(guestPath(language, 'simpleguest'), 'not-a-snapshot');
    expectLoadFailure(patched(path, 'text.hlsnap', () => Buffer.from('hello, world\n')), 'not-a-snapshot');
    expectLoadFailure(patched(path, 'truncated.hlsnap', (b) => b.subarray(0, Math.floor(size / 2))), 'truncated');
    expectLoadFailure(patched(path, 'header-only.hlsnap', (b) => b.subarray(0, 40)), 'truncated');
    const flipped = patched(path, 'flipped.hlsnap', (b) => {
      const memoryStart = Number(b.readBigUInt64LE(MEMORY_OFFSET_OFFSET));
      const at = memoryStart + Math.floor((size - memoryStart) / 2);
      b[at] = b[at]! ^ 0x01;
      return b;
    });
    expectLoadFailure(flipped, 'corrupt');
    const newer = patched(path, 'newer.hlsnap', (b) => {
      b.writeUInt32LE(b.readUInt32LE(VERSION_OFFSET) + 1, VERSION_OFFSET);
      return resealHeader(b);
    });
    expectLoadFailure(newer, 'version');
    const arm = patched(path, 'aarch64.hlsnap', (b) => {
      b.writeUInt16LE(EM_AARCH64, ARCHITECTURE_OFFSET);
      return resealHeader(b);
    });
    expectLoadFailure(arm, 'architecture');

    // The original still loads and works.
    using loaded = Snapshot.load(path);
    using copy = MultiUseSandbox.fromSnapshot(loaded, { hostFunctions: TEST_HOST_FUNCTIONS });
    expect(copy.call('Increment', 'i32')).toBe(1);
  });

  it('loading, using and disposing a snapshot file 30 times leaks no file descriptors or mappings', ({ skip }) => {
    skip(handlesUncountable !== undefined, handlesUncountable);
    const path = join(dir, `${language}-leak.hlsnap`);
    using sandbox = simpleSandbox(language);
    saveSnapshot(sandbox, path);
    const cycle = (): void => {
      using loaded = Snapshot.load(path);
      using copy = MultiUseSandbox.fromSnapshot(loaded, { hostFunctions: TEST_HOST_FUNCTIONS });
      expect(copy.call('Increment', 'i32')).toBe(1);
      sandbox.restore(loaded);
    };
    cycle();
    cycle();
    const fds = openFdCount();
    const mappings = mappingCount();
    expect(mappings).toBeGreaterThan(0); // the sandbox's own guest memory and vCPU
    for (let i = 0; i < 30; i++) cycle();
    // The sandbox maps the last loaded snapshot now, as it mapped the second before.
    expect(openFdCount()).toBe(fds);
    expect(mappingCount()).toBe(mappings);
  });

  it('save() to a directory that does not exist is an io error', () => {
    using sandbox = simpleSandbox(language);
    using snapshot = sandbox.snapshot();
    const error = thrownAs(SnapshotFileError, () => snapshot.save(join(dir, 'missing-dir', 'x.hlsnap')));
    expect(error.problem).toBe('io');
  });
});

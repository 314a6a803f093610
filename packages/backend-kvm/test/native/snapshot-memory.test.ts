import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadNative, type SnapshotMemory } from '../../src/index.js';
import { expectEveryMemberDisposed } from '../../../native-linux/test/helpers/disposed.js';
import { openFdCount } from '../helpers/kvm.js';
import { mappingCount, scribble, snapshotMemfdBytes } from '../helpers/memory.js';

// SnapshotMemory and mapSnapshotFile need no /dev/kvm, so these run everywhere.
const { GuestMemory, SnapshotMemory: SnapshotMemoryClass, mapSnapshotFile } = loadNative();
const MiB = 1024 * 1024;
const scratch = mkdtempSync(join(tmpdir(), 'backend-kvm-snapshot-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const rangeError = expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
const typeError = expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });

describe('SnapshotMemory', () => {
  const cleanup: Disposable[] = [];
  afterEach(() => {
    for (const item of cleanup.splice(0).reverse()) item[Symbol.dispose]();
  });
  /** A 64 KiB snapshot whose byte i (in the first page) is i & 0xff, and whose last byte is 0x7e. */
  function smallSnapshot(): SnapshotMemory {
    using memory = new GuestMemory(0x10000);
    const bytes = new Uint8Array(memory.buffer);
    for (let i = 0; i < 4096; i++) bytes[i] = i & 0xff;
    bytes[0xffff] = 0x7e;
    const snapshot = memory.snapshot();
    cleanup.push(snapshot);
    return snapshot;
  }

  it('cannot be constructed from JavaScript', () => {
    expect(() => new (SnapshotMemoryClass as unknown as new () => unknown)()).toThrow(typeError);
  });

  it('read() copies any range inside it; holes read as zeros', () => {
    const snapshot = smallSnapshot();
    const head = new Uint8Array(8);
    snapshot.read(250, head);
    expect(Array.from(head)).toEqual([250, 251, 252, 253, 254, 255, 0, 1]);
    const tail = Buffer.alloc(2); // a Buffer is a Uint8Array
    snapshot.read(0xfffe, tail);
    expect(Array.from(tail)).toEqual([0, 0x7e]);
    const hole = new Uint8Array(4096).fill(9);
    snapshot.read(0x8000, hole);
    expect(hole.every((byte) => byte === 0)).toBe(true);
    snapshot.read(0x10000, new Uint8Array(0)); // empty, at the very end
  });

  it('read() refuses ranges outside it and targets that are not Uint8Arrays', () => {
    const snapshot = smallSnapshot();
    expect(() => snapshot.read(0x10000, new Uint8Array(1))).toThrow(rangeError);
    expect(() => snapshot.read(0xffff, new Uint8Array(2))).toThrow(/lie outside the snapshot's 65536 bytes/);
    expect(() => snapshot.read(0, new Uint8Array(0x10001))).toThrow(rangeError);
    expect(() => snapshot.read(2 ** 53, new Uint8Array(1))).toThrow(rangeError);
    expect(() => snapshot.read(-1, new Uint8Array(1))).toThrow(rangeError);
    expect(() => snapshot.read(1.5, new Uint8Array(1))).toThrow(rangeError);
    expect(() => snapshot.read('0' as never, new Uint8Array(1))).toThrow(typeError);
    expect(() => snapshot.read(0, new Uint16Array(1) as never)).toThrow(typeError);
    expect(() => snapshot.read(0, new DataView(new ArrayBuffer(1)) as never)).toThrow(typeError);
    expect(() => snapshot.read(0, [0] as never)).toThrow(typeError);
  });

  it('every member throws ERR_HYPERLIGHT_DISPOSED after dispose(); dispose() is idempotent', () => {
    const snapshot = smallSnapshot();
    snapshot.dispose();
    snapshot.dispose();
    snapshot[Symbol.dispose]();
    const checked = expectEveryMemberDisposed(snapshot, SnapshotMemoryClass.prototype, 'SnapshotMemory');
    expect(checked.sort()).toEqual(['read', 'size']);
  });

  it('dispose() closes its memfd once no memory maps it', () => {
    const before = snapshotMemfdBytes().length;
    const snapshot = smallSnapshot();
    expect(snapshotMemfdBytes().length).toBe(before + 1); // the GuestMemory is gone: only the snapshot holds it
    snapshot.dispose();
    expect(snapshotMemfdBytes().length).toBe(before);
  });
});

describe('mapSnapshotFile', () => {
  const cleanup: Disposable[] = [];
  afterEach(() => {
    for (const item of cleanup.splice(0).reverse()) item[Symbol.dispose]();
  });
  let fileNumber = 0;

  /**
   * A file with `headerSize` bytes of 0xee, then the image: `imageSize` bytes,
   * sparse except `pages` (index → fill byte). Returns its path.
   */
  function snapshotFile(headerSize: number, imageSize: number, pages: Record<number, number>): string {
    const path = join(scratch, `snapshot-${fileNumber++}.bin`);
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, Buffer.alloc(headerSize, 0xee), 0, headerSize, 0);
      for (const [page, fill] of Object.entries(pages)) {
        writeSync(fd, Buffer.alloc(4096, fill), 0, 4096, headerSize + Number(page) * 4096);
      }
      ftruncateSync(fd, headerSize + imageSize);
    } finally {
      closeSync(fd);
    }
    return path;
  }

  function mapFile(path: string, offset: number, size: number): SnapshotMemory {
    const fd = openSync(path, 'r');
    try {
      const snapshot = mapSnapshotFile(fd, offset, size);
      cleanup.push(snapshot);
      return snapshot;
    } finally {
      closeSync(fd); // the snapshot keeps its own handle
    }
  }

  it('maps a window of a file; reads and a GuestMemory made from it see the file', () => {
    const path = snapshotFile(4096, 16 * 4096, { 0: 0x11, 5: 0x55, 15: 0xff });
    const snapshot = mapFile(path, 4096, 16 * 4096);
    expect(snapshot.size).toBe(16 * 4096);
    const page = new Uint8Array(4096);
    snapshot.read(5 * 4096, page);
    expect(page.every((byte) => byte === 0x55)).toBe(true);

    using memory = new GuestMemory(16 * 4096, snapshot);
    const bytes = new Uint8Array(memory.buffer);
    expect([bytes[0], bytes[4096], bytes[5 * 4096 + 100], bytes[16 * 4096 - 1]]).toEqual([0x11, 0, 0x55, 0xff]);
    const expected = bytes.slice();
    scribble(bytes, 10, 1);
    memory.restore(snapshot);
    expect(Buffer.from(bytes).equals(expected)).toBe(true);
  });

  it('snapshots a memory made from a file: only data and written pages are copied', () => {
    const path = snapshotFile(8192, 64 * MiB, { 3: 0x33, 9000: 0x90 });
    const snapshot = mapFile(path, 8192, 64 * MiB);
    expect(statSync(path).blocks * 512).toBeLessThan(1 * MiB); // sparse
    using memory = new GuestMemory(64 * MiB, snapshot);
    const bytes = new Uint8Array(memory.buffer);
    bytes[4096 * 100] = 1;
    using copy = memory.snapshot();
    expect(snapshotMemfdBytes().at(-1)).toBe(3 * 4096);
    const page = new Uint8Array(4096);
    for (const [index, fill] of [[3, 0x33], [9000, 0x90], [100, 1], [101, 0]] as const) {
      copy.read(index * 4096, page);
      expect(page[0]).toBe(fill);
    }
  });

  it('leaves the caller\'s fd and its file offset alone', () => {
    const path = snapshotFile(4096, 4 * 4096, { 1: 0x42 });
    const fd = openSync(path, 'r');
    try {
      using snapshot = mapSnapshotFile(fd, 4096, 4 * 4096);
      using memory = new GuestMemory(4 * 4096, snapshot);
      new Uint8Array(memory.buffer)[0] = 1;
      using copy = memory.snapshot(); // lseek(SEEK_DATA) on the snapshot's own handle
      expect(copy.size).toBe(4 * 4096);
      const head = Buffer.alloc(4);
      expect(readSync(fd, head, 0, 4, null)).toBe(4); // from the caller's offset, still 0
      expect(Array.from(head)).toEqual([0xee, 0xee, 0xee, 0xee]);
    } finally {
      closeSync(fd);
    }
  });

  it('refuses windows that are misaligned, empty or outside the file', () => {
    const path = snapshotFile(4096, 4 * 4096, {});
    const fd = openSync(path, 'r');
    try {
      expect(() => mapSnapshotFile(fd, 100, 4096)).toThrow(rangeError);
      expect(() => mapSnapshotFile(fd, 4096, 4000)).toThrow(rangeError);
      expect(() => mapSnapshotFile(fd, 4096, 0)).toThrow(rangeError);
      expect(() => mapSnapshotFile(fd, 4096, 5 * 4096)).toThrow(/lie outside the 20480-byte file/);
      expect(() => mapSnapshotFile(fd, 8 * 4096, 4096)).toThrow(rangeError);
      expect(() => mapSnapshotFile(fd, -4096, 4096)).toThrow(rangeError);
      expect(() => mapSnapshotFile('3' as never, 0, 4096)).toThrow(typeError);
      expect(() => (mapSnapshotFile as (fd: number) => unknown)(fd)).toThrow(typeError);
    } finally {
      closeSync(fd);
    }
  });

  it('reports files it cannot map as system errors', () => {
    const closed = openSync(snapshotFile(0, 4096, {}), 'r');
    closeSync(closed);
    expect(() => mapSnapshotFile(closed, 0, 4096)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'fstat' }));
    const directory = openSync(scratch, 'r');
    try {
      expect(() => mapSnapshotFile(directory, 0, 4096)).toThrow(expect.objectContaining({ code: 'ENODEV', syscall: 'mmap' }));
    } finally {
      closeSync(directory);
    }
  });

  it('100 maps, memories and disposals leave no fd and no mapping behind', () => {
    const path = snapshotFile(4096, 8 * 4096, { 2: 0x22 });
    const cycle = (): void => {
      const snapshot = mapFile(path, 4096, 8 * 4096);
      const memory = new GuestMemory(8 * 4096, snapshot);
      new Uint8Array(memory.buffer)[3] = 1;
      memory.restore(snapshot);
      snapshot.dispose();
      memory.dispose();
      cleanup.splice(0);
    };
    cycle();
    const fds = openFdCount();
    const mappings = mappingCount();
    for (let i = 0; i < 100; i++) cycle();
    expect(openFdCount()).toBe(fds);
    expect(mappingCount()).toBe(mappings);
  });
});

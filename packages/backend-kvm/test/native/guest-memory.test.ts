import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNative, type GuestMemory as NativeGuestMemory, type SnapshotMemory } from '../../src/index.js';
import { expectEveryMemberDisposed } from '../../../native-linux/test/helpers/disposed.js';
import { guestMemoryMappingCount, openFdCount } from '../helpers/kvm.js';
import { mappingCount, rssBytes, scribble, snapshotMappingCount, snapshotMemfdBytes } from '../helpers/memory.js';

// GuestMemory needs no /dev/kvm (memfd + mmap), so these run everywhere.
const { GuestMemory } = loadNative();
const MiB = 1024 * 1024;
const disposedError = expect.objectContaining({ code: 'ERR_HYPERLIGHT_DISPOSED' });

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('GuestMemory', () => {
  it('is zeroed memory of the requested size, exposed as one ArrayBuffer', () => {
    using memory = new GuestMemory(0x4000);
    expect(memory.memorySize).toBe(0x4000);
    expect(memory.buffer.byteLength).toBe(0x4000);
    expect(memory.buffer).toBe(memory.buffer);
    expect(new Uint8Array(memory.buffer).every((byte) => byte === 0)).toBe(true);
  });

  it('is shared: writes through one view are seen through another', () => {
    using memory = new GuestMemory(0x2000);
    new DataView(memory.buffer).setUint32(0x1ffc, 0xdeadbeef, true);
    expect(new Uint32Array(memory.buffer)[0x1ffc / 4]).toBe(0xdeadbeef);
  });

  it('rejects sizes that are not positive multiples of 4096', () => {
    for (const size of [0, -4096, 4095, 4096.5, Number.NaN, 2 ** 60]) {
      expect(() => new GuestMemory(size)).toThrow(
        expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }),
      );
    }
    expect(() => new GuestMemory('4096' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('dispose() detaches the buffer, unmaps the memory and closes the memfd', () => {
    const fdsBefore = openFdCount();
    const mappingsBefore = guestMemoryMappingCount();
    const memory = new GuestMemory(0x10000);
    const bytes = new Uint8Array(memory.buffer);
    bytes[0] = 1;
    expect(openFdCount()).toBe(fdsBefore + 1);
    expect(guestMemoryMappingCount()).toBe(mappingsBefore + 1);

    memory.dispose();
    expect(bytes.length).toBe(0);
    expect(bytes[0]).toBeUndefined();
    expect(openFdCount()).toBe(fdsBefore);
    expect(guestMemoryMappingCount()).toBe(mappingsBefore);
    memory.dispose(); // idempotent
  });

  it('every member throws ERR_HYPERLIGHT_DISPOSED after dispose()', () => {
    const memory = new GuestMemory(0x1000);
    memory.dispose();
    expect(() => memory.buffer).toThrow(disposedError);
    expect(() => memory.buffer).toThrow(/GuestMemory\.buffer/);
    expect(() => memory.memorySize).toThrow(disposedError);
    expect(() => memory.memorySize).toThrow(/GuestMemory\.memorySize/);
  });

  it('[Symbol.dispose] releases it like dispose()', () => {
    let buffer: ArrayBuffer;
    {
      using memory = new GuestMemory(0x1000);
      buffer = memory.buffer;
    }
    expect(buffer.byteLength).toBe(0);
  });

  it('50 memories created and disposed leave no fd and no mapping behind', () => {
    new GuestMemory(0x1000).dispose(); // warm-up
    const fdsBefore = openFdCount();
    const mappingsBefore = guestMemoryMappingCount();
    for (let i = 0; i < 50; i++) new GuestMemory(0x10000).dispose();
    expect(openFdCount()).toBe(fdsBefore);
    expect(guestMemoryMappingCount()).toBe(mappingsBefore);
  });

  it('a buffer stays valid when its GuestMemory object is garbage-collected undisposed', async () => {
    const make = (): ArrayBuffer => {
      const memory = new GuestMemory(0x1000);
      new Uint8Array(memory.buffer)[7] = 42;
      return memory.buffer;
    };
    const buffer = make();
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(buffer.byteLength).toBe(0x1000);
    expect(new Uint8Array(buffer)[7]).toBe(42);
  });

  it('has exactly the members the disposed tests cover', () => {
    expect(Object.getOwnPropertyNames(GuestMemory.prototype).sort()).toEqual(
      ['buffer', 'constructor', 'dispose', 'memorySize', 'snapshot', 'restore', 'privatePageCount'].sort(),
    );
  });
});

/** Offset of the first byte where `actual` differs from `expected`, or -1 (no giant diffs on failure). */
function firstDifference(actual: Uint8Array, expected: Uint8Array): number {
  if (actual.length !== expected.length) return Math.min(actual.length, expected.length);
  if (Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(expected)) return -1;
  return actual.findIndex((byte, i) => byte !== expected[i]);
}

/** All bytes of `snapshot`, through read(). */
function snapshotBytes(snapshot: SnapshotMemory): Uint8Array {
  const bytes = new Uint8Array(snapshot.size);
  snapshot.read(0, bytes);
  return bytes;
}

describe('GuestMemory snapshots', () => {
  const cleanup: Disposable[] = [];
  function track<T extends Disposable>(item: T): T {
    cleanup.push(item);
    return item;
  }
  afterEach(() => {
    for (const item of cleanup.splice(0).reverse()) item[Symbol.dispose]();
  });
  function memoryOf(size: number, snapshot?: SnapshotMemory): { memory: NativeGuestMemory; bytes: Uint8Array } {
    const memory = track(new GuestMemory(size, snapshot));
    return { memory, bytes: new Uint8Array(memory.buffer) };
  }

  it('snapshot() copies the contents exactly and leaves them in place', () => {
    const { memory, bytes } = memoryOf(4 * MiB);
    scribble(bytes, 300, 1);
    bytes[0] = 0xaa;
    bytes[bytes.length - 1] = 0xbb;
    const expected = bytes.slice();
    const snapshot = track(memory.snapshot());
    expect(snapshot.size).toBe(4 * MiB);
    expect(firstDifference(snapshotBytes(snapshot), expected)).toBe(-1);
    expect(firstDifference(bytes, expected)).toBe(-1);
    expect(memory.buffer).toBe(bytes.buffer); // same buffer, same address
  });

  it('a snapshot of a copy-on-write memory holds the base plus the writes, zeros included', () => {
    const { memory, bytes } = memoryOf(2 * MiB);
    const dataPages = scribble(bytes, 100, 2);
    const base = track(memory.snapshot());
    scribble(bytes, 50, 3);
    bytes.fill(0, dataPages[0]! * 4096, dataPages[0]! * 4096 + 4096); // a data page written back to zeros
    bytes.fill(0x11, 4096 * 7, 4096 * 9); // two whole pages
    const expected = bytes.slice();
    const second = track(memory.snapshot());
    expect(firstDifference(snapshotBytes(second), expected)).toBe(-1);
    expect(firstDifference(snapshotBytes(base), expected)).not.toBe(-1); // the first one is unchanged...
    memory.restore(base);
    expect(firstDifference(snapshotBytes(base), bytes)).toBe(-1); // ...as restore shows
  });

  it('restore() after writes gives byte-identical memory (same snapshot: private pages discarded)', () => {
    const { memory, bytes } = memoryOf(4 * MiB);
    scribble(bytes, 200, 4);
    const snapshot = track(memory.snapshot());
    const expected = bytes.slice();
    scribble(bytes, 300, 5); // over data pages and over holes
    bytes[0] = bytes[0]! ^ 0xff;
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    expect(firstDifference(bytes, expected)).not.toBe(-1);
    memory.restore(snapshot);
    expect(firstDifference(bytes, expected)).toBe(-1);
  });

  it('restore() switches between snapshots (remapping) and back, byte-identical each time', () => {
    const { memory, bytes } = memoryOf(2 * MiB);
    scribble(bytes, 64, 6);
    const first = track(memory.snapshot());
    const firstBytes = bytes.slice();
    scribble(bytes, 64, 7);
    const second = track(memory.snapshot());
    const secondBytes = bytes.slice();
    scribble(bytes, 64, 8);

    memory.restore(first);
    expect(firstDifference(bytes, firstBytes)).toBe(-1);
    scribble(bytes, 10, 9);
    memory.restore(second);
    expect(firstDifference(bytes, secondBytes)).toBe(-1);
    scribble(bytes, 10, 10);
    memory.restore(second); // same snapshot again: the discard path
    expect(firstDifference(bytes, secondBytes)).toBe(-1);
    memory.restore(first);
    expect(firstDifference(bytes, firstBytes)).toBe(-1);
  });

  it('restore() works on a memory that never took a snapshot (its own memfd), with another memory\'s snapshot', () => {
    const source = memoryOf(1 * MiB);
    scribble(source.bytes, 40, 11);
    const snapshot = track(source.memory.snapshot());
    const { memory, bytes } = memoryOf(1 * MiB);
    scribble(bytes, 40, 12);
    memory.restore(snapshot);
    expect(firstDifference(bytes, source.bytes)).toBe(-1);
  });

  it('new GuestMemory(size, snapshot) starts with the snapshot contents and does not change it', () => {
    const source = memoryOf(1 * MiB);
    scribble(source.bytes, 40, 13);
    const snapshot = track(source.memory.snapshot());
    const expected = source.bytes.slice();
    const { memory, bytes } = memoryOf(1 * MiB, snapshot);
    expect(firstDifference(bytes, expected)).toBe(-1);
    scribble(bytes, 40, 14);
    expect(firstDifference(snapshotBytes(snapshot), expected)).toBe(-1);
    expect(firstDifference(source.bytes, expected)).toBe(-1); // another copy-on-write user of the same snapshot
    memory.restore(snapshot);
    expect(firstDifference(bytes, expected)).toBe(-1);
  });

  it('restore() repeated 1000 times stays byte-identical', () => {
    const { memory, bytes } = memoryOf(2 * MiB);
    scribble(bytes, 100, 15);
    const snapshot = track(memory.snapshot());
    const expected = bytes.slice();
    for (let i = 0; i < 1000; i++) {
      const pages = scribble(bytes, 1 + (i % 17), 1000 + i);
      memory.restore(snapshot);
      for (const page of pages) {
        const offset = page * 4096;
        expect(firstDifference(bytes.subarray(offset, offset + 4096), expected.subarray(offset, offset + 4096))).toBe(-1);
      }
      if (i % 100 === 99) expect(firstDifference(bytes, expected)).toBe(-1);
    }
    expect(memory.privatePageCount()).toBe(0);
  }, 60_000); // about 5 s in the emulating test VM while other files' guests spin beside it

  it('privatePageCount() counts touched pages, then the pages written since the last snapshot', () => {
    const { memory, bytes } = memoryOf(1 * MiB);
    expect(memory.privatePageCount()).toBe(0);
    bytes[0] = 1;
    bytes[4096 * 10] = 1;
    expect(memory.privatePageCount()).toBe(2);
    const snapshot = track(memory.snapshot());
    expect(memory.privatePageCount()).toBe(0);
    bytes[4096 * 3] = 1;
    bytes[4096 * 3 + 1] = 2;
    bytes[4096 * 200 + 5] = 3;
    bytes[0] = 7;
    expect(memory.privatePageCount()).toBe(3);
    expect(bytes[4096 * 100]).toBe(0); // a read is not a private page
    expect(memory.privatePageCount()).toBe(3);
    memory.restore(snapshot);
    expect(memory.privatePageCount()).toBe(0);
    const copy = memoryOf(1 * MiB, snapshot);
    expect(copy.memory.privatePageCount()).toBe(0);
    copy.bytes[4096] = 9;
    expect(copy.memory.privatePageCount()).toBe(1);
  });

  it('a never-touched 64 MiB memory stays sparse through snapshot, read and restore', () => {
    const rssBefore = rssBytes();
    const { memory, bytes } = memoryOf(64 * MiB);
    bytes[4096 * 1000] = 1;
    const memfdsBefore = snapshotMemfdBytes().length;
    const snapshot = track(memory.snapshot());
    const allocated = snapshotMemfdBytes();
    expect(allocated.length).toBe(memfdsBefore + 1);
    expect(allocated.at(-1)).toBeLessThanOrEqual(2 * 4096);

    const chunk = new Uint8Array(4 * MiB); // read() all of it: pread of holes allocates nothing
    for (let offset = 0; offset < snapshot.size; offset += chunk.length) snapshot.read(offset, chunk);
    bytes[4096 * 2000] = 2;
    memory.restore(snapshot);
    const second = track(memory.snapshot());
    expect(snapshotMemfdBytes().every((size) => size <= 2 * 4096)).toBe(true);
    expect(second.size).toBe(64 * MiB);
    expect(rssBytes() - rssBefore).toBeLessThan(16 * MiB); // the chunk, not 64 MiB
  });

  it('a snapshot disposed while memory maps it keeps that memory valid', async () => {
    const { memory, bytes } = memoryOf(1 * MiB);
    scribble(bytes, 20, 16);
    const expected = bytes.slice();
    const snapshot = memory.snapshot();
    const copy = memoryOf(1 * MiB, snapshot);
    snapshot.dispose();
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(firstDifference(bytes, expected)).toBe(-1);
    expect(firstDifference(copy.bytes, expected)).toBe(-1);
    scribble(copy.bytes, 5, 17);
    const again = track(copy.memory.snapshot()); // reads the disposed snapshot's file
    const copied = copy.bytes.slice();
    expect(firstDifference(snapshotBytes(again), copied)).toBe(-1);
    expect(() => memory.restore(snapshot)).toThrow(
      expect.objectContaining({ code: 'ERR_HYPERLIGHT_DISPOSED', message: 'GuestMemory.restore: the SnapshotMemory was disposed' }),
    );
  });

  it('refuses a snapshot of another size or anything that is not a SnapshotMemory', () => {
    const { memory } = memoryOf(1 * MiB);
    const snapshot = track(memory.snapshot());
    const other = memoryOf(2 * MiB);
    const lookalike = { size: 1 * MiB, read() {}, dispose() {} };
    const rangeError = expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    const typeError = expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(() => other.memory.restore(snapshot)).toThrow(rangeError);
    expect(() => new GuestMemory(2 * MiB, snapshot)).toThrow(rangeError);
    expect(() => memory.restore(lookalike as never)).toThrow(typeError);
    expect(() => memory.restore(memory as never)).toThrow(typeError);
    expect(() => (memory.restore as () => void)()).toThrow(typeError);
    expect(() => new GuestMemory(1 * MiB, lookalike as never)).toThrow(typeError);
    snapshot.dispose();
    expect(() => new GuestMemory(1 * MiB, snapshot)).toThrow(expect.objectContaining({ code: 'ERR_HYPERLIGHT_DISPOSED' }));
  });

  it('every method throws ERR_HYPERLIGHT_DISPOSED after dispose()', () => {
    const memory = new GuestMemory(0x1000);
    memory.dispose();
    const checked = expectEveryMemberDisposed(memory, GuestMemory.prototype, 'GuestMemory');
    expect(checked.sort()).toEqual(['buffer', 'memorySize', 'privatePageCount', 'restore', 'snapshot']);
  });

  it('100 create/snapshot/restore/dispose cycles leave no fd and no mapping behind', () => {
    const cycle = (i: number): void => {
      const memory = new GuestMemory(1 * MiB);
      const bytes = new Uint8Array(memory.buffer);
      scribble(bytes, 8, i);
      const first = memory.snapshot();
      scribble(bytes, 8, i + 1);
      const second = memory.snapshot();
      memory.restore(first);
      const copy = new GuestMemory(1 * MiB, second);
      new Uint8Array(copy.buffer)[5] = 1;
      copy.restore(first);
      copy.restore(second);
      memory.privatePageCount();
      second.dispose();
      copy.dispose();
      first.dispose();
      memory.dispose();
    };
    cycle(0); // warm-up
    const fds = openFdCount();
    const mappings = mappingCount();
    for (let i = 1; i <= 100; i++) cycle(i);
    expect(openFdCount()).toBe(fds);
    expect(mappingCount()).toBe(mappings);
    expect(snapshotMappingCount()).toBe(0);
    expect(snapshotMemfdBytes()).toEqual([]);
  });
});

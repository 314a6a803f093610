import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { surfaceOf } from '../../src/load-native.js';
import { addon } from '../helpers/native.js';

// native-linux's GuestMemory and SnapshotMemory, compiled into this addon.
const surface = surfaceOf(addon);

describe('guest memory of the MSHV addon', () => {
  it('creates, writes, snapshots and restores', () => {
    using memory = surface.createGuestMemory(0x4000);
    const bytes = new Uint8Array(memory.buffer);
    expect(memory.memorySize).toBe(0x4000);
    bytes[0x1000] = 0x5a;
    using snapshot = memory.snapshot();
    expect(surface.isSnapshot(snapshot)).toBe(true);
    expect(surface.isSnapshot({ size: 0x4000 })).toBe(false);
    bytes[0x1000] = 0;
    bytes[0x3000] = 1;
    expect(memory.privatePageCount()).toBe(2);
    memory.restore(snapshot);
    expect(bytes[0x1000]).toBe(0x5a);
    expect(bytes[0x3000]).toBe(0);
    expect(memory.privatePageCount()).toBe(0);

    using copy = surface.createGuestMemory(0x4000, snapshot);
    expect(new Uint8Array(copy.buffer)[0x1000]).toBe(0x5a);
    const read = new Uint8Array(1);
    snapshot.read(0x1000, read);
    expect(read[0]).toBe(0x5a);
  });

  it('maps a window of a snapshot file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mshv-snap-'));
    try {
      const fd = openSync(join(dir, 'image'), 'w+');
      try {
        writeSync(fd, new Uint8Array(0x2000).fill(9));
        using snapshot = surface.mapSnapshotFile(fd, 0x1000, 0x1000);
        expect(snapshot.size).toBe(0x1000);
        expect(surface.isSnapshot(snapshot)).toBe(true);
        const read = new Uint8Array(4);
        snapshot.read(0, read);
        expect([...read]).toEqual([9, 9, 9, 9]);
      } finally {
        closeSync(fd);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

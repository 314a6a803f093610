import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/index.js';
import { guestMemoryMappingCount, openFdCount } from '../helpers/kvm.js';

// GuestMemory needs no /dev/kvm (memfd + mmap), so these run everywhere.
const { GuestMemory } = loadNative();
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

  it('has exactly the members the disposed test above covers', () => {
    expect(Object.getOwnPropertyNames(GuestMemory.prototype).sort()).toEqual(
      ['buffer', 'constructor', 'dispose', 'memorySize'].sort(),
    );
  });
});

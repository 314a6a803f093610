import { describe, expect, it } from 'vitest';
import { GuestProtocolError } from '../../src/errors.js';
import { GuestMemory } from '../../src/mem/guest-memory.js';

describe('GuestMemory', () => {
  it('reads and writes little-endian values at guest addresses', () => {
    const buffer = new ArrayBuffer(64);
    const memory = new GuestMemory(buffer);
    expect(memory.size).toBe(64);
    memory.writeU32(4, 0xdeadbeef);
    memory.writeU64(8, 0x0102030405060708n);
    memory.writeU16(16, 0xabcd);
    memory.writeU8(18, 0x7f);
    memory.writeBytes(20, Uint8Array.of(1, 2, 3));
    expect([...new Uint8Array(buffer, 4, 4)]).toEqual([0xef, 0xbe, 0xad, 0xde]);
    expect(memory.readU32(4)).toBe(0xdeadbeef);
    expect(memory.readU64(8n)).toBe(0x0102030405060708n);
    expect(memory.readU16(16)).toBe(0xabcd);
    expect(memory.readU8(18)).toBe(0x7f);
    expect([...memory.readBytes(20, 3)]).toEqual([1, 2, 3]);
    memory.writeU64(56, -1n);
    expect(memory.readU64(56)).toBe(0xffff_ffff_ffff_ffffn);
    memory.writeU64(48, 5);
    expect(memory.readU64(48)).toBe(5n);
  });

  it('copies on readBytes and aliases on subarray', () => {
    const memory = new GuestMemory(new ArrayBuffer(16));
    const copy = memory.readBytes(0, 4);
    const view = memory.subarray(0, 4);
    memory.fill(0, 4, 9);
    expect([...copy]).toEqual([0, 0, 0, 0]);
    expect([...view]).toEqual([9, 9, 9, 9]);
    expect(memory.subarray(16, 0).length).toBe(0);
    expect(memory.readBytes(3n, 2n).length).toBe(2);
  });

  it('accepts ranges ending exactly at the end and zero-length ranges at the end', () => {
    const memory = new GuestMemory(new ArrayBuffer(16));
    expect(memory.readU64(8)).toBe(0n);
    expect(memory.contains(16, 0)).toBe(true);
    expect(memory.contains(0, 16)).toBe(true);
    expect(memory.contains(1, 16)).toBe(false);
  });

  // Every way a guest-supplied address or length can be wrong.
  const outOfRange: [string, (m: GuestMemory) => unknown][] = [
    ['u8 at the end', (m) => m.readU8(16)],
    ['u16 straddling the end', (m) => m.readU16(15)],
    ['u32 straddling the end', (m) => m.readU32(13)],
    ['u64 straddling the end', (m) => m.readU64(9)],
    ['u64 at 2^64 - 1', (m) => m.readU64(0xffff_ffff_ffff_ffffn)],
    ['negative bigint', (m) => m.readU32(-4n)],
    ['negative number', (m) => m.readU32(-1)],
    ['fraction', (m) => m.readU32(1.5)],
    ['NaN', (m) => m.readU8(Number.NaN)],
    ['Infinity', (m) => m.readU8(Number.POSITIVE_INFINITY)],
    ['2^53 + 2', (m) => m.readU8(2 ** 53 + 2)],
    ['bytes longer than memory', (m) => m.readBytes(0, 17)],
    ['bytes with a huge bigint length', (m) => m.readBytes(8n, 0xffff_ffff_ffff_fff8n)],
    ['bytes whose end overflows 32 bits', (m) => m.readBytes(0xffff_fff0, 0x20)],
    ['subarray past the end', (m) => m.subarray(10, 7)],
    ['negative size', (m) => m.readBytes(4, -1)],
    ['write past the end', (m) => m.writeU64(12, 1n)],
    ['writeBytes past the end', (m) => m.writeBytes(14, new Uint8Array(3))],
    ['fill past the end', (m) => m.fill(0, 17)],
    ['check', (m) => m.check(16, 1)],
  ];
  it.each(outOfRange)('throws GuestProtocolError for %s', (_name, access) => {
    const memory = new GuestMemory(new ArrayBuffer(16));
    expect(() => access(memory)).toThrow(GuestProtocolError);
  });

  it('names the access, address, length and memory size in the message', () => {
    const memory = new GuestMemory(new ArrayBuffer(16));
    expect(() => memory.check(0x20n, 8, 'output frame')).toThrow(/output frame of 0x8 bytes at guest address 0x20 is outside guest memory \(16 bytes\)/);
    expect(() => memory.readU64(-1n)).toThrow(/address 0xffffffffffffffff/);
  });

  it('treats a detached buffer (disposed VM) as empty memory', () => {
    const buffer = new ArrayBuffer(16);
    const memory = new GuestMemory(buffer);
    structuredClone(buffer, { transfer: [buffer] });
    expect(memory.size).toBe(0);
    expect(() => memory.readU8(0)).toThrow(GuestProtocolError);
    expect(() => memory.writeU32(0, 1)).toThrow(GuestProtocolError);
  });
});

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

import { checkStaticPie, RustGuestBuildError } from '../src/index.js';

/** A minimal 64-bit ELF header plus program headers, for corrupting. */
function elf({ type = 3, machine = 62, segments = [] as { type: number; flags: number }[] } = {}): Uint8Array {
  const bytes = new Uint8Array(64 + 56 * segments.length);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, type, true);
  v.setUint16(18, machine, true);
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setUint16(54, 56, true); // e_phentsize
  v.setUint16(56, segments.length, true);
  segments.forEach((s, i) => {
    v.setUint32(64 + 56 * i, s.type, true);
    v.setUint32(64 + 56 * i + 4, s.flags, true);
  });
  return bytes;
}

function reason(bytes: Uint8Array): string {
  try {
    checkStaticPie(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(RustGuestBuildError);
    expect((e as RustGuestBuildError).reason).toBe('not-static-pie');
    return (e as Error).message;
  }
  return 'accepted';
}

describe('checkStaticPie', () => {
  it('accepts a bare static PIE without symbols', () => {
    expect(checkStaticPie(elf({ segments: [{ type: 1, flags: 5 }] }))).toEqual({ entryOffset: 0n, relocationCount: 0, entryVerified: false });
  });

  it('says what is wrong', () => {
    expect(reason(new Uint8Array(10))).toMatch(/no ELF magic/);
    expect(reason(elf({ type: 2 }))).toMatch(/ELF type 2 is not ET_DYN/);
    expect(reason(elf({ machine: 183 }))).toMatch(/machine 183 is not x86-64/);
    expect(reason(elf({ segments: [{ type: 3, flags: 4 }] }))).toMatch(/PT_INTERP/);
    expect(reason(elf({ segments: [{ type: 7, flags: 4 }] }))).toMatch(/thread-local storage/);
    expect(reason(elf({ segments: [{ type: 1, flags: 7 }] }))).toMatch(/both writable and executable/);
    expect(reason(elf().subarray(0, 40))).toMatch(/no ELF magic|truncated/);
  });

  it('rejects an ordinary dynamically linked program', async () => {
    expect(reason(await readFile(process.execPath))).toMatch(/PT_INTERP|not ET_DYN/);
  });
});

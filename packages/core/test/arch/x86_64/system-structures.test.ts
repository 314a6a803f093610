import { describe, expect, it } from 'vitest';
import { writeSystemStructures } from '../../../src/arch/x86_64/system-structures.js';
import { GuestProtocolError } from '../../../src/errors.js';
import { GuestMemory } from '../../../src/mem/guest-memory.js';
import { builtMemory, smallLayout } from './fixture.js';

describe('writeSystemStructures', () => {
  it('overwrites stale bytes: the system page holds only the GDT, IDT and TSS, and the exception stack is zero', () => {
    const layout = smallLayout();
    const memory = builtMemory(layout); // pre-filled with 0xA5
    const page = memory.readBytes(layout.systemPageGpa, 4096);
    const used = [[0x000, 56], [0x100, 512], [0x400, 0x89]] as const;
    for (let i = 0; i < 4096; i++) {
      if (used.some(([start, size]) => i >= start && i < start + size)) continue;
      expect(page[i], `system page +0x${i.toString(16)}`).toBe(0);
    }
    expect(memory.readBytes(layout.exceptionStackGpa, layout.exceptionStackSize).every((b) => b === 0)).toBe(true);
  });

  it('touches nothing outside the supervisor areas', () => {
    const layout = smallLayout();
    const memory = builtMemory(layout);
    expect(memory.readBytes(0, 4096).every((b) => b === 0xa5)).toBe(true);
    expect(memory.readBytes(layout.pebGpa, layout.totalSize - layout.pebGpa).every((b) => b === 0xa5)).toBe(true);
  });

  it('is deterministic: writing twice gives the same bytes', () => {
    const layout = smallLayout();
    const first = builtMemory(layout);
    const second = builtMemory(layout);
    writeSystemStructures(second, layout);
    expect(second.readBytes(0, layout.pebGpa)).toEqual(first.readBytes(0, layout.pebGpa));
  });

  it('refuses memory smaller than the layout before writing anything', () => {
    const layout = smallLayout();
    const memory = new GuestMemory(new ArrayBuffer(layout.totalSize - 4096));
    expect(() => writeSystemStructures(memory, layout)).toThrow(GuestProtocolError);
    expect(memory.readBytes(0, layout.pebGpa).every((b) => b === 0)).toBe(true);
  });
});

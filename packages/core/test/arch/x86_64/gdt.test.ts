import { describe, expect, it } from 'vitest';
import { Selectors } from '../../../src/abi/generated.js';
import { encodeDescriptor, FLAT_SEGMENTS, GDT_LIMIT, tssDescriptor } from '../../../src/arch/x86_64/gdt.js';
import { decodeDescriptor } from './descriptors.js';
import { builtMemory, smallLayout } from './fixture.js';

describe('GDT', () => {
  const layout = smallLayout();
  const memory = builtMemory(layout);
  const entry = (selector: number) => memory.readU64(layout.gdtGpa + (selector & ~7));

  it('has a null descriptor and a limit covering seven entries', () => {
    expect(entry(0)).toBe(0n);
    expect(GDT_LIMIT).toBe(7 * 8 - 1);
  });

  it.each([
    ['KERNEL_CODE', Selectors.KERNEL_CODE, 0, true],
    ['KERNEL_DATA', Selectors.KERNEL_DATA, 0, false],
    ['USER_DATA', Selectors.USER_DATA, 3, false],
    ['USER_CODE', Selectors.USER_CODE, 3, true],
  ] as const)('%s is a flat present DPL%i segment, accessed bit set', (_name, selector, dpl, code) => {
    const d = decodeDescriptor(entry(selector));
    expect(selector & 3, 'RPL equals DPL').toBe(dpl);
    expect(d).toMatchObject({ base: 0, limit: 0xfffff, s: true, dpl, present: true, avl: false, g: true });
    // Type: bit 3 code, bit 1 readable/writable, bit 0 accessed; never conforming (bit 2).
    expect(d.type).toBe(code ? 0b1011 : 0b0011);
    // 64-bit code: L=1 and D=0 (SDM Vol. 3A §5.2.1); data: L=0, D/B=1.
    expect([d.l, d.db]).toEqual(code ? [true, false] : [false, true]);
  });

  it('matches the well-known flat descriptors (accessed variants of the probe and Linux values)', () => {
    expect(entry(Selectors.KERNEL_CODE)).toBe(0x00af_9b00_0000_ffffn);
    expect(entry(Selectors.KERNEL_DATA)).toBe(0x00cf_9300_0000_ffffn);
    expect(entry(Selectors.USER_DATA)).toBe(0x00cf_f300_0000_ffffn);
    expect(entry(Selectors.USER_CODE)).toBe(0x00af_fb00_0000_ffffn);
  });

  it('has a 16-byte busy 64-bit TSS descriptor for the TSS at its exact limit', () => {
    const d = decodeDescriptor(entry(Selectors.TSS));
    expect(d).toMatchObject({ base: layout.tssGpa, limit: 0x88, type: 0xb, s: false, dpl: 0, present: true, g: false, l: false, db: false });
    expect(memory.readU64(layout.gdtGpa + Selectors.TSS + 8)).toBe(0n);
  });

  it('encodes base bits above 24 and 32 into their split fields', () => {
    const d = encodeDescriptor({ base: 0xfedc_ba98, limit: 0xabcde, type: 0x9, s: false, dpl: 2, present: true, avl: true, l: false, db: true, g: true });
    expect(decodeDescriptor(d)).toEqual({ base: 0xfedc_ba98, limit: 0xabcde, type: 0x9, s: false, dpl: 2, present: true, avl: true, l: false, db: true, g: true });
    const [low, high] = tssDescriptor(0x3fff_f400);
    expect(decodeDescriptor(low).base).toBe(0x3fff_f400);
    expect(high).toBe(0n);
    expect(tssDescriptor(0x1_2345_6000)[1]).toBe(1n);
  });

  it('holds exactly the null descriptor, the four flat segments and the TSS', () => {
    expect(Object.values(FLAT_SEGMENTS).map((s) => s.selector).sort((a, b) => a - b)).toEqual([0x08, 0x10, 0x1b, 0x23]);
    const present = [];
    for (let i = 0; i < 7; i++) if (decodeDescriptor(memory.readU64(layout.gdtGpa + i * 8)).present) present.push(i * 8);
    expect(present).toEqual([0x08, 0x10, 0x18, 0x20, 0x28]); // entry 6 is the TSS descriptor's upper half (base 63:32 = 0)
  });
});

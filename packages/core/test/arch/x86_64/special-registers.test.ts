import { describe, expect, it } from 'vitest';
import { Selectors } from '../../../src/abi/generated.js';
import { guestSpecialRegisters } from '../../../src/arch/x86_64/special-registers.js';
import type { Segment } from '../../../src/backend/backend.js';
import { decodeDescriptor } from './descriptors.js';
import { builtMemory, smallLayout } from './fixture.js';

describe('guestSpecialRegisters', () => {
  const layout = smallLayout();
  const memory = builtMemory(layout);
  const sregs = guestSpecialRegisters(layout, { xsave: false });

  it('sets the control registers and EFER of docs/abi.md', () => {
    expect(sregs.cr0).toBe(0x8001_0033n); // PE MP ET NE WP PG
    expect(sregs.cr4).toBe(0x620n); // PAE OSFXSR OSXMMEXCPT
    expect(sregs.cr4 & (1n << 2n)).toBe(0n); // TSD clear: rdtsc works at CPL3 (trace time stamps)
    expect(guestSpecialRegisters(layout, { xsave: true }).cr4).toBe(0x4_0620n); // + OSXSAVE
    expect(sregs.efer).toBe(0xd00n); // LME LMA NXE
    expect(sregs.cr3).toBe(BigInt(layout.pml4Gpa));
    expect([sregs.cr2, sregs.cr8]).toEqual([0n, 0n]);
  });

  it('points GDTR and IDTR at the system page', () => {
    expect(sregs.gdt).toEqual({ base: BigInt(layout.gdtGpa), limit: 55 });
    expect(sregs.idt).toEqual({ base: BigInt(layout.idtGpa), limit: 511 });
  });

  /** The hidden part of a segment register must equal the GDT descriptor its selector names. */
  function expectMatchesGdt(segment: Segment): void {
    const d = decodeDescriptor(memory.readU64(layout.gdtGpa + (segment.selector & ~7)));
    expect({ type: segment.type, s: segment.s, dpl: segment.dpl, present: segment.present, l: segment.l, db: segment.db, g: segment.g, avl: segment.avl })
      .toEqual({ type: d.type, s: d.s, dpl: d.dpl, present: d.present, l: d.l, db: d.db, g: d.g, avl: d.avl });
    expect(segment.base).toBe(BigInt(d.base));
    expect(segment.limit).toBe(d.g ? d.limit * 4096 + 4095 : d.limit);
    expect(segment.unusable).toBe(false);
  }

  it('runs guest code at CPL3: cs 0x23 64-bit DPL3, data segments 0x1b DPL3, all as in the GDT', () => {
    expect(sregs.cs).toMatchObject({ selector: Selectors.USER_CODE, dpl: 3, l: true, db: false, s: true, type: 0xb, limit: 0xffff_ffff });
    expectMatchesGdt(sregs.cs);
    for (const segment of [sregs.ss, sregs.ds, sregs.es, sregs.fs, sregs.gs]) {
      expect(segment).toMatchObject({ selector: Selectors.USER_DATA, dpl: 3, l: false, db: true, type: 0x3 });
      expectMatchesGdt(segment);
    }
    // Separate objects, so a backend mutating one does not change the others.
    expect(sregs.ss).not.toBe(sregs.ds);
  });

  it('loads TR with the busy 64-bit TSS and leaves the LDT unusable', () => {
    expect(sregs.tr).toMatchObject({ selector: Selectors.TSS, base: BigInt(layout.tssGpa), limit: 0x88, type: 0xb, s: false, present: true, dpl: 0, g: false });
    expectMatchesGdt(sregs.tr);
    expect(sregs.ldt).toMatchObject({ selector: 0, present: false, unusable: true });
  });
});

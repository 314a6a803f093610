import type { Segment, SpecialRegisters } from '@hyperlight-ts/core/backend';
import { describe, expect, it } from 'vitest';
import {
  decodeRegisters, decodeSpecialRegisters, encodeRegisters, encodeSpecialRegisters, GENERAL_REGISTER_NAMES, packSegmentAttributes,
  SPECIAL_REGISTER_NAMES, unpackSegmentAttributes,
} from '../src/whp-registers.js';

const seg = (over: Partial<Segment>): Segment => ({
  base: 0n, limit: 0xffff_ffff, selector: 0, type: 0, present: true, dpl: 0, db: false, s: true, l: false, g: true, avl: false, unusable: false, ...over,
});

describe('segment attributes', () => {
  it('packs the VMX access-rights layout (measured example 0xB0FB from the mingw header)', () => {
    expect(packSegmentAttributes(seg({ type: 0xb, s: true, dpl: 3, present: true, avl: true, l: true, g: true }))).toBe(0xb0fb);
    expect(packSegmentAttributes(seg({ type: 0xb, s: false, present: true, g: false, db: true }))).toBe(0x408b);
  });

  it('ignores unusable on set and reports !present on get', () => {
    expect(packSegmentAttributes(seg({ present: false, unusable: true }))).toBe(packSegmentAttributes(seg({ present: false })));
    expect(unpackSegmentAttributes(0)).toMatchObject({ present: false, unusable: true });
    expect(unpackSegmentAttributes(0xb0fb)).toEqual({ type: 0xb, s: true, dpl: 3, present: true, avl: true, l: true, db: false, g: true, unusable: false });
  });
});

describe('register arrays', () => {
  it('names general registers in WHV order numbers (rax 0, rbx 3, rip 0x10)', () => {
    expect([...GENERAL_REGISTER_NAMES.slice(0, 4)]).toEqual([0x00, 0x03, 0x01, 0x02]);
    expect(GENERAL_REGISTER_NAMES[16]).toBe(0x10);
    expect([...SPECIAL_REGISTER_NAMES]).toEqual([0x13, 0x15, 0x12, 0x16, 0x17, 0x14, 0x19, 0x18, 0x1b, 0x1a, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x2001, 0x2003]);
  });

  it('round-trips general registers, 16 bytes each', () => {
    const regs = {
      rax: 1n, rbx: 2n, rcx: 3n, rdx: 4n, rsi: 5n, rdi: 6n, rsp: 7n, rbp: 8n, r8: 9n, r9: 10n, r10: 11n, r11: 12n,
      r12: 13n, r13: 14n, r14: 15n, r15: 0xffff_ffff_ffff_ffffn, rip: 0x1000n, rflags: 2n,
    };
    const values = new Uint8Array(18 * 16).fill(0xee);
    encodeRegisters(regs, values);
    expect(decodeRegisters(values)).toEqual(regs);
    expect(new DataView(values.buffer).getBigUint64(8, true)).toBe(0n);
  });

  it('round-trips special registers with table layout (limit @6, base @8)', () => {
    const sregs: SpecialRegisters = {
      cs: seg({ type: 0xb, l: true, selector: 8 }), ds: seg({ type: 3, selector: 0x10 }), es: seg({ type: 3 }), fs: seg({ type: 3 }),
      gs: seg({ type: 3, base: 0x7000n }), ss: seg({ type: 3 }), tr: seg({ type: 0xb, s: false, limit: 0x67, g: false }),
      ldt: seg({ present: false, unusable: true, type: 0, s: false, g: false }),
      gdt: { base: 0x1000n, limit: 0x37 }, idt: { base: 0x2000n, limit: 0xfff },
      cr0: 0x8000_0011n, cr2: 0n, cr3: 0x3000n, cr4: 0x20n, cr8: 0n, efer: 0x500n, apicBase: 0xfee0_0900n,
    };
    const values = new Uint8Array(SPECIAL_REGISTER_NAMES.length * 16);
    encodeSpecialRegisters(sregs, values);
    const view = new DataView(values.buffer);
    expect(view.getUint16(8 * 16 + 6, true)).toBe(0x37);
    expect(view.getBigUint64(8 * 16 + 8, true)).toBe(0x1000n);
    expect(decodeSpecialRegisters(values)).toEqual(sregs);
  });
});

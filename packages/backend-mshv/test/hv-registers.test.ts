import type { Segment, SpecialRegisters } from '@hyperlight-ts/core/backend';
import { describe, expect, it } from 'vitest';
import {
  decodeRegisters, decodeSpecialRegisters, encodeRegisters, encodeSpecialRegisters, GENERAL_REGISTER_LIST,
  packSegmentAttributes, SPECIAL_REGISTER_NAMES, unpackSegment,
} from '../src/hv-registers.js';

const code64: Segment = {
  base: 0n, limit: 0xffff_ffff, selector: 0x8, type: 0xb, present: true, dpl: 0, db: false, s: true, l: true, g: true, avl: false, unusable: false,
};
const tss: Segment = { ...code64, base: 0x1234_5000n, limit: 0x67, selector: 0x18, type: 0xb, s: false, l: false, g: false };
const nul: Segment = { base: 0n, limit: 0, selector: 0, type: 0, present: false, dpl: 0, db: false, s: false, l: false, g: false, avl: false, unusable: true };

const sregs: SpecialRegisters = {
  cs: code64, ds: { ...code64, type: 3, l: false, db: true, selector: 0x10 }, es: nul, fs: nul, gs: { ...nul, base: 0xfeed_0000n },
  ss: { ...code64, type: 3, l: false, db: true, selector: 0x10, dpl: 3, avl: true },
  tr: tss, ldt: nul,
  gdt: { base: 0x2000n, limit: 0x27 }, idt: { base: 0x3000n, limit: 0xfff },
  cr0: 0x8000_0011n, cr2: 0x1234n, cr3: 0x4000n, cr4: 0x620n, cr8: 0n, efer: 0x500n, apicBase: 0xfee0_0900n,
};

describe('segment attributes', () => {
  it('packs the VMX access-rights layout without the unusable bit', () => {
    expect(packSegmentAttributes(code64)).toBe(0xa09b); // G | L | P | S | type 0xB
    expect(packSegmentAttributes(sregs.ss)).toBe(0xd0f3); // G | D/B | AVL | P | DPL 3 | S | type 3
    expect(packSegmentAttributes(tss)).toBe(0x008b);
    expect(packSegmentAttributes({ ...nul, unusable: true })).toBe(0); // unusable ignored
  });

  it('unpacks every bit and reports unusable as !present', () => {
    expect(unpackSegment(0n, 0xffff_ffff, 8, 0xa09b)).toEqual(code64);
    expect(unpackSegment(0n, 0, 0, 0)).toEqual(nul);
    for (let bit = 0; bit < 16; bit++) {
      const attributes = 1 << bit;
      if (bit >= 8 && bit <= 11) continue; // reserved bits
      expect(packSegmentAttributes(unpackSegment(0n, 0, 0, attributes))).toBe(attributes);
    }
  });

  it('refuses out-of-range fields', () => {
    expect(() => packSegmentAttributes({ ...code64, type: 16 })).toThrow(RangeError);
    expect(() => packSegmentAttributes({ ...code64, dpl: 4 })).toThrow(RangeError);
    expect(() => encodeSpecialRegisters({ ...sregs, cs: { ...code64, selector: 0x1_0000 } })).toThrow(RangeError);
  });
});

describe('register values', () => {
  it('round-trips the general registers in the hypervisor numbering', () => {
    const regs = {
      rax: 1n, rbx: 2n, rcx: 3n, rdx: 4n, rsi: 5n, rdi: 6n, rsp: 7n, rbp: 8n, r8: 9n, r9: 10n, r10: 11n, r11: 12n,
      r12: 13n, r13: 14n, r14: 15n, r15: 0xffff_ffff_ffff_ffffn, rip: 0x1000n, rflags: 2n,
    };
    const encoded = encodeRegisters(regs);
    expect(encoded.find((a) => a.name === 0x0002_0001)!.value[0]).toBe(3); // RCX is 1 in hardware order
    expect(encoded.find((a) => a.name === 0x0002_0003)!.value[0]).toBe(2); // RBX is 3
    const byName = new Map(encoded.map((a) => [a.name, a.value]));
    expect(decodeRegisters(GENERAL_REGISTER_LIST.map((name) => byName.get(name)!))).toEqual(regs);
    expect(() => encodeRegisters({ ...regs, rax: 1 as unknown as bigint })).toThrow(TypeError);
  });

  it('round-trips the special registers (APIC base read, never written; intermediate CRs)', () => {
    const encoded = encodeSpecialRegisters(sregs);
    const names = encoded.map((a) => a.name);
    expect(names).not.toContain(0x0008_0003);
    expect(names).toEqual(expect.arrayContaining([0x0004_1000, 0x0004_1002, 0x0004_1003, 0x0004_0001, 0x0004_0004, 0x0008_0001]));
    const tr = encoded.find((a) => a.name === 0x0006_0007)!.value;
    const view = new DataView(tr.buffer);
    expect([view.getBigUint64(0, true), view.getUint32(8, true), view.getUint16(12, true), view.getUint16(14, true)]).toEqual([0x1234_5000n, 0x67, 0x18, 0x8b]);
    const gdt = new DataView(encoded.find((a) => a.name === 0x0007_0001)!.value.buffer);
    expect([gdt.getUint16(6, true), gdt.getBigUint64(8, true)]).toEqual([0x27, 0x2000n]);

    const byName = new Map(encoded.map((a) => [a.name, a.value]));
    const apic = new Uint8Array(16);
    new DataView(apic.buffer).setBigUint64(0, sregs.apicBase, true);
    byName.set(0x0008_0003, apic);
    expect(decodeSpecialRegisters(SPECIAL_REGISTER_NAMES.map((name) => byName.get(name)!))).toEqual(sregs);
  });
});

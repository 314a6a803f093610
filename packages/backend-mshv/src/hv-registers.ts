/**
 * Core's register types ↔ the hypervisor's register values (16 bytes each,
 * `hv_register_value`), as `HVCALL_GET/SET_VP_REGISTERS` carry them.
 *
 * Segment attributes are the VMX access-rights layout without its bit 16
 * ("unusable"), which the hypervisor does not have: `unusable` is ignored
 * when setting (P=0 already makes a null segment) and reads back as `!present`.
 * CR0/CR3/CR4 use the "intermediate" register names, as rust-vmm's mshv-ioctls
 * does. The APIC base is read but never written: these partitions have no
 * local APIC (the contract lets a backend ignore it).
 */
import type { DescriptorTable, Registers, Segment, SpecialRegisters } from '@hyperlight-ts/core/backend';
import type { RegisterAssoc } from './hvcall.js';
import { HV_INPUT, HV_REGISTER, HV_SEGMENT, HV_TABLE } from './mshv-abi.js';

/** Register name of each general register (hardware order rax, rcx, rdx, rbx in the hypervisor's numbering). */
export const GENERAL_REGISTER_NAMES: Readonly<Record<keyof Registers, number>> = {
  rax: HV_REGISTER.RAX, rbx: HV_REGISTER.RBX, rcx: HV_REGISTER.RCX, rdx: HV_REGISTER.RDX,
  rsi: HV_REGISTER.RSI, rdi: HV_REGISTER.RDI, rsp: HV_REGISTER.RSP, rbp: HV_REGISTER.RBP,
  r8: HV_REGISTER.R8, r9: HV_REGISTER.R9, r10: HV_REGISTER.R10, r11: HV_REGISTER.R11,
  r12: HV_REGISTER.R12, r13: HV_REGISTER.R13, r14: HV_REGISTER.R14, r15: HV_REGISTER.R15,
  rip: HV_REGISTER.RIP, rflags: HV_REGISTER.RFLAGS,
};

type SegmentKey = 'cs' | 'ds' | 'es' | 'fs' | 'gs' | 'ss' | 'tr' | 'ldt';
type ControlKey = 'cr0' | 'cr2' | 'cr3' | 'cr4' | 'cr8' | 'efer';

const SEGMENT_NAMES: Readonly<Record<SegmentKey, number>> = {
  es: HV_REGISTER.ES, cs: HV_REGISTER.CS, ss: HV_REGISTER.SS, ds: HV_REGISTER.DS,
  fs: HV_REGISTER.FS, gs: HV_REGISTER.GS, ldt: HV_REGISTER.LDTR, tr: HV_REGISTER.TR,
};
const CONTROL_NAMES: Readonly<Record<ControlKey, number>> = {
  cr0: HV_REGISTER.INTERMEDIATE_CR0, cr2: HV_REGISTER.CR2, cr3: HV_REGISTER.INTERMEDIATE_CR3,
  cr4: HV_REGISTER.INTERMEDIATE_CR4, cr8: HV_REGISTER.CR8, efer: HV_REGISTER.EFER,
};

const GENERAL_KEYS = Object.keys(GENERAL_REGISTER_NAMES) as (keyof Registers)[];
const SEGMENT_KEYS = Object.keys(SEGMENT_NAMES) as SegmentKey[];
const CONTROL_KEYS = Object.keys(CONTROL_NAMES) as ControlKey[];

/** Names read for {@link decodeSpecialRegisters}, in the order it expects the values. */
export const SPECIAL_REGISTER_NAMES: readonly number[] = [
  ...SEGMENT_KEYS.map((key) => SEGMENT_NAMES[key]),
  HV_REGISTER.GDTR, HV_REGISTER.IDTR,
  ...CONTROL_KEYS.map((key) => CONTROL_NAMES[key]),
  HV_REGISTER.APIC_BASE,
];

/** Names read for {@link decodeRegisters}, in the order it expects the values. */
export const GENERAL_REGISTER_LIST: readonly number[] = GENERAL_KEYS.map((key) => GENERAL_REGISTER_NAMES[key]);

/** Packs a segment's flags into the hypervisor's 16-bit attribute word. */
export function packSegmentAttributes(segment: Segment): number {
  checkField('segment type', segment.type, 0xf);
  checkField('segment dpl', segment.dpl, 0x3);
  return (
    segment.type |
    (Number(segment.s) << 4) |
    (segment.dpl << 5) |
    (Number(segment.present) << 7) |
    (Number(segment.avl) << 12) |
    (Number(segment.l) << 13) |
    (Number(segment.db) << 14) |
    (Number(segment.g) << 15)
  );
}

/** A segment from its base, limit, selector and 16-bit attribute word. */
export function unpackSegment(base: bigint, limit: number, selector: number, attributes: number): Segment {
  const present = (attributes & (1 << 7)) !== 0;
  return {
    base,
    limit,
    selector,
    type: attributes & 0xf,
    s: (attributes & (1 << 4)) !== 0,
    dpl: (attributes >> 5) & 0x3,
    present,
    avl: (attributes & (1 << 12)) !== 0,
    l: (attributes & (1 << 13)) !== 0,
    db: (attributes & (1 << 14)) !== 0,
    g: (attributes & (1 << 15)) !== 0,
    unusable: !present,
  };
}

/** The hypervisor values of `regs`, one per general register. */
export function encodeRegisters(regs: Registers): RegisterAssoc[] {
  return GENERAL_KEYS.map((key) => ({ name: GENERAL_REGISTER_NAMES[key], value: u64Value(regs[key], key) }));
}

/** Registers from values read for {@link GENERAL_REGISTER_LIST}. */
export function decodeRegisters(values: readonly Uint8Array[]): Registers {
  const regs = {} as Registers;
  GENERAL_KEYS.forEach((key, i) => { regs[key] = u64Of(values[i]!); });
  return regs;
}

/** The hypervisor values of `sregs` (without the APIC base, which is never written). */
export function encodeSpecialRegisters(sregs: SpecialRegisters): RegisterAssoc[] {
  return [
    ...SEGMENT_KEYS.map((key) => ({ name: SEGMENT_NAMES[key], value: segmentValue(sregs[key], key) })),
    { name: HV_REGISTER.GDTR, value: tableValue(sregs.gdt, 'gdt') },
    { name: HV_REGISTER.IDTR, value: tableValue(sregs.idt, 'idt') },
    ...CONTROL_KEYS.map((key) => ({ name: CONTROL_NAMES[key], value: u64Value(sregs[key], key) })),
  ];
}

/** Special registers from values read for {@link SPECIAL_REGISTER_NAMES}. */
export function decodeSpecialRegisters(values: readonly Uint8Array[]): SpecialRegisters {
  const at = (i: number): DataView => { const v = values[i]!; return new DataView(v.buffer, v.byteOffset, HV_INPUT.valueSize); };
  const segment = (i: number): Segment => {
    const view = at(i);
    return unpackSegment(
      view.getBigUint64(HV_SEGMENT.base, true), view.getUint32(HV_SEGMENT.limit, true),
      view.getUint16(HV_SEGMENT.selector, true), view.getUint16(HV_SEGMENT.attributes, true),
    );
  };
  const table = (i: number): DescriptorTable => ({ base: at(i).getBigUint64(HV_TABLE.base, true), limit: at(i).getUint16(HV_TABLE.limit, true) });
  const segments = Object.fromEntries(SEGMENT_KEYS.map((key, i) => [key, segment(i)])) as Record<SegmentKey, Segment>;
  const n = SEGMENT_KEYS.length;
  const controls = Object.fromEntries(CONTROL_KEYS.map((key, i) => [key, u64Of(values[n + 2 + i]!)])) as Record<ControlKey, bigint>;
  return {
    ...segments,
    gdt: table(n),
    idt: table(n + 1),
    ...controls,
    apicBase: u64Of(values[n + 2 + CONTROL_KEYS.length]!),
  };
}

/** A 16-byte register value holding the u64 `value` (taken modulo 2^64). */
export function u64Value(value: bigint, field: string): Uint8Array {
  if (typeof value !== 'bigint') throw typeError(field, 'a bigint', value);
  const bytes = new Uint8Array(HV_INPUT.valueSize);
  new DataView(bytes.buffer).setBigUint64(0, value, true);
  return bytes;
}

/** The u64 in the first 8 bytes of a register value. */
export function u64Of(value: Uint8Array): bigint {
  return new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0, true);
}

function segmentValue(segment: Segment, field: string): Uint8Array {
  if (typeof segment !== 'object' || segment === null) throw typeError(field, 'a Segment', segment);
  checkField(`${field}.limit`, segment.limit, 0xffff_ffff);
  checkField(`${field}.selector`, segment.selector, 0xffff);
  const bytes = u64Value(segment.base, `${field}.base`);
  const view = new DataView(bytes.buffer);
  view.setUint32(HV_SEGMENT.limit, segment.limit, true);
  view.setUint16(HV_SEGMENT.selector, segment.selector, true);
  view.setUint16(HV_SEGMENT.attributes, packSegmentAttributes(segment), true);
  return bytes;
}

function tableValue(table: DescriptorTable, field: string): Uint8Array {
  if (typeof table !== 'object' || table === null) throw typeError(field, 'a DescriptorTable', table);
  if (typeof table.base !== 'bigint') throw typeError(`${field}.base`, 'a bigint', table.base);
  checkField(`${field}.limit`, table.limit, 0xffff);
  const bytes = new Uint8Array(HV_INPUT.valueSize);
  const view = new DataView(bytes.buffer);
  view.setUint16(HV_TABLE.limit, table.limit, true);
  view.setBigUint64(HV_TABLE.base, table.base, true);
  return bytes;
}

function checkField(field: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    const error = new RangeError(`${field} must be an integer from 0 to ${max}; got ${String(value)}`);
    throw Object.assign(error, { code: 'ERR_OUT_OF_RANGE' });
  }
}

function typeError(field: string, expected: string, value: unknown): TypeError {
  const error = new TypeError(`${field} must be ${expected}; got ${typeof value}`);
  return Object.assign(error, { code: 'ERR_INVALID_ARG_TYPE' });
}

/**
 * Core's `Registers` and `SpecialRegisters` as arrays of `WHV_REGISTER_VALUE`
 * (16 bytes each) and back, for WHvGet/SetVirtualProcessorRegisters.
 * Segment attributes use the VMX access-rights layout without its "unusable"
 * bit: `unusable` is ignored when setting (P=0 already says "null segment")
 * and reads back as `!present`.
 */
import type { DescriptorTable, Registers, Segment, SpecialRegisters } from '@hyperlight-ts/core/backend';
import { SEGMENT_ATTRIBUTES as A, SEGMENT_REGISTER, TABLE_REGISTER, WHV_REGISTER, WHV_REGISTER_VALUE_SIZE } from './whp-abi.js';

type GeneralName = keyof Registers;
type SegmentName = 'cs' | 'ds' | 'es' | 'fs' | 'gs' | 'ss' | 'tr' | 'ldt';
type TableName = 'gdt' | 'idt';
type ControlName = 'cr0' | 'cr2' | 'cr3' | 'cr4' | 'cr8' | 'efer' | 'apicBase';

const GENERAL: readonly GeneralName[] = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags',
];
const SEGMENTS: readonly SegmentName[] = ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'];
const TABLES: readonly TableName[] = ['gdt', 'idt'];
const CONTROL: readonly ControlName[] = ['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer', 'apicBase'];

const WHV_NAME_OF: Readonly<Record<GeneralName | SegmentName | TableName | ControlName, number>> = {
  ...WHV_REGISTER,
  ldt: WHV_REGISTER.ldtr,
  gdt: WHV_REGISTER.gdtr,
  idt: WHV_REGISTER.idtr,
};

/** WHV_REGISTER_NAMEs of `Registers`, in the order the value arrays use. */
export const GENERAL_REGISTER_NAMES = Uint32Array.from(GENERAL, (name) => WHV_NAME_OF[name]!);

/** WHV_REGISTER_NAMEs of `SpecialRegisters`: segments, tables, then control registers and MSRs. */
export const SPECIAL_REGISTER_NAMES = Uint32Array.from([...SEGMENTS, ...TABLES, ...CONTROL], (name) => WHV_NAME_OF[name]!);

/** Writes `regs` into `values` (16 bytes per {@link GENERAL_REGISTER_NAMES} entry), modulo 2^64. */
export function encodeRegisters(regs: Registers, values: Uint8Array): void {
  const view = dataView(values);
  GENERAL.forEach((name, i) => writeU64(view, i, regs[name]));
}

/** Reads `Registers` from `values` laid out as {@link GENERAL_REGISTER_NAMES}. */
export function decodeRegisters(values: Uint8Array): Registers {
  const view = dataView(values);
  const regs = {} as Registers;
  GENERAL.forEach((name, i) => {
    regs[name] = view.getBigUint64(i * WHV_REGISTER_VALUE_SIZE, true);
  });
  return regs;
}

/** Writes `sregs` into `values` laid out as {@link SPECIAL_REGISTER_NAMES}. */
export function encodeSpecialRegisters(sregs: SpecialRegisters, values: Uint8Array): void {
  const view = dataView(values);
  let i = 0;
  for (const name of SEGMENTS) encodeSegment(view, i++, sregs[name]);
  for (const name of TABLES) encodeTable(view, i++, sregs[name]);
  for (const name of CONTROL) writeU64(view, i++, sregs[name]);
}

/** Reads `SpecialRegisters` from `values` laid out as {@link SPECIAL_REGISTER_NAMES}. */
export function decodeSpecialRegisters(values: Uint8Array): SpecialRegisters {
  const view = dataView(values);
  const sregs = {} as Record<string, unknown>;
  let i = 0;
  for (const name of SEGMENTS) sregs[name] = decodeSegment(view, i++);
  for (const name of TABLES) sregs[name] = decodeTable(view, i++);
  for (const name of CONTROL) sregs[name] = view.getBigUint64(i++ * WHV_REGISTER_VALUE_SIZE, true);
  return sregs as unknown as SpecialRegisters;
}

/** A segment's Attributes word (`unusable` has no bit). */
export function packSegmentAttributes(segment: Segment): number {
  return (
    (segment.type & A.typeMask) |
    (segment.s ? A.s : 0) |
    ((segment.dpl & A.dplMask) << A.dplShift) |
    (segment.present ? A.present : 0) |
    (segment.avl ? A.avl : 0) |
    (segment.l ? A.l : 0) |
    (segment.db ? A.db : 0) |
    (segment.g ? A.g : 0)
  );
}

/** The flag fields of a segment from its Attributes word; `unusable` is `!present`. */
export function unpackSegmentAttributes(attributes: number): Pick<Segment, 'type' | 's' | 'dpl' | 'present' | 'avl' | 'l' | 'db' | 'g' | 'unusable'> {
  const present = (attributes & A.present) !== 0;
  return {
    type: attributes & A.typeMask,
    s: (attributes & A.s) !== 0,
    dpl: (attributes >> A.dplShift) & A.dplMask,
    present,
    avl: (attributes & A.avl) !== 0,
    l: (attributes & A.l) !== 0,
    db: (attributes & A.db) !== 0,
    g: (attributes & A.g) !== 0,
    unusable: !present,
  };
}

function encodeSegment(view: DataView, index: number, segment: Segment): void {
  const at = index * WHV_REGISTER_VALUE_SIZE;
  view.setBigUint64(at + SEGMENT_REGISTER.base, BigInt.asUintN(64, segment.base), true);
  view.setUint32(at + SEGMENT_REGISTER.limit, segment.limit >>> 0, true);
  view.setUint16(at + SEGMENT_REGISTER.selector, segment.selector & 0xffff, true);
  view.setUint16(at + SEGMENT_REGISTER.attributes, packSegmentAttributes(segment), true);
}

function decodeSegment(view: DataView, index: number): Segment {
  const at = index * WHV_REGISTER_VALUE_SIZE;
  return {
    base: view.getBigUint64(at + SEGMENT_REGISTER.base, true),
    limit: view.getUint32(at + SEGMENT_REGISTER.limit, true),
    selector: view.getUint16(at + SEGMENT_REGISTER.selector, true),
    ...unpackSegmentAttributes(view.getUint16(at + SEGMENT_REGISTER.attributes, true)),
  };
}

function encodeTable(view: DataView, index: number, table: DescriptorTable): void {
  const at = index * WHV_REGISTER_VALUE_SIZE;
  view.setBigUint64(at, 0n, true); // the padding words
  view.setUint16(at + TABLE_REGISTER.limit, table.limit & 0xffff, true);
  view.setBigUint64(at + TABLE_REGISTER.base, BigInt.asUintN(64, table.base), true);
}

function decodeTable(view: DataView, index: number): DescriptorTable {
  const at = index * WHV_REGISTER_VALUE_SIZE;
  return { base: view.getBigUint64(at + TABLE_REGISTER.base, true), limit: view.getUint16(at + TABLE_REGISTER.limit, true) };
}

/** A 64-bit register in the low half of value `index`; the high half is zeroed. */
function writeU64(view: DataView, index: number, value: bigint): void {
  const at = index * WHV_REGISTER_VALUE_SIZE;
  view.setBigUint64(at, BigInt.asUintN(64, value), true);
  view.setBigUint64(at + 8, 0n, true);
}

function dataView(values: Uint8Array): DataView {
  return new DataView(values.buffer, values.byteOffset, values.byteLength);
}

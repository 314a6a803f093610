/**
 * The global descriptor table (docs/abi.md, "GDT and TSS"): flat 64-bit code
 * and data segments for CPL0 (exception stubs) and CPL3 (guest code), and the
 * 64-bit TSS descriptor. Descriptor formats: SDM Vol. 3A §3.4.5 "Segment
 * Descriptors" (Figure 3-8) and §8.2.3 "TSS Descriptor in 64-bit mode"
 * (Figure 8-4; §7.2.3 in SDM editions before 2023).
 */
import { Selectors } from '../../abi/generated.js';
import type { GuestMemory } from '../../mem/guest-memory.js';
import type { MemoryLayout } from '../../mem/layout.js';
import { TSS_LIMIT } from './tss.js';

/** The fields of a segment or system descriptor (SDM Vol. 3A Figure 3-8). */
export interface DescriptorFields {
  readonly base: number;
  /** The 20-bit limit field (in 4 KiB units when `g`). */
  readonly limit: number;
  /** 4-bit type; its meaning depends on `s`. */
  readonly type: number;
  /** Code/data (true) or system (false) descriptor. */
  readonly s: boolean;
  readonly dpl: number;
  readonly present: boolean;
  readonly avl: boolean;
  /** 64-bit code segment. */
  readonly l: boolean;
  /** Default operation size; must be 0 when `l` (SDM Vol. 3A §5.2.1). */
  readonly db: boolean;
  /** Granularity: limit counts 4 KiB units. */
  readonly g: boolean;
}

/**
 * Code segment type 0xB: execute/read, non-conforming, accessed. Data type
 * 0x3: read/write, expand-up, accessed (SDM Vol. 3A §3.4.5.1, Table 3-1).
 * Why accessed: the GDT lives on a read-only page, and loading a descriptor
 * whose accessed bit is clear makes the CPU write it (an implicit supervisor
 * write that CR0.WP=1 forbids there), which would fault while delivering an
 * exception and triple-fault the guest.
 */
const CODE_TYPE = 0xb;
const DATA_TYPE = 0x3;
/** 64-bit TSS, busy (SDM Vol. 3A §3.5, Table 3-2): TR is loaded with a busy TSS, and so is its descriptor. */
export const TSS_BUSY_TYPE = 0xb;

/** A flat code or data segment of the GDT, by the selector that names it. */
export interface FlatSegment {
  readonly selector: number;
  readonly type: number;
  readonly dpl: number;
  readonly l: boolean;
  readonly db: boolean;
}

/**
 * The four flat segments (base 0, limit 4 GiB, G=1; in 64-bit mode the CPU
 * ignores base and limit for them). `special-registers.ts` builds the
 * hidden segment-register state from the same table, so the two agree.
 */
export const FLAT_SEGMENTS = {
  kernelCode: { selector: Selectors.KERNEL_CODE, type: CODE_TYPE, dpl: 0, l: true, db: false },
  kernelData: { selector: Selectors.KERNEL_DATA, type: DATA_TYPE, dpl: 0, l: false, db: true },
  userData: { selector: Selectors.USER_DATA, type: DATA_TYPE, dpl: 3, l: false, db: true },
  userCode: { selector: Selectors.USER_CODE, type: CODE_TYPE, dpl: 3, l: true, db: false },
} as const satisfies Record<string, FlatSegment>;

/** The 20-bit limit of a flat segment: 0xFFFFF pages of 4 KiB = 4 GiB. */
export const FLAT_LIMIT = 0xfffff;

/** GDT entries: null, four flat segments, and the TSS descriptor (two entries). */
export const GDT_ENTRY_COUNT = 7;
/** GDTR limit: the offset of the GDT's last byte. */
export const GDT_LIMIT = GDT_ENTRY_COUNT * 8 - 1;

/**
 * Encodes an 8-byte code/data or system descriptor (SDM Vol. 3A Figure 3-8):
 * limit 15:0 and base 15:0 in the low dword; base 23:16, type, S, DPL, P,
 * limit 19:16, AVL, L, D/B, G and base 31:24 in the high dword.
 * @throws never
 */
export function encodeDescriptor(fields: DescriptorFields): bigint {
  const { base, limit } = fields;
  const low = ((limit & 0xffff) | ((base & 0xffff) << 16)) >>> 0;
  const high =
    ((base >>> 16) & 0xff) |
    ((fields.type & 0xf) << 8) |
    (Number(fields.s) << 12) |
    ((fields.dpl & 3) << 13) |
    (Number(fields.present) << 15) |
    (((limit >>> 16) & 0xf) << 16) |
    (Number(fields.avl) << 20) |
    (Number(fields.l) << 21) |
    (Number(fields.db) << 22) |
    (Number(fields.g) << 23) |
    (((base >>> 24) & 0xff) << 24);
  return (BigInt(high >>> 0) << 32n) | BigInt(low);
}

/** The descriptor of a flat segment. @throws never */
export function flatSegmentDescriptor(segment: FlatSegment): bigint {
  return encodeDescriptor({
    base: 0, limit: FLAT_LIMIT, type: segment.type, s: true, dpl: segment.dpl, present: true,
    avl: false, l: segment.l, db: segment.db, g: true,
  });
}

/**
 * The 16-byte 64-bit TSS descriptor (SDM Vol. 3A Figure 8-4): an 8-byte
 * system descriptor for base 31:0, then base 63:32 and a reserved dword.
 * Byte granular (G=0) with limit {@link TSS_LIMIT}.
 * @throws never
 */
export function tssDescriptor(tssGpa: number): [low: bigint, high: bigint] {
  const low = encodeDescriptor({
    base: tssGpa, limit: TSS_LIMIT, type: TSS_BUSY_TYPE, s: false, dpl: 0, present: true,
    avl: false, l: false, db: false, g: false,
  });
  return [low, BigInt(Math.floor(tssGpa / 2 ** 32))];
}

/**
 * Writes the GDT at `layout.gdtGpa`: each descriptor at its selector's index.
 * @throws GuestProtocolError when the GDT is outside `memory` (a layout for a larger VM).
 */
export function writeGdt(memory: GuestMemory, layout: MemoryLayout): void {
  memory.fill(layout.gdtGpa, GDT_LIMIT + 1);
  for (const segment of Object.values(FLAT_SEGMENTS)) {
    memory.writeU64(layout.gdtGpa + (segment.selector & ~7), flatSegmentDescriptor(segment));
  }
  const [low, high] = tssDescriptor(layout.tssGpa);
  memory.writeU64(layout.gdtGpa + Selectors.TSS, low);
  memory.writeU64(layout.gdtGpa + Selectors.TSS + 8, high);
}

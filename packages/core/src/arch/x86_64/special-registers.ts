/**
 * The segment, descriptor-table and control registers every guest entry
 * starts from (docs/abi.md, "Memory map" and "GDT and TSS"): 64-bit long
 * mode with paging at CPL3.
 */
import { Selectors } from '../../abi/generated.js';
import type { Segment, SpecialRegisters } from '../../backend/backend.js';
import type { MemoryLayout } from '../../mem/layout.js';
import { FLAT_LIMIT, FLAT_SEGMENTS, GDT_LIMIT, TSS_BUSY_TYPE, type FlatSegment } from './gdt.js';
import { IDT_LIMIT } from './idt.js';
import { TSS_LIMIT } from './tss.js';

/** CR0 bits (SDM Vol. 3A §2.5 "Control Registers"). */
export const Cr0 = {
  /** Protected mode. */
  PE: 1n << 0n,
  /** Monitor coprocessor: with TS, `wait` faults; set as for any SSE-capable OS. */
  MP: 1n << 1n,
  /** Extension type: hardwired 1 on modern CPUs. */
  ET: 1n << 4n,
  /** Native x87 error reporting (#MF instead of the legacy IRQ 13). */
  NE: 1n << 5n,
  /** Write protect: supervisor code (the stubs, the CPU's implicit accesses) honours read-only pages too. */
  WP: 1n << 16n,
  /** Paging. */
  PG: 1n << 31n,
} as const;

/** CR4 bits (SDM Vol. 3A §2.5). */
export const Cr4 = {
  /** Physical address extension: required for long mode. */
  PAE: 1n << 5n,
  /** The OS saves SSE state with FXSAVE: SSE instructions are allowed. */
  OSFXSR: 1n << 9n,
  /** SIMD floating-point exceptions raise #XM instead of #UD. */
  OSXMMEXCPT: 1n << 10n,
  /** XSAVE/XGETBV enabled: AVX and later need it (set only when the backend configured XCR0). */
  OSXSAVE: 1n << 18n,
} as const;

/** IA32_EFER bits (SDM Vol. 3A §2.2.1 "Extended Feature Enable Register"). */
export const Efer = {
  /** Long mode enable. */
  LME: 1n << 8n,
  /** Long mode active (read-only on hardware; hypervisors take it in the initial state). */
  LMA: 1n << 10n,
  /** Execute-disable bit in page-table entries is honoured. */
  NXE: 1n << 11n,
} as const;

/** Guest CR0: PE | MP | ET | NE | WP | PG = 0x80010033. */
export const GUEST_CR0 = Cr0.PE | Cr0.MP | Cr0.ET | Cr0.NE | Cr0.WP | Cr0.PG;
/**
 * Guest CR4 without XSAVE: PAE | OSFXSR | OSXMMEXCPT = 0x620. TSD (bit 2)
 * stays clear, so `rdtsc` works at CPL3: guest trace records take their time
 * stamps with it.
 */
export const GUEST_CR4 = Cr4.PAE | Cr4.OSFXSR | Cr4.OSXMMEXCPT;
/** Guest EFER: LME | LMA | NXE = 0xD00. SCE stays clear, so `syscall` raises #UD. */
export const GUEST_EFER = Efer.LME | Efer.LMA | Efer.NXE;
/**
 * IA32_APIC_BASE at reset for the boot processor (0xFEE00000, enabled, BSP;
 * SDM Vol. 3A §11.4.4), so writing it back changes nothing. The guest never
 * takes an interrupt.
 */
export const GUEST_APIC_BASE = 0xfee0_0900n;

/** Options of {@link guestSpecialRegisters}. */
export interface SpecialRegisterOptions {
  /** Whether the backend enabled XSAVE (`VirtualMachine.xsaveEnabled`); sets CR4.OSXSAVE. */
  readonly xsave: boolean;
}

/** The hidden (descriptor-cache) state a segment register holds after loading `segment` from the GDT. */
function flatSegmentRegister(segment: FlatSegment): Segment {
  return {
    base: 0n,
    // Byte-granular form of the 20-bit limit with G=1: (0xFFFFF << 12) | 0xFFF.
    limit: FLAT_LIMIT * 0x1000 + 0xfff,
    selector: segment.selector,
    type: segment.type,
    present: true,
    dpl: segment.dpl,
    db: segment.db,
    s: true,
    l: segment.l,
    g: true,
    avl: false,
    unusable: false,
  };
}

/**
 * The special registers of a guest entry: CPL3 code and data segments, TR on
 * the busy 64-bit TSS (the state `ltr` leaves), GDTR/IDTR on the system page,
 * CR3 on the PML4, and long mode with paging and no-execute enabled.
 * @throws never
 * @example
 * vm.setSpecialRegisters(guestSpecialRegisters(layout, { xsave: vm.xsaveEnabled }));
 */
export function guestSpecialRegisters(layout: MemoryLayout, options: SpecialRegisterOptions): SpecialRegisters {
  const data = (): Segment => flatSegmentRegister(FLAT_SEGMENTS.userData);
  return {
    cs: flatSegmentRegister(FLAT_SEGMENTS.userCode),
    ds: data(), es: data(), fs: data(), gs: data(), ss: data(),
    tr: {
      base: BigInt(layout.tssGpa),
      limit: TSS_LIMIT,
      selector: Selectors.TSS,
      type: TSS_BUSY_TYPE,
      present: true,
      dpl: 0,
      db: false,
      s: false,
      l: false,
      g: false,
      avl: false,
      unusable: false,
    },
    // No LDT: an unusable null selector.
    ldt: {
      base: 0n, limit: 0, selector: 0, type: 0, present: false, dpl: 0,
      db: false, s: false, l: false, g: false, avl: false, unusable: true,
    },
    gdt: { base: BigInt(layout.gdtGpa), limit: GDT_LIMIT },
    idt: { base: BigInt(layout.idtGpa), limit: IDT_LIMIT },
    cr0: GUEST_CR0,
    cr2: 0n,
    cr3: BigInt(layout.pml4Gpa),
    cr4: options.xsave ? GUEST_CR4 | Cr4.OSXSAVE : GUEST_CR4,
    cr8: 0n,
    efer: GUEST_EFER,
    apicBase: GUEST_APIC_BASE,
  };
}

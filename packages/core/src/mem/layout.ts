/**
 * The guest memory map: where every area lives in the one region mapped at
 * guest-physical address 0, and what access guest code has to it. This file
 * is the only place that computes addresses; docs/abi.md ("Memory map")
 * describes the same order in words.
 *
 * Guest virtual addresses equal guest physical addresses (identity map), so a
 * `*Gpa` here is also the address guest code uses.
 */
import { Abi } from '../abi/generated.js';
import { ConfigurationError } from '../errors.js';

/** Guest page size in bytes; every area starts and ends on a page boundary. */
export const PAGE_SIZE = Abi.PAGE_SIZE;

/** Bytes one page table (512 entries of 4 KiB pages) maps: 2 MiB. */
const PAGE_TABLE_SPAN_SIZE = 512 * PAGE_SIZE;

/**
 * Largest guest memory in bytes: 1 GiB minus one page. It keeps the whole map
 * under one page directory (one PML4 entry, one PDPT entry), so the page-table
 * area is PML4 + PDPT + PD + one page table per 2 MiB.
 */
export const MAX_GUEST_MEMORY_SIZE = 0x4000_0000 - PAGE_SIZE;

/** Size in bytes of the exception stack (IST1 and RSP0): one page holds the 40-48 byte frame the CPU pushes. */
export const EXCEPTION_STACK_SIZE = PAGE_SIZE;

/** Offset in bytes of the GDT inside the system page. */
export const GDT_OFFSET = 0x000;
/** Offset in bytes of the IDT inside the system page. */
export const IDT_OFFSET = 0x100;
/** Offset in bytes of the TSS (with its I/O permission bitmap) inside the system page. */
export const TSS_OFFSET = 0x400;

/** The sizes {@link MemoryLayout.compute} takes, each in bytes. */
export type LayoutSizeOption =
  | 'imageSize' | 'inputSize' | 'outputSize' | 'logSize' | 'traceSize' | 'heapSize' | 'stackSize' | 'initDataSize';

/**
 * Allowed range, in bytes, of every size {@link MemoryLayout.compute} takes
 * (before rounding up to whole pages). Configuration code reuses these for
 * its messages; the sum is further limited to {@link MAX_GUEST_MEMORY_SIZE}.
 */
export const LAYOUT_SIZE_LIMITS: Readonly<Record<LayoutSizeOption, { readonly min: number; readonly max: number }>> = {
  imageSize: { min: 1, max: MAX_GUEST_MEMORY_SIZE },
  inputSize: { min: 4 * 1024, max: MAX_GUEST_MEMORY_SIZE },
  outputSize: { min: 4 * 1024, max: MAX_GUEST_MEMORY_SIZE },
  logSize: { min: 4 * 1024, max: MAX_GUEST_MEMORY_SIZE },
  traceSize: { min: 4 * 1024, max: MAX_GUEST_MEMORY_SIZE },
  heapSize: { min: 4 * 1024, max: MAX_GUEST_MEMORY_SIZE },
  stackSize: { min: 8 * 1024, max: MAX_GUEST_MEMORY_SIZE },
  initDataSize: { min: 0, max: MAX_GUEST_MEMORY_SIZE },
};

/** What guest code may do with a page. A page that is not present has no page-table entry. */
export interface PageAccess {
  readonly present: boolean;
  /** Reachable from CPL3 guest code (U/S = 1); otherwise only the CPL0 exception stubs and the CPU reach it. */
  readonly user: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
}

/** Names of the areas in {@link MemoryLayout.regions}, in address order. */
export type RegionName =
  | 'null' | 'pageTables' | 'system' | 'exceptionStubs' | 'exceptionStack' | 'peb' | 'input' | 'output'
  | 'log' | 'trace' | 'initData' | 'image' | 'heap' | 'stackGuard' | 'stack';

/** One page-aligned run of guest memory with a single access. */
export interface MemoryRegion {
  readonly name: RegionName;
  readonly gpa: number;
  /** Bytes; a multiple of {@link PAGE_SIZE}, never 0. */
  readonly size: number;
  readonly access: PageAccess;
}

/**
 * Access of one loadable ELF segment, relative to the image start. An
 * `ElfSegment` from `parseElf` has this shape.
 */
export interface ImageSegmentAccess {
  /** Offset in bytes of the segment's first byte from the image start (need not be page-aligned). */
  readonly offset: number;
  /** Bytes the segment occupies in memory. */
  readonly memSize: number;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
}

/** Input of {@link MemoryLayout.compute}. Sizes are bytes; each area is rounded up to whole pages. */
export interface MemoryLayoutOptions {
  /** Span of the ELF image (`ElfImage.imageSize`). */
  readonly imageSize: number;
  /** The image's loadable segments (`ElfImage.segments`); they decide the image pages' access. */
  readonly imageSegments: readonly ImageSegmentAccess[];
  readonly inputSize: number;
  readonly outputSize: number;
  readonly logSize: number;
  /** The trace area (docs/tracing-format.md); present in every sandbox, traced or not. */
  readonly traceSize: number;
  readonly heapSize: number;
  readonly stackSize: number;
  /** Length of the init data blob; 0 when there is none. */
  readonly initDataSize: number;
}

const NOT_PRESENT: PageAccess = Object.freeze({ present: false, user: false, writable: false, executable: false });

function access(user: boolean, writable: boolean, executable: boolean): PageAccess {
  return Object.freeze({ present: true, user, writable, executable });
}

function pageCeil(size: number): number {
  return Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
}

function pageFloor(offset: number): number {
  return Math.floor(offset / PAGE_SIZE) * PAGE_SIZE;
}

function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

/** A cap on a layout's total size that a user option sets. */
export interface MemoryLimit {
  /** The most bytes the layout may need. */
  readonly bytes: number;
  /** The option that set it, named in the error. */
  readonly option: string;
}

/**
 * Where every area of guest memory lives, in the order and with the access
 * docs/abi.md ("Memory map") gives; that table is the one diagram of the map.
 * Build one with {@link MemoryLayout.compute}; the object is immutable.
 */
export class MemoryLayout {
  /** Always 0: the null page catches null dereferences. */
  readonly nullPageGpa = 0;
  readonly nullPageSize = PAGE_SIZE;
  readonly pageTablesGpa: number;
  /** PML4 + PDPT + PD + {@link pageTableCount} page tables, in bytes. */
  readonly pageTablesSize: number;
  /** Number of last-level page tables (one per 2 MiB of {@link totalSize}). */
  readonly pageTableCount: number;
  readonly pml4Gpa: number;
  readonly pdptGpa: number;
  readonly pageDirectoryGpa: number;
  /** Address of the first last-level page table; table `i` maps `[i * 2 MiB, (i + 1) * 2 MiB)`. */
  readonly firstPageTableGpa: number;
  readonly systemPageGpa: number;
  readonly systemPageSize = PAGE_SIZE;
  readonly gdtGpa: number;
  readonly idtGpa: number;
  readonly tssGpa: number;
  readonly exceptionStubsGpa: number;
  readonly exceptionStubsSize = PAGE_SIZE;
  readonly exceptionStackGpa: number;
  readonly exceptionStackSize = EXCEPTION_STACK_SIZE;
  /** One past the exception stack's highest byte: TSS.RSP0 and TSS.IST1. */
  readonly exceptionStackTopGva: number;
  readonly pebGpa: number;
  readonly pebSize = PAGE_SIZE;
  readonly inputGpa: number;
  readonly inputSize: number;
  readonly outputGpa: number;
  readonly outputSize: number;
  readonly logGpa: number;
  readonly logSize: number;
  readonly traceGpa: number;
  readonly traceSize: number;
  /** Start of the init data area (where it would be when {@link initDataBlobSize} is 0). */
  readonly initDataGpa: number;
  /** Init data area in bytes: {@link initDataBlobSize} rounded up to whole pages (0 when there is none). */
  readonly initDataSize: number;
  /** Exact length of the init data blob, as the PEB reports it. */
  readonly initDataBlobSize: number;
  readonly imageGpa: number;
  readonly imageSize: number;
  readonly heapGpa: number;
  readonly heapSize: number;
  readonly stackGuardGpa: number;
  readonly stackGuardSize = PAGE_SIZE;
  /** Lowest usable byte of the stack. */
  readonly stackGpa: number;
  readonly stackSize: number;
  /** One past the stack's highest byte; entry `rsp` is this minus 8. */
  readonly stackTopGva: number;
  /** Bytes of guest memory the VM needs (a multiple of {@link PAGE_SIZE}). */
  readonly totalSize: number;
  readonly #regions: readonly MemoryRegion[];

  private constructor(options: MemoryLayoutOptions) {
    const imageSize = pageCeil(options.imageSize);
    const inputSize = pageCeil(options.inputSize);
    const outputSize = pageCeil(options.outputSize);
    const logSize = pageCeil(options.logSize);
    const traceSize = pageCeil(options.traceSize);
    const heapSize = pageCeil(options.heapSize);
    const stackSize = pageCeil(options.stackSize);
    const initDataSize = pageCeil(options.initDataSize);

    // Everything but the page tables, whose size depends on the total.
    const fixedSize =
      PAGE_SIZE /* null */ + PAGE_SIZE /* system */ + PAGE_SIZE /* stubs */ + EXCEPTION_STACK_SIZE + PAGE_SIZE /* PEB */ +
      inputSize + outputSize + logSize + traceSize + initDataSize + imageSize + heapSize + PAGE_SIZE /* guard */ + stackSize;
    // Fixpoint: more memory may need another page table, which is more memory.
    // Start low and only grow, so this ends at the least fixpoint.
    let pageTableCount = 1;
    for (;;) {
      const total = fixedSize + (3 + pageTableCount) * PAGE_SIZE;
      const needed = Math.ceil(total / PAGE_TABLE_SPAN_SIZE);
      if (needed <= pageTableCount) break;
      pageTableCount = needed;
    }

    let cursor = PAGE_SIZE;
    const take = (size: number): number => {
      const gpa = cursor;
      cursor += size;
      return gpa;
    };
    this.pageTableCount = pageTableCount;
    this.pageTablesSize = (3 + pageTableCount) * PAGE_SIZE;
    this.pageTablesGpa = take(this.pageTablesSize);
    this.pml4Gpa = this.pageTablesGpa;
    this.pdptGpa = this.pageTablesGpa + PAGE_SIZE;
    this.pageDirectoryGpa = this.pageTablesGpa + 2 * PAGE_SIZE;
    this.firstPageTableGpa = this.pageTablesGpa + 3 * PAGE_SIZE;
    this.systemPageGpa = take(PAGE_SIZE);
    this.gdtGpa = this.systemPageGpa + GDT_OFFSET;
    this.idtGpa = this.systemPageGpa + IDT_OFFSET;
    this.tssGpa = this.systemPageGpa + TSS_OFFSET;
    this.exceptionStubsGpa = take(PAGE_SIZE);
    this.exceptionStackGpa = take(EXCEPTION_STACK_SIZE);
    this.exceptionStackTopGva = this.exceptionStackGpa + EXCEPTION_STACK_SIZE;
    this.pebGpa = take(PAGE_SIZE);
    this.inputSize = inputSize;
    this.inputGpa = take(inputSize);
    this.outputSize = outputSize;
    this.outputGpa = take(outputSize);
    this.logSize = logSize;
    this.logGpa = take(logSize);
    this.traceSize = traceSize;
    this.traceGpa = take(traceSize);
    this.initDataSize = initDataSize;
    this.initDataBlobSize = options.initDataSize;
    this.initDataGpa = take(initDataSize);
    this.imageSize = imageSize;
    this.imageGpa = take(imageSize);
    this.heapSize = heapSize;
    this.heapGpa = take(heapSize);
    this.stackGuardGpa = take(PAGE_SIZE);
    this.stackSize = stackSize;
    this.stackGpa = take(stackSize);
    this.stackTopGva = this.stackGpa + stackSize;
    this.totalSize = cursor;
    this.#regions = Object.freeze(this.#buildRegions(options.imageSegments));
  }

  /**
   * Lays out guest memory for the given sizes.
   * @throws ConfigurationError naming the option when a size is not a whole
   *   number of bytes within {@link LAYOUT_SIZE_LIMITS}, when the image
   *   segments do not fit the image, or when the total would exceed
   *   {@link MAX_GUEST_MEMORY_SIZE} (the option named is then the largest area).
   * @param limit - a smaller cap than {@link MAX_GUEST_MEMORY_SIZE}, set by a user option
   * @example
   * const layout = MemoryLayout.compute({ imageSize: image.imageSize, imageSegments: image.segments,
   *   inputSize: 65536, outputSize: 65536, logSize: 16384, traceSize: 65536, heapSize: 1 << 20, stackSize: 1 << 18, initDataSize: 0 });
   */
  static compute(options: MemoryLayoutOptions, limit?: MemoryLimit): MemoryLayout {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('options', `expected the memory layout sizes as an object, got ${String(options)}`);
    }
    const sizes: [LayoutSizeOption, number][] = [];
    for (const name of Object.keys(LAYOUT_SIZE_LIMITS) as LayoutSizeOption[]) {
      const value: unknown = options[name];
      const { min, max } = LAYOUT_SIZE_LIMITS[name];
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
        throw new ConfigurationError(name, `must be a whole number of bytes from ${min} to ${max}, got ${String(value)}`);
      }
      sizes.push([name, pageCeil(value)]);
    }
    checkImageSegments(options.imageSegments, pageCeil(options.imageSize));
    const layout = new MemoryLayout(options);
    const maxBytes = Math.min(limit?.bytes ?? MAX_GUEST_MEMORY_SIZE, MAX_GUEST_MEMORY_SIZE);
    if (layout.totalSize > maxBytes) {
      const [largest] = sizes.reduce((a, b) => (b[1] > a[1] ? b : a));
      const listed = sizes.filter(([, size]) => size > 0).map(([name, size]) => `${name} ${size}`).join(', ');
      const systemBytes = layout.totalSize - sizes.reduce((sum, [, s]) => sum + s, 0);
      const needs = `guest memory would need ${layout.totalSize} bytes (${listed}, plus ${systemBytes} bytes of system areas)`;
      if (limit !== undefined && limit.bytes < MAX_GUEST_MEMORY_SIZE) {
        throw new ConfigurationError(limit.option, `${needs}, more than ${limit.option} (${limit.bytes}); raise ${limit.option} or lower ${largest}`);
      }
      throw new ConfigurationError(largest, `${needs}, more than the maximum of ${MAX_GUEST_MEMORY_SIZE}; lower ${largest}`);
    }
    Object.freeze(layout);
    return layout;
  }

  /**
   * Every area in address order with its access. The regions tile
   * `[0, totalSize)` exactly: zero-size areas are left out, and image pages
   * no segment covers are listed as not-present `image` regions.
   * @throws never
   */
  regions(): readonly MemoryRegion[] {
    return this.#regions;
  }

  #buildRegions(segments: readonly ImageSegmentAccess[]): MemoryRegion[] {
    const supervisor = (writable: boolean, executable: boolean) => access(false, writable, executable);
    const user = (writable: boolean) => access(true, writable, false);
    const regions: MemoryRegion[] = [];
    const add = (name: RegionName, gpa: number, size: number, pageAccess: PageAccess) => {
      if (size > 0) regions.push(Object.freeze({ name, gpa, size, access: pageAccess }));
    };
    add('null', this.nullPageGpa, this.nullPageSize, NOT_PRESENT);
    // The CPU reads paging structures by physical address and sets their A/D bits
    // the same way (SDM Vol. 3A §4.8), so no linear mapping needs to be writable.
    add('pageTables', this.pageTablesGpa, this.pageTablesSize, supervisor(false, false));
    // The GDT, IDT and TSS are only read by the CPU in 64-bit mode: descriptors are
    // written with their accessed / busy bits already set (see gdt.ts).
    add('system', this.systemPageGpa, this.systemPageSize, supervisor(false, false));
    add('exceptionStubs', this.exceptionStubsGpa, this.exceptionStubsSize, supervisor(false, true));
    add('exceptionStack', this.exceptionStackGpa, this.exceptionStackSize, supervisor(true, false));
    add('peb', this.pebGpa, this.pebSize, user(false));
    add('input', this.inputGpa, this.inputSize, user(true));
    add('output', this.outputGpa, this.outputSize, user(true));
    add('log', this.logGpa, this.logSize, user(true));
    add('trace', this.traceGpa, this.traceSize, user(true));
    add('initData', this.initDataGpa, this.initDataSize, user(false));
    let imageCursor = 0;
    for (const segment of [...segments].sort((a, b) => a.offset - b.offset)) {
      const start = pageFloor(segment.offset);
      const end = pageCeil(segment.offset + segment.memSize);
      if (end === start) continue;
      add('image', this.imageGpa + imageCursor, start - imageCursor, NOT_PRESENT);
      const present = segment.readable || segment.writable || segment.executable;
      add('image', this.imageGpa + start, end - start,
        present ? access(true, segment.writable, segment.executable) : NOT_PRESENT);
      imageCursor = end;
    }
    add('image', this.imageGpa + imageCursor, this.imageSize - imageCursor, NOT_PRESENT);
    add('heap', this.heapGpa, this.heapSize, user(true));
    add('stackGuard', this.stackGuardGpa, this.stackGuardSize, NOT_PRESENT);
    add('stack', this.stackGpa, this.stackSize, user(true));
    return regions;
  }
}

/** Segments must lie inside the image, not share pages, and never be writable and executable. */
function checkImageSegments(segments: unknown, imageSize: number): void {
  if (!Array.isArray(segments)) {
    throw new ConfigurationError('imageSegments', `expected the image's segments (ElfImage.segments), got ${typeof segments}`);
  }
  const sorted = [...(segments as ImageSegmentAccess[])].sort((a, b) => a.offset - b.offset);
  let previousEnd = 0;
  for (const segment of sorted) {
    const { offset, memSize } = segment;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(memSize) || offset < 0 || memSize < 0 || offset + memSize > imageSize) {
      throw new ConfigurationError('imageSegments', `segment at offset ${String(offset)} (${String(memSize)} bytes) is not inside the ${imageSize}-byte image`);
    }
    if (segment.writable && segment.executable) {
      throw new ConfigurationError('imageSegments', `segment at offset ${hex(offset)} is both writable and executable`);
    }
    if (memSize === 0) continue;
    if (pageFloor(offset) < previousEnd) {
      throw new ConfigurationError('imageSegments', `segment at offset ${hex(offset)} shares a page with the segment before it`);
    }
    previousEnd = pageCeil(offset + memSize);
  }
}

import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import {
  EXCEPTION_STACK_SIZE, LAYOUT_SIZE_LIMITS, MAX_GUEST_MEMORY_SIZE, MemoryLayout, PAGE_SIZE,
  type ImageSegmentAccess, type MemoryLayoutOptions, type RegionName,
} from '../../src/mem/layout.js';
import { prng } from '../fixtures/elf-builder.js';

const KIB = 1024;
const MIB = 1024 * KIB;

/** A code segment and a data segment, as a typical guest has. */
function segmentsFor(imageSize: number): ImageSegmentAccess[] {
  const pages = Math.ceil(imageSize / PAGE_SIZE);
  if (pages < 2) return [{ offset: 0, memSize: imageSize, readable: true, writable: false, executable: true }];
  const codePages = Math.ceil(pages / 2);
  return [
    { offset: 0, memSize: codePages * PAGE_SIZE, readable: true, writable: false, executable: true },
    { offset: codePages * PAGE_SIZE + 0x10, memSize: imageSize - codePages * PAGE_SIZE - 0x10, readable: true, writable: true, executable: false },
  ];
}

function options(overrides: Partial<MemoryLayoutOptions> = {}): MemoryLayoutOptions {
  const imageSize = overrides.imageSize ?? 64 * KIB;
  return {
    imageSize,
    imageSegments: segmentsFor(imageSize),
    inputSize: 64 * KIB,
    outputSize: 64 * KIB,
    logSize: 16 * KIB,
    traceSize: 64 * KIB,
    heapSize: MIB,
    stackSize: 256 * KIB,
    initDataSize: 0,
    ...overrides,
  };
}

const AREA_ORDER: RegionName[] = [
  'null', 'pageTables', 'system', 'exceptionStubs', 'exceptionStack', 'peb', 'input', 'output', 'log', 'trace', 'initData',
  'image', 'heap', 'stackGuard', 'stack',
];

/** Every invariant the memory map promises, for one layout. */
function checkLayout(layout: MemoryLayout, requested: MemoryLayoutOptions): void {
  const areas: [RegionName, number, number][] = [
    ['null', layout.nullPageGpa, layout.nullPageSize],
    ['pageTables', layout.pageTablesGpa, layout.pageTablesSize],
    ['system', layout.systemPageGpa, layout.systemPageSize],
    ['exceptionStubs', layout.exceptionStubsGpa, layout.exceptionStubsSize],
    ['exceptionStack', layout.exceptionStackGpa, layout.exceptionStackSize],
    ['peb', layout.pebGpa, layout.pebSize],
    ['input', layout.inputGpa, layout.inputSize],
    ['output', layout.outputGpa, layout.outputSize],
    ['log', layout.logGpa, layout.logSize],
    ['trace', layout.traceGpa, layout.traceSize],
    ['initData', layout.initDataGpa, layout.initDataSize],
    ['image', layout.imageGpa, layout.imageSize],
    ['heap', layout.heapGpa, layout.heapSize],
    ['stackGuard', layout.stackGuardGpa, layout.stackGuardSize],
    ['stack', layout.stackGpa, layout.stackSize],
  ];
  // In docs/abi.md order, page-aligned, back to back, from 0 to totalSize.
  let cursor = 0;
  for (const [name, gpa, size] of areas) {
    expect(gpa, name).toBe(cursor);
    expect(gpa % PAGE_SIZE, name).toBe(0);
    expect(size % PAGE_SIZE, name).toBe(0);
    cursor += size;
  }
  expect(layout.totalSize).toBe(cursor);
  expect(layout.totalSize).toBeLessThanOrEqual(MAX_GUEST_MEMORY_SIZE);

  // Each configurable area is the request rounded up to whole pages.
  for (const name of ['inputSize', 'outputSize', 'logSize', 'traceSize', 'heapSize', 'stackSize', 'imageSize', 'initDataSize'] as const) {
    expect(layout[name], name).toBe(Math.ceil(requested[name] / PAGE_SIZE) * PAGE_SIZE);
  }
  expect(layout.initDataBlobSize).toBe(requested.initDataSize);

  // Page tables: PML4 + PDPT + PD + exactly one PT per 2 MiB of the total (least fixpoint).
  expect(layout.pageTablesSize).toBe((3 + layout.pageTableCount) * PAGE_SIZE);
  expect(layout.pageTableCount).toBe(Math.ceil(layout.totalSize / (2 * MIB)));
  expect(layout.pml4Gpa).toBe(layout.pageTablesGpa);
  expect(layout.pdptGpa).toBe(layout.pageTablesGpa + PAGE_SIZE);
  expect(layout.pageDirectoryGpa).toBe(layout.pageTablesGpa + 2 * PAGE_SIZE);
  expect(layout.firstPageTableGpa).toBe(layout.pageTablesGpa + 3 * PAGE_SIZE);

  expect([layout.gdtGpa, layout.idtGpa, layout.tssGpa]).toEqual([
    layout.systemPageGpa, layout.systemPageGpa + 0x100, layout.systemPageGpa + 0x400,
  ]);
  expect(layout.exceptionStackTopGva).toBe(layout.exceptionStackGpa + EXCEPTION_STACK_SIZE);
  expect(layout.stackTopGva).toBe(layout.stackGpa + layout.stackSize);
  expect(layout.stackTopGva).toBe(layout.totalSize);

  // regions() tiles [0, totalSize) in area order with no zero-size entries.
  cursor = 0;
  let order = 0;
  for (const region of layout.regions()) {
    expect(region.gpa).toBe(cursor);
    expect(region.size).toBeGreaterThan(0);
    expect(region.size % PAGE_SIZE).toBe(0);
    const index = AREA_ORDER.indexOf(region.name);
    expect(index).toBeGreaterThanOrEqual(order);
    order = index;
    cursor += region.size;
  }
  expect(cursor).toBe(layout.totalSize);
}

describe('MemoryLayout.compute', () => {
  it('lays out a typical configuration in docs/abi.md order', () => {
    const requested = options();
    const layout = MemoryLayout.compute(requested);
    checkLayout(layout, requested);
    expect(layout.nullPageGpa).toBe(0);
    expect(layout.pageTablesGpa).toBe(0x1000);
    expect(layout.pageTableCount).toBe(1);
    expect(layout.systemPageGpa).toBe(0x5000);
    expect(layout.exceptionStubsGpa).toBe(0x6000);
    expect(layout.exceptionStackGpa).toBe(0x7000);
    expect(layout.exceptionStackTopGva).toBe(0x8000);
    expect(layout.pebGpa).toBe(0x8000);
    expect(layout.inputGpa).toBe(0x9000);
    expect(layout.outputGpa).toBe(0x19000);
    expect(layout.logGpa).toBe(0x29000);
    expect(layout.traceGpa).toBe(0x2d000);
    expect(layout.initDataGpa).toBe(0x3d000);
    expect(layout.imageGpa).toBe(0x3d000);
    expect(layout.heapGpa).toBe(0x4d000);
    expect(layout.stackGuardGpa).toBe(0x14d000);
    expect(layout.stackGpa).toBe(0x14e000);
    expect(layout.totalSize).toBe(0x18e000);
    expect(Object.isFrozen(layout)).toBe(true);
    expect(Object.isFrozen(layout.regions())).toBe(true);
  });

  it('holds its invariants for many size combinations, including 2 MiB boundaries', () => {
    const next = prng(42);
    const pick = (min: number, max: number) => min + (next() % (max - min + 1));
    for (let round = 0; round < 400; round++) {
      const requested = options({
        imageSize: pick(1, 8 * MIB),
        inputSize: pick(4 * KIB, 3 * MIB),
        outputSize: pick(4 * KIB, 3 * MIB),
        logSize: pick(4 * KIB, 512 * KIB),
        traceSize: pick(4 * KIB, 2 * MIB),
        heapSize: pick(4 * KIB, round % 10 === 0 ? 200 * MIB : 16 * MIB),
        stackSize: pick(8 * KIB, 4 * MIB),
        initDataSize: round % 3 === 0 ? 0 : pick(1, MIB),
      });
      checkLayout(MemoryLayout.compute(requested), requested);
    }
    // Sweep the heap across several 2 MiB boundaries a page at a time, where the
    // page-table count changes and the fixpoint matters.
    for (const boundary of [2 * MIB, 4 * MIB, 6 * MIB, 512 * MIB]) {
      const probe = MemoryLayout.compute(options({ heapSize: 4 * KIB }));
      const start = boundary - probe.totalSize - 8 * PAGE_SIZE;
      for (let heap = start; heap < start + 16 * PAGE_SIZE; heap += PAGE_SIZE) {
        const requested = options({ heapSize: heap });
        checkLayout(MemoryLayout.compute(requested), requested);
      }
    }
  });

  it('accepts the minimum sizes and the largest total, and rejects one page more', () => {
    const minimal = options({
      imageSize: 1, inputSize: 4 * KIB, outputSize: 4 * KIB, logSize: 4 * KIB, traceSize: 4 * KIB, heapSize: 4 * KIB, stackSize: 8 * KIB, initDataSize: 0,
    });
    checkLayout(MemoryLayout.compute(minimal), minimal);
    // The biggest heap that fits: start above it (ignoring page-table growth) and walk down.
    const fits = (heapSize: number) => {
      try {
        return MemoryLayout.compute(options({ heapSize })).totalSize;
      } catch {
        return undefined;
      }
    };
    let heap = MAX_GUEST_MEMORY_SIZE - MemoryLayout.compute(options({ heapSize: 4 * KIB })).totalSize + 4 * KIB;
    while (fits(heap) === undefined) heap -= PAGE_SIZE;
    expect(fits(heap)).toBe(MAX_GUEST_MEMORY_SIZE);
    checkLayout(MemoryLayout.compute(options({ heapSize: heap })), options({ heapSize: heap }));
    expect(MemoryLayout.compute(options({ heapSize: heap })).pageTableCount).toBe(512);
    const error = captureConfigError(() => MemoryLayout.compute(options({ heapSize: heap + 1 })));
    expect(error.option).toBe('heapSize');
    expect(error.message).toMatch(new RegExp(`more than the maximum of ${MAX_GUEST_MEMORY_SIZE}; lower heapSize`));
  });

  it('names the largest area when the total is too big', () => {
    const error = captureConfigError(() => MemoryLayout.compute(options({ stackSize: 600 * MIB, heapSize: 500 * MIB })));
    expect(error.option).toBe('stackSize');
  });

  const sizeOptions = Object.keys(LAYOUT_SIZE_LIMITS) as (keyof typeof LAYOUT_SIZE_LIMITS)[];
  it.each(sizeOptions)('validates %s: type, integer, minimum and maximum', (name) => {
    const { min, max } = LAYOUT_SIZE_LIMITS[name];
    const bad: unknown[] = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '4096', undefined, null, 4096n, 2 ** 53, max + 1];
    if (min > 0) bad.push(min - 1);
    for (const value of bad) {
      const error = captureConfigError(() => MemoryLayout.compute({ ...options(), [name]: value } as MemoryLayoutOptions));
      expect(error.option, `${name} = ${String(value)}`).toBe(name);
      expect(error.message).toContain(`from ${min} to ${max}`);
    }
    const atMin = options({ [name]: min, ...(name === 'imageSize' ? { imageSegments: segmentsFor(Math.max(min, 1)) } : {}) });
    if (min > 0 || name === 'initDataSize') expect(() => MemoryLayout.compute(atMin)).not.toThrow();
  });

  it('exports the limits config code reuses', () => {
    expect(MAX_GUEST_MEMORY_SIZE).toBe(1024 * MIB - 4 * KIB);
    expect(LAYOUT_SIZE_LIMITS).toMatchObject({
      inputSize: { min: 4 * KIB }, outputSize: { min: 4 * KIB }, logSize: { min: 4 * KIB }, traceSize: { min: 4 * KIB },
      heapSize: { min: 4 * KIB }, stackSize: { min: 8 * KIB }, initDataSize: { min: 0 },
    });
  });

  it('keeps the exact init data length and leaves the area out when there is none', () => {
    const withData = MemoryLayout.compute(options({ initDataSize: 5000 }));
    expect(withData.initDataSize).toBe(8192);
    expect(withData.initDataBlobSize).toBe(5000);
    expect(withData.regions().find((r) => r.name === 'initData')).toMatchObject({ size: 8192, access: { present: true, user: true, writable: false } });
    expect(MemoryLayout.compute(options()).regions().some((r) => r.name === 'initData')).toBe(false);
  });
});

describe('MemoryLayout.regions access', () => {
  it('gives every fixed area its documented access', () => {
    const layout = MemoryLayout.compute(options());
    const accessOf = (name: RegionName) => layout.regions().find((r) => r.name === name)!.access;
    const none = { present: false, user: false, writable: false, executable: false };
    expect(accessOf('null')).toEqual(none);
    expect(accessOf('stackGuard')).toEqual(none);
    expect(accessOf('pageTables')).toEqual({ present: true, user: false, writable: false, executable: false });
    expect(accessOf('system')).toEqual({ present: true, user: false, writable: false, executable: false });
    expect(accessOf('exceptionStubs')).toEqual({ present: true, user: false, writable: false, executable: true });
    expect(accessOf('exceptionStack')).toEqual({ present: true, user: false, writable: true, executable: false });
    expect(accessOf('peb')).toEqual({ present: true, user: true, writable: false, executable: false });
    for (const name of ['input', 'output', 'log', 'trace', 'heap', 'stack'] as const) {
      expect(accessOf(name), name).toEqual({ present: true, user: true, writable: true, executable: false });
    }
  });

  it('maps image pages per segment, rounding out to pages, and leaves gaps not present', () => {
    const segments: ImageSegmentAccess[] = [
      { offset: 0, memSize: 0x2e8, readable: true, writable: false, executable: false },
      { offset: 0x2000, memSize: 0x1d, readable: true, writable: false, executable: true },
      { offset: 0x4f00, memSize: 0x1200, readable: true, writable: true, executable: false },
      { offset: 0x8000, memSize: 0x10, readable: false, writable: false, executable: false },
    ];
    const layout = MemoryLayout.compute(options({ imageSize: 0x9000, imageSegments: segments }));
    const image = layout.regions().filter((r) => r.name === 'image').map((r) => [r.gpa - layout.imageGpa, r.size, r.access.present, r.access.writable, r.access.executable]);
    expect(image).toEqual([
      [0, 0x1000, true, false, false],
      [0x1000, 0x1000, false, false, false],
      [0x2000, 0x1000, true, false, true],
      [0x3000, 0x1000, false, false, false],
      [0x4000, 0x3000, true, true, false],
      [0x7000, 0x1000, false, false, false],
      [0x8000, 0x1000, false, false, false],
    ]);
    expect(layout.regions().filter((r) => r.name === 'image').every((r) => !r.access.present || r.access.user)).toBe(true);
  });

  it.each([
    ['W+X', [{ offset: 0, memSize: 10, readable: true, writable: true, executable: true }], /writable and executable/],
    ['outside the image', [{ offset: 0x1000, memSize: 0x1000, readable: true, writable: false, executable: true }], /not inside/],
    ['negative offset', [{ offset: -1, memSize: 1, readable: true, writable: false, executable: false }], /not inside/],
    ['shared page', [
      { offset: 0, memSize: 0x10, readable: true, writable: false, executable: true },
      { offset: 0x800, memSize: 0x10, readable: true, writable: true, executable: false },
    ], /shares a page/],
    ['not an array', undefined, /expected the image's segments/],
  ])('rejects image segments: %s', (_name, segments, reason) => {
    const error = captureConfigError(() =>
      MemoryLayout.compute({ ...options({ imageSize: 0x1000 }), imageSegments: segments as unknown as ImageSegmentAccess[] }));
    expect(error.option).toBe('imageSegments');
    expect(error.message).toMatch(reason);
  });
});

function captureConfigError(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

import { describe, expect, it } from 'vitest';
import { leafEntry, writePageTables } from '../../../src/arch/x86_64/paging.js';
import { GuestProtocolError } from '../../../src/errors.js';
import { GuestMemory } from '../../../src/mem/guest-memory.js';
import type { MemoryLayout, PageAccess } from '../../../src/mem/layout.js';
import { builtMemory, multiTableLayout, smallLayout } from './fixture.js';

// Paging-structure entry bits, SDM Vol. 3A §4.5 (written out here, not imported).
const P = 1n;
const RW = 2n;
const US = 4n;
const PWT = 8n;
const PCD = 0x10n;
const A = 0x20n;
const D = 0x40n;
const PS = 0x80n;
const XD = 1n << 63n;
const ADDRESS = 0x000f_ffff_ffff_f000n;

interface Translation {
  present: boolean;
  gpa?: bigint;
  user?: boolean;
  writable?: boolean;
  executable?: boolean;
  /** Guest-physical addresses of the paging-structure entries the walk read. */
  entries: bigint[];
  /** An entry on the way had a large-page or cache-control bit set. */
  oddBits?: boolean;
}

/**
 * A software 4-level page walk of `gva` (SDM Vol. 3A §4.5.4), computing the
 * effective access as the CPU does (§4.6): user and writable only when every
 * level allows it, executable only when no level sets XD.
 */
function translate(memory: GuestMemory, cr3: bigint, gva: bigint): Translation {
  let table = cr3 & ADDRESS;
  let user = true;
  let writable = true;
  let executable = true;
  const entries: bigint[] = [];
  for (const shift of [39n, 30n, 21n, 12n]) {
    const entryGpa = table + ((gva >> shift) & 511n) * 8n;
    entries.push(entryGpa);
    const entry = memory.readU64(entryGpa);
    if ((entry & P) === 0n) return { present: false, entries };
    if ((entry & (PS | PWT | PCD)) !== 0n) return { present: true, oddBits: true, entries };
    user &&= (entry & US) !== 0n;
    writable &&= (entry & RW) !== 0n;
    executable &&= (entry & XD) === 0n;
    table = entry & ADDRESS;
  }
  return { present: true, gpa: table | (gva & 0xfffn), user, writable, executable, entries };
}

/** Why translating `gva` disagrees with `access`, or undefined when it agrees. */
function mismatch(t: Translation, access: PageAccess, gva: number, layout: MemoryLayout): string | undefined {
  const where = `0x${gva.toString(16)}`;
  if (t.oddBits) return `${where}: large-page or cache bit set`;
  for (const entry of t.entries) {
    // Every paging structure the walk touched lies in the page-table area.
    if (entry < BigInt(layout.pageTablesGpa) || entry >= BigInt(layout.pageTablesGpa + layout.pageTablesSize)) return `${where}: walk left the page tables`;
  }
  if (t.present !== access.present) return `${where}: present ${t.present}, expected ${access.present}`;
  if (!access.present) return undefined;
  if (t.gpa !== BigInt(gva)) return `${where}: maps to 0x${t.gpa?.toString(16)}`;
  if (t.user !== access.user || t.writable !== access.writable || t.executable !== access.executable) {
    return `${where}: access u${t.user} w${t.writable} x${t.executable}, expected ${JSON.stringify(access)}`;
  }
  return undefined;
}

function checkEveryRegion(memory: GuestMemory, layout: MemoryLayout, everyByte: boolean): void {
  const cr3 = BigInt(layout.pml4Gpa);
  const problems: string[] = [];
  let checked = 0;
  for (const region of layout.regions()) {
    for (let page = region.gpa; page < region.gpa + region.size; page += 4096) {
      // Every byte, or each page's first, last and a middle byte.
      const offsets = everyByte ? Array.from({ length: 4096 }, (_, i) => i) : [0, 1234, 4095];
      for (const offset of offsets) {
        const problem = mismatch(translate(memory, cr3, BigInt(page + offset)), region.access, page + offset, layout);
        if (problem) problems.push(`${region.name} ${problem}`);
        checked++;
      }
    }
  }
  expect(problems.slice(0, 10)).toEqual([]);
  expect(checked).toBe(everyByte ? layout.totalSize : (layout.totalSize / 4096) * 3);
}

describe('writePageTables', () => {
  it('maps every byte of every region of a small layout to itself with its access', () => {
    const layout = smallLayout();
    checkEveryRegion(builtMemory(layout), layout, true);
  });

  it('maps every page of a layout spanning several page tables', () => {
    const layout = multiTableLayout();
    expect(layout.pageTableCount).toBeGreaterThanOrEqual(5);
    checkEveryRegion(builtMemory(layout), layout, false);
  });

  it('leaves the null page, the stack guard, image gaps and everything past the end unmapped', () => {
    const layout = smallLayout();
    const memory = builtMemory(layout);
    const cr3 = BigInt(layout.pml4Gpa);
    const absent = (gva: bigint) => expect(translate(memory, cr3, gva).present, `0x${gva.toString(16)}`).toBe(false);
    absent(0n);
    absent(0xfffn);
    absent(BigInt(layout.stackGuardGpa));
    absent(BigInt(layout.stackGuardGpa + 4095));
    absent(BigInt(layout.imageGpa + 0x2000)); // the gap between the RX and RW segments
    absent(BigInt(layout.totalSize));
    absent(BigInt(layout.pageTableCount * 2 * 1024 * 1024 - 1));
    absent(1n << 30n); // the second PDPT entry
    absent(1n << 39n); // the second PML4 entry
    absent(0xffff_8000_0000_0000n);
    absent(0xffff_ffff_ffff_f000n);
    expect(layout.regions().filter((r) => !r.access.present).map((r) => r.name)).toEqual(['null', 'image', 'stackGuard']);
  });

  it('makes the page tables, GDT/IDT/TSS and stubs supervisor-only and read-only, and the stubs the only supervisor code', () => {
    const layout = multiTableLayout();
    const memory = builtMemory(layout);
    const cr3 = BigInt(layout.pml4Gpa);
    for (let gva = layout.pageTablesGpa; gva < layout.pageTablesGpa + layout.pageTablesSize; gva += 4096) {
      expect(translate(memory, cr3, BigInt(gva))).toMatchObject({ present: true, user: false, writable: false, executable: false });
    }
    expect(translate(memory, cr3, BigInt(layout.gdtGpa))).toMatchObject({ user: false, writable: false, executable: false });
    expect(translate(memory, cr3, BigInt(layout.exceptionStubsGpa))).toMatchObject({ user: false, writable: false, executable: true });
    expect(translate(memory, cr3, BigInt(layout.exceptionStackTopGva - 8))).toMatchObject({ user: false, writable: true, executable: false });
    const supervisorExecutable = layout.regions().filter((r) => r.access.present && !r.access.user && r.access.executable);
    expect(supervisorExecutable.map((r) => r.name)).toEqual(['exceptionStubs']);
    // No page anywhere is both writable and executable.
    expect(layout.regions().some((r) => r.access.writable && r.access.executable)).toBe(false);
  });

  it('writes entries with exactly the expected bits: A always, D on writable leaves, nothing else', () => {
    const layout = smallLayout();
    const memory = builtMemory(layout);
    const tableFlags = P | RW | US | A;
    expect(memory.readU64(layout.pml4Gpa)).toBe(BigInt(layout.pdptGpa) | tableFlags);
    expect(memory.readU64(layout.pdptGpa)).toBe(BigInt(layout.pageDirectoryGpa) | tableFlags);
    for (let i = 0; i < 512; i++) {
      const pde = memory.readU64(layout.pageDirectoryGpa + i * 8);
      expect(pde).toBe(i < layout.pageTableCount ? BigInt(layout.firstPageTableGpa + i * 4096) | tableFlags : 0n);
      if (i > 0) {
        expect(memory.readU64(layout.pml4Gpa + i * 8)).toBe(0n);
        expect(memory.readU64(layout.pdptGpa + i * 8)).toBe(0n);
      }
    }
    for (const region of layout.regions()) {
      for (let gpa = region.gpa; gpa < region.gpa + region.size; gpa += 4096) {
        const pte = memory.readU64(layout.firstPageTableGpa + (gpa / 4096) * 8);
        if (!region.access.present) {
          expect(pte, `${region.name} 0x${gpa.toString(16)}`).toBe(0n);
          continue;
        }
        let expected = BigInt(gpa) | P | A;
        if (region.access.writable) expected |= RW | D;
        if (region.access.user) expected |= US;
        if (!region.access.executable) expected |= XD;
        expect(pte, `${region.name} 0x${gpa.toString(16)}`).toBe(expected);
      }
    }
    // Entries past the end of guest memory in the last table are empty.
    for (let page = layout.totalSize / 4096; page < layout.pageTableCount * 512; page++) {
      expect(memory.readU64(layout.firstPageTableGpa + page * 8)).toBe(0n);
    }
  });

  it('encodes leaves: not present is all zero, XD is bit 31 of the high dword', () => {
    expect(leafEntry(0x5000, { present: false, user: true, writable: true, executable: true })).toEqual([0, 0]);
    expect(leafEntry(0x5000, { present: true, user: true, writable: true, executable: false })).toEqual([0x5067, 0x8000_0000]);
    expect(leafEntry(0x3ff0_0000, { present: true, user: false, writable: false, executable: true })).toEqual([0x3ff0_0021, 0]);
  });

  it('refuses memory smaller than the layout', () => {
    const layout = smallLayout();
    expect(() => writePageTables(new GuestMemory(new ArrayBuffer(layout.totalSize - 4096)), layout)).toThrow(GuestProtocolError);
  });
});

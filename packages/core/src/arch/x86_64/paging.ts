/**
 * 4-level page tables that identity-map guest memory with 4 KiB pages (SDM
 * Vol. 3A §4.5 "4-Level Paging and 5-Level Paging"). Each page's access comes
 * from `MemoryLayout.regions()`; pages of not-present regions get no entry,
 * so touching them faults.
 */
import type { GuestMemory } from '../../mem/guest-memory.js';
import { PAGE_SIZE, type MemoryLayout, type PageAccess } from '../../mem/layout.js';

/**
 * Bits of a paging-structure entry (SDM Vol. 3A §4.5, Tables 4-15 to 4-20).
 * The low 32 bits of an entry hold the flags and the address (guest memory
 * is below 1 GiB); execute-disable is bit 63, i.e. bit 31 of the high dword.
 */
export const PageEntryBits = {
  PRESENT: 0x1,
  /** R/W: writes allowed (with CR0.WP also for supervisor code). */
  WRITABLE: 0x2,
  /** U/S: CPL3 accesses allowed. */
  USER: 0x4,
  /** Set by the CPU on first use; pre-set so it never writes the tables. */
  ACCESSED: 0x20,
  /** Set by the CPU on first write to a page; pre-set on writable leaves for the same reason. */
  DIRTY: 0x40,
  /** XD (bit 63), as a bit of the entry's high dword; needs EFER.NXE. */
  EXECUTE_DISABLE_HIGH: 0x8000_0000,
} as const;

const ENTRY_SIZE = 8;

/**
 * Low and high dwords of a leaf (PTE) mapping `gpa` with `access`.
 * Returns `[0, 0]` (not present) when `access.present` is false.
 * @throws never
 */
export function leafEntry(gpa: number, access: PageAccess): [low: number, high: number] {
  if (!access.present) return [0, 0];
  let low = gpa | PageEntryBits.PRESENT | PageEntryBits.ACCESSED;
  if (access.writable) low |= PageEntryBits.WRITABLE | PageEntryBits.DIRTY;
  if (access.user) low |= PageEntryBits.USER;
  return [low >>> 0, access.executable ? 0 : PageEntryBits.EXECUTE_DISABLE_HIGH];
}

/**
 * Low dword of a PML4E, PDPTE or PDE pointing at the next table. The
 * effective access is the most restrictive along the walk (SDM Vol. 3A
 * §4.6.1), so these allow everything (P, R/W, U/S, no XD) and the leaf decides.
 */
function tableEntry(nextTableGpa: number): number {
  return (nextTableGpa | PageEntryBits.PRESENT | PageEntryBits.WRITABLE | PageEntryBits.USER | PageEntryBits.ACCESSED) >>> 0;
}

/**
 * Zeroes the page-table area and writes PML4, PDPT, PD and the page tables
 * for every region of `layout`. CR3 is `layout.pml4Gpa`.
 * @throws GuestProtocolError when the page-table area is outside `memory` (a layout for a larger VM).
 */
export function writePageTables(memory: GuestMemory, layout: MemoryLayout): void {
  memory.check(0, layout.totalSize, 'memory layout');
  const tables = memory.subarray(layout.pageTablesGpa, layout.pageTablesSize);
  tables.fill(0);
  const view = new DataView(tables.buffer, tables.byteOffset, tables.byteLength);
  const at = (gpa: number) => gpa - layout.pageTablesGpa;
  // One PML4 entry and one PDPT entry cover the first 512 GiB and 1 GiB, all of guest memory.
  view.setUint32(at(layout.pml4Gpa), tableEntry(layout.pdptGpa), true);
  view.setUint32(at(layout.pdptGpa), tableEntry(layout.pageDirectoryGpa), true);
  for (let i = 0; i < layout.pageTableCount; i++) {
    view.setUint32(at(layout.pageDirectoryGpa) + i * ENTRY_SIZE, tableEntry(layout.firstPageTableGpa + i * PAGE_SIZE), true);
  }
  // The page tables are consecutive, so page n's PTE is entry n counted from the first table.
  const firstPte = at(layout.firstPageTableGpa);
  for (const region of layout.regions()) {
    if (!region.access.present) continue;
    for (let gpa = region.gpa; gpa < region.gpa + region.size; gpa += PAGE_SIZE) {
      const [low, high] = leafEntry(gpa, region.access);
      const offset = firstPte + (gpa / PAGE_SIZE) * ENTRY_SIZE;
      view.setUint32(offset, low, true);
      view.setUint32(offset + 4, high, true);
    }
  }
}

/**
 * Everything privileged the host builds before the guest first runs: page
 * tables, GDT, IDT, TSS and the exception stubs. Guest code at CPL3 can read
 * none of it and change none of it (all on supervisor pages).
 */
import type { GuestMemory } from '../../mem/guest-memory.js';
import type { MemoryLayout } from '../../mem/layout.js';
import { writeExceptionStubs } from './exception-stubs.js';
import { writeGdt } from './gdt.js';
import { writeIdt } from './idt.js';
import { writePageTables } from './paging.js';
import { writeTss } from './tss.js';

/**
 * Writes page tables, GDT, IDT, TSS and exception stubs for `layout`, and
 * zeroes the rest of the system page and the exception stack. Together with
 * `guestSpecialRegisters(layout, ...)` this is the guest's whole privileged state.
 * @throws GuestProtocolError when `memory` is smaller than `layout.totalSize`.
 * @example
 * const memory = new GuestMemory(vm.memory);
 * writeSystemStructures(memory, layout);
 * vm.setSpecialRegisters(guestSpecialRegisters(layout, { xsave: vm.xsaveEnabled }));
 */
export function writeSystemStructures(memory: GuestMemory, layout: MemoryLayout): void {
  memory.check(0, layout.totalSize, 'memory layout');
  memory.fill(layout.systemPageGpa, layout.systemPageSize);
  memory.fill(layout.exceptionStackGpa, layout.exceptionStackSize);
  writePageTables(memory, layout);
  writeGdt(memory, layout);
  writeIdt(memory, layout);
  writeTss(memory, layout);
  writeExceptionStubs(memory, layout);
}

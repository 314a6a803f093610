/**
 * The interrupt descriptor table: 32 gates, one per CPU exception vector,
 * each to its CPL0 stub on the IST1 stack (docs/abi.md, "Exceptions"). Gate
 * format: SDM Vol. 3A §6.14.1 "64-Bit Mode IDT" (Figure 6-8).
 */
import { Abi, Selectors } from '../../abi/generated.js';
import type { GuestMemory } from '../../mem/guest-memory.js';
import type { MemoryLayout } from '../../mem/layout.js';
import { exceptionStubGva } from './exception-stubs.js';

/** Size in bytes of one 64-bit IDT gate. */
export const IDT_GATE_SIZE = 16;
/** IDTR limit: the offset of the last byte of gate 31. Vectors above 31 are beyond it, so `int n` for them raises #GP. */
export const IDT_LIMIT = Abi.EXCEPTION_VECTOR_COUNT * IDT_GATE_SIZE - 1;
/** Gate type 0xE: 64-bit interrupt gate (SDM Vol. 3A Table 3-2); it also clears IF, which the guest never sets. */
export const INTERRUPT_GATE_TYPE = 0xe;
/** Every gate switches to TSS.IST1, so a fault on a broken guest stack still has a good one (SDM Vol. 3A §6.14.5). */
export const EXCEPTION_IST = 1;

/**
 * Descriptor privilege level of `vector`'s gate. The DPL only limits software
 * interrupts (`int n`, `int3`; SDM Vol. 3A §6.12.1, "Protection of Exception-
 * and Interrupt-Handler Procedures"): DPL3 lets guest code reach #BP (3, `int3`)
 * and #OF (4, `int 4`; `into` is invalid in 64-bit mode); every other gate is
 * DPL0, so `int n` for it raises #GP instead of faking a CPU exception.
 * @throws never
 */
export function gateDpl(vector: number): number {
  return vector === 3 || vector === 4 ? 3 : 0;
}

/**
 * Encodes a 64-bit interrupt gate (SDM Vol. 3A Figure 6-8): offset 15:0,
 * selector, IST (bits 34:32), type (43:40), DPL (46:45), P (47) and offset
 * 31:16 in the low qword; offset 63:32 in the high qword.
 * @throws never
 */
export function interruptGate(handlerGva: number, selector: number, ist: number, dpl: number): [low: bigint, high: bigint] {
  const low =
    (BigInt(handlerGva & 0xffff)) |
    (BigInt(selector & 0xffff) << 16n) |
    (BigInt(ist & 7) << 32n) |
    (BigInt(INTERRUPT_GATE_TYPE) << 40n) |
    (BigInt(dpl & 3) << 45n) |
    (1n << 47n) |
    (BigInt(Math.floor(handlerGva / 0x10000) & 0xffff) << 48n);
  return [low, BigInt(Math.floor(handlerGva / 2 ** 32))];
}

/**
 * Zeroes and writes the IDT at `layout.idtGpa`: gate `v` enters stub `v` at
 * CPL0 (selector `KERNEL_CODE`) on IST1.
 * @throws GuestProtocolError when the IDT is outside `memory` (a layout for a larger VM).
 */
export function writeIdt(memory: GuestMemory, layout: MemoryLayout): void {
  memory.fill(layout.idtGpa, IDT_LIMIT + 1);
  for (let vector = 0; vector < Abi.EXCEPTION_VECTOR_COUNT; vector++) {
    const [low, high] = interruptGate(exceptionStubGva(layout, vector), Selectors.KERNEL_CODE, EXCEPTION_IST, gateDpl(vector));
    memory.writeU64(layout.idtGpa + vector * IDT_GATE_SIZE, low);
    memory.writeU64(layout.idtGpa + vector * IDT_GATE_SIZE + 8, high);
  }
}

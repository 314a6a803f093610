/**
 * The CPL0 exception stubs: the only code that runs in supervisor mode. Stub
 * `v` reports vector `v` to the host with one `out` and stops; the host reads
 * the frame the CPU pushed (see exception-frame.ts) and ends the run. The
 * host never resumes a stub: the next entry reloads every register.
 *
 * Stub `v` (8 bytes at `exceptionStubsGpa + 8 * v`):
 *
 * ```
 * +0  E6 vv    out  $(EXCEPTION_BASE + v), %al   ; exit to the host (AL is not meaningful)
 * +2  F4       hlt                               ; should the vCPU ever be resumed here ...
 * +3  EB FD    jmp  .-1 (to +2)                  ; ... stay stopped, even after a wake-up
 * +5  CC CC CC int3 padding (never reached)
 * ```
 *
 * Encodings: SDM Vol. 2 — OUT `E6 ib` ("OUT imm8, AL"), HLT `F4`, JMP rel8
 * `EB cb` (rel8 counts from the next instruction: 2 - 5 = -3 = 0xFD), INT3 `CC`.
 */
import { Abi, Ports } from '../../abi/generated.js';
import { GuestProtocolError } from '../../errors.js';
import type { GuestMemory } from '../../mem/guest-memory.js';
import type { MemoryLayout } from '../../mem/layout.js';

/** Bytes per stub; stub `v` starts at `exceptionStubsGpa + v * EXCEPTION_STUB_SIZE`. */
export const EXCEPTION_STUB_SIZE = 8;

const OUT_IMM8_AL = 0xe6;
const HLT = 0xf4;
const JMP_REL8 = 0xeb;
const INT3 = 0xcc;
/** rel8 of the `jmp` at +3 (2 bytes, next instruction at +5) back to the `hlt` at +2. */
const BACK_TO_HLT = (2 - 5) & 0xff;

function checkVector(vector: number): void {
  if (!Number.isInteger(vector) || vector < 0 || vector >= Abi.EXCEPTION_VECTOR_COUNT) {
    throw new GuestProtocolError(`exception vector ${String(vector)} is not between 0 and ${Abi.EXCEPTION_VECTOR_COUNT - 1}`);
  }
}

/**
 * The machine code of stub `vector`.
 * @throws GuestProtocolError when `vector` is not 0-31.
 */
export function exceptionStubBytes(vector: number): Uint8Array {
  checkVector(vector);
  return Uint8Array.of(OUT_IMM8_AL, Ports.EXCEPTION_BASE + vector, HLT, JMP_REL8, BACK_TO_HLT, INT3, INT3, INT3);
}

/**
 * Guest address of stub `vector`.
 * @throws GuestProtocolError when `vector` is not 0-31.
 */
export function exceptionStubGva(layout: MemoryLayout, vector: number): number {
  checkVector(vector);
  return layout.exceptionStubsGpa + vector * EXCEPTION_STUB_SIZE;
}

/**
 * Fills the stubs page with `int3` and writes the 32 stubs at its start.
 * @throws GuestProtocolError when the stubs page is outside `memory` (a layout for a larger VM).
 */
export function writeExceptionStubs(memory: GuestMemory, layout: MemoryLayout): void {
  memory.fill(layout.exceptionStubsGpa, layout.exceptionStubsSize, INT3);
  for (let vector = 0; vector < Abi.EXCEPTION_VECTOR_COUNT; vector++) {
    memory.writeBytes(exceptionStubGva(layout, vector), exceptionStubBytes(vector));
  }
}

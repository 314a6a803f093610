/**
 * Reading what the CPU pushed when a guest exception reached its stub.
 *
 * Every gate uses IST1, so the CPU loads RSP from TSS.IST1 (the page-aligned
 * top of the exception stack, hence already 16-byte aligned) and pushes
 * SS, RSP, RFLAGS, CS, RIP and, for some vectors, an error code (SDM Vol. 3A
 * §6.14.2 "64-Bit Mode Stack Frame", Figure 6-9). The frame is therefore at a
 * fixed place below the top:
 *
 * ```
 * top - 8   SS       top - 16  RSP     top - 24  RFLAGS
 * top - 32  CS       top - 40  RIP     top - 48  error code (some vectors only)
 * ```
 */
import { Abi } from '../../abi/generated.js';
import { GuestProtocolError } from '../../errors.js';
import type { GuestMemory } from '../../mem/guest-memory.js';
import type { MemoryLayout } from '../../mem/layout.js';

/**
 * Vectors for which the CPU pushes an error code (SDM Vol. 3A Table 6-1 in
 * §6.3 and §6.15; 21 #CP; AMD APM Vol. 2 §8.2 for 29 #VC and 30 #SX): #DF, #TS,
 * #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX.
 */
export const VECTORS_WITH_ERROR_CODE: ReadonlySet<number> = new Set([8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);

/** Page-fault vector: CR2 holds the faulting address. */
export const PAGE_FAULT_VECTOR = 14;

/** The interrupted context as the CPU saved it. */
export interface ExceptionFrame {
  readonly vector: number;
  /** Faulting instruction (or, for `int3`, the one after it). */
  readonly rip: bigint;
  readonly cs: bigint;
  readonly rflags: bigint;
  readonly rsp: bigint;
  readonly ss: bigint;
  /** Present exactly for the vectors in {@link VECTORS_WITH_ERROR_CODE}. */
  readonly errorCode?: bigint;
}

/**
 * Reads the frame of exception `vector` from the top of the exception stack.
 * @param vector - `port - Ports.EXCEPTION_BASE` of the stub's exit
 * @throws GuestProtocolError when `vector` is not 0-31 or the frame is outside `memory`.
 */
export function readExceptionFrame(memory: GuestMemory, layout: MemoryLayout, vector: number): ExceptionFrame {
  if (!Number.isInteger(vector) || vector < 0 || vector >= Abi.EXCEPTION_VECTOR_COUNT) {
    throw new GuestProtocolError(`exception vector ${String(vector)} is not between 0 and ${Abi.EXCEPTION_VECTOR_COUNT - 1}`);
  }
  const top = layout.exceptionStackTopGva;
  const frame: ExceptionFrame = {
    vector,
    rip: memory.readU64(top - 40),
    cs: memory.readU64(top - 32),
    rflags: memory.readU64(top - 24),
    rsp: memory.readU64(top - 16),
    ss: memory.readU64(top - 8),
  };
  return VECTORS_WITH_ERROR_CODE.has(vector) ? { ...frame, errorCode: memory.readU64(top - 48) } : frame;
}

/**
 * Whether a page fault at `cr2` touched the stack guard page, i.e. the guest
 * overflowed its stack. (A frame larger than a page can jump over the guard
 * into the heap; guests compiled with stack probes touch every page on the way.)
 * @throws never
 */
export function isStackGuardFault(layout: MemoryLayout, cr2: bigint): boolean {
  return cr2 >= BigInt(layout.stackGuardGpa) && cr2 < BigInt(layout.stackGuardGpa + layout.stackGuardSize);
}

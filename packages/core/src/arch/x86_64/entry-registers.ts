/**
 * The general registers of a guest entry (docs/abi.md, "Entering the guest").
 */
import type { Abi } from '../../abi/generated.js';
import type { Registers } from '../../backend/backend.js';
import type { MemoryLayout } from '../../mem/layout.js';

/** The entry operation passed in `rsi`. */
export type EntryOperation = typeof Abi.OP_INIT | typeof Abi.OP_CALL;

/** RFLAGS at entry: only the always-one bit 1; IF clear, IOPL 0 (ports go through the TSS bitmap). */
export const ENTRY_RFLAGS = 0x2n;

/**
 * Registers for entering the guest at `entryGva` with operation `op`: `rsp`
 * is the stack top minus 8 (as if a `call` had pushed a return address, so
 * `rsp + 8` is 16-byte aligned as the SysV ABI expects at a function's first
 * instruction), `rdi` the PEB, `rsi` the operation, `rflags` 0x2, all else 0.
 * @param entryGva - the relocated ELF entry point (`loadElf(...).entryGva`)
 * @throws never
 */
export function entryRegisters(layout: MemoryLayout, op: EntryOperation, entryGva: bigint): Registers {
  return {
    rax: 0n, rbx: 0n, rcx: 0n, rdx: 0n,
    rsi: BigInt(op), rdi: BigInt(layout.pebGpa), rsp: BigInt(layout.stackTopGva - 8), rbp: 0n,
    r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n,
    rip: entryGva,
    rflags: ENTRY_RFLAGS,
  };
}

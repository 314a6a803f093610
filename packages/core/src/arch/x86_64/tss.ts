/**
 * The 64-bit task-state segment: the stacks the CPU switches to on an
 * exception, and the I/O permission bitmap that decides which ports CPL3
 * guest code may use (docs/abi.md, "GDT and TSS"). Layout: SDM Vol. 3A §8.7
 * "Task Management in 64-bit Mode" (Figure 8-11; §7.7 in editions before
 * 2023) and Vol. 1 §19.5.2 "I/O Permission Bit Map".
 */
import { Abi, Ports } from '../../abi/generated.js';
import type { GuestMemory } from '../../mem/guest-memory.js';
import type { MemoryLayout } from '../../mem/layout.js';

/** Byte offsets of the TSS fields used here (SDM Vol. 3A Figure 8-11). The fields are not 8-byte aligned. */
export const TssOffset = {
  RSP0: 0x04,
  IST1: 0x24,
  /** 16-bit offset, from the TSS base, of the I/O permission bitmap. */
  IO_MAP_BASE: 0x66,
} as const;

/** Size in bytes of the 64-bit TSS without the I/O bitmap. */
export const TSS_HEADER_SIZE = 0x68;
/** Offset of the I/O bitmap from the TSS base: right after the fixed fields. */
export const IO_BITMAP_OFFSET = TSS_HEADER_SIZE;
/** Ports the bitmap covers: 0x00-0xFF, one bit each. */
export const IO_BITMAP_PORT_COUNT = 0x100;
/** Bytes of bitmap proper (one bit per port), not counting the 0xFF terminator. */
export const IO_BITMAP_SIZE = IO_BITMAP_PORT_COUNT / 8;
/**
 * The TSS segment limit: the offset of its last byte, the terminator after the
 * bitmap. Why a terminator: the CPU reads two bitmap bytes for every check,
 * and a multi-byte access to port 0xFF spans into the next byte, which must
 * exist and deny (Vol. 1 §19.5.2). Ports 0x100-0x107 therefore hit the
 * terminator's set bits, and ports from 0x108 up lie beyond the limit; both
 * raise #GP at CPL3.
 */
export const TSS_LIMIT = IO_BITMAP_OFFSET + IO_BITMAP_SIZE;

/**
 * Whether CPL3 guest code may use `port`: every port below 0x100 except the
 * exception-stub ports `EXCEPTION_BASE .. EXCEPTION_BASE + 31`, which only the
 * CPL0 stubs may write (so a guest cannot fake an exception).
 * @throws never
 */
export function isGuestPortAllowed(port: number): boolean {
  if (!Number.isInteger(port) || port < 0 || port >= IO_BITMAP_PORT_COUNT) return false;
  return port < Ports.EXCEPTION_BASE || port >= Ports.EXCEPTION_BASE + Abi.EXCEPTION_VECTOR_COUNT;
}

/**
 * Zeroes and writes the TSS at `layout.tssGpa`: RSP0 and IST1 at the top of
 * the exception stack, the I/O bitmap (bit set = port denied) and its 0xFF
 * terminator. RSP1, RSP2 and IST2-7 stay 0: nothing uses them.
 * @throws GuestProtocolError when the TSS is outside `memory` (a layout for a larger VM).
 */
export function writeTss(memory: GuestMemory, layout: MemoryLayout): void {
  const tss = layout.tssGpa;
  memory.fill(tss, TSS_LIMIT + 1);
  memory.writeU64(tss + TssOffset.RSP0, layout.exceptionStackTopGva);
  memory.writeU64(tss + TssOffset.IST1, layout.exceptionStackTopGva);
  memory.writeU16(tss + TssOffset.IO_MAP_BASE, IO_BITMAP_OFFSET);
  for (let port = 0; port < IO_BITMAP_PORT_COUNT; port++) {
    if (isGuestPortAllowed(port)) continue;
    const byteGpa = tss + IO_BITMAP_OFFSET + (port >>> 3);
    memory.writeU8(byteGpa, memory.readU8(byteGpa) | (1 << (port & 7)));
  }
  memory.writeU8(tss + TSS_LIMIT, 0xff);
}

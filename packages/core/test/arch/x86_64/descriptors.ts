/**
 * Independent decoders for the x86-64 descriptor formats (SDM Vol. 3A
 * Figure 3-8 segment descriptor, Figure 8-4 TSS descriptor, Figure 6-8 IDT
 * gate), used to check what the host writes bit by bit.
 */
export interface DecodedDescriptor {
  base: number;
  limit: number;
  type: number;
  s: boolean;
  dpl: number;
  present: boolean;
  avl: boolean;
  l: boolean;
  db: boolean;
  g: boolean;
}

const bit = (value: bigint, n: number) => ((value >> BigInt(n)) & 1n) === 1n;
const bits = (value: bigint, low: number, count: number) => Number((value >> BigInt(low)) & ((1n << BigInt(count)) - 1n));

export function decodeDescriptor(d: bigint): DecodedDescriptor {
  return {
    base: (bits(d, 16, 24) | (bits(d, 56, 8) << 24)) >>> 0,
    limit: bits(d, 0, 16) | (bits(d, 48, 4) << 16),
    type: bits(d, 40, 4),
    s: bit(d, 44),
    dpl: bits(d, 45, 2),
    present: bit(d, 47),
    avl: bit(d, 52),
    l: bit(d, 53),
    db: bit(d, 54),
    g: bit(d, 55),
  };
}

export interface DecodedGate {
  offset: bigint;
  selector: number;
  ist: number;
  type: number;
  dpl: number;
  present: boolean;
  /** Bits that must be zero: 35-39, 44 and the high dword of the second qword. */
  reserved: bigint;
}

export function decodeGate(low: bigint, high: bigint): DecodedGate {
  return {
    offset: BigInt(bits(low, 0, 16)) | (BigInt(bits(low, 48, 16)) << 16n) | ((high & 0xffff_ffffn) << 32n),
    selector: bits(low, 16, 16),
    ist: bits(low, 32, 3),
    type: bits(low, 40, 4),
    dpl: bits(low, 45, 2),
    present: bit(low, 47),
    reserved: (low & ((0x1fn << 35n) | (1n << 44n))) | (high >> 32n),
  };
}

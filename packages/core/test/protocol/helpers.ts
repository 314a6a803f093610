/** Shared fixtures for the protocol tests. */
import { expect } from 'vitest';
import { GuestProtocolError } from '../../src/errors.js';
import {
  encodeFunctionCall, encodeFunctionCallResult, encodeGuestFunctionDetails, encodeLogRecord, ErrorCode, LogLevel,
} from '../../src/protocol/codec.js';
import { writeFrame } from '../../src/protocol/framing.js';
import type { TypedValue } from '../../src/protocol/values.js';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** A seeded PRNG (pure-rand's xoroshiro128+), so failures reproduce: numbers in [0, 1). */
export function prng(seed: number): () => number {
  const rng = xoroshiro128plus(seed);
  return () => (rng.next() >>> 0) / 2 ** 32;
}

/** One value of every type, with awkward contents. */
export const SAMPLE_VALUES: readonly TypedValue[] = [
  { type: 'i32', value: -(2 ** 31) },
  { type: 'u32', value: 2 ** 32 - 1 },
  { type: 'i64', value: -(2n ** 63n) },
  { type: 'u64', value: 2n ** 64n - 1n },
  { type: 'f32', value: Math.fround(-1.5) },
  { type: 'f64', value: -0 },
  { type: 'string', value: 'héllo 🦀 世界\0!' },
  { type: 'bool', value: true },
  { type: 'bytes', value: new Uint8Array([0, 1, 2, 255]) },
  { type: 'void', value: undefined },
];

/** A valid payload of every message kind, for corruption tests. */
export const SAMPLE_PAYLOADS = {
  FunctionCall: encodeFunctionCall({ functionName: 'Echo', args: SAMPLE_VALUES, returnType: 'string' }),
  FunctionCallResult: encodeFunctionCallResult({ ok: true, value: { type: 'bytes', value: new Uint8Array([9, 8, 7]) } }),
  CallError: encodeFunctionCallResult({ ok: false, code: ErrorCode.GuestFunctionFailed, message: 'nope' }),
  GuestFunctionDetails: encodeGuestFunctionDetails([
    { name: 'Add', parameters: ['i32', 'i32'], returnType: 'i32' },
    { name: 'Print', parameters: ['string', 'bytes', 'u64'], returnType: 'void' },
  ]),
  LogRecord: encodeLogRecord({ level: LogLevel.Warn, message: 'disk full', target: 'fs', sourceFile: 'fs.rs', line: 42 }),
} as const;

/** Runs `fn` and asserts it either returns or throws a GuestProtocolError, nothing else. */
export function decodesOrRejects<T>(fn: () => T): T | GuestProtocolError {
  try {
    return fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GuestProtocolError);
    return error as GuestProtocolError;
  }
}

/** A copy of `bytes` with the u32 at `offset` replaced. */
export function withU32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(offset, value >>> 0, true);
  return copy;
}

/** Writes a payload by hand at explicit positions (payload offsets; alignment counts from the frame, 4 bytes earlier). */
export class Assembler {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(at: number, value: number): this {
    this.view.setUint8(at, value);
    return this;
  }

  u32(at: number, value: number): this {
    this.view.setUint32(at, value >>> 0, true);
    return this;
  }

  f64(at: number, value: number): this {
    this.view.setFloat64(at, value, true);
    return this;
  }

  /** A vtable: its size, the table size, and each field's offset in the table (0: absent). */
  vtable(at: number, tableSize: number, ...fields: number[]): this {
    [4 + 2 * fields.length, tableSize, ...fields].forEach((value, i) => this.view.setUint16(at + 2 * i, value, true));
    return this;
  }

  /** A table's soffset to its vtable (either side). */
  table(at: number, vtable: number): this {
    this.view.setInt32(at, at - vtable, true);
    return this;
  }

  uoffset(at: number, target: number): this {
    return this.u32(at, target - at);
  }

  /** A string or byte vector: length, bytes, and a NUL for strings. */
  vector(at: number, bytes: Uint8Array | number[], nul: boolean): this {
    this.u32(at, bytes.length);
    this.bytes.set(bytes, at + 4);
    if (nul) this.u8(at + 4 + bytes.length, 0);
    return this;
  }
}

const INTERESTING_U32 = [0, 1, 2, 3, 4, 5, 8, 12, 16, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_fffc, 0xffff_ffff];

/**
 * A copy of the payload `seed` with 1 to 3 mutations aimed at flatbuffer
 * structure: byte and bit changes, interesting 16- and 32-bit values, offsets
 * and sizes nudged by a little (which misaligns or overlaps what they point
 * at), bytes inserted or deleted (everything after moves), truncation and
 * appended junk.
 */
export function mutateMessage(seed: Uint8Array, random: () => number): Uint8Array {
  const int = (bound: number): number => Math.floor(random() * bound);
  let bytes = seed.slice();
  for (let m = 1 + int(3); m > 0; m--) {
    const at = int(bytes.length);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    switch (int(11)) {
      case 0: bytes[at] = int(256); break;
      case 1: bytes[at] = bytes[at]! ^ (1 << int(8)); break;
      case 2: bytes[at] = [0, 1, 2, 4, 7, 8, 9, 10, 11, 0x7f, 0x80, 0xff][int(12)]!; break;
      case 3: if (at + 2 <= bytes.length) view.setUint16(at & ~1, [0, 2, 4, 5, 6, 8, 12, 0x7fff, 0x8000, 0xffff][int(10)]!, true); break;
      case 4: if (at + 4 <= bytes.length) view.setUint32(at & ~3, INTERESTING_U32[int(INTERESTING_U32.length)]!, true); break;
      case 5: bytes = bytes.slice(0, int(bytes.length + 1)); break;
      case 7: if (at + 4 <= bytes.length) view.setUint32(at & ~3, view.getUint32(at & ~3, true) + int(17) - 8, true); break;
      case 8: if (at + 2 <= bytes.length) view.setUint16(at & ~1, (view.getUint16(at & ~1, true) + int(9) - 4) & 0xffff, true); break;
      case 9: bytes = Uint8Array.from([...bytes.subarray(0, at), ...Array.from({ length: 1 + int(3) }, () => int(256)), ...bytes.subarray(at)]); break;
      case 10: bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 1 + int(3))]); break;
      default: bytes = Uint8Array.from([...bytes, ...Array.from({ length: 1 + int(16) }, () => int(256))]);
    }
  }
  return bytes;
}

/** What `decode` returned (made comparable by `comparable`) or the error it threw. */
export function outcome<T>(decode: () => T, comparable: (value: T) => unknown): { result: unknown } | { error: unknown } {
  try {
    return { result: comparable(decode()) };
  } catch (error) {
    return { error };
  }
}

/** `payload` in a frame followed by 3 bytes, in two buffers: one padded with zeros, one with junk (0x5a). */
export function framedWithJunk(payload: Uint8Array): [zeros: Uint8Array, junk: Uint8Array] {
  const [zeros, junk] = [0x00, 0x5a].map((fill) => {
    const area = new Uint8Array(payload.byteLength + 4 + 3).fill(fill);
    writeFrame(area, payload, 'sample', 'test');
    return area;
  });
  return [zeros!, junk!];
}

/**
 * Values for the tests of call-encoder.ts and result-decoder.ts: edge values
 * of every type, random values, what each becomes after a trip over the
 * wire, and a canonical text form shared with the Rust and C programs of
 * cross-language.test.ts.
 */
import { toWireValueType, type ParameterTypeName, type TypedValue, type ValueTypeName } from '../../src/protocol/values.js';
import { prng } from './helpers.js';

/** A float64 with the given bit pattern (NaN payloads included). */
export function f64FromBits(bits: bigint): number {
  return new Float64Array(new BigUint64Array([bits]).buffer)[0]!;
}

/** A float32 with the given bit pattern, widened to a number. */
export function f32FromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0]!;
}

/** The bits of `value` as a float64. */
export function f64Bits(value: number): bigint {
  return new BigUint64Array(new Float64Array([value]).buffer)[0]!;
}

/** The bits of `value` rounded to a float32 (as the encoders store it). */
export function f32Bits(value: number): number {
  return new Uint32Array(new Float32Array([value]).buffer)[0]!;
}

const ascii = (length: number): string => Array.from({ length }, (_, i) => String.fromCharCode(0x20 + (i % 95))).join('');
const bytes = (length: number, seed = 1): Uint8Array => {
  const random = prng(seed);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
};

/** Strings that stress the encoder's paths: empty, the short ASCII loop, its fallback, long, unpaired surrogates. */
export const EDGE_STRINGS: readonly string[] = [
  '',
  'a',
  ascii(16),
  ascii(17),
  ascii(1000),
  'héllo',
  'é'.repeat(16),
  'ü'.repeat(600),
  'héllo 🦀 世界',
  '🦀',
  '\0',
  'a\0b\0',
  '\uFEFFleading byte-order mark',
  '\uD800',
  'a\uDC00b',
  'x'.repeat(20) + '\uD83D',
  '\uDE00\uD83D',
  'ab\uD83D',
  `${ascii(300)}\uDBFF${ascii(300)}`,
];

/** Edge values of every type. Integers avoid -0 (it is sent as 0; see {@link afterTrip}). */
export const EDGE_VALUES: readonly TypedValue[] = [
  ...[0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 123456789].map((value) => ({ type: 'i32', value }) as const),
  ...[0, 1, 2 ** 31, 2 ** 32 - 1].map((value) => ({ type: 'u32', value }) as const),
  ...[0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n)].map((value) => ({ type: 'i64', value }) as const),
  ...[0n, 1n, 2n ** 63n, 2n ** 64n - 1n].map((value) => ({ type: 'u64', value }) as const),
  ...[
    0, -0, 1.5, -1.5, Infinity, -Infinity, NaN, Math.fround(1 / 3), f32FromBits(1), f32FromBits(0x7f7fffff), f32FromBits(0x80800000),
    f32FromBits(0x7fc00001), f32FromBits(0xffa00000), 1 / 3, 1e39, -1e39, 1e-50,
  ].map((value) => ({ type: 'f32', value }) as const),
  ...[
    0, -0, 1.5, Infinity, -Infinity, NaN, Number.MIN_VALUE, Number.MAX_VALUE, -Number.EPSILON, 1 / 3,
    f64FromBits(0x7ff8000000000001n), f64FromBits(0xfff8dead0000beefn), f64FromBits(0x7ff4000000000000n),
  ].map((value) => ({ type: 'f64', value }) as const),
  ...EDGE_STRINGS.map((value) => ({ type: 'string', value }) as const),
  { type: 'bool', value: true },
  { type: 'bool', value: false },
  ...[0, 1, 2, 3, 4, 5, 255, 4099].map((length) => ({ type: 'bytes', value: bytes(length, length) }) as const),
  { type: 'bytes', value: Buffer.from('a Buffer is a Uint8Array too') },
  { type: 'bytes', value: bytes(64, 9).subarray(3, 40) },
  { type: 'void', value: undefined },
];

/** A large byte array (1 MiB + 3). */
export const LARGE_BYTES: TypedValue = { type: 'bytes', value: bytes((1 << 20) + 3, 7) };

/** A random value of `type` (strings and bytes up to `maxLength` long). */
export function randomValue(random: () => number, type: ValueTypeName, maxLength = 40): TypedValue {
  const int = (bound: number): number => Math.floor(random() * bound);
  const u64 = (): bigint => (BigInt(int(2 ** 32)) << 32n) | BigInt(int(2 ** 32));
  switch (type) {
    case 'i32': return { type, value: int(2 ** 32) - 2 ** 31 };
    case 'u32': return { type, value: int(2 ** 32) };
    case 'i64': return { type, value: BigInt.asIntN(64, u64()) };
    case 'u64': return { type, value: u64() };
    case 'f32': return { type, value: f32FromBits(int(2 ** 32)) };
    case 'f64': return { type, value: f64FromBits(u64()) };
    case 'string': {
      // Mostly ASCII, some two-, three- and four-byte characters, now and then an unpaired surrogate.
      const pool = ['a', 'Z', '~', ' ', '\0', 'é', 'ß', '世', '🦀', '\uD800', '\uDFFF'];
      return { type, value: Array.from({ length: int(maxLength + 1) }, () => (random() < 0.8 ? String.fromCharCode(0x20 + int(95)) : pool[int(pool.length)]!)).join('') };
    }
    case 'bool': return { type, value: random() < 0.5 };
    case 'bytes': return { type, value: bytes(int(maxLength + 1), int(2 ** 31)) };
    case 'void': return { type, value: undefined };
  }
}

/** Every parameter type (every value type but void). */
export const PARAMETER_TYPE_LIST: readonly ParameterTypeName[] = ['i32', 'u32', 'i64', 'u64', 'f32', 'f64', 'string', 'bool', 'bytes'];

/** `text` with unpaired surrogates replaced by U+FFFD, as a trip through UTF-8 leaves it. */
export function wellFormed(text: string): string {
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(new TextEncoder().encode(text));
}

/**
 * What `value` decodes as after a trip over the wire: f32 rounded, unpaired
 * surrogates replaced by U+FFFD (as `TextEncoder` does), bytes as a plain Uint8Array.
 */
export function afterTrip(value: TypedValue): TypedValue {
  switch (value.type) {
    case 'f32': return { type: 'f32', value: Math.fround(value.value) };
    case 'string': return { type: 'string', value: wellFormed(value.value) };
    case 'bytes': return { type: 'bytes', value: Uint8Array.from(value.value) };
    default: return value;
  }
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/** The canonical text of a value, as wire_golden.rs and wire_golden.c print it (floats as their wire bits). */
export function canonical(value: TypedValue): string {
  switch (value.type) {
    case 'f32': return `f32:${f32Bits(value.value).toString(16).padStart(8, '0')}`;
    case 'f64': return `f64:${f64Bits(value.value).toString(16).padStart(16, '0')}`;
    case 'string': return `string:${hex(new TextEncoder().encode(value.value))}`;
    case 'bool': return `bool:${value.value ? 1 : 0}`;
    case 'bytes': return `bytes:${hex(value.value)}`;
    case 'void': return 'void';
    default: return `${value.type}:${value.value}`;
  }
}

/** The canonical text of a call, as the programs print a decoded `FunctionCall`. */
export function canonicalCall(functionName: string, args: readonly TypedValue[], returnType: ValueTypeName): string {
  return [hex(new TextEncoder().encode(functionName)), toWireValueType(returnType), args.length, ...args.map(canonical)].join(' ');
}

/** Hex of bytes (for the programs' command lines). */
export { hex };

import * as flatbuffers from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { decodeFunctionCallResult, encodeFunctionCallResult, ErrorCode, type CallResult } from '../../src/protocol/codec.js';
import { readFrame } from '../../src/protocol/framing.js';
import { F32Value } from '../../src/protocol/generated/hyperlight/wire/f32value.js';
import { F64Value } from '../../src/protocol/generated/hyperlight/wire/f64value.js';
import { FunctionCallResult } from '../../src/protocol/generated/hyperlight/wire/function-call-result.js';
import { ReturnValue } from '../../src/protocol/generated/hyperlight/wire/return-value.js';
import { ResultDecoder } from '../../src/protocol/result-decoder.js';
import { ResultEncoder } from '../../src/protocol/result-encoder.js';
import { VALUE_TYPES, type TypedValue } from '../../src/protocol/values.js';
import { MESSAGE_SCHEMAS, verifyMessage } from '../../src/protocol/verifier.js';
import { afterTrip, EDGE_STRINGS, EDGE_VALUES, f32Bits, f64Bits, LARGE_BYTES, randomValue, wellFormed } from './fast-codec-cases.js';
import { prng } from './helpers.js';

/** Encodes `result` with the in-place encoder into a fresh area and returns the payload (checking the frame header). */
function encodeFast(result: CallResult, capacity = (1 << 21) + 4096): Uint8Array {
  const area = new Uint8Array(capacity);
  const length = new ResultEncoder(area).encode(result);
  expect(length).toBeGreaterThanOrEqual(0);
  const payload = readFrame(area);
  expect(payload.byteLength).toBe(length);
  return payload;
}

/** `result` with byte arrays as base64 text (vitest compares a megabyte array element by element, slowly). */
function comparable(result: CallResult): unknown {
  if (!result.ok || result.value.type !== 'bytes') return result;
  return { ok: true, value: { type: 'bytes', base64: Buffer.from(result.value.value).toString('base64'), view: result.value.value.constructor.name } };
}

/** Checks that the generated reader (after the verifier) and the in-place decoder read `result` back, as after a trip through codec.ts. */
function expectRoundTrip(result: CallResult): void {
  const payload = encodeFast(result);
  verifyMessage(payload, MESSAGE_SCHEMAS.FunctionCallResult);
  const decoded = comparable(decodeFunctionCallResult(payload));
  const expected = result.ok ? { ok: true, value: afterTrip(result.value) } : { ok: false, code: result.code, message: wellFormed(result.message) };
  expect(decoded).toEqual(comparable(expected as CallResult));
  expect(decoded).toEqual(comparable(decodeFunctionCallResult(encodeFunctionCallResult(result))));
  expect(comparable(new ResultDecoder(payload).decode(0, payload.byteLength))).toEqual(decoded);
}

/** The raw bits of a float return value, read with the generated reader. */
function floatBits(payload: Uint8Array, type: 'f32' | 'f64'): bigint {
  const bb = new flatbuffers.ByteBuffer(payload);
  const returnValue = FunctionCallResult.getRootAsFunctionCallResult(bb).outcome(new ReturnValue()) as ReturnValue;
  const table = returnValue.value(type === 'f32' ? new F32Value() : new F64Value()) as F32Value | F64Value;
  const at = table.bb_pos + bb.__offset(table.bb_pos, 4);
  return type === 'f32' ? BigInt(bb.readUint32(at)) : bb.readUint64(at);
}

describe('ResultEncoder', () => {
  it('round-trips every edge value and a large byte array through the verifier, the generated reader and the in-place decoder', () => {
    for (const value of [...EDGE_VALUES, LARGE_BYTES]) expectRoundTrip({ ok: true, value });
  });

  it('round-trips every error code with awkward messages', () => {
    for (let code = ErrorCode.FunctionNotFound; code <= ErrorCode.MessageTooLarge; code++) {
      for (const message of EDGE_STRINGS) expectRoundTrip({ ok: false, code, message });
    }
  });

  it('stores float bits exactly as the generated builder does (NaN payloads, -0, rounding to f32)', () => {
    for (const value of EDGE_VALUES) {
      if (value.type !== 'f32' && value.type !== 'f64') continue;
      const fast = floatBits(encodeFast({ ok: true, value }), value.type);
      expect(fast, `${value.type} ${value.value}`).toBe(floatBits(encodeFunctionCallResult({ ok: true, value }), value.type));
      expect(fast).toBe(value.type === 'f32' ? BigInt(f32Bits(value.value)) : f64Bits(value.value));
    }
  });

  it('round-trips random values; every reply replaces the previous one completely', () => {
    const area = new Uint8Array(8192).fill(0xa5);
    const encoder = new ResultEncoder(area);
    const random = prng(0x7e91);
    for (let i = 0; i < 2000; i++) {
      const result: CallResult = random() < 0.2
        ? { ok: false, code: 1 + Math.floor(random() * ErrorCode.MessageTooLarge), message: randomValue(random, 'string', 300).value as string }
        : { ok: true, value: randomValue(random, VALUE_TYPES[Math.floor(random() * VALUE_TYPES.length)]!, 300) };
      expect(encoder.encode(result)).toBeGreaterThan(0);
      expectRoundTrip(result);
      const expected = result.ok ? { ok: true, value: afterTrip(result.value) } : { ok: false, code: result.code, message: wellFormed(result.message) };
      expect(decodeFunctionCallResult(readFrame(area))).toEqual(expected);
    }
  });

  it('sends -0 as an integer 0 (as codec.ts)', () => {
    for (const type of ['i32', 'u32'] as const) {
      const payload = encodeFast({ ok: true, value: { type, value: -0 } });
      expect(decodeFunctionCallResult(payload)).toEqual({ ok: true, value: { type, value: 0 } });
    }
  });

  it('copies a byte array that lives in the area before overwriting it', () => {
    const area = new Uint8Array(4096);
    area.set([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new ResultEncoder(area).encode({ ok: true, value: { type: 'bytes', value: area.subarray(2, 7) } })).toBeGreaterThan(0);
    expect(decodeFunctionCallResult(readFrame(area))).toEqual({ ok: true, value: { type: 'bytes', value: Uint8Array.of(3, 4, 5, 6, 7) } });
  });

  it('returns the negated frame size when a reply does not fit, and leaves the area as it was', () => {
    const cases: [string, CallResult][] = [
      ['bytes', { ok: true, value: { type: 'bytes', value: new Uint8Array(100) } }],
      ['an ASCII string', { ok: true, value: { type: 'string', value: 'a'.repeat(100) } }],
      // The upper bound (3 bytes a unit) overshoots; the exact size decides.
      ['a string of 2-byte characters', { ok: true, value: { type: 'string', value: 'é'.repeat(60) } }],
      ['an error message', { ok: false, code: ErrorCode.HostFunctionFailed, message: '🦀'.repeat(30) }],
    ];
    for (const [name, result] of cases) {
      const frameSize = 4 + encodeFast(result).byteLength;
      const exact = new Uint8Array(frameSize);
      expect(new ResultEncoder(exact).encode(result), name).toBe(frameSize - 4);
      const short = new Uint8Array(frameSize - 1).fill(0xee);
      expect(new ResultEncoder(short).encode(result), name).toBe(-frameSize);
      expect(short.every((b) => b === 0xee), name).toBe(true);
    }
  });

  it('refuses a value of the wrong type, an unknown type or error code with TypeError, writing nothing', () => {
    const area = new Uint8Array(256).fill(0xee);
    const encoder = new ResultEncoder(area);
    const bad: unknown[] = [
      { ok: true, value: { type: 'i32', value: 1.5 } },
      { ok: true, value: { type: 'u64', value: 5 } },
      { ok: true, value: { type: 'bytes', value: [1, 2] } },
      { ok: true, value: { type: 'void', value: 0 } },
      { ok: true, value: { type: 'i128', value: 1 } },
      { ok: false, code: ErrorCode.None, message: '' },
      { ok: false, code: 11, message: '' },
      { ok: false, code: ErrorCode.GuestFunctionFailed, message: 7 },
    ];
    for (const result of bad) expect(() => encoder.encode(result as CallResult), JSON.stringify(result, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).toThrow(TypeError);
    expect(area.every((b) => b === 0xee)).toBe(true);
  });

  it('lays out each value type once, in the order the file comment draws', () => {
    const payload = encodeFast({ ok: true, value: { type: 'i64', value: -2n } } satisfies { ok: true; value: TypedValue });
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    // Payload offsets: the union vtable at 4, the I64Value vtable at 12, then the tables; the 8-byte field 8-aligned in the frame.
    expect([view.getUint16(4, true), view.getUint16(6, true), view.getUint16(12, true), view.getUint16(14, true)]).toEqual([8, 9, 6, 12]);
    expect((payload.byteLength + 4) % 8).toBe(0);
    expect(view.getBigInt64(payload.byteLength - 8, true)).toBe(-2n);
  });
});

import * as flatbuffers from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { CallEncoder, encodeCallInto, planCall } from '../../src/protocol/call-encoder.js';
import { decodeFunctionCall, encodeFunctionCall, type FunctionCallMessage } from '../../src/protocol/codec.js';
import { readFrame } from '../../src/protocol/framing.js';
import { F32Value } from '../../src/protocol/generated/hyperlight/wire/f32value.js';
import { F64Value } from '../../src/protocol/generated/hyperlight/wire/f64value.js';
import { FunctionCall } from '../../src/protocol/generated/hyperlight/wire/function-call.js';
import { checkValue, VALUE_TYPES, type TypedValue, type ValueTypeName } from '../../src/protocol/values.js';
import { MESSAGE_SCHEMAS, verifyMessage } from '../../src/protocol/verifier.js';
import { afterTrip, EDGE_STRINGS, EDGE_VALUES, f32Bits, f64Bits, LARGE_BYTES, PARAMETER_TYPE_LIST, randomValue, wellFormed } from './fast-codec-cases.js';
import { prng } from './helpers.js';

/** Encodes `call` with the fast encoder into a fresh area and returns the payload (checking the frame header). */
function encodeFast(call: FunctionCallMessage, capacity = (1 << 21) + 4096): Uint8Array {
  const area = new Uint8Array(capacity);
  const length = encodeCallInto(area, call);
  expect(length).toBeGreaterThanOrEqual(0);
  const payload = readFrame(area);
  expect(payload.byteLength).toBe(length);
  return payload;
}

/** What the generated reader makes of `call` after a trip through the fast encoder. */
function roundTrip(call: FunctionCallMessage): FunctionCallMessage {
  const payload = encodeFast(call);
  verifyMessage(payload, MESSAGE_SCHEMAS.FunctionCall);
  return decodeFunctionCall(payload);
}

/** `call` with byte arrays as base64 text (vitest compares a megabyte array element by element, slowly). */
function comparable(call: FunctionCallMessage): unknown {
  const args = call.args.map((arg) => (arg.type === 'bytes' ? { type: 'bytes', base64: Buffer.from(arg.value).toString('base64'), view: arg.value.constructor.name } : arg));
  return { ...call, args };
}

function expectRoundTrip(call: FunctionCallMessage): void {
  const decoded = comparable(roundTrip(call));
  expect(decoded).toEqual(comparable({ functionName: wellFormed(call.functionName), args: call.args.map(afterTrip), returnType: call.returnType }));
  // And the same as through codec.ts.
  expect(decoded).toEqual(comparable(decodeFunctionCall(encodeFunctionCall(call))));
}

/** The raw bytes of argument `index`'s float field, read with the generated reader. */
function floatBits(payload: Uint8Array, index: number, type: 'f32' | 'f64'): bigint {
  const bb = new flatbuffers.ByteBuffer(payload);
  const arg = FunctionCall.getRootAsFunctionCall(bb).arguments_(index)!;
  if (type === 'f32') {
    const table = arg.value(new F32Value()) as F32Value;
    return BigInt(bb.readUint32(table.bb_pos + bb.__offset(table.bb_pos, 4)));
  }
  const table = arg.value(new F64Value()) as F64Value;
  return bb.readUint64(table.bb_pos + bb.__offset(table.bb_pos, 4));
}

describe('CallEncoder', () => {
  it('round-trips every edge value through the generated reader, one argument at a time', () => {
    for (const value of EDGE_VALUES) expectRoundTrip({ functionName: `Echo_${value.type}`, args: [value], returnType: value.type });
  });

  it('round-trips every edge value as one long argument list, and a large byte array', () => {
    expectRoundTrip({ functionName: 'All', args: EDGE_VALUES, returnType: 'void' });
    expectRoundTrip({ functionName: 'Large', args: [LARGE_BYTES, { type: 'string', value: 'after' }, LARGE_BYTES], returnType: 'bytes' });
  });

  it('encodes every return type, no arguments and awkward names', () => {
    for (const returnType of VALUE_TYPES) expectRoundTrip({ functionName: 'F', args: [], returnType });
    for (const functionName of EDGE_STRINGS) expectRoundTrip({ functionName, args: [{ type: 'i32', value: 1 }], returnType: 'i32' });
  });

  it('stores float bits exactly as the generated builder does (NaN payloads, -0, rounding to f32)', () => {
    for (const value of EDGE_VALUES) {
      if (value.type !== 'f32' && value.type !== 'f64') continue;
      const call: FunctionCallMessage = { functionName: 'F', args: [value], returnType: 'void' };
      const fast = floatBits(encodeFast(call), 0, value.type);
      expect(fast, `${value.type} ${value.value}`).toBe(floatBits(encodeFunctionCall(call), 0, value.type));
      expect(fast).toBe(value.type === 'f32' ? BigInt(f32Bits(value.value)) : f64Bits(value.value));
    }
  });

  it('writes strings as the generated builder does (UTF-8, unpaired surrogates as U+FFFD)', () => {
    for (const value of EDGE_STRINGS) {
      const decoded = roundTrip({ functionName: 'S', args: [{ type: 'string', value }], returnType: 'void' });
      expect(decoded.args[0]!.value).toBe(wellFormed(value));
    }
  });

  it('round-trips random signatures and values', () => {
    const random = prng(20240601);
    for (let i = 0; i < 400; i++) {
      const count = Math.floor(random() * 12);
      const args = Array.from({ length: count }, () => randomValue(random, PARAMETER_TYPE_LIST[Math.floor(random() * PARAMETER_TYPE_LIST.length)]!));
      const returnType = VALUE_TYPES[Math.floor(random() * VALUE_TYPES.length)]!;
      expectRoundTrip({ functionName: (randomValue(random, 'string', 20).value as string) || 'f', args, returnType });
    }
  });

  it('reuses a plan: every call replaces the previous one completely', () => {
    const area = new Uint8Array(8192);
    const encoder = new CallEncoder(area);
    const plan = planCall('Mixed', ['string', 'i64', 'bytes', 'f64', 'bool'], 'string');
    const random = prng(7);
    for (let i = 0; i < 200; i++) {
      const args = plan.parameters.map((type) => randomValue(random, type, 200));
      const length = encoder.encode(plan, args.map((arg) => arg.value));
      expect(length).toBeGreaterThan(0);
      expect(decodeFunctionCall(readFrame(area))).toEqual({ functionName: 'Mixed', args: args.map(afterTrip), returnType: 'string' });
    }
  });

  it('copies byte arguments that live in the target area before overwriting it', () => {
    const area = new Uint8Array(4096);
    const encoder = new CallEncoder(area);
    const plan = planCall('Alias', ['bytes', 'bytes'], 'void');
    area.set([1, 2, 3, 4, 5, 6, 7, 8], 0);
    const head = area.subarray(0, 8);
    const later = area.subarray(2, 5);
    expect(encoder.encode(plan, [head, later])).toBeGreaterThan(0);
    expect(decodeFunctionCall(readFrame(area)).args.map((arg) => Array.from(arg.value as Uint8Array))).toEqual([[1, 2, 3, 4, 5, 6, 7, 8], [3, 4, 5]]);
  });

  it('sends -0 as an integer 0 (as codec.ts)', () => {
    for (const type of ['i32', 'u32'] as const) {
      expect(roundTrip({ functionName: 'Z', args: [{ type, value: -0 }], returnType: type }).args[0]!.value).toBe(0);
    }
  });

  describe('a frame that does not fit', () => {
    const cases: [string, FunctionCallMessage][] = [
      ['scalars', { functionName: 'Add', args: [{ type: 'i32', value: 1 }, { type: 'f64', value: 2 }], returnType: 'i32' }],
      ['ASCII and bytes', { functionName: 'Mix', args: [{ type: 'string', value: 'x'.repeat(100) }, { type: 'bytes', value: new Uint8Array(37) }, { type: 'string', value: '' }], returnType: 'void' }],
      ['non-ASCII', { functionName: 'Wide', args: [{ type: 'string', value: 'é🦀\uD800'.repeat(30) }, { type: 'string', value: 'short' }], returnType: 'string' }],
    ];

    it.each(cases)('%s: returns the exact size needed and leaves the area alone, at every capacity', (_, call) => {
      const full = encodeFast(call);
      const needed = full.byteLength + 4;
      for (let capacity = 0; capacity <= needed + 8; capacity++) {
        const area = new Uint8Array(capacity).fill(0xa5);
        const result = encodeCallInto(area, call);
        if (capacity < needed) {
          expect(result, `capacity ${capacity}`).toBe(-needed);
          expect(area.every((byte) => byte === 0xa5)).toBe(true);
        } else {
          expect(result).toBe(needed - 4);
          expect(area.subarray(4, needed)).toEqual(full);
        }
      }
    });
  });

  describe('argument checks', () => {
    const samples: unknown[] = [
      0, -0, 1, -1, 1.5, NaN, Infinity, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53,
      0n, -1n, 2n ** 63n - 1n, 2n ** 63n, -(2n ** 63n), -(2n ** 63n) - 1n, 2n ** 64n - 1n, 2n ** 64n,
      '', 'x', true, false, undefined, null, {}, [], new Uint8Array(2), Buffer.from('ab'), new Int8Array(2), new ArrayBuffer(2), Symbol('s'),
    ];

    it('accepts exactly what checkValue accepts, and throws TypeError otherwise', () => {
      const area = new Uint8Array(4096);
      const encoder = new CallEncoder(area);
      for (const type of VALUE_TYPES) {
        const plan = planCall('Check', [type], 'void');
        for (const value of samples) {
          const problem = checkValue(type, value);
          if (problem === undefined) expect(encoder.encode(plan, [value]), `${type} ${String(value)}`).toBeGreaterThan(0);
          else expect(() => encoder.encode(plan, [value]), `${type} ${String(value)}`).toThrow(new TypeError(`argument 0: cannot encode as ${type}: ${problem}`));
        }
      }
    });

    it('rejects a wrong argument count and unknown type names', () => {
      const encoder = new CallEncoder(new Uint8Array(256));
      expect(() => encoder.encode(planCall('Two', ['i32', 'i32'], 'i32'), [1])).toThrow(TypeError);
      expect(() => planCall('Bad', ['i33' as ValueTypeName], 'i32')).toThrow(/unknown value type "i33"/);
      expect(() => planCall('Bad', [], 'none' as ValueTypeName)).toThrow(/return type: unknown value type "none"/);
    });
  });

  it('lays out a plan once: the template holds the name, and a scalar call is the template plus its values', () => {
    const plan = planCall('EchoI32', ['i32'], 'i32');
    const area = new Uint8Array(256);
    expect(new CallEncoder(area).encode(plan, [42])).toBe(plan.fixedSize - 4);
    expect(Buffer.from(plan.template).includes(Buffer.from('EchoI32\0'))).toBe(true);
    const typed: TypedValue[] = [{ type: 'i32', value: 42 }];
    expect(decodeFunctionCall(readFrame(area))).toEqual({ functionName: 'EchoI32', args: typed, returnType: 'i32' });
  });
});

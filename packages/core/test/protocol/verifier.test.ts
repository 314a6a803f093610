import * as flatbuffers from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { GuestProtocolError } from '../../src/errors.js';
import {
  decodeFunctionCall, decodeFunctionCallResult, decodeGuestFunctionDetails, decodeLogRecord, encodeFunctionCall,
  type CallResult, type FunctionCallMessage, type GuestFunctionSignature, type LogRecord,
} from '../../src/protocol/codec.js';
import { Value } from '../../src/protocol/generated/hyperlight/wire/value.js';
import { checkValue, VALUE_TYPES } from '../../src/protocol/values.js';
import { MESSAGE_SCHEMAS, verifyMessage, type TableSchema } from '../../src/protocol/verifier.js';
import { decodesOrRejects, prng, SAMPLE_PAYLOADS, SAMPLE_VALUES, withU32 } from './helpers.js';

/** Checks that a decoded message is well-formed by the public types' rules. */
const WELL_FORMED = {
  FunctionCall: (call: FunctionCallMessage) => {
    expect(typeof call.functionName).toBe('string');
    expect(VALUE_TYPES).toContain(call.returnType);
    for (const arg of call.args) expect(checkValue(arg.type, arg.value)).toBeUndefined();
  },
  CallResult: (result: CallResult) => {
    if (result.ok) expect(checkValue(result.value.type, result.value.value)).toBeUndefined();
    else {
      expect(result.code).toBeGreaterThanOrEqual(1);
      expect(result.code).toBeLessThanOrEqual(10);
      expect(typeof result.message).toBe('string');
    }
  },
  GuestFunctionDetails: (functions: GuestFunctionSignature[]) => {
    for (const fn of functions) {
      expect(typeof fn.name).toBe('string');
      for (const type of fn.parameters) expect(VALUE_TYPES).toContain(type);
      expect(VALUE_TYPES).toContain(fn.returnType);
    }
  },
  LogRecord: (record: LogRecord) => {
    expect(record.level).toBeGreaterThanOrEqual(0);
    expect(record.level).toBeLessThanOrEqual(5);
    for (const text of [record.message, record.target, record.sourceFile]) expect(typeof text).toBe('string');
  },
};

/** Every decoder with the check of its output. */
const DECODERS: readonly [string, (payload: Uint8Array) => unknown][] = [
  ['FunctionCall', (p) => checked(decodeFunctionCall(p), WELL_FORMED.FunctionCall)],
  ['FunctionCallResult', (p) => checked(decodeFunctionCallResult(p), WELL_FORMED.CallResult)],
  ['GuestFunctionDetails', (p) => checked(decodeGuestFunctionDetails(p), WELL_FORMED.GuestFunctionDetails)],
  ['LogRecord', (p) => checked(decodeLogRecord(p), WELL_FORMED.LogRecord)],
];

function checked<T>(decoded: T, check: (decoded: T) => void): T {
  check(decoded);
  return decoded;
}

/** Each sample payload with the decoder for its kind. */
const SAMPLES: readonly [string, Uint8Array, (payload: Uint8Array) => unknown][] = [
  ['FunctionCall', SAMPLE_PAYLOADS.FunctionCall, DECODERS[0]![1]],
  ['FunctionCallResult', SAMPLE_PAYLOADS.FunctionCallResult, DECODERS[1]![1]],
  ['CallError', SAMPLE_PAYLOADS.CallError, DECODERS[1]![1]],
  ['GuestFunctionDetails', SAMPLE_PAYLOADS.GuestFunctionDetails, DECODERS[2]![1]],
  ['LogRecord', SAMPLE_PAYLOADS.LogRecord, DECODERS[3]![1]],
];

/** A payload built by hand, for shapes the generated builders refuse to make. */
function build(make: (builder: flatbuffers.Builder) => flatbuffers.Offset): Uint8Array {
  const builder = new flatbuffers.Builder();
  builder.forceDefaults(true);
  builder.finish(make(builder), undefined, true);
  return builder.asUint8Array().subarray(4);
}

/** A table whose fields are given as [slot, write] pairs. */
function table(builder: flatbuffers.Builder, slots: number, fields: [number, (slot: number) => void][]): flatbuffers.Offset {
  builder.startObject(slots);
  for (const [slot, write] of fields) write(slot);
  return builder.endObject();
}

function expectRejected(payload: Uint8Array, decode: (payload: Uint8Array) => unknown, detail: RegExp): void {
  let thrown: unknown;
  try {
    decode(payload);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(GuestProtocolError);
  expect((thrown as GuestProtocolError).detail).toMatch(detail);
}

describe('verifier schemas', () => {
  it('list the Value members in union tag order', () => {
    const argument = MESSAGE_SCHEMAS.FunctionCall.fields[1].element.table;
    const union = argument.fields[0];
    expect(union.kind).toBe('union');
    if (union.kind !== 'union') return;
    union.members.forEach((member, index) => expect(Value[member.name as keyof typeof Value]).toBe(index + 1));
    expect(union.members).toHaveLength(VALUE_TYPES.length);
  });
});

describe('verifier on corrupted messages', () => {
  it.each(SAMPLES)('accepts the valid %s sample', (_, payload, decode) => {
    decode(payload);
  });

  it.each(SAMPLES)('rejects every truncation of %s that cuts more than trailing padding', (_, payload, decode) => {
    // The builder pads after the first object it writes (up to 3 zero bytes after a string's NUL
    // or a vector's last element); without that padding the message is still the same message.
    const full = decode(payload);
    for (let length = 0; length < payload.length; length++) {
      const outcome = decodesOrRejects(() => decode(payload.subarray(0, length)));
      if (outcome instanceof GuestProtocolError) continue;
      expect(length, `length ${length} was accepted`).toBeGreaterThanOrEqual(payload.length - 3);
      expect(payload.subarray(length).every((byte) => byte === 0)).toBe(true);
      expect(outcome).toEqual(full);
    }
  });

  it.each(SAMPLES)('decodes or rejects every single-bit flip of %s', (_, payload, decode) => {
    for (let bit = 0; bit < payload.length * 8; bit++) {
      const flipped = payload.slice();
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      decodesOrRejects(() => decode(flipped));
    }
  });

  it.each(SAMPLES)('decodes or rejects %s with random bytes overwritten (seeded)', (_, payload, decode) => {
    const random = prng(0x5eed);
    for (let i = 0; i < 3000; i++) {
      const corrupted = payload.slice();
      const count = 1 + Math.floor(random() * 4);
      for (let j = 0; j < count; j++) corrupted[Math.floor(random() * corrupted.length)] = Math.floor(random() * 256);
      decodesOrRejects(() => decode(corrupted));
    }
  });

  it.each(DECODERS)('decodes or rejects random bytes as %s (seeded)', (_, decode) => {
    const random = prng(42);
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256));
      // Point the root at a plausible place half the time, so more cases get past the first check.
      if (bytes.length >= 8 && random() < 0.5) new DataView(bytes.buffer).setUint32(0, 4 * Math.floor(random() * (bytes.length / 4)), true);
      if (decodesOrRejects(() => decode(bytes)) instanceof GuestProtocolError) rejected++;
    }
    expect(rejected).toBeGreaterThan(4000);
  });

  it('rejects huge lengths and offsets', () => {
    const call = SAMPLE_PAYLOADS.FunctionCall;
    expectRejected(withU32(call, 0, 0xffff_ffff), decodeFunctionCall, /root table .*runs past the end/);
    expectRejected(withU32(call, 0, 0x7fff_fffc), decodeFunctionCall, /runs past the end/);
    const bytes = encodeFunctionCall({ functionName: 'f', args: [{ type: 'bytes', value: new Uint8Array([1, 2, 3]) }], returnType: 'void' });
    const lengthAt = Buffer.from(bytes).indexOf(Buffer.from([3, 0, 0, 0, 1, 2, 3]));
    for (const length of [0xffff_ffff, 0x8000_0000, 0x1000_0000, bytes.length]) {
      expectRejected(withU32(bytes, lengthAt, length), decodeFunctionCall, /arguments\[0\]\.value<BytesValue>\.value \(offset \d+\): vector of \d+ × 1-byte elements \(\d+ bytes\) runs past the end/);
    }
    const name = encodeFunctionCall({ functionName: 'abcd', args: [], returnType: 'void' });
    const nameAt = Buffer.from(name).indexOf(Buffer.from([4, 0, 0, 0, 0x61]));
    expectRejected(withU32(name, nameAt, 0xffff_fff0), decodeFunctionCall, /function_name .*string of 4294967280 bytes plus its NUL/);
    expectRejected(withU32(name, nameAt, 3), decodeFunctionCall, /function_name .*not NUL-terminated/);
  });

  it('rejects a vtable outside the message, of odd or oversized size, or a field outside its table', () => {
    const log = SAMPLE_PAYLOADS.LogRecord;
    const rootAt = new DataView(log.buffer, log.byteOffset).getUint32(0, true);
    expectRejected(withU32(log, rootAt, 0x7fff_ffff), decodeLogRecord, /vtable of LogRecord .*runs past the end/);
    expectRejected(withU32(log, rootAt, -0x1000), decodeLogRecord, /vtable of LogRecord/);
    const vtableAt = rootAt - new DataView(log.buffer, log.byteOffset).getInt32(rootAt, true);
    const patch = (offset: number, value: number): Uint8Array => {
      const copy = log.slice();
      new DataView(copy.buffer).setUint16(offset, value, true);
      return copy;
    };
    expectRejected(patch(vtableAt, 7), decodeLogRecord, /invalid size 7/);
    expectRejected(patch(vtableAt, 2), decodeLogRecord, /invalid size 2/);
    expectRejected(patch(vtableAt, 0x8000), decodeLogRecord, /invalid size 32768/);
    expectRejected(patch(vtableAt + 2, 2), decodeLogRecord, /gives table size 2/);
    expectRejected(patch(vtableAt + 2, 0xfff0), decodeLogRecord, /LogRecord table .*runs past the end/);
    expectRejected(patch(vtableAt + 4, 0xfff0), decodeLogRecord, /level .*lies outside the \d+-byte table/);
    expectRejected(patch(vtableAt + 4, 2), decodeLogRecord, /level .*lies outside/);
  });

  it('rejects unknown union tags', () => {
    const result = SAMPLE_PAYLOADS.FunctionCallResult;
    const outcomeTag = (tag: number): Uint8Array => build((b) => {
      const value = table(b, 1, []);
      return table(b, 2, [[0, (s) => b.addFieldInt8(s, tag, 0)], [1, (s) => b.addFieldOffset(s, value, 0)]]);
    });
    expect(() => decodeFunctionCallResult(result)).not.toThrow();
    for (const tag of [3, 255]) expectRejected(outcomeTag(tag), decodeFunctionCallResult, new RegExp(`outcome_type .*unknown union type ${tag} \\(known: 1..2\\)`));
    expectRejected(outcomeTag(0), decodeFunctionCallResult, /outcome .*union has a value but its type is NONE/);

    const argumentTag = (tag: number): Uint8Array => build((b) => {
      const value = table(b, 1, []);
      const argument = table(b, 2, [[0, (s) => b.addFieldInt8(s, tag, 0)], [1, (s) => b.addFieldOffset(s, value, 0)]]);
      b.startVector(4, 1, 4);
      b.addOffset(argument);
      const args = b.endVector();
      const name = b.createString('f');
      return table(b, 3, [[0, (s) => b.addFieldOffset(s, name, 0)], [1, (s) => b.addFieldOffset(s, args, 0)], [2, (s) => b.addFieldInt8(s, 1, 0)]]);
    });
    for (const tag of [11, 200]) expectRejected(argumentTag(tag), decodeFunctionCall, /arguments\[0\]\.value_type .*unknown union type/);
    expect(decodeFunctionCall(argumentTag(Value.VoidValue)).args).toEqual([{ type: 'void', value: undefined }]);
  });

  it('rejects missing required fields', () => {
    const name = (b: flatbuffers.Builder): flatbuffers.Offset => b.createString('f');
    const cases: [string, Uint8Array, (p: Uint8Array) => unknown, RegExp][] = [
      ['FunctionCall.function_name', build((b) => table(b, 3, [[2, (s) => b.addFieldInt8(s, 1, 0)]])), decodeFunctionCall, /function_name .*required field is missing from FunctionCall/],
      ['Argument.value', build((b) => {
        const argument = table(b, 2, []);
        b.startVector(4, 1, 4);
        b.addOffset(argument);
        const args = b.endVector();
        const n = name(b);
        return table(b, 3, [[0, (s) => b.addFieldOffset(s, n, 0)], [1, (s) => b.addFieldOffset(s, args, 0)], [2, (s) => b.addFieldInt8(s, 1, 0)]]);
      }), decodeFunctionCall, /arguments\[0\]\.value .*required union is missing/],
      ['Argument.value with a type but no value', build((b) => {
        const argument = table(b, 2, [[0, (s) => b.addFieldInt8(s, Value.I32Value, 0)]]);
        b.startVector(4, 1, 4);
        b.addOffset(argument);
        const args = b.endVector();
        const n = name(b);
        return table(b, 3, [[0, (s) => b.addFieldOffset(s, n, 0)], [1, (s) => b.addFieldOffset(s, args, 0)], [2, (s) => b.addFieldInt8(s, 1, 0)]]);
      }), decodeFunctionCall, /union type is I32Value but the value is missing/],
      ['StringValue.value', build((b) => {
        const value = table(b, 1, []);
        const ret = table(b, 2, [[0, (s) => b.addFieldInt8(s, Value.StringValue, 0)], [1, (s) => b.addFieldOffset(s, value, 0)]]);
        return table(b, 2, [[0, (s) => b.addFieldInt8(s, 1, 0)], [1, (s) => b.addFieldOffset(s, ret, 0)]]);
      }), decodeFunctionCallResult, /outcome<ReturnValue>\.value<StringValue>\.value .*required field is missing from StringValue/],
      ['BytesValue.value', build((b) => {
        const value = table(b, 1, []);
        const ret = table(b, 2, [[0, (s) => b.addFieldInt8(s, Value.BytesValue, 0)], [1, (s) => b.addFieldOffset(s, value, 0)]]);
        return table(b, 2, [[0, (s) => b.addFieldInt8(s, 1, 0)], [1, (s) => b.addFieldOffset(s, ret, 0)]]);
      }), decodeFunctionCallResult, /value<BytesValue>\.value .*required field is missing/],
      ['FunctionCallResult.outcome', build((b) => table(b, 2, [])), decodeFunctionCallResult, /outcome .*required union is missing/],
      ['ReturnValue.value', build((b) => {
        const ret = table(b, 2, []);
        return table(b, 2, [[0, (s) => b.addFieldInt8(s, 1, 0)], [1, (s) => b.addFieldOffset(s, ret, 0)]]);
      }), decodeFunctionCallResult, /outcome<ReturnValue>\.value .*required union is missing/],
      ['FunctionSignature.name', build((b) => {
        const signature = table(b, 3, [[2, (s) => b.addFieldInt8(s, 1, 0)]]);
        b.startVector(4, 1, 4);
        b.addOffset(signature);
        const functions = b.endVector();
        return table(b, 1, [[0, (s) => b.addFieldOffset(s, functions, 0)]]);
      }), decodeGuestFunctionDetails, /functions\[0\]\.name .*required field is missing from FunctionSignature/],
    ];
    for (const [, payload, decode, detail] of cases) expectRejected(payload, decode, detail);
  });

  it('rejects enum values out of range, including None where a type or code is needed', () => {
    const call = (returnType: number | undefined): Uint8Array => build((b) => {
      const n = b.createString('f');
      return table(b, 3, [[0, (s) => b.addFieldOffset(s, n, 0)], ...(returnType === undefined ? [] : [[2, (s: number) => b.addFieldInt8(s, returnType, 0)] as [number, (s: number) => void]])]);
    });
    expect(decodeFunctionCall(call(10)).returnType).toBe('void');
    expectRejected(call(11), decodeFunctionCall, /return_type .*ValueType 11 is not in 1..10/);
    expectRejected(call(0), decodeFunctionCall, /ValueType 0 is not in 1..10/);
    expectRejected(call(undefined), decodeFunctionCall, /ValueType 0 \(absent, so the default\) is not in 1..10/);

    const error = (code: number | undefined): Uint8Array => build((b) => {
      const e = table(b, 2, code === undefined ? [] : [[0, (s) => b.addFieldInt32(s, code, 0)]]);
      return table(b, 2, [[0, (s) => b.addFieldInt8(s, 2, 0)], [1, (s) => b.addFieldOffset(s, e, 0)]]);
    });
    expect(decodeFunctionCallResult(error(10))).toEqual({ ok: false, code: 10, message: '' });
    for (const code of [0, 11, -1]) expectRejected(error(code), decodeFunctionCallResult, /outcome<CallError>\.code .*ErrorCode \d+ is not in 1..10/);
    expectRejected(error(undefined), decodeFunctionCallResult, /ErrorCode 0 \(absent, so the default\)/);

    const parameters = (types: number[]): Uint8Array => build((b) => {
      const n = b.createString('f');
      b.startVector(1, types.length, 1);
      for (const type of [...types].reverse()) b.addInt8(type);
      const params = b.endVector();
      const signature = table(b, 3, [[0, (s) => b.addFieldOffset(s, n, 0)], [1, (s) => b.addFieldOffset(s, params, 0)]]);
      b.startVector(4, 1, 4);
      b.addOffset(signature);
      const functions = b.endVector();
      return table(b, 1, [[0, (s) => b.addFieldOffset(s, functions, 0)]]);
    });
    expect(decodeGuestFunctionDetails(parameters([1, 10]))[0]!.parameters).toEqual(['i32', 'void']);
    expectRejected(parameters([1, 0]), decodeGuestFunctionDetails, /functions\[0\]\.parameters\[1\] .*ValueType 0/);
    expectRejected(parameters([1, 2, 99]), decodeGuestFunctionDetails, /parameters\[2\] .*ValueType 99/);
  });

  it('rejects misaligned scalars: alignment counts from the frame start, 4 bytes before the payload', () => {
    const builder = new flatbuffers.Builder();
    builder.forceDefaults(true);
    const call = encodeFunctionCall({ functionName: 'f', args: [{ type: 'u64', value: 1n }], returnType: 'void' });
    expect(() => decodeFunctionCall(call)).not.toThrow();
    // The same message built without the size prefix is aligned for a buffer starting at the payload.
    const n = builder.createString('f');
    const value = table(builder, 1, [[0, (s) => builder.addFieldInt64(s, 1n, 0n)]]);
    const argument = table(builder, 2, [[0, (s) => builder.addFieldInt8(s, Value.U64Value, 0)], [1, (s) => builder.addFieldOffset(s, value, 0)]]);
    builder.startVector(4, 1, 4);
    builder.addOffset(argument);
    const args = builder.endVector();
    builder.finish(table(builder, 3, [[0, (s) => builder.addFieldOffset(s, n, 0)], [1, (s) => builder.addFieldOffset(s, args, 0)], [2, (s) => builder.addFieldInt8(s, 10, 0)]]));
    expectRejected(builder.asUint8Array(), decodeFunctionCall, /value<U64Value>\.value .*8-byte field is not aligned/);
    expectRejected(withU32(call, 0, new DataView(call.buffer, call.byteOffset).getUint32(0, true) + 2), decodeFunctionCall, /root table .*not 4-byte aligned/);
  });

  it('rejects aliased offsets that would make decoding blow up', () => {
    const bomb = build((b) => {
      const bytes = b.createByteVector(new Uint8Array(1000));
      const value = table(b, 1, [[0, (s) => b.addFieldOffset(s, bytes, 0)]]);
      const argument = table(b, 2, [[0, (s) => b.addFieldInt8(s, Value.BytesValue, 0)], [1, (s) => b.addFieldOffset(s, value, 0)]]);
      b.startVector(4, 10_000, 4);
      for (let i = 0; i < 10_000; i++) b.addOffset(argument);
      const args = b.endVector();
      const n = b.createString('f');
      return table(b, 3, [[0, (s) => b.addFieldOffset(s, n, 0)], [1, (s) => b.addFieldOffset(s, args, 0)], [2, (s) => b.addFieldInt8(s, 10, 0)]]);
    });
    expect(bomb.length).toBeLessThan(50_000);
    expectRejected(bomb, decodeFunctionCall, /arguments\[\d+\].* references more data than it holds/);

    // Sharing one string twice stays within budget.
    const shared = build((b) => {
      const s = b.createString('x'.repeat(100));
      return table(b, 5, [[1, (slot) => b.addFieldOffset(slot, s, 0)], [2, (slot) => b.addFieldOffset(slot, s, 0)]]);
    });
    expect(decodeLogRecord(shared)).toMatchObject({ message: 'x'.repeat(100), target: 'x'.repeat(100) });
  });

  it('limits nesting depth', () => {
    const node: { name: string; fields: TableSchema['fields'] } = { name: 'Node', fields: [] };
    (node as { fields: TableSchema['fields'] }).fields = [{ name: 'child', kind: 'table', table: node }];
    const chain = (depth: number): Uint8Array => build((b) => {
      let child = 0;
      for (let i = 0; i < depth; i++) child = table(b, 1, child ? [[0, (s) => b.addFieldOffset(s, child, 0)]] : []);
      return child;
    });
    expect(() => verifyMessage(chain(32), node)).not.toThrow();
    expect(() => verifyMessage(chain(33), node)).toThrow(/tables nest deeper than 32/);
  });

  it('reports the message, field path and offset', () => {
    const error = (() => {
      try {
        decodeFunctionCall(SAMPLE_PAYLOADS.FunctionCall.subarray(0, 100));
      } catch (e) {
        return e as GuestProtocolError;
      }
      throw new Error('accepted');
    })();
    expect(error.message).toMatch(/^guest broke the host\/guest protocol: malformed FunctionCall message: .+ \(offset \d+\): .+/);
  });

  it('keeps decoding quick on the largest corrupt inputs', () => {
    const big = encodeFunctionCall({ functionName: 'f', args: Array.from({ length: 2000 }, () => SAMPLE_VALUES[6]!), returnType: 'void' });
    const started = performance.now();
    for (let i = 0; i < 200; i++) decodesOrRejects(() => decodeFunctionCall(big.subarray(0, big.length - i)));
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

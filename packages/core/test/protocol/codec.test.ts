import * as flatbuffers from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { GuestProtocolError } from '../../src/errors.js';
import {
  decodeFunctionCall, decodeFunctionCallResult, decodeGuestFunctionDetails, decodeLogRecord,
  encodeFunctionCall, encodeFunctionCallResult, encodeGuestFunctionDetails, encodeLogRecord,
  ErrorCode, LogLevel, type CallResult, type GuestFunctionSignature, type LogRecord,
} from '../../src/protocol/codec.js';
import { FunctionCall } from '../../src/protocol/generated/hyperlight/wire/function-call.js';
import { readFrame, writeFrame } from '../../src/protocol/framing.js';
import { VALUE_TYPES, type TypedValue, type ValueTypeName } from '../../src/protocol/values.js';
import { SAMPLE_VALUES } from './helpers.js';

const MiB = 1024 * 1024;
const oneMiB = Uint8Array.from({ length: MiB }, (_, i) => (i * 31) & 0xff);

/** Edge values of every type; f32 values are already what Math.fround makes of them. */
const EDGE_VALUES: readonly TypedValue[] = [
  ...[0, -1, 1, -(2 ** 31), 2 ** 31 - 1].map((value): TypedValue => ({ type: 'i32', value })),
  ...[0, 1, 2 ** 31, 2 ** 32 - 1].map((value): TypedValue => ({ type: 'u32', value })),
  ...[0n, -1n, -(2n ** 63n), 2n ** 63n - 1n].map((value): TypedValue => ({ type: 'i64', value })),
  ...[0n, 1n, 2n ** 63n, 2n ** 64n - 1n].map((value): TypedValue => ({ type: 'u64', value })),
  ...[0, -0, NaN, Infinity, -Infinity, Math.fround(0.1), Math.fround(3.4e38), Math.fround(1e-45)].map((value): TypedValue => ({ type: 'f32', value })),
  ...[0, -0, NaN, Infinity, -Infinity, 0.1, Number.MAX_VALUE, Number.MIN_VALUE, -Number.EPSILON].map((value): TypedValue => ({ type: 'f64', value })),
  ...['', 'ascii', 'emoji 🦀🎉', 'CJK 世界你好', 'NUL\0inside\0', '\uFEFFleading BOM', 'x'.repeat(100_000)].map((value): TypedValue => ({ type: 'string', value })),
  { type: 'bool', value: true },
  { type: 'bool', value: false },
  { type: 'bytes', value: new Uint8Array() },
  { type: 'bytes', value: new Uint8Array([0, 255, 0]) },
  { type: 'bytes', value: oneMiB },
  { type: 'void', value: undefined },
];

const label = (v: TypedValue): string =>
  `${v.type} ${v.value instanceof Uint8Array ? `Uint8Array(${v.value.length})` : typeof v.value === 'string' ? JSON.stringify(v.value.slice(0, 20)) : Object.is(v.value, -0) ? '-0' : String(v.value)}`;

function expectSameValue(actual: TypedValue, expected: TypedValue): void {
  expect(actual.type).toBe(expected.type);
  if (expected.value instanceof Uint8Array) {
    expect(actual.value).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(actual.value as Uint8Array).equals(expected.value)).toBe(true);
  } else {
    expect(Object.is(actual.value, expected.value)).toBe(true);
  }
}

describe('FunctionCall', () => {
  it.each(EDGE_VALUES.map((v) => [label(v), v] as const))('round-trips %s as an argument', (_, value) => {
    const call = decodeFunctionCall(encodeFunctionCall({ functionName: 'f', args: [value], returnType: 'void' }));
    expect(call.args).toHaveLength(1);
    expectSameValue(call.args[0]!, value);
  });

  it('round-trips every return type, many arguments and unusual names', () => {
    for (const returnType of VALUE_TYPES) {
      for (const functionName of ['', 'Add', '函数🦀', 'a\0b']) {
        const call = decodeFunctionCall(encodeFunctionCall({ functionName, args: SAMPLE_VALUES, returnType }));
        expect(call.functionName).toBe(functionName);
        expect(call.returnType).toBe(returnType);
        call.args.forEach((arg, i) => expectSameValue(arg, SAMPLE_VALUES[i]!));
      }
    }
    expect(decodeFunctionCall(encodeFunctionCall({ functionName: 'none', args: [], returnType: 'i32' })).args).toEqual([]);
  });

  it('rounds f32 values like Math.fround', () => {
    for (const value of [0.1, 1 / 3, 16777217, 1e40, -1e-50]) {
      const [arg] = decodeFunctionCall(encodeFunctionCall({ functionName: 'f', args: [{ type: 'f32', value }], returnType: 'void' })).args;
      expect(Object.is(arg!.value, Math.fround(value))).toBe(true);
    }
  });

  it('refuses to encode values that do not match their type', () => {
    const bad: [TypedValue, RegExp][] = [
      [{ type: 'i32', value: 2 ** 31 }, /argument 0: cannot encode as i32: out of range/],
      [{ type: 'u64', value: 5 } as unknown as TypedValue, /does not accept numbers/],
      [{ type: 'bytes', value: [1] } as unknown as TypedValue, /expected a Uint8Array/],
      [{ type: 'nope', value: 1 } as unknown as TypedValue, /unknown value type/],
    ];
    for (const [arg, message] of bad) {
      expect(() => encodeFunctionCall({ functionName: 'f', args: [arg], returnType: 'void' })).toThrow(message);
    }
    expect(() => encodeFunctionCall({ functionName: 'f', args: [], returnType: 'nope' as ValueTypeName })).toThrow(TypeError);
  });

  it('returns copies of bytes, not views of the guest buffer', () => {
    const payload = encodeFunctionCall({ functionName: 'f', args: [{ type: 'bytes', value: new Uint8Array([1, 2, 3]) }], returnType: 'void' });
    const [arg] = decodeFunctionCall(payload).args;
    payload.fill(0);
    expect([...(arg!.value as Uint8Array)]).toEqual([1, 2, 3]);
    expect((arg!.value as Uint8Array).buffer).not.toBe(payload.buffer);
  });

  it('replaces invalid UTF-8 with U+FFFD', () => {
    const payload = encodeFunctionCall({ functionName: 'ab', args: [{ type: 'string', value: 'xyz' }], returnType: 'void' });
    const patched = Buffer.from(payload);
    patched.set([0xff, 0xc3], patched.indexOf('ab'));
    patched.set([0xe2, 0x82, 0x28], patched.indexOf('xyz'));
    const call = decodeFunctionCall(patched);
    expect(call.functionName).toBe('\uFFFD\uFFFD');
    expect(call.args[0]!.value).toBe('\uFFFD(');
  });

  it('framed, is a standard size-prefixed flatbuffer with the size prefix alignment', () => {
    const payload = encodeFunctionCall({ functionName: 'f', args: SAMPLE_VALUES, returnType: 'u64' });
    const area = new Uint8Array(payload.length + 4);
    writeFrame(area, payload, 'call', 'inputSize');
    const call = FunctionCall.getSizePrefixedRootAsFunctionCall(new flatbuffers.ByteBuffer(area));
    expect(call.functionName()).toBe('f');
    expect(call.argumentsLength()).toBe(SAMPLE_VALUES.length);
    // The builder aligns the whole frame (prefix included) to its largest scalar.
    expect(area.length % 8).toBe(0);
    expect(decodeFunctionCall(readFrame(area)).returnType).toBe('u64');
  });
});

describe('FunctionCallResult', () => {
  it.each(EDGE_VALUES.map((v) => [label(v), v] as const))('round-trips %s as a return value', (_, value) => {
    const result = decodeFunctionCallResult(encodeFunctionCallResult({ ok: true, value }));
    expect(result.ok).toBe(true);
    expectSameValue((result as Extract<CallResult, { ok: true }>).value, value);
  });

  it('round-trips every error code and message', () => {
    const codes = Object.values(ErrorCode).filter((c): c is ErrorCode => typeof c === 'number' && c !== ErrorCode.None);
    expect(codes).toHaveLength(10);
    for (const code of codes) {
      for (const message of ['', 'failed: 💥', 'x'.repeat(10_000)]) {
        expect(decodeFunctionCallResult(encodeFunctionCallResult({ ok: false, code, message }))).toEqual({ ok: false, code, message });
      }
    }
  });

  it('refuses to encode a value that does not match its type', () => {
    expect(() => encodeFunctionCallResult({ ok: true, value: { type: 'bool', value: 1 } as unknown as TypedValue })).toThrow(/return value: cannot encode as bool/);
  });
});

describe('GuestFunctionDetails', () => {
  it('round-trips signatures', () => {
    const functions: GuestFunctionSignature[] = [
      { name: 'Add', parameters: ['i32', 'i32'], returnType: 'i32' },
      { name: 'NoArgs', parameters: [], returnType: 'void' },
      { name: 'Everything', parameters: [...VALUE_TYPES], returnType: 'bytes' },
      { name: '名前', parameters: ['string'], returnType: 'string' },
    ];
    expect(decodeGuestFunctionDetails(encodeGuestFunctionDetails(functions))).toEqual(functions);
    expect(decodeGuestFunctionDetails(encodeGuestFunctionDetails([]))).toEqual([]);
  });

  it('reads an absent functions vector as none, and an absent return type as the schema default void', () => {
    const builder = new flatbuffers.Builder();
    const name = builder.createString('f');
    builder.startObject(3);
    builder.addFieldOffset(0, name, 0);
    const signature = builder.endObject();
    builder.startVector(4, 1, 4);
    builder.addOffset(signature);
    const functions = builder.endVector();
    builder.startObject(1);
    builder.addFieldOffset(0, functions, 0);
    builder.finish(builder.endObject(), undefined, true);
    expect(decodeGuestFunctionDetails(builder.asUint8Array().subarray(4))).toEqual([{ name: 'f', parameters: [], returnType: 'void' }]);

    const empty = new flatbuffers.Builder();
    empty.startObject(1);
    empty.finish(empty.endObject(), undefined, true);
    expect(decodeGuestFunctionDetails(empty.asUint8Array().subarray(4))).toEqual([]);
  });
});

describe('LogRecord', () => {
  it('round-trips every field', () => {
    const record: LogRecord = { level: LogLevel.Error, message: 'disk 💾 full', target: 'app::fs', sourceFile: 'src/fs.rs', line: 4_000_000_000 };
    expect(decodeLogRecord(encodeLogRecord(record))).toEqual(record);
  });

  it('clamps levels above Critical (Off included) to Critical', () => {
    for (const level of [LogLevel.Off, 7, 255]) {
      const record = { level, message: '', target: '', sourceFile: '', line: 0 };
      expect(decodeLogRecord(encodeLogRecord(record)).level).toBe(LogLevel.Critical);
    }
  });

  it('reads absent fields as their defaults', () => {
    const builder = new flatbuffers.Builder();
    builder.startObject(5);
    builder.finish(builder.endObject(), undefined, true);
    expect(decodeLogRecord(builder.asUint8Array().subarray(4))).toEqual({ level: LogLevel.Info, message: '', target: '', sourceFile: '', line: 0 });
  });

  it('rejects garbage with GuestProtocolError', () => {
    expect(() => decodeLogRecord(new Uint8Array([1, 2, 3]))).toThrow(GuestProtocolError);
  });
});

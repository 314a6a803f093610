import * as flatbuffers from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { GuestProtocolError } from '../../src/errors.js';
import { decodeFunctionCallResult, encodeFunctionCallResult, ErrorCode, type CallResult } from '../../src/protocol/codec.js';
import { readFrame, writeFrame } from '../../src/protocol/framing.js';
import { BoolValue } from '../../src/protocol/generated/hyperlight/wire/bool-value.js';
import { F32Value } from '../../src/protocol/generated/hyperlight/wire/f32value.js';
import { F64Value } from '../../src/protocol/generated/hyperlight/wire/f64value.js';
import { FunctionCallResult } from '../../src/protocol/generated/hyperlight/wire/function-call-result.js';
import { I32Value } from '../../src/protocol/generated/hyperlight/wire/i32value.js';
import { I64Value } from '../../src/protocol/generated/hyperlight/wire/i64value.js';
import { Outcome } from '../../src/protocol/generated/hyperlight/wire/outcome.js';
import { ReturnValue } from '../../src/protocol/generated/hyperlight/wire/return-value.js';
import { U32Value } from '../../src/protocol/generated/hyperlight/wire/u32value.js';
import { U64Value } from '../../src/protocol/generated/hyperlight/wire/u64value.js';
import { ValueType } from '../../src/protocol/generated/hyperlight/wire/value-type.js';
import { Value } from '../../src/protocol/generated/hyperlight/wire/value.js';
import { decodeResultPayload, ResultDecoder } from '../../src/protocol/result-decoder.js';
import { afterTrip, EDGE_STRINGS, EDGE_VALUES, LARGE_BYTES, randomValue, PARAMETER_TYPE_LIST, wellFormed } from './fast-codec-cases.js';
import { Assembler, framedWithJunk, mutateMessage, outcome, prng } from './helpers.js';

/** `result` with byte arrays as base64 text (vitest compares a megabyte array element by element, slowly). */
function comparable(result: CallResult): unknown {
  if (!result.ok || result.value.type !== 'bytes') return result;
  const bytes = result.value.value;
  return { ok: true, value: { type: 'bytes', base64: Buffer.from(bytes).toString('base64'), view: bytes.constructor.name } };
}

/**
 * Decodes `payload` with codec.ts and with the fast decoder (as a payload, as
 * a frame, and the fast path alone) and checks they agree: the same value,
 * or the same GuestProtocolError with the same message.
 * @returns codec.ts's result, or `undefined` when it threw.
 */
function expectAgreement(payload: Uint8Array, label = ''): CallResult | undefined {
  const old = outcome(() => decodeFunctionCallResult(payload), comparable);
  // In a frame, with zeros or junk after the payload (which must not be read).
  const areas = framedWithJunk(payload);
  const fastPath = new ResultDecoder(areas[0]!).tryDecode(4, payload.byteLength);
  for (const fast of [outcome(() => decodeResultPayload(payload), comparable), ...areas.map((area) => outcome(() => new ResultDecoder(area).decodeFrame(), comparable))]) {
    if ('error' in old) {
      expect(old.error, label).toBeInstanceOf(GuestProtocolError);
      expect('error' in fast ? fast.error : fast.result, label).toEqual(old.error);
      expect((fast as { error: Error }).error.message, label).toBe((old.error as Error).message);
    } else {
      expect(fast, label).toEqual(old);
    }
  }
  // The fast path answers exactly when codec.ts does (it never leans on the fallback to accept).
  expect(fastPath === undefined ? undefined : comparable(fastPath), label).toEqual('error' in old ? undefined : old.result);
  // With an allocator (as `into` uses): asked once, for a valid message's byte array only; nothing else is written.
  const requests: number[] = [];
  const destination = new Uint8Array(payload.byteLength + 1).fill(0xee);
  const allocated = outcome(() => new ResultDecoder(areas[1]!).decodeFrame('frame', (byteLength) => {
    requests.push(byteLength);
    return destination.subarray(0, byteLength);
  }), comparable);
  expect(allocated, label).toEqual(old);
  const bytes = 'error' in old ? undefined : decodeFunctionCallResult(payload);
  const expectedRequests = bytes?.ok && bytes.value.type === 'bytes' ? [bytes.value.value.byteLength] : [];
  expect(requests, label).toEqual(expectedRequests);
  expect(destination.subarray(expectedRequests[0] ?? 0).every((b) => b === 0xee), label).toBe(true);
  return bytes;
}

/** A `ReturnValue` of an `I32Value` 7 with every vtable after its table, the root's shared with `ReturnValue`. */
function vtablesAfterTables(): Uint8Array {
  return new Assembler(50)
    .uoffset(0, 4)
    .table(4, 14).uoffset(8, 24).u8(12, Outcome.ReturnValue)
    .vtable(14, 9, 8, 4)
    .table(24, 14).uoffset(28, 36).u8(32, ValueType.I32)
    .table(36, 44).u32(40, 7)
    .vtable(44, 8, 4)
    .bytes;
}

/** A `ReturnValue` of an `F64Value` -0 whose vtables list unknown and absent trailing fields, with slack in the tables. */
function vtablesWithExtraFields(): Uint8Array {
  return new Assembler(84)
    .uoffset(0, 32)
    .vtable(4, 16, 12, 4, 0, 0, 8) // root: a fifth, unknown field at +8
    .vtable(18, 13, 12, 4, 0, 0) // ReturnValue
    .table(32, 4).uoffset(36, 48).u32(40, 0xdeadbeef).u8(44, Outcome.ReturnValue)
    .table(48, 18).uoffset(52, 64).u8(60, ValueType.F64)
    .table(64, 76).f64(68, -0) // the 8-byte field is 8-aligned in the frame (68 + 4)
    .vtable(76, 12, 4)
    .bytes;
}

/** The message bytes of {@link callErrorWithBadText}: invalid UTF-8, a byte-order mark, an encoded surrogate, an overlong form. */
const BAD_TEXT = [0xef, 0xbb, 0xbf, 0x61, 0xff, 0xc3, 0x28, 0xe2, 0x82, 0xf0, 0x9f, 0xa6, 0x80, 0xed, 0xa0, 0x80, 0xc0, 0xaf];

/** A `CallError` whose message is not valid UTF-8 and whose table is longer than its fields, with its vtable after it. */
function callErrorWithBadText(): Uint8Array {
  return new Assembler(72)
    .uoffset(0, 12)
    .vtable(4, 12, 8, 4)
    .table(12, 4).uoffset(16, 24).u8(20, Outcome.CallError)
    .table(24, 40).u32(28, ErrorCode.WrongArgumentType).uoffset(32, 48)
    .vtable(40, 16, 4, 8)
    .vector(48, BAD_TEXT, true)
    .bytes;
}

/** A `CallError` without a message (its vtable is too short to list one). */
function callErrorWithoutMessage(): Uint8Array {
  return new Assembler(40)
    .uoffset(0, 4)
    .table(4, 16).uoffset(8, 24).u8(12, Outcome.CallError)
    .vtable(16, 9, 8, 4)
    .table(24, 32).u32(28, ErrorCode.OutOfMemory)
    .vtable(32, 8, 4)
    .bytes;
}

/** Results built by the generated builder without forceDefaults: default scalars are left out of their tables. */
function withoutDefaults(type: 'i32' | 'u32' | 'i64' | 'u64' | 'f32' | 'f64' | 'bool'): Uint8Array {
  const builder = new flatbuffers.Builder();
  const member = {
    i32: () => I32Value.createI32Value(builder, 0),
    u32: () => U32Value.createU32Value(builder, 0),
    i64: () => I64Value.createI64Value(builder, 0n),
    u64: () => U64Value.createU64Value(builder, 0n),
    f32: () => F32Value.createF32Value(builder, 0),
    f64: () => F64Value.createF64Value(builder, -0),
    bool: () => BoolValue.createBoolValue(builder, false),
  }[type]();
  const tag = { i32: Value.I32Value, u32: Value.U32Value, i64: Value.I64Value, u64: Value.U64Value, f32: Value.F32Value, f64: Value.F64Value, bool: Value.BoolValue }[type];
  const outcome = ReturnValue.createReturnValue(builder, tag, member);
  builder.finish(FunctionCallResult.createFunctionCallResult(builder, Outcome.ReturnValue, outcome), undefined, true);
  return builder.asUint8Array().subarray(4);
}

/** Frames the Rust guest runtime (`encode_function_call_result`) and the C one (`hl_wire_encode_result`) built; see cross-language.test.ts. */
const GUEST_FRAMES: Readonly<Record<string, string>> = {
  'Rust i32 -5': '380000000c000000080009000800040008000000100000000100080009000800040000000a0000000c000000010006000800040006000000fbffffff',
  'Rust CallError 3 "bad"': '340000000c00000008000900080004000800000010000000020008000c000400080000000a00000003000000040000000300000062616400',
  'Rust string "hé"': '400000000c000000080009000800040008000000100000000100080009000800040000000a0000000c000000070006000800040006000000040000000300000068c3a900',
  'Rust f64 -0': '3c0000000c000000080009000800040008000000100000000100080009000800040000000a0000000c000000060006000c000400060000000000000000000080',
  'Rust bytes': '3f0000000c000000080009000800040008000000100000000100080009000800040000000a0000000c0000000900060008000400060000000400000003000000010203',
  'Rust void': '340000000c000000080009000800040008000000100000000100080009000800040000000a0000000c0000000a0004000400000006000000',
  'C i32 -5': '3c0000000c00000008000c000700080008000000000000010c00000008000e000700080008000000000000010c000000000006000800040006000000fbffffff',
  'C CallError 3 "bad"': '340000000c00000008000c000700080008000000000000020c00000008000c00080004000800000008000000030000000300000062616400',
  'C string "hé"': '440000000c00000008000c000700080008000000000000010c00000008000e000700080008000000000000070c000000000006000800040006000000040000000300000068c3a900',
  'C f64 -0': '44000000100000000000000008000c000700080008000000000000010c00000008000e000700080008000000000000060c000000000006000c000400060000000000000000000080',
  'C bytes': '440000000c00000008000c000700080008000000000000010c00000008000e000700080008000000000000090c000000000006000800040006000000040000000300000001020300',
  'C void': '340000000c00000008000c000700080008000000000000010c00000008000c0007000800080000000000000a080000000400040004000000',
  'C bool true': '3c0000000c00000008000c000700080008000000000000010c00000008000e000700080008000000000000080c00000000000600080007000600000000000001',
  'C u64 max': '44000000100000000000000008000c000700080008000000000000010c00000008000e000700080008000000000000040c000000000006000c00040006000000ffffffffffffffff',
};

const guestPayload = (hex: string): Uint8Array => readFrame(new Uint8Array(Buffer.from(hex, 'hex')));

describe('ResultDecoder', () => {
  it('decodes every edge value and a large byte array as codec.ts does', () => {
    for (const value of [...EDGE_VALUES, LARGE_BYTES]) {
      const decoded = expectAgreement(encodeFunctionCallResult({ ok: true, value }), `${value.type} ${String(value.value)}`);
      expect(comparable(decoded!)).toEqual(comparable({ ok: true, value: afterTrip(value) }));
    }
  });

  it('decodes every error code with awkward messages as codec.ts does', () => {
    for (let code = ErrorCode.FunctionNotFound; code <= ErrorCode.MessageTooLarge; code++) {
      for (const message of EDGE_STRINGS) {
        expect(expectAgreement(encodeFunctionCallResult({ ok: false, code, message }))).toEqual({ ok: false, code, message: wellFormed(message) });
      }
    }
  });

  it('reads the layouts of the Rust and C guest runtimes', () => {
    const expected: Record<string, CallResult> = {
      'i32 -5': { ok: true, value: { type: 'i32', value: -5 } },
      'CallError 3 "bad"': { ok: false, code: ErrorCode.WrongArgumentType, message: 'bad' },
      'string "hé"': { ok: true, value: { type: 'string', value: 'hé' } },
      'f64 -0': { ok: true, value: { type: 'f64', value: -0 } },
      bytes: { ok: true, value: { type: 'bytes', value: new Uint8Array([1, 2, 3]) } },
      void: { ok: true, value: { type: 'void', value: undefined } },
      'bool true': { ok: true, value: { type: 'bool', value: true } },
      'u64 max': { ok: true, value: { type: 'u64', value: 2n ** 64n - 1n } },
    };
    for (const [name, hex] of Object.entries(GUEST_FRAMES)) {
      expect(expectAgreement(guestPayload(hex), name), name).toEqual(expected[name.replace(/^(Rust|C) /, '')]);
    }
  });

  it('reads other valid layouts: vtables after tables, shared vtables, unknown fields, absent scalars', () => {
    expect(expectAgreement(vtablesAfterTables())).toEqual({ ok: true, value: { type: 'i32', value: 7 } });
    expect(expectAgreement(vtablesWithExtraFields())).toEqual({ ok: true, value: { type: 'f64', value: -0 } });
    expect(expectAgreement(callErrorWithBadText())).toEqual({
      ok: false, code: ErrorCode.WrongArgumentType, message: new TextDecoder('utf-8', { ignoreBOM: true }).decode(new Uint8Array(BAD_TEXT)),
    });
    expect(expectAgreement(callErrorWithoutMessage())).toEqual({ ok: false, code: ErrorCode.OutOfMemory, message: '' });
    for (const type of ['i32', 'u32', 'i64', 'u64', 'f32', 'f64', 'bool'] as const) {
      const defaults = { i32: 0, u32: 0, i64: 0n, u64: 0n, f32: 0, f64: 0, bool: false };
      expect(expectAgreement(withoutDefaults(type), type)).toEqual({ ok: true, value: { type, value: defaults[type] } });
    }
  });

  it('copies a byte array into the allocator\'s array, which is asked for only after every check', () => {
    const area = new Uint8Array(256);
    const decoder = new ResultDecoder(area);
    writeFrame(area, encodeFunctionCallResult({ ok: true, value: { type: 'bytes', value: new Uint8Array([1, 2, 3]) } }), 'r', 'o');
    const destination = new Uint8Array(8).fill(9);
    const result = decoder.decodeFrame('r', (byteLength) => destination.subarray(2, 2 + byteLength));
    expect(result).toEqual({ ok: true, value: { type: 'bytes', value: new Uint8Array([1, 2, 3]) } });
    expect((result as { value: { value: Uint8Array } }).value.value.buffer).toBe(destination.buffer);
    expect([...destination]).toEqual([9, 9, 1, 2, 3, 9, 9, 9]);

    const refusal = new Error('no room');
    expect(() => decoder.decodeFrame('r', () => { throw refusal; })).toThrow(refusal);
    expect(() => decoder.decodeFrame('r', () => new Uint8Array(2))).toThrow(RangeError);
    // Not asked for other results.
    writeFrame(area, encodeFunctionCallResult({ ok: false, code: ErrorCode.GuestFunctionFailed, message: 'x' }), 'r', 'o');
    expect(decoder.decodeFrame('r', () => { throw refusal; })).toEqual({ ok: false, code: ErrorCode.GuestFunctionFailed, message: 'x' });
  });

  it('gives every byte array a buffer of its own by default, small or large', () => {
    const area = new Uint8Array(8192);
    const decoder = new ResultDecoder(area);
    const large = Uint8Array.from({ length: 5000 }, (_, i) => i);
    writeFrame(area, encodeFunctionCallResult({ ok: true, value: { type: 'bytes', value: large } }), 'r', 'o');
    const [first, second] = [decoder.decodeFrame(), decoder.decodeFrame()].map((r) => (r as { value: { value: Uint8Array } }).value.value);
    expect(first!.buffer).not.toBe(second!.buffer);
    expect([first!.constructor, first!.buffer.byteLength]).toEqual([Uint8Array, 5000]);
    expect(Buffer.compare(first!, large)).toBe(0);
  });

  it('fails on a bad frame header exactly as readFrame', () => {
    for (const size of [0, 1, 2, 3]) {
      const area = new Uint8Array(size);
      expect(() => new ResultDecoder(area).decodeFrame('result')).toThrow(new GuestProtocolError(`result: the ${size}-byte buffer cannot hold a 4-byte frame header`));
    }
    const area = new Uint8Array(64);
    new DataView(area.buffer).setUint32(0, 61, true);
    expect(() => new ResultDecoder(area).decodeFrame()).toThrow(GuestProtocolError);
    expect(() => new ResultDecoder(area).decodeFrame()).toThrow(expect.objectContaining({ message: (() => { try { readFrame(area); } catch (error) { return (error as Error).message; } return ''; })() }));
    expect(() => new ResultDecoder(area).decode(60, 8)).toThrow(RangeError);
  });

  it('copies strings and bytes out of the buffer', () => {
    const area = new Uint8Array(256);
    const decoder = new ResultDecoder(area);
    writeFrame(area, encodeFunctionCallResult({ ok: true, value: { type: 'bytes', value: new Uint8Array([1, 2, 3]) } }), 'r', 'o');
    const bytes = decoder.decodeFrame();
    writeFrame(area, encodeFunctionCallResult({ ok: true, value: { type: 'string', value: 'abc' } }), 'r', 'o');
    const text = decoder.decodeFrame();
    area.fill(0xff);
    expect(bytes).toEqual({ ok: true, value: { type: 'bytes', value: new Uint8Array([1, 2, 3]) } });
    expect(text).toEqual({ ok: true, value: { type: 'string', value: 'abc' } });
    expect((bytes as { value: { value: Uint8Array } }).value.value.buffer).not.toBe(area.buffer);
  });

  it('accepts and rejects overlapping tables exactly at the verifier\'s budget (twice the message size)', () => {
    // A CallError whose two tables claim sizes that overlap each other and the message string, which fills the rest.
    let accepted = 0;
    let rejected = 0;
    for (let size = 52; size <= 200; size += 4) {
      const length = size - 49;
      for (let rootSize = 9; rootSize <= size - 20; rootSize += 7) {
        for (const errorSize of [12, Math.max(12, (size - 32) >> 1), size - 32]) {
          const payload = new Assembler(size)
            .uoffset(0, 20)
            .vtable(4, rootSize, 8, 4)
            .vtable(12, errorSize, 4, 8)
            .table(20, 4).uoffset(24, 32).u8(28, Outcome.CallError)
            .table(32, 12).u32(36, ErrorCode.HostFunctionFailed).uoffset(40, 44)
            .vector(44, new Uint8Array(length).fill(0x61), true)
            .bytes;
          const fits = rootSize + errorSize + 5 + length <= 2 * size;
          expect(expectAgreement(payload, `size ${size}, tables ${rootSize} and ${errorSize}`) !== undefined).toBe(fits);
          if (fits) accepted++;
          else rejected++;
        }
      }
    }
    expect(accepted).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(50);
  });

  it('accepts and rejects a byte array overlapped by its tables exactly at the budget', () => {
    let accepted = 0;
    let rejected = 0;
    for (const count of [0, 5, 40, 200]) {
      const size = 64 + count;
      const spans = (pos: number, min: number): number[] => [...new Set([min, Math.max(min, (size - pos) >> 1), size - pos])];
      for (const rootSize of spans(28, 9)) {
        for (const returnSize of spans(40, 9)) {
          for (const valueSize of spans(52, 8)) {
            const payload = new Assembler(size)
              .uoffset(0, 28)
              .vtable(4, rootSize, 8, 4)
              .vtable(12, returnSize, 8, 4)
              .vtable(20, valueSize, 4)
              .table(28, 4).uoffset(32, 40).u8(36, Outcome.ReturnValue)
              .table(40, 12).uoffset(44, 52).u8(48, ValueType.Bytes)
              .table(52, 20).uoffset(56, 60)
              .vector(60, new Uint8Array(count).fill(7), false)
              .bytes;
            const fits = rootSize + returnSize + valueSize + 4 + count <= 2 * size;
            expect(expectAgreement(payload, `${count} bytes, tables ${rootSize}, ${returnSize}, ${valueSize}`) !== undefined).toBe(fits);
            if (fits) accepted++;
            else rejected++;
          }
        }
      }
    }
    expect(accepted).toBeGreaterThan(10);
    expect(rejected).toBeGreaterThan(10);
  });

  it('rejects every misaligned table, vtable, field, string and vector, and accepts them aligned', () => {
    /**
     * A `ReturnValue` whose member (a string, byte vector or f64, by `tag`)
     * and objects sit `shift` bytes away from their aligned places; `field`
     * moves the fields inside their tables.
     */
    const message = (tag: ValueType, shift: { root?: number; returnValue?: number; member?: number; data?: number; vtable?: number; field?: number; rootField?: number }): Uint8Array => {
      const f = shift.field ?? 0;
      const rf = f + (shift.rootField ?? 0);
      const vtables = 4 + (shift.vtable ?? 0);
      // An f64 member starts 4 mod 8, so that its field is 8-aligned in the frame.
      const memberAt = tag === ValueType.F64 ? 72 : 68;
      const [root, returnValue, member, data] = [28 + (shift.root ?? 0), 48 + (shift.returnValue ?? 0), memberAt + (shift.member ?? 0), 88 + (shift.data ?? 0)];
      const a = new Assembler(128)
        .uoffset(0, root)
        .vtable(vtables, 9 + rf, 8 + rf, 4 + rf)
        .vtable(vtables + 8, 9 + f, 8 + f, 4 + f)
        .vtable(vtables + 16, (tag === ValueType.F64 ? 12 : 8) + f, 4 + f)
        .table(root, vtables).uoffset(root + 4 + rf, returnValue).u8(root + 8 + rf, Outcome.ReturnValue)
        .table(returnValue, vtables + 8).uoffset(returnValue + 4 + f, member).u8(returnValue + 8 + f, tag)
        .table(member, vtables + 16);
      if (tag === ValueType.F64) return a.f64(member + 4 + f, 2.5).bytes;
      return a.uoffset(member + 4 + f, data).vector(data, [104, 105], tag === ValueType.String).bytes;
    };
    for (const tag of [ValueType.String, ValueType.Bytes, ValueType.F64]) {
      for (const part of ['root', 'returnValue', 'member', 'data', 'vtable', 'field'] as const) {
        // (The vtables have room to move by 2 at most.)
        for (const by of part === 'vtable' ? [0, 1, 2] : [0, 1, 2, 3, 4]) {
          const payload = message(tag, { [part]: by });
          let aligned = by % 4 === 0;
          if (part === 'vtable') aligned = by % 2 === 0;
          // The f64 field: 8-aligned in the frame, which is 4 bytes before the payload.
          if (tag === ValueType.F64 && (part === 'member' || part === 'field')) aligned = by % 8 === 0;
          if (tag === ValueType.F64 && part === 'data') aligned = true;
          expect(expectAgreement(payload, `${ValueType[tag]} ${part} +${by}`) !== undefined, `${ValueType[tag]} ${part} +${by}`).toBe(aligned);
        }
      }
      // A misaligned table whose fields are aligned all the same.
      for (const by of [1, 2, 3]) {
        expect(expectAgreement(message(tag, { root: by, rootField: 4 - by })), `root +${by}, fields -${by}`).toBeUndefined();
      }
      expect(expectAgreement(message(tag, { root: 4, rootField: 4 }))).toBeDefined();
    }
  });

  it('keeps vtable sizes and field offsets within the reader\'s signed 16 bits', () => {
    /** A CallError whose root vtable (at the end) has `vtableSize` bytes, and whose root table has `tableSize` bytes with its tag at `tagAt`. */
    const message = (vtableSize: number, tableSize: number, tagAt: number): Uint8Array => {
      const vtable = Math.max(32, (4 + tagAt + 2) & ~1);
      return new Assembler(vtable + vtableSize)
        .uoffset(0, 4)
        .table(4, vtable).uoffset(8, 16).u8(4 + tagAt, Outcome.CallError)
        .table(16, 24).u32(20, ErrorCode.FunctionNotFound)
        .vtable(24, 8, 4)
        .vtable(vtable, tableSize, tagAt, 4)
        .u32(vtable, ((tableSize << 16) | vtableSize) >>> 0)
        .bytes;
    };
    expect(expectAgreement(message(8, 9, 8))).toEqual({ ok: false, code: ErrorCode.FunctionNotFound, message: '' });
    expect(expectAgreement(message(0x7ffe, 9, 8))).toBeDefined();
    expect(expectAgreement(message(0x8000, 9, 8))).toBeUndefined();
    expect(expectAgreement(message(0xfffe, 9, 8))).toBeUndefined();
    expect(expectAgreement(message(8, 0x8004, 0x7fff))).toBeDefined();
    expect(expectAgreement(message(8, 0x8004, 0x8000))).toBeUndefined();
  });
});

describe('ResultDecoder against mutated messages', () => {
  /** Valid results of every kind and layout, to mutate. */
  const seeds: Uint8Array[] = [
    ...EDGE_VALUES.filter((value) => value.type !== 'string' || value.value.length < 40).map((value) => encodeFunctionCallResult({ ok: true, value })),
    encodeFunctionCallResult({ ok: false, code: ErrorCode.GuestFunctionFailed, message: 'nope' }),
    encodeFunctionCallResult({ ok: false, code: ErrorCode.MessageTooLarge, message: '' }),
    ...Object.values(GUEST_FRAMES).map(guestPayload),
    vtablesAfterTables(),
    vtablesWithExtraFields(),
    callErrorWithBadText(),
    callErrorWithoutMessage(),
    ...(['i32', 'f64', 'bool'] as const).map(withoutDefaults),
  ];

  it('agrees with codec.ts on every mutant: the same value, or the same GuestProtocolError', () => {
    const random = prng(0x5eed);
    const int = (bound: number): number => Math.floor(random() * bound);
    let accepted = 0;
    const iterations = 20_000;
    for (let i = 0; i < iterations; i++) {
      const bytes = mutateMessage(seeds[int(seeds.length)]!, random);
      if (expectAgreement(bytes, `mutant ${i}`) !== undefined) accepted++;
    }
    // Both paths must have had plenty of work.
    expect(accepted).toBeGreaterThan(iterations / 20);
    expect(accepted).toBeLessThan(iterations - iterations / 20);
  }, 120_000);

  it('agrees with codec.ts on random valid results', () => {
    const random = prng(99);
    for (let i = 0; i < 2000; i++) {
      const type = [...PARAMETER_TYPE_LIST, 'void' as const][Math.floor(random() * 10)]!;
      expectAgreement(encodeFunctionCallResult({ ok: true, value: randomValue(random, type, 100) }));
    }
  });
});

import { describe, expect, it } from 'vitest';
import { GuestProtocolError } from '../../src/errors.js';
import { CallDecoder } from '../../src/protocol/call-decoder.js';
import { decodeFunctionCall, encodeFunctionCall, type FunctionCallMessage } from '../../src/protocol/codec.js';
import { readFrame, writeFrame } from '../../src/protocol/framing.js';
import { ValueType } from '../../src/protocol/generated/hyperlight/wire/value-type.js';
import { VALUE_TYPES, type TypedValue } from '../../src/protocol/values.js';
import { afterTrip, EDGE_STRINGS, EDGE_VALUES, LARGE_BYTES, PARAMETER_TYPE_LIST, randomValue, wellFormed } from './fast-codec-cases.js';
import { Assembler, framedWithJunk, mutateMessage, outcome, prng } from './helpers.js';

/** `call` with byte arrays as base64 text (vitest compares a megabyte array element by element, slowly). */
function comparable(call: FunctionCallMessage): unknown {
  const args = call.args.map((arg) => (arg.type === 'bytes' ? { type: 'bytes', base64: Buffer.from(arg.value).toString('base64'), view: arg.value.constructor.name } : arg));
  return { ...call, args };
}

/**
 * Decodes `payload` with codec.ts and with the in-place decoder (in frames
 * followed by zeros or junk, and the fast path alone) and checks they agree:
 * the same call, or the same GuestProtocolError with the same message.
 * @returns codec.ts's call, or `undefined` when it threw.
 */
function expectAgreement(payload: Uint8Array, label = ''): FunctionCallMessage | undefined {
  const old = outcome(() => decodeFunctionCall(payload), comparable);
  const areas = framedWithJunk(payload);
  for (const fast of areas.map((area) => outcome(() => new CallDecoder(area).decodeFrame(), comparable))) {
    if ('error' in old) {
      expect(old.error, label).toBeInstanceOf(GuestProtocolError);
      expect('error' in fast ? fast.error : fast.result, label).toEqual(old.error);
      expect((fast as { error: Error }).error.message, label).toBe((old.error as Error).message);
    } else {
      expect(fast, label).toEqual(old);
    }
  }
  // The fast path answers exactly when codec.ts does (it never leans on the fallback to accept).
  const fastPath = new CallDecoder(areas[1]!).tryDecode(4, payload.byteLength);
  expect(fastPath === undefined ? undefined : comparable(fastPath), label).toEqual('error' in old ? undefined : old.result);
  return 'error' in old ? undefined : decodeFunctionCall(payload);
}

/** What `call` decodes as after the trip. */
const expected = (call: FunctionCallMessage): unknown => comparable({ ...call, functionName: wellFormed(call.functionName), args: call.args.map(afterTrip) });

/**
 * `Add(7, 7) -> i32` whose two arguments are one `Argument` table (both vector
 * entries point at it), with every vtable after its table; `tagged: false`
 * leaves the union's tag out of the `Argument` vtable (malformed: the value
 * is there but its type is NONE).
 */
function sharedArgumentTable(tagged = true): Uint8Array {
  return new Assembler(84)
    .uoffset(0, 4)
    .table(4, 18).uoffset(8, 28).uoffset(12, 36).u8(16, ValueType.I32)
    .vtable(18, 13, 4, 8, 12)
    .vector(28, [0x41, 0x64, 0x64], true)
    .u32(36, 2).uoffset(40, 48).uoffset(44, 48)
    .table(48, 58).uoffset(52, 68).u8(56, ValueType.I32)
    .vtable(58, 9, tagged ? 8 : 0, 4)
    .table(68, 76).u32(72, 7)
    .vtable(76, 8, 4)
    .bytes;
}

/** A call of `Tick() -> void` whose vtable leaves out the `arguments` field. */
function withoutArguments(): Uint8Array {
  return new Assembler(36)
    .uoffset(0, 4)
    .table(4, 14).uoffset(8, 24).u8(12, ValueType.Void)
    .vtable(14, 9, 4, 0, 8)
    .vector(24, [0x54, 0x69, 0x63, 0x6b], true)
    .bytes;
}

describe('CallDecoder', () => {
  it('decodes every edge value as an argument, and all of them in one call, as codec.ts does', () => {
    for (const value of EDGE_VALUES) {
      const call: FunctionCallMessage = { functionName: `Echo_${value.type}`, args: [value], returnType: value.type };
      expect(comparable(expectAgreement(encodeFunctionCall(call), `${value.type} ${String(value.value)}`)!)).toEqual(expected(call));
    }
    const all: FunctionCallMessage = { functionName: 'All', args: EDGE_VALUES.filter((v) => v.type !== 'void'), returnType: 'void' };
    expect(comparable(expectAgreement(encodeFunctionCall(all))!)).toEqual(expected(all));
    const large: FunctionCallMessage = { functionName: 'Large', args: [LARGE_BYTES, { type: 'string', value: 'x'.repeat(5000) }], returnType: 'bytes' };
    expect(comparable(expectAgreement(encodeFunctionCall(large))!)).toEqual(expected(large));
  });

  it('decodes every return type, no arguments and awkward names', () => {
    for (const returnType of VALUE_TYPES) expectAgreement(encodeFunctionCall({ functionName: 'NoArguments', args: [], returnType }));
    for (const functionName of EDGE_STRINGS) {
      const call: FunctionCallMessage = { functionName, args: [{ type: 'bool', value: true }], returnType: 'bool' };
      expect(expectAgreement(encodeFunctionCall(call))).toEqual({ ...call, functionName: wellFormed(functionName) });
    }
  });

  it('reads other valid layouts (no arguments vector, shared tables, vtables after tables) and rejects a union without its tag', () => {
    expect(expectAgreement(withoutArguments())).toEqual({ functionName: 'Tick', args: [], returnType: 'void' });
    const seven: TypedValue = { type: 'i32', value: 7 };
    expect(expectAgreement(sharedArgumentTable())).toEqual({ functionName: 'Add', args: [seven, seven], returnType: 'i32' });
    expect(expectAgreement(sharedArgumentTable(false))).toBeUndefined();
  });

  it('accepts and rejects arguments aliasing one table exactly at the verifier\'s budget (twice the message size)', () => {
    const count = 20;
    /** `Add` with `count` arguments that are all one `Argument` table, then `padding` bytes. */
    const aliased = (padding: number): Uint8Array => {
      const argument = 40 + 4 * count;
      const message = new Assembler(argument + 36 + padding)
        .uoffset(0, 4)
        .table(4, 18).uoffset(8, 28).uoffset(12, 36).u8(16, ValueType.I32)
        .vtable(18, 13, 4, 8, 12)
        .vector(28, [0x41, 0x64, 0x64], true)
        .u32(36, count)
        .table(argument, argument + 10).uoffset(argument + 4, argument + 20).u8(argument + 8, ValueType.I32)
        .vtable(argument + 10, 9, 8, 4)
        .table(argument + 20, argument + 28).u32(argument + 24, 7)
        .vtable(argument + 28, 8, 4);
      // uoffsets point forward, so the vector comes before the table its entries share.
      for (let i = 0; i < count; i++) message.uoffset(40 + 4 * i, argument);
      return message.bytes;
    };
    // Visited: the call table, the name, the vector, and for each entry its Argument and I32Value tables.
    const visited = 13 + (4 + 3 + 1) + (4 + 4 * count) + count * (9 + 8);
    const padding = Math.ceil(visited / 2) - (76 + 4 * count);
    expect(expectAgreement(aliased(padding))?.args).toHaveLength(count);
    expect(expectAgreement(aliased(padding - 1))).toBeUndefined();
  });

  it('fails on a bad frame header exactly as readFrame, and copies strings and bytes out of the buffer', () => {
    for (const size of [0, 1, 3]) {
      expect(() => new CallDecoder(new Uint8Array(size)).decodeFrame('host call')).toThrow(new GuestProtocolError(`host call: the ${size}-byte buffer cannot hold a 4-byte frame header`));
    }
    const area = new Uint8Array(256);
    new DataView(area.buffer).setUint32(0, 253, true);
    expect(() => new CallDecoder(area).decodeFrame()).toThrow((() => { try { readFrame(area); } catch (error) { return (error as Error).message; } return ''; })());
    expect(() => new CallDecoder(area).decode(250, 8)).toThrow(RangeError);

    const args: TypedValue[] = [{ type: 'string', value: 'abc' }, { type: 'bytes', value: Uint8Array.of(1, 2, 3) }];
    writeFrame(area, encodeFunctionCall({ functionName: 'F', args, returnType: 'void' }), 'c', 'o');
    const call = new CallDecoder(area).decodeFrame();
    area.fill(0xff);
    expect(call).toEqual({ functionName: 'F', args, returnType: 'void' });
    expect((call.args[1]!.value as Uint8Array).buffer).not.toBe(area.buffer);
  });
});

describe('CallDecoder against mutated messages', () => {
  const random = prng(0xca11);
  /** Valid calls of every kind and layout, to mutate. */
  const seeds: Uint8Array[] = [
    ...EDGE_VALUES.filter((value) => value.type !== 'string' || value.value.length < 40)
      .map((value) => encodeFunctionCall({ functionName: 'F', args: [value], returnType: value.type })),
    encodeFunctionCall({ functionName: 'Add', args: [{ type: 'i32', value: 1 }, { type: 'i32', value: 2 }], returnType: 'i32' }),
    encodeFunctionCall({ functionName: 'Many', args: PARAMETER_TYPE_LIST.map((type) => randomValue(random, type, 6)), returnType: 'string' }),
    encodeFunctionCall({ functionName: '', args: [], returnType: 'void' }),
    withoutArguments(),
    sharedArgumentTable(),
  ];

  it('agrees with codec.ts on every mutant: the same call, or the same GuestProtocolError', () => {
    const int = (bound: number): number => Math.floor(random() * bound);
    let accepted = 0;
    const iterations = 20_000;
    for (let i = 0; i < iterations; i++) {
      if (expectAgreement(mutateMessage(seeds[int(seeds.length)]!, random), `mutant ${i}`) !== undefined) accepted++;
    }
    // Both paths must have had plenty of work.
    expect(accepted).toBeGreaterThan(iterations / 20);
    expect(accepted).toBeLessThan(iterations - iterations / 20);
  }, 120_000);

  it('agrees with codec.ts on random valid calls', () => {
    for (let i = 0; i < 2000; i++) {
      const args = Array.from({ length: Math.floor(random() * 12) }, () => randomValue(random, PARAMETER_TYPE_LIST[Math.floor(random() * 9)]!, 60));
      const call: FunctionCallMessage = { functionName: `f${i}`, args, returnType: VALUE_TYPES[Math.floor(random() * VALUE_TYPES.length)]! };
      expect(comparable(expectAgreement(encodeFunctionCall(call))!)).toEqual(expected(call));
    }
  });
});

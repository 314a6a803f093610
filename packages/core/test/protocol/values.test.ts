import { describe, expect, expectTypeOf, it } from 'vitest';
import { ValueType } from '../../src/protocol/generated/hyperlight/wire/value-type.js';
import { Value } from '../../src/protocol/generated/hyperlight/wire/value.js';
import {
  checkValue, describeValue, fromWireValueType, PARAMETER_TYPES, toWireValueType, VALUE_TYPES,
  type TypedValue, type ValueOf, type ValueTypeName,
} from '../../src/protocol/values.js';

describe('value types', () => {
  it('map to ValueType and back, and each number is the tag of the matching Value member', () => {
    for (const name of VALUE_TYPES) {
      const wire = toWireValueType(name);
      expect(fromWireValueType(wire)).toBe(name);
      expect(Value[wire]).toMatch(/Value$/);
      expect(Value[wire]!.toLowerCase().replace('value', '')).toBe(ValueType[wire]!.toLowerCase());
    }
    expect(new Set(VALUE_TYPES.map(toWireValueType)).size).toBe(VALUE_TYPES.length);
  });

  it('reject None and numbers outside the enum', () => {
    for (const wire of [ValueType.None, 11, 255, -1, 1.5]) expect(fromWireValueType(wire)).toBeUndefined();
  });

  it('exclude void from parameters', () => {
    expect(PARAMETER_TYPES).toEqual(VALUE_TYPES.filter((t) => t !== 'void'));
  });

  it('have the documented JavaScript types', () => {
    expectTypeOf<ValueOf<'i32'>>().toEqualTypeOf<number>();
    expectTypeOf<ValueOf<'f32'>>().toEqualTypeOf<number>();
    expectTypeOf<ValueOf<'i64'>>().toEqualTypeOf<bigint>();
    expectTypeOf<ValueOf<'u64'>>().toEqualTypeOf<bigint>();
    expectTypeOf<ValueOf<'string'>>().toEqualTypeOf<string>();
    expectTypeOf<ValueOf<'bool'>>().toEqualTypeOf<boolean>();
    expectTypeOf<ValueOf<'bytes'>>().toEqualTypeOf<Uint8Array>();
    expectTypeOf<ValueOf<'void'>>().toEqualTypeOf<undefined>();
    expectTypeOf<ValueOf<'i32' | 'string'>>().toEqualTypeOf<number | string>();
    expectTypeOf<Extract<TypedValue, { type: 'u64' }>['value']>().toEqualTypeOf<bigint>();
  });
});

describe('checkValue', () => {
  const accept: [ValueTypeName, unknown][] = [
    ['i32', 0], ['i32', -0], ['i32', -(2 ** 31)], ['i32', 2 ** 31 - 1],
    ['u32', 0], ['u32', 2 ** 32 - 1],
    ['i64', 0n], ['i64', -(2n ** 63n)], ['i64', 2n ** 63n - 1n],
    ['u64', 0n], ['u64', 2n ** 64n - 1n],
    ['f32', 1.1], ['f32', NaN], ['f32', -Infinity], ['f32', 1e40],
    ['f64', -0], ['f64', NaN], ['f64', Infinity], ['f64', Number.MIN_VALUE],
    ['string', ''], ['string', '🦀\0'],
    ['bool', true], ['bool', false],
    ['bytes', new Uint8Array()], ['bytes', Buffer.from('abc')],
    ['void', undefined],
  ];
  const reject: [ValueTypeName, unknown, RegExp][] = [
    ['i32', 1.5, /not an integer/], ['i32', NaN, /not an integer/], ['i32', Infinity, /not an integer/],
    ['i32', 2 ** 31, /out of range for i32/], ['i32', -(2 ** 31) - 1, /out of range/], ['i32', 1n, /not a bigint/],
    ['i32', '1', /expected a number/], ['i32', undefined, /expected a number/],
    ['u32', -1, /out of range for u32/], ['u32', 2 ** 32, /out of range/],
    ['i64', 1, /expected a bigint \(i64 does not accept numbers\)/], ['i64', 2n ** 63n, /out of range for i64/],
    ['i64', -(2n ** 63n) - 1n, /out of range/], ['i64', '1', /expected a bigint/],
    ['u64', 0, /does not accept numbers/], ['u64', -1n, /out of range for u64/], ['u64', 2n ** 64n, /out of range/],
    ['f32', 1n, /expected a number/], ['f64', '1', /expected a number/], ['f64', null, /expected a number/],
    ['string', 1, /expected a string/], ['string', null, /expected a string/],
    ['bool', 1, /expected a boolean/], ['bool', 'true', /expected a boolean/],
    ['bytes', [1, 2], /expected a Uint8Array/], ['bytes', new ArrayBuffer(2), /Uint8Array/], ['bytes', new Int8Array(2), /Uint8Array/],
    ['void', null, /expected undefined/], ['void', 0, /expected undefined/],
    ['nope' as ValueTypeName, 1, /unknown value type "nope"/], ['toString' as ValueTypeName, 1, /unknown value type/],
  ];
  it.each(accept)('accepts %s %o', (type, value) => expect(checkValue(type, value)).toBeUndefined());
  it.each(reject)('rejects %s %o', (type, value, reason) => expect(checkValue(type, value)).toMatch(reason));
});

describe('describeValue', () => {
  it.each([
    ['abc', 'string "abc"'],
    ['a"b\n', 'string "a\\"b\\n"'],
    ['x'.repeat(50), `string "${'x'.repeat(40)}…" (length 50)`],
    [1.5, 'number 1.5'],
    [-0, 'number -0'],
    [NaN, 'number NaN'],
    [5n, 'bigint 5n'],
    [true, 'boolean true'],
    [undefined, 'undefined'],
    [null, 'null'],
    [new Uint8Array(3), 'Uint8Array(3)'],
    [Buffer.alloc(2), 'Buffer(2)'],
    [new ArrayBuffer(8), 'ArrayBuffer(8)'],
    [new DataView(new ArrayBuffer(4)), 'DataView(4)'],
    [[1, 2], 'array(2)'],
    [{}, 'object'],
    [new Map(), 'object Map'],
    [Object.create(null), 'object'],
    [Symbol('s'), 'symbol s'],
    [function named() {}, 'function named'],
  ])('describes %o', (value, text) => expect(describeValue(value)).toBe(text));

  it('never throws, even for hostile objects', () => {
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const hostile = new Proxy({}, { get: () => { throw new Error('boom'); } });
    expect(describeValue(revoked.proxy)).toBe('object');
    expect(describeValue(hostile)).toBe('object');
  });
});

/**
 * The values that cross the host/guest boundary, as JavaScript sees them,
 * and their mapping to the wire `ValueType` (schema/values.fbs).
 */
import { ValueType } from './generated/hyperlight/wire/value-type.js';

/** Every value type name, in wire order (`ValueType` 1..10). */
export const VALUE_TYPES = ['i32', 'u32', 'i64', 'u64', 'f32', 'f64', 'string', 'bool', 'bytes', 'void'] as const;

/** The declared type of a parameter or return value. */
export type ValueTypeName = (typeof VALUE_TYPES)[number];

/** A type a parameter may have: every value type but `void`, which only a function may return. */
export type ParameterTypeName = Exclude<ValueTypeName, 'void'>;

/** Every parameter type name. */
export const PARAMETER_TYPES: readonly ParameterTypeName[] = VALUE_TYPES.filter(
  (type): type is ParameterTypeName => type !== 'void',
);

/** The JavaScript type of each value type. */
interface JsTypes {
  i32: number;
  u32: number;
  i64: bigint;
  u64: bigint;
  f32: number;
  f64: number;
  string: string;
  bool: boolean;
  bytes: Uint8Array;
  void: undefined;
}

/**
 * The JavaScript type that carries a value of type `T` (distributes over unions):
 * 32-bit integers and floats are `number`, 64-bit integers `bigint`, `bytes` a `Uint8Array`.
 */
export type ValueOf<T extends ValueTypeName> = { [K in ValueTypeName]: JsTypes[K] }[T];

/** A value together with its declared type; `type` discriminates. */
export type TypedValue = { [K in ValueTypeName]: { readonly type: K; readonly value: ValueOf<K> } }[ValueTypeName];

/** The wire number of each type name. */
const WIRE_TYPES: Readonly<Record<ValueTypeName, ValueType>> = {
  i32: ValueType.I32,
  u32: ValueType.U32,
  i64: ValueType.I64,
  u64: ValueType.U64,
  f32: ValueType.F32,
  f64: ValueType.F64,
  string: ValueType.String,
  bool: ValueType.Bool,
  bytes: ValueType.Bytes,
  void: ValueType.Void,
};

const TYPE_NAMES: ReadonlyMap<number, ValueTypeName> = new Map(VALUE_TYPES.map((name) => [WIRE_TYPES[name], name]));

/**
 * The wire `ValueType` of a type name (also the tag of its `Value` union member).
 * @throws never
 */
export function toWireValueType(type: ValueTypeName): ValueType {
  return WIRE_TYPES[type];
}

/**
 * The type name of a wire `ValueType` (or `Value` union tag).
 * @returns `undefined` for `None` and numbers outside the enum.
 * @throws never
 */
export function fromWireValueType(wire: number): ValueTypeName | undefined {
  return TYPE_NAMES.get(wire);
}

/** Inclusive ranges of the integer types. */
const NUMBER_RANGES = { i32: [-(2 ** 31), 2 ** 31 - 1], u32: [0, 2 ** 32 - 1] } as const;
const BIGINT_RANGES = { i64: [-(2n ** 63n), 2n ** 63n - 1n], u64: [0n, 2n ** 64n - 1n] } as const;

function checkNumberInteger(type: keyof typeof NUMBER_RANGES, value: unknown): string | undefined {
  if (typeof value !== 'number') return typeof value === 'bigint' ? 'expected a number, not a bigint' : 'expected a number';
  if (!Number.isInteger(value)) return 'not an integer';
  const [min, max] = NUMBER_RANGES[type];
  return value < min || value > max ? `out of range for ${type} (${min} to ${max})` : undefined;
}

function checkBigInt(type: keyof typeof BIGINT_RANGES, value: unknown): string | undefined {
  // A number above 2**53 has already lost precision, so numbers are refused rather than converted.
  if (typeof value !== 'bigint') return typeof value === 'number' ? `expected a bigint (${type} does not accept numbers)` : 'expected a bigint';
  const [min, max] = BIGINT_RANGES[type];
  return value < min || value > max ? `out of range for ${type} (${min} to ${max})` : undefined;
}

const expect = (what: string, ok: (value: unknown) => boolean) => (value: unknown): string | undefined =>
  ok(value) ? undefined : `expected ${what}`;

const CHECKS: Readonly<Record<ValueTypeName, (value: unknown) => string | undefined>> = {
  i32: (value) => checkNumberInteger('i32', value),
  u32: (value) => checkNumberInteger('u32', value),
  i64: (value) => checkBigInt('i64', value),
  u64: (value) => checkBigInt('u64', value),
  f32: expect('a number', (value) => typeof value === 'number'),
  f64: expect('a number', (value) => typeof value === 'number'),
  string: expect('a string', (value) => typeof value === 'string'),
  bool: expect('a boolean', (value) => typeof value === 'boolean'),
  bytes: expect('a Uint8Array', (value) => value instanceof Uint8Array),
  void: expect('undefined', (value) => value === undefined),
};

/**
 * Checks that `value` can be sent as `type`. `f32` accepts any number (it is rounded
 * with `Math.fround`); strings are encoded as UTF-8, with unpaired surrogates becoming U+FFFD.
 * @returns `undefined` when it can, else a short reason such as `"not an integer"`.
 * @throws never
 * @example
 * checkValue('u64', 5);    // 'expected a bigint (u64 does not accept numbers)'
 * checkValue('u64', 5n);   // undefined
 */
export function checkValue(type: ValueTypeName, value: unknown): string | undefined {
  const check = Object.hasOwn(CHECKS, type) ? CHECKS[type] : undefined;
  return check ? check(value) : `unknown value type ${JSON.stringify(String(type))}`;
}

/** Longest string excerpt {@link describeValue} quotes, in UTF-16 units. */
const MAX_QUOTED_LENGTH = 40;

/**
 * Describes any JavaScript value for an error message, e.g. `string "abc"`,
 * `number 1.5`, `bigint 5n`, `Uint8Array(3)`, `undefined`.
 * @throws never (not even for proxies or objects with throwing getters)
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string': {
      const excerpt = value.length > MAX_QUOTED_LENGTH ? `${value.slice(0, MAX_QUOTED_LENGTH)}…` : value;
      return `string ${JSON.stringify(excerpt)}${excerpt === value ? '' : ` (length ${value.length})`}`;
    }
    case 'number':
      return `number ${Object.is(value, -0) ? '-0' : String(value)}`;
    case 'bigint':
      return `bigint ${value}n`;
    case 'boolean':
      return `boolean ${value}`;
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return `symbol ${value.description ?? ''}`.trimEnd();
    case 'function':
      return value.name ? `function ${value.name}` : 'function';
    default:
      return describeObject(value as object | null);
  }
}

function describeObject(value: object | null): string {
  if (value === null) return 'null';
  try {
    if (ArrayBuffer.isView(value)) {
      return `${value.constructor.name}(${'length' in value ? String(value.length) : value.byteLength})`;
    }
    if (value instanceof ArrayBuffer) return `ArrayBuffer(${value.byteLength})`;
    if (Array.isArray(value)) return `array(${value.length})`;
    const name: unknown = value.constructor?.name;
    return typeof name === 'string' && name !== 'Object' && name !== '' ? `object ${name}` : 'object';
  } catch {
    return 'object';
  }
}

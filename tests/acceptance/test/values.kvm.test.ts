import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MultiUseSandbox, ValueTypeName } from '@hyperlight-ts/core';
import { forEachGuest, simpleSandbox } from './support/guests.js';

/** Largest finite f32. */
const F32_MAX = 3.4028234663852886e38;
/** Smallest normal f32 and f64. */
const F32_MIN_NORMAL = 2 ** -126;
const F64_MIN_NORMAL = 2 ** -1022;
/** Smallest subnormal f32 (f64's is Number.MIN_VALUE). */
const F32_MIN_SUBNORMAL = 2 ** -149;
const F32_EPSILON = 2 ** -23;

/** Values per type, including the edges that break naive encoders. */
const CASES: Record<Exclude<ValueTypeName, 'void'>, readonly unknown[]> = {
  i32: [0, 1, -1, 2 ** 31 - 1, -(2 ** 31)],
  u32: [0, 1, 2 ** 32 - 1],
  i64: [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n)],
  u64: [0n, 1n, 2n ** 64n - 1n],
  f32: [
    0, -0, 1, -1, 1.5, Math.fround(Math.PI), -Math.fround(Math.PI), F32_MAX, -F32_MAX, F32_MIN_NORMAL, -F32_MIN_NORMAL,
    F32_MIN_SUBNORMAL, -F32_MIN_SUBNORMAL, F32_EPSILON, Infinity, -Infinity, NaN,
  ],
  f64: [
    0, -0, 1, -1, Math.PI, -Math.PI, Number.MAX_VALUE, -Number.MAX_VALUE, F64_MIN_NORMAL, -F64_MIN_NORMAL,
    Number.MIN_VALUE, -Number.MIN_VALUE, Number.EPSILON, Infinity, -Infinity, NaN,
  ],
  string: ['', 'hello', 'héllo wörld', '日本語のテキスト', '🦀 and 🐍', 'nul\u0000inside', 'x'.repeat(10_000)],
  bool: [true, false],
  bytes: [
    new Uint8Array(),
    Uint8Array.of(0x7f),
    Uint8Array.of(0, 1, 2, 255),
    Uint8Array.from({ length: 256 }, (_, i) => i),
    Uint8Array.from({ length: 32 * 1024 }, (_, i) => (i * 31 + (i >> 8)) & 0xff),
  ],
};

const GUEST_ECHO: Record<keyof typeof CASES, string> = {
  i32: 'EchoI32', u32: 'EchoU32', i64: 'EchoI64', u64: 'EchoU64', f32: 'EchoF32',
  f64: 'EchoF64', string: 'EchoString', bool: 'EchoBool', bytes: 'EchoBytes',
};

/** `toBe` is `Object.is`: it tells -0 from 0 and accepts NaN for NaN. */
function expectSame(type: keyof typeof CASES, actual: unknown, expected: unknown): void {
  if (type === 'bytes') expect(actual).toEqual(expected);
  else expect(actual, `${type} ${String(expected)}`).toBe(expected);
}

it('the f32 cases are exactly representable as f32', () => {
  for (const value of CASES.f32) expect(Math.fround(value as number)).toBe(value);
  expect(F32_MAX).toBe(Math.fround(F32_MAX));
  expect(Math.fround(F32_MAX * (1 + 2 ** -23))).toBe(Infinity); // the next step up overflows
  expect(F32_MIN_SUBNORMAL / 2).not.toBe(0);
  expect(Math.fround(F32_MIN_SUBNORMAL / 2)).toBe(0); // nothing below it
});

forEachGuest('every value type round-trips', (language) => {
  let sandbox: MultiUseSandbox;
  beforeAll(() => {
    sandbox = simpleSandbox(language);
  });
  afterAll(() => sandbox?.dispose());

  for (const [type, values] of Object.entries(CASES) as [keyof typeof CASES, unknown[]][]) {
    it(`host -> guest -> host: ${type}`, () => {
      for (const value of values) expectSame(type, sandbox.call(GUEST_ECHO[type], type, value), value);
    });

    it(`guest -> host -> guest: ${type}`, () => {
      const fn = `RoundTripHost${GUEST_ECHO[type].slice('Echo'.length)}`;
      for (const value of values) expectSame(type, sandbox.call(fn, type, value), value);
    });
  }

  it('an f32 argument is rounded to the nearest f32 on the way in', () => {
    expect(sandbox.call('EchoF32', 'f32', Math.PI)).toBe(Math.fround(Math.PI));
    expect(sandbox.call('EchoF32', 'f32', 0.1)).toBe(Math.fround(0.1));
    expect(sandbox.call('EchoF32', 'f32', 1e39)).toBe(Infinity);
    expect(sandbox.call('EchoF32', 'f32', -1e39)).toBe(-Infinity);
    expect(sandbox.call('EchoF32', 'f32', 2 ** -150 * 1.5)).toBe(F32_MIN_SUBNORMAL);
    expect(sandbox.call('RoundTripHostF32', 'f32', Number.MAX_VALUE)).toBe(Infinity);
  });

  it('void', () => {
    expect(sandbox.call('VoidFunction', 'void')).toBeUndefined();
  });

  it('several arguments of mixed types', () => {
    expect(sandbox.call('Add', 'i32', 40, 2)).toBe(42);
    expect(sandbox.call('Add', 'i32', 2 ** 31 - 1, 1)).toBe(-(2 ** 31)); // wraps
    expect(sandbox.call('Concat', 'string', 'micro', 'VM')).toBe('microVM');
  });

  it('a byte array the guest mutates comes back mutated; the caller\'s copy does not change', () => {
    const input = Uint8Array.from({ length: 10 }, (_, i) => i + 1);
    expect(sandbox.call('SetByteArrayToZero', 'bytes', input)).toEqual(new Uint8Array(10));
    expect(input).toEqual(Uint8Array.from({ length: 10 }, (_, i) => i + 1));
    expect(sandbox.call('SetByteArrayToZero', 'bytes', new Uint8Array())).toEqual(new Uint8Array());
    expect(sandbox.call('SetByteArrayToZero', 'bytes', new Uint8Array(50_000).fill(0xff))).toEqual(new Uint8Array(50_000));
  });
});

forEachGuest('eleven arguments', (language) => {
  /** Runs PrintElevenArgs in a sandbox that captures prints; returns the result and the printed text. */
  function printElevenArgs(...args: unknown[]): { result: string; printed: string } {
    const chunks: string[] = [];
    using sandbox = simpleSandbox(language, { print: (text) => chunks.push(text) });
    const result = sandbox.call('PrintElevenArgs', 'string', ...args);
    return { result, printed: chunks.join('') };
  }

  it('PrintElevenArgs formats, prints and returns all eleven', () => {
    const expected = 'one -2 -3000000000 4 5000000000 6.500 7.250 true nine 10 dead01';
    const { result, printed } = printElevenArgs('one', -2, -3_000_000_000n, 4, 5_000_000_000n, 6.5, 7.25, true, 'nine', 10, Uint8Array.of(0xde, 0xad, 0x01));
    expect(result).toBe(expected);
    expect(printed).toBe(expected);
  });

  it('PrintElevenArgs with the extremes of every type', () => {
    const expected =
      ' -2147483648 -9223372036854775808 4294967295 18446744073709551615 ' +
      '340282346638528859811704183484516925440.000 -0.000 false héllo 日本 2147483647 00ff80';
    const { result, printed } = printElevenArgs(
      '', -(2 ** 31), -(2n ** 63n), 2 ** 32 - 1, 2n ** 64n - 1n, F32_MAX, -Number.MIN_VALUE, false, 'héllo 日本', 2 ** 31 - 1,
      Uint8Array.of(0x00, 0xff, 0x80),
    );
    expect(result).toBe(expected);
    expect(printed).toBe(expected);
  });

  it('PrintElevenArgs rounds to three decimals and prints infinities and NaN in the guest language\'s words', () => {
    const { result } = printElevenArgs('x', 0, 0n, 0, 0n, -Infinity, NaN, true, '', 0, new Uint8Array());
    expect(result).toBe(language === 'rust' ? 'x 0 0 0 0 -inf NaN true  0 ' : 'x 0 0 0 0 -inf nan true  0 ');
    expect(printElevenArgs('x', 0, 0n, 0, 0n, 2.0004, -1.2346, true, 'y', 0, new Uint8Array()).result)
      .toBe('x 0 0 0 0 2.000 -1.235 true y 0 ');
  });

});


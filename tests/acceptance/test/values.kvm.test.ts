import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MultiUseSandbox, ValueTypeName } from '@hyperlight-ts/core';
import { forEachGuest, simpleSandbox } from './support/guests.js';

/** Values per type, including the edges that break naive encoders. */
const CASES: Record<Exclude<ValueTypeName, 'void'>, readonly unknown[]> = {
  i32: [0, 1, -1, 2 ** 31 - 1, -(2 ** 31)],
  u32: [0, 1, 2 ** 32 - 1],
  i64: [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n)],
  u64: [0n, 1n, 2n ** 64n - 1n],
  f32: [0, -0, 1.5, -1, Math.fround(Math.PI), Infinity, -Infinity, NaN, Math.fround(3.4028234663852886e38), Math.fround(1.401298464324817e-45)],
  f64: [0, -0, 1, -1, Math.PI, -Math.PI, Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, Infinity, -Infinity, NaN],
  string: ['', 'hello', 'héllo wörld', '日本語のテキスト', '🦀 and 🐍', 'nul\u0000inside', 'x'.repeat(10_000)],
  bool: [true, false],
  bytes: [new Uint8Array(), Uint8Array.of(0, 1, 2, 255), new Uint8Array(4096).map((_, i) => i & 0xff)],
};

const GUEST_ECHO: Record<keyof typeof CASES, string> = {
  i32: 'EchoI32', u32: 'EchoU32', i64: 'EchoI64', u64: 'EchoU64', f32: 'EchoF32',
  f64: 'EchoF64', string: 'EchoString', bool: 'EchoBool', bytes: 'EchoBytes',
};

forEachGuest('every value type round-trips', (language) => {
  let sandbox: MultiUseSandbox;
  beforeAll(() => {
    sandbox = simpleSandbox(language);
  });
  afterAll(() => sandbox?.dispose());

  for (const [type, values] of Object.entries(CASES) as [keyof typeof CASES, unknown[]][]) {
    it(`host -> guest -> host: ${type}`, () => {
      for (const value of values) {
        expect(Object.is(sandbox.call(GUEST_ECHO[type], type, value), value) || type === 'bytes').toBe(true);
        if (type === 'bytes') expect(sandbox.call(GUEST_ECHO[type], type, value)).toEqual(value);
      }
    });

    it(`guest -> host -> guest: ${type}`, () => {
      const fn = `RoundTripHost${GUEST_ECHO[type].slice('Echo'.length)}`;
      for (const value of values) {
        const back = sandbox.call(fn, type, value);
        if (type === 'bytes') expect(back).toEqual(value);
        else expect(Object.is(back, value)).toBe(true);
      }
    });
  }

  it('void', () => {
    expect(sandbox.call('VoidFunction', 'void')).toBeUndefined();
  });

  it('several arguments of mixed types', () => {
    expect(sandbox.call('Add', 'i32', 40, 2)).toBe(42);
    expect(sandbox.call('Concat', 'string', 'micro', 'VM')).toBe('microVM');
  });
});

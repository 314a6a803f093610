// A Rust guest with the C library (hyperlight-guest's `libc` feature) and C
// code of its own: fixtures/guests/rust/libcguest. Values are checked against
// what Node computes, with C's formatting rules written out below.
import { expect, it } from 'vitest';
import { GuestBinary, GuestPanicError, PoisonedSandboxError, UninitializedSandbox, type SandboxConfiguration } from '@hyperlight-ts/core';
import { rustGuestPath } from '@hyperlight-ts/fixture-guests';
import { describeHypervisor } from './support/guests.js';
import { thrownAs } from './support/thrown.js';

function libcSandbox(config: SandboxConfiguration = {}) {
  return UninitializedSandbox.create(GuestBinary.fromFile(rustGuestPath('libcguest')), config).evolve();
}

/** C's exponent: a sign and at least two digits. */
function cExponent(e: number): string {
  return `${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** C's `%a` of a finite double that is zero or normal (musl's form: no trailing zeros). */
function hexFloat(x: number): string {
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (x === 0) return `${sign}0x0p+0`;
  const bits = new DataView(new Float64Array([x]).buffer).getBigUint64(0, true);
  const exponent = Number((bits >> 52n) & 0x7ffn) - 1023;
  const fraction = (bits & ((1n << 52n) - 1n)).toString(16).padStart(13, '0').replace(/0+$/, '');
  return `${sign}0x1${fraction ? `.${fraction}` : ''}p${exponent < 0 ? '-' : '+'}${Math.abs(exponent)}`;
}

/** C's `%.<precision>e`. */
function cExp(x: number, precision: number): string {
  const [mantissa = '', exponent = '0'] = x.toExponential(precision).split('e');
  return `${mantissa}e${cExponent(Number(exponent))}`;
}

/** C's `%.<precision>g` (no `#` flag): %e or %f by the exponent, trailing zeros dropped. */
function cG(x: number, precision: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const exponent = Number(x.toExponential(precision - 1).split('e')[1]);
  const strip = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exponent < -4 || exponent >= precision) {
    const [mantissa = ''] = x.toExponential(precision - 1).split('e');
    return `${strip(mantissa)}e${cExponent(exponent)}`;
  }
  return strip(x.toFixed(precision - 1 - exponent));
}

/** What `FormatInRust`/`FormatInC` return: `%a|%g|%.17g|%e`. */
function expectedFormat(x: number): string {
  return `${hexFloat(x)}|${cG(x, 6)}|${cG(x, 17)}|${cExp(x, 6)}`;
}

/** The distance from `x` to the next double away from zero. */
function ulp(x: number): number {
  const a = Math.abs(x);
  if (a === 0) return Number.MIN_VALUE;
  const bits = new DataView(new Float64Array([a]).buffer).getBigUint64(0, true);
  const next = new DataView(new ArrayBuffer(8));
  next.setBigUint64(0, bits + 1n, true);
  return next.getFloat64(0, true) - a;
}

/** Values with no decimal tie at the printed precisions (Node rounds ties up, C to even). */
const NUMBERS = [0.1, 1, -2.5, 1 / 3, 123456789, 1e-5, 6.02214076e23, Math.PI, -1e300, 2 ** -1022, 0];

describeHypervisor('C library in a Rust guest [rust guest]', () => {
  it('the expected strings follow C (spot checks against glibc)', () => {
    expect(expectedFormat(0.1)).toBe('0x1.999999999999ap-4|0.1|0.10000000000000001|1.000000e-01');
    expect(expectedFormat(123456789)).toBe('0x1.d6f3454p+26|1.23457e+08|123456789|1.234568e+08');
    expect(expectedFormat(1)).toBe('0x1p+0|1|1|1.000000e+00');
  });

  it('snprintf %a %g %.17g %e, from Rust and from C, matches C formatting', () => {
    using sandbox = libcSandbox();
    for (const x of NUMBERS) {
      expect(sandbox.call('FormatInRust', 'string', x), String(x)).toBe(expectedFormat(x));
      expect(sandbox.call('FormatInC', 'string', x), String(x)).toBe(expectedFormat(x));
    }
    // An exact tie at %e's 7 digits: C rounds it to even (glibc prints the same).
    expect(sandbox.call('FormatInC', 'string', 65536.125)).toBe('0x1.00002p+16|65536.1|65536.125|6.553612e+04');
    expect(sandbox.call('FormatInC', 'string', Infinity)).toBe('inf|inf|inf|inf');
    expect(sandbox.call('FormatInRust', 'string', -Infinity)).toBe('-inf|-inf|-inf|-inf');
  });

  it('strtod parses hex floats, decimals and specials, with errno and the end', () => {
    using sandbox = libcSandbox();
    const cases: [string, number][] = [
      ['0x1.8p3', 12], ['0x1p-1074', Number.MIN_VALUE], ['-0x1.fffffffffffffp+1023', -Number.MAX_VALUE], ['0x.8', 0.5],
      ['0x1.921fb54442d18p+1', Math.PI], ['0.1', 0.1], ['2.2250738585072011e-308', 2.2250738585072011e-308],
      ['  -1e-5xyz', -1e-5], ['1e400', Infinity], ['-inf', -Infinity], ['junk', 0],
    ];
    for (const [text, value] of cases) expect(sandbox.call('Strtod', 'f64', text), text).toBe(value);
    expect(sandbox.call('Strtod', 'f64', 'nan')).toBeNaN();
    expect(sandbox.call('StrtodEnd', 'string', '  -1e-5xyz')).toBe('7,0');
    expect(sandbox.call('StrtodEnd', 'string', '1e400')).toBe('5,34'); // ERANGE
    expect(sandbox.call('StrtodEnd', 'string', '0x1p-1080')).toBe('9,34'); // underflow to 0
    expect(sandbox.call('StrtodEnd', 'string', 'junk')).toBe('0,22'); // musl: EINVAL when nothing converts
  });

  it('qsort sorts with a Rust comparator', () => {
    using sandbox = libcSandbox();
    const values = Int32Array.from({ length: 1000 }, (_, i) => ((i * 2654435761) | 0) ^ (i << 7));
    values.set([2 ** 31 - 1, -(2 ** 31), 0, -1], 0);
    const sorted = sandbox.call('SortI32', 'bytes', new Uint8Array(values.buffer)) as Uint8Array;
    const got = new Int32Array(sorted.buffer, sorted.byteOffset, sorted.byteLength / 4);
    expect(Array.from(got)).toEqual(Array.from(values).sort((a, b) => a - b));
    expect(sandbox.call('SortI32', 'bytes', new Uint8Array())).toEqual(new Uint8Array());
  });

  it('sin and exp from <math.h> agree with Node within 1 ulp', () => {
    using sandbox = libcSandbox();
    for (const x of [0, 0.5, 1, -1, 3, 10, 100, 1e-10, 12345.678, -700]) {
      for (const [name, reference] of [['Sin', Math.sin], ['Exp', Math.exp]] as const) {
        const got = sandbox.call(name, 'f64', x) as number;
        const want = reference(x);
        if (got === want) continue;
        expect(Math.abs(got - want), `${name}(${x}) = ${got}, Node ${want}`).toBeLessThanOrEqual(ulp(want));
      }
    }
    expect(sandbox.call('Sin', 'f64', 0)).toBe(0);
    expect(sandbox.call('Exp', 'f64', 0)).toBe(1);
    expect(sandbox.call('Exp', 'f64', 1000)).toBe(Infinity);
    expect(sandbox.call('Sin', 'f64', Infinity)).toBeNaN();
  });

  it('setjmp/longjmp jump back across C frames', () => {
    using sandbox = libcSandbox();
    for (const depth of [0, 1, 5, 100, 1000]) expect(sandbox.call('Jump', 'i32', depth)).toBe(40 + depth);
    expect(sandbox.call('Jump', 'i32', 3)).toBe(43); // the guest is still sound after many jumps
  });

  it('time() and clock() read the host clock', () => {
    {
      using sandbox = libcSandbox();
      const before = Math.floor(Date.now() / 1000);
      const seconds = Number(sandbox.call('Time', 'i64'));
      expect(seconds).toBeGreaterThanOrEqual(before);
      expect(seconds).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
      expect(Number(sandbox.call('Clock', 'i64'))).toBeGreaterThanOrEqual(0);
    }
    using frozen = libcSandbox({ clock: (clock) => (clock === 'realtime' ? 1_700_000_000_999_999_999n : 5_000_123n) });
    expect(frozen.call('Time', 'i64')).toBe(1_700_000_000n);
    expect(frozen.call('Clock', 'i64')).toBe(5000n); // microseconds of CPU time
  });

  it('printf from C reaches the host print function', () => {
    const printed: string[] = [];
    using sandbox = libcSandbox({ print: (text) => printed.push(text) });
    expect(sandbox.call('Hello', 'i32', 'world')).toBe(21);
    expect(sandbox.call('Hello', 'i32', 'wörld 🦀')).toBe(new TextEncoder().encode('hello, wörld 🦀, from C\n').length);
    expect(printed.join('')).toBe('hello, world, from C\nhello, wörld 🦀, from C\n');
  });

  it('C and Rust share one heap: strdup in C, free in Rust', () => {
    using sandbox = libcSandbox();
    expect(sandbox.call('Duplicate', 'string', 'héllo wörld')).toBe('héllo wörld');
    const long = 'x'.repeat(20_000);
    for (let i = 0; i < 200; i++) expect(sandbox.call('Duplicate', 'string', long)).toBe(long); // nothing leaks
  });

  it('fopen fails with errno: nothing exists, nothing can be created', () => {
    using sandbox = libcSandbox();
    expect(sandbox.call('OpenErrno', 'i32', '/etc/passwd', 'r')).toBe(2); // ENOENT
    expect(sandbox.call('OpenErrno', 'i32', 'out.txt', 'w')).toBe(30); // EROFS
    expect(sandbox.call('OpenErrno', 'i32', 'log.txt', 'a+')).toBe(30);
  });

  it('exit() and abort() end the call as a panic and poison the sandbox, nothing more', () => {
    for (const [call, args, message] of [['Exit', [3], 'exit(3) called'], ['Exit', [-1], 'exit(-1) called'], ['Abort', [], 'abort() called']] as const) {
      using sandbox = libcSandbox();
      const error = thrownAs(GuestPanicError, () => sandbox.call(call, 'void', ...args));
      expect(error.guestMessage).toBe(message);
      expect(sandbox.poisoned).toBe(true);
      thrownAs(PoisonedSandboxError, () => sandbox.call('Jump', 'i32', 1));
    }
    using fresh = libcSandbox();
    expect(fresh.call('Jump', 'i32', 2)).toBe(42);
  });
});

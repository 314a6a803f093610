/**
 * The libc conformance comparison: the case files of
 * fixtures/guests/c/libcconformance run in the guest (musl) and in a native
 * reference driver built here against the host's glibc; their outputs are
 * compared line by line by each line's rule (see conformance.h there).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OUT_DIR } from '@hyperlight-ts/fixture-guests';
import { LIBC_DIFFERENCES, type LibcDifference } from './libc-differences.js';

/** Where the shared case files live. */
export const CONFORMANCE_SOURCE_DIR = join(OUT_DIR, '..', 'c', 'libcconformance');

/** One output line: `id TAB rule TAB value`. */
export interface ConformanceLine {
  readonly id: string;
  readonly rule: string;
  readonly value: string;
}

/** Splits a group's output into lines (the driver's `== group` headers are not lines). */
export function parseConformanceOutput(text: string): ConformanceLine[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('== '))
    .map((line) => {
      const [id = '', rule = '', value = ''] = line.split('\t');
      return { id, rule, value };
    });
}

const SIGN_EXPONENT_BITS = { 8: 9, 16: 12, 20: 16 } as const;

/** The hex bits of a float (8 digits), double (16) or x87 long double (20) as an integer ordered like the values. */
function orderedBits(hex: string): bigint {
  const bits = BigInt(`0x${hex}`);
  const width = BigInt(hex.length * 4);
  const sign = bits >> (width - 1n);
  let magnitude = bits & ((1n << (width - 1n)) - 1n);
  // x87: the explicit integer bit adds nothing to the order once the exponent is known.
  if (hex.length === 20) magnitude = ((magnitude >> 64n) << 63n) | (magnitude & ((1n << 63n) - 1n));
  return sign ? -magnitude - 1n : magnitude;
}

function isNaNBits(hex: string): boolean {
  const bits = BigInt(`0x${hex}`);
  const width = hex.length * 4;
  const exponentBits = SIGN_EXPONENT_BITS[hex.length as keyof typeof SIGN_EXPONENT_BITS] - 1;
  const fractionBits = hex.length === 20 ? 63 : width - 1 - exponentBits;
  const exponent = (bits >> BigInt(width - 1 - exponentBits)) & ((1n << BigInt(exponentBits)) - 1n);
  return exponent === (1n << BigInt(exponentBits)) - 1n && (bits & ((1n << BigInt(fractionBits)) - 1n)) !== 0n;
}

/**
 * Distance in units in the last place between two floats of the same format
 * given as hex bits; 0 for two NaNs, Infinity for a NaN and a number or
 * malformed input.
 */
export function ulpDistance(a: string, b: string): number {
  if (a.length !== b.length || !(a.length in SIGN_EXPONENT_BITS) || !/^[0-9a-f]+$/.test(a + b)) return Infinity;
  const nanA = isNaNBits(a);
  const nanB = isNaNBits(b);
  if (nanA || nanB) return nanA && nanB ? 0 : Infinity;
  const d = orderedBits(a) - orderedBits(b);
  return Number(d < 0n ? -d : d);
}

/** What comparing one group found. */
export interface GroupComparison {
  /** Lines compared. */
  readonly lines: number;
  /** `id: why` of each line that differed as a documented difference allows. */
  readonly documented: string[];
  /** The differences that made lines pass (for the check that none is stale). */
  readonly usedDifferences: Set<LibcDifference>;
  /** One message per failing line (empty when the group conforms). */
  readonly failures: string[];
}

function ruleHolds(rule: string, guest: string, native: string): boolean {
  if (rule === 'exact') return guest === native;
  if (rule === 'ulp0') return ulpDistance(guest, native) === 0;
  if (rule === 'ulp1') return ulpDistance(guest, native) <= 1;
  return false;
}

/** Compares a group's guest output with the native reference, line by line. */
export function compareConformance(guestText: string, nativeText: string, differences: readonly LibcDifference[] = LIBC_DIFFERENCES): GroupComparison {
  const guest = parseConformanceOutput(guestText);
  const native = parseConformanceOutput(nativeText);
  const failures: string[] = [];
  const documented: string[] = [];
  const usedDifferences = new Set<LibcDifference>();
  if (guest.length !== native.length) failures.push(`the guest wrote ${guest.length} lines, the native reference ${native.length}`);
  const count = Math.min(guest.length, native.length);
  for (let i = 0; i < count; i++) {
    const g = guest[i]!;
    const n = native[i]!;
    if (g.id !== n.id || g.rule !== n.rule) {
      failures.push(`line ${i + 1}: guest has "${g.id}" (${g.rule}), native has "${n.id}" (${n.rule})`);
      break;
    }
    if (ruleHolds(g.rule, g.value, n.value)) continue;
    const difference = differences.find((d) => d.matches(g.id) && d.accepts(g.value, n.value, g.id));
    if (difference) {
      documented.push(`${g.id}: ${difference.why}`);
      usedDifferences.add(difference);
    } else {
      failures.push(`${g.id} [${g.rule}]: guest ${g.value} | native ${n.value}`);
    }
  }
  return { lines: count, documented, usedDifferences, failures };
}

/**
 * Builds the native reference driver (the shared case files plus
 * native/driver.c) with the host's gcc against glibc into `dir`.
 * @returns the executable's path
 */
export function buildNativeDriver(dir: string): string {
  const shared = readdirSync(CONFORMANCE_SOURCE_DIR)
    .filter((f) => f.endsWith('.c') && f !== 'main.c')
    .map((f) => join(CONFORMANCE_SOURCE_DIR, f));
  const out = join(dir, 'libc-conformance-native');
  // -O0 compiles fastest; the cases hide their inputs from the optimiser, so the output is the same at any level.
  execFileSync('gcc', ['-O0', '-o', out, ...shared, join(CONFORMANCE_SOURCE_DIR, 'native', 'driver.c'), '-lm'], { stdio: 'pipe' });
  return out;
}

/**
 * Runs the native driver like the guest runs: empty environment, stdin at
 * end of file. @returns its standard output.
 */
export function runNativeDriver(driver: string, args: readonly string[]): string {
  return execFileSync(driver, args, { env: {}, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 });
}

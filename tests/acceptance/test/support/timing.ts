/** Waiting, bounding waits, and clocks for tests of calls that run, stop or hang. */

import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** Milliseconds on a clock shared by every thread of the process (and comparable across processes). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Blocks this thread for `ms` milliseconds without spinning (e.g. inside a sync host function). */
export function blockThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** How a promise settled. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Waits for `promise` for at most `limitMs`, so a hang fails the test with a
 * message instead of running into the test timeout.
 * @throws Error naming `what` when it has not settled in time.
 */
export async function settle<T>(promise: Promise<T>, limitMs: number, what: string): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${limitMs} ms`)), limitMs);
  });
  try {
    return await Promise.race([
      promise.then(
        (value): Outcome<T> => ({ ok: true, value }),
        (error: unknown): Outcome<T> => ({ ok: false, error }),
      ),
      hang,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The error `promise` rejects with within `limitMs`.
 * @throws Error when it resolves instead, or hangs.
 */
export async function rejection(promise: Promise<unknown>, limitMs: number, what: string): Promise<unknown> {
  const outcome = await settle(promise, limitMs, what);
  if (outcome.ok) throw new Error(`${what} resolved with ${String(outcome.value)} instead of rejecting`);
  return outcome.error;
}

/** A promise with its resolve and reject functions. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

/** A new {@link Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A seeded pseudo-random generator (pure-rand's xoroshiro128+): the same seed
 * gives the same sequence, so a failing run can be repeated.
 * @returns a function giving numbers in [0, 1)
 */
export function seededRandom(seed: number): () => number {
  const rng = xoroshiro128plus(seed);
  return () => (rng.next() >>> 0) / 2 ** 32;
}

/**
 * Prints a measured figure in one greppable line (`[measure] name: value`),
 * for reports; tests do not assert on most of them.
 */
export function reportMeasure(name: string, value: string): void {
  console.log(`[measure] ${name}: ${value}`);
}

/** Minimum, median and maximum of `values`, formatted with `unit`. */
export function summarize(values: readonly number[], unit = 'ms'): string {
  if (values.length === 0) return 'no samples';
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
  return `min ${sorted[0]!.toFixed(1)} ${unit}, median ${at(0.5)} ${unit}, p90 ${at(0.9)} ${unit}, max ${sorted.at(-1)!.toFixed(1)} ${unit} (${values.length} samples)`;
}

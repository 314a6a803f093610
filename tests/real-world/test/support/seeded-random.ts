/** A seeded PRNG (pure-rand's xoroshiro128+), so generated corpora are the same on every run. */

import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** @returns a function giving uniform numbers in [0, 1), determined by `seed`. */
export function seededRandom(seed: number): () => number {
  const rng = xoroshiro128plus(seed);
  return () => (rng.next() >>> 0) / 2 ** 32;
}

/** @returns `length` seeded random bytes. */
export function randomBytes(seed: number, length: number): Uint8Array {
  const next = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(next() * 256));
}

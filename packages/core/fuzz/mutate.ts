/**
 * Deterministic input generation: a seeded PRNG and byte-level mutators in
 * the style of AFL's "havoc" stage (bit flips, interesting values, small
 * arithmetic, chunk copy/insert/delete, splicing, dictionary tokens), with a
 * bias towards each seed's "hot" byte ranges (headers and tables the code
 * under test reads) so mutations of a 200 KB guest binary do not mostly land
 * in machine code nobody parses.
 *
 * Input `i` of a run is a pure function of (run seed, target name, i), so any
 * input can be regenerated from those three numbers and no input needs to be
 * kept unless it is a finding.
 */

/** A byte range `[start, end)` of a seed. */
export type Range = readonly [start: number, end: number];

/** A valid input to mutate, with the ranges worth mutating most. */
export interface Seed {
  /** Short description, for reports. */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Ranges the code under test reads field by field; empty means the whole input. */
  readonly hot: readonly Range[];
}

/** A small, fast PRNG (sfc32, PractRand-tested) seeded through splitmix32. */
export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const splitmix = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = splitmix();
    this.#b = splitmix();
    this.#c = splitmix();
    this.#d = splitmix();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** An integer in `[0, n)`; `n` at most 2**32. */
  below(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

/** FNV-1a of a string, for mixing target names into seeds. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** The PRNG seed of input `iteration` of `target` in a run seeded with `runSeed`. */
export function inputSeed(runSeed: number, target: string, iteration: number): number {
  let h = Math.imul(runSeed ^ fnv1a(target), 0x9e3779b1) ^ iteration;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15) ^ Math.floor(iteration / 0x1_0000_0000)) >>> 0;
}

const INTERESTING_8 = [0, 1, 2, 3, 4, 7, 8, 16, 32, 56, 64, 100, 127, 128, 255];
const INTERESTING_16 = [0, 1, 2, 4, 8, 24, 56, 64, 255, 256, 512, 1000, 1024, 4096, 0x7fff, 0x8000, 0xfffe, 0xffff];
const INTERESTING_32 = [
  0, 1, 2, 4, 8, 24, 64, 100, 4096, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffff8, 0xfffffffc, 0xffffffff,
];
const INTERESTING_64 = [
  0n, 1n, 8n, 24n, 0x1000n, 0x20_0000n, 0x4000_0000n, 0x1_0000_0000n, 0x7fff_ffff_f000n,
  0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0xffff_ffff_ffff_f000n, 0xffff_ffff_ffff_fff8n, 0xffff_ffff_ffff_ffffn,
];

/** Everything a mutation may consult: the PRNG, the seed's hot ranges, other seeds and format tokens. */
interface MutationContext {
  readonly random: Random;
  readonly hot: readonly Range[];
  readonly seeds: readonly Seed[];
  readonly dictionary: readonly Uint8Array[];
}

/** An offset at which `width` bytes fit, inside a hot range most of the time, aligned to `align`. */
function offsetFor(input: Uint8Array, width: number, align: number, ctx: MutationContext): number {
  if (input.length < width) return -1;
  let start = 0;
  let end = input.length;
  if (ctx.hot.length > 0 && ctx.random.chance(0.85)) {
    const [hotStart, hotEnd] = ctx.random.pick(ctx.hot);
    start = Math.min(hotStart, input.length);
    end = Math.min(hotEnd, input.length);
    if (end - start < width) {
      start = 0;
      end = input.length;
    }
  }
  let at = start + ctx.random.below(end - start - width + 1);
  if (align > 1) at -= at % align;
  return Math.max(0, Math.min(at, input.length - width));
}

/** A random length for chunk operations: mostly small, sometimes large. */
function chunkLength(ctx: MutationContext, limit: number): number {
  if (limit <= 0) return 0;
  const scale = ctx.random.pick([8, 32, 256, 4096]);
  return 1 + ctx.random.below(Math.min(limit, scale));
}

type Mutator = (input: Uint8Array, ctx: MutationContext) => Uint8Array;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const MUTATORS: readonly Mutator[] = [
  // Flip one bit.
  (input, ctx) => {
    const at = offsetFor(input, 1, 1, ctx);
    if (at >= 0) input[at]! ^= 1 << ctx.random.below(8);
    return input;
  },
  // Set one byte at random.
  (input, ctx) => {
    const at = offsetFor(input, 1, 1, ctx);
    if (at >= 0) input[at] = ctx.random.below(256);
    return input;
  },
  // Interesting 8-, 16-, 32- or 64-bit value, little-endian, aligned to its size half the time.
  (input, ctx) => {
    const width = ctx.random.pick([1, 2, 4, 8]);
    const at = offsetFor(input, width, ctx.random.chance(0.5) ? width : 1, ctx);
    if (at < 0) return input;
    const v = view(input);
    switch (width) {
      case 1: v.setUint8(at, ctx.random.pick(INTERESTING_8)); break;
      case 2: v.setUint16(at, ctx.random.pick(INTERESTING_16), true); break;
      case 4: v.setUint32(at, ctx.random.pick(INTERESTING_32), true); break;
      default: v.setBigUint64(at, ctx.random.pick(INTERESTING_64), true); break;
    }
    return input;
  },
  // Add or subtract a small amount to an aligned integer (sizes, offsets, counts).
  (input, ctx) => {
    const width = ctx.random.pick([1, 2, 4, 8]);
    const at = offsetFor(input, width, width, ctx);
    if (at < 0) return input;
    const delta = (1 + ctx.random.below(35)) * (ctx.random.chance(0.5) ? 1 : -1);
    const v = view(input);
    switch (width) {
      case 1: v.setUint8(at, (v.getUint8(at) + delta) & 0xff); break;
      case 2: v.setUint16(at, (v.getUint16(at, true) + delta) & 0xffff, true); break;
      case 4: v.setUint32(at, (v.getUint32(at, true) + delta) >>> 0, true); break;
      default: v.setBigUint64(at, BigInt.asUintN(64, v.getBigUint64(at, true) + BigInt(delta)), true); break;
    }
    return input;
  },
  // Overwrite with a copy of another part of the input (moves offsets and sizes between fields).
  (input, ctx) => {
    const length = chunkLength(ctx, Math.floor(input.length / 2));
    if (length === 0) return input;
    const from = offsetFor(input, length, 1, ctx);
    const to = offsetFor(input, length, 1, ctx);
    if (from >= 0 && to >= 0) input.copyWithin(to, from, from + length);
    return input;
  },
  // Insert random bytes or a copy of a part of the input.
  (input, ctx) => {
    const length = chunkLength(ctx, Math.max(16, input.length));
    const at = ctx.random.below(input.length + 1);
    const chunk = new Uint8Array(length);
    if (ctx.random.chance(0.5) && input.length > 0) {
      const from = ctx.random.below(input.length);
      chunk.set(input.subarray(from, from + length));
    } else {
      for (let i = 0; i < length; i++) chunk[i] = ctx.random.below(256);
    }
    const out = new Uint8Array(input.length + length);
    out.set(input.subarray(0, at));
    out.set(chunk, at);
    out.set(input.subarray(at), at + length);
    return out;
  },
  // Delete a chunk.
  (input, ctx) => {
    const length = chunkLength(ctx, input.length);
    if (length === 0) return input;
    const at = ctx.random.below(input.length - length + 1);
    const out = new Uint8Array(input.length - length);
    out.set(input.subarray(0, at));
    out.set(input.subarray(at + length), at);
    return out;
  },
  // Truncate.
  (input, ctx) => input.slice(0, ctx.random.below(input.length + 1)),
  // Splice: this input's head with another seed's tail.
  (input, ctx) => {
    const other = ctx.random.pick(ctx.seeds).bytes;
    const cut = ctx.random.below(input.length + 1);
    const from = ctx.random.below(other.length + 1);
    const out = new Uint8Array(cut + other.length - from);
    out.set(input.subarray(0, cut));
    out.set(other.subarray(from), cut);
    return out;
  },
  // Overwrite with a format token (a magic number, tag or type value).
  (input, ctx) => {
    if (ctx.dictionary.length === 0) return input;
    const token = ctx.random.pick(ctx.dictionary);
    const at = offsetFor(input, token.length, ctx.random.chance(0.5) ? Math.min(token.length, 8) : 1, ctx);
    if (at >= 0) input.set(token, at);
    return input;
  },
];

/**
 * Input `iteration` of a run: usually a stack of 1, 2, 4 or 8 mutations of
 * one seed; one time in 200 the seed itself, one in 100 random bytes.
 */
export function makeInput(seeds: readonly Seed[], dictionary: readonly Uint8Array[], runSeed: number, target: string, iteration: number): Uint8Array {
  const random = new Random(inputSeed(runSeed, target, iteration));
  const seed = random.pick(seeds);
  const roll = random.below(200);
  if (roll === 0) return seed.bytes.slice();
  if (roll <= 2) {
    const bytes = new Uint8Array(random.below(512));
    for (let i = 0; i < bytes.length; i++) bytes[i] = random.below(256);
    return bytes;
  }
  const ctx: MutationContext = { random, hot: seed.hot, seeds, dictionary };
  let input: Uint8Array = seed.bytes.slice();
  const count = 1 << random.below(4);
  for (let i = 0; i < count; i++) input = random.pick(MUTATORS)(input, ctx);
  return input;
}

/** Timing and summarising samples. */

/** A summary of samples, in the unit they were taken in. */
export interface Summary {
  /** Number of samples. */
  readonly n: number;
  readonly min: number;
  readonly median: number;
  /** Nearest-rank 99th percentile (the maximum when there are fewer than 100 samples). */
  readonly p99: number;
  readonly mean: number;
}

/** Summarises `samples` (at least one). */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('no samples to summarise');
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1]!;
  return {
    n: sorted.length,
    min: sorted[0]!,
    median: sorted.length % 2 === 1 ? rank(0.5) : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2,
    p99: rank(0.99),
    mean: sorted.reduce((sum, v) => sum + v, 0) / sorted.length,
  };
}

/** How many times to run a measured step. */
export interface Iterations {
  /** Untimed runs first (page faults, JIT, lazily opened handles). */
  readonly warmup: number;
  /** Timed runs. */
  readonly timed: number;
}

/**
 * Times `step` `iterations.timed` times, in microseconds. `prepare` runs
 * before each step and `cleanup` after it, both untimed; what `prepare`
 * returns is passed to `step`, and what `step` returns to `cleanup`.
 */
export function timeMicros<P, R>(
  iterations: Iterations,
  step: (prepared: P) => R,
  prepare: () => P = () => undefined as P,
  cleanup: (result: R) => void = () => undefined,
): number[] {
  const samples: number[] = [];
  for (let i = 0; i < iterations.warmup + iterations.timed; i++) {
    const prepared = prepare();
    const start = process.hrtime.bigint();
    const result = step(prepared);
    const elapsed = Number(process.hrtime.bigint() - start) / 1000;
    cleanup(result);
    if (i >= iterations.warmup) samples.push(elapsed);
  }
  return samples;
}

/**
 * Times several steps in turn, one run of each per round, in microseconds:
 * a drift in the machine's speed (an emulator warming up, a busy neighbour)
 * then touches every step alike, so their ratios hold. Returns each step's
 * samples, in the order of `steps`.
 */
export function timeMicrosInterleaved(iterations: Iterations, steps: readonly (() => unknown)[]): number[][] {
  const samples = steps.map((): number[] => []);
  for (let i = 0; i < iterations.warmup + iterations.timed; i++) {
    steps.forEach((step, s) => {
      const start = process.hrtime.bigint();
      step();
      const elapsed = Number(process.hrtime.bigint() - start) / 1000;
      if (i >= iterations.warmup) samples[s]!.push(elapsed);
    });
  }
  return samples;
}

/** {@link timeMicros} for a step that returns a promise (awaited inside the timed part). */
export async function timeMicrosAsync<P, R>(
  iterations: Iterations,
  step: (prepared: P) => Promise<R>,
  prepare: () => P | Promise<P> = () => undefined as P,
  cleanup: (result: R) => void | Promise<void> = () => undefined,
): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < iterations.warmup + iterations.timed; i++) {
    const prepared = await prepare();
    const start = process.hrtime.bigint();
    const result = await step(prepared);
    const elapsed = Number(process.hrtime.bigint() - start) / 1000;
    await cleanup(result);
    if (i >= iterations.warmup) samples.push(elapsed);
  }
  return samples;
}

/**
 * The fuzzing child process (started by fuzz.ts, never by hand). It runs one
 * target over a range of iterations as fast as it can and tells the
 * supervisor what happened over IPC. Before each input it writes the
 * iteration number to the progress file, one 8-byte pwrite, so when it hangs
 * or dies (an uncatchable heap abort, say) the supervisor still knows exactly
 * which input it was on.
 *
 * Supervisor <-> runner messages: see {@link RunnerConfig} (argv[2], JSON) and
 * {@link RunnerMessage}.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { makeInput } from './mutate.js';
import { SELF_TEST_TARGETS, TARGETS, runOne, type SerializedError } from './targets.js';

/** What the supervisor asks a runner to do. */
export interface RunnerConfig {
  readonly target: string;
  readonly runSeed: number;
  /** Iterations `[from, to)` of the run; `to` null means until `durationMs` runs out. */
  readonly from: number;
  readonly to: number | null;
  /** How long to fuzz, counted from when the seeds are built; null means no limit. */
  readonly durationMs: number | null;
  /** Inputs to run instead of generated ones (replay); iteration numbers are their indexes. */
  readonly files: readonly string[] | null;
  /** File whose first 8 bytes hold the iteration being run (float64), or -1 between runs. */
  readonly progressFile: string;
  /** An input that takes longer than this is a finding. */
  readonly budgetMs: number;
}

/** Outcome labels (accepted, HL_ERR_* codes) and how often each occurred. */
export type Tally = Record<string, number>;

/** What a runner tells the supervisor. */
export type RunnerMessage =
  | { readonly type: 'ready'; readonly seeds: readonly string[] }
  | { readonly type: 'progress'; readonly next: number; readonly tally: Tally }
  | {
    readonly type: 'finding';
    readonly iteration: number;
    readonly problem: 'unexpected-error' | 'oracle' | 'slow';
    readonly error: SerializedError;
    readonly elapsedMs: number;
  }
  | { readonly type: 'outcome'; readonly iteration: number; readonly label: string; readonly elapsedMs: number }
  | { readonly type: 'done'; readonly next: number; readonly tally: Tally };

/** How long the runner works between progress messages (and yields to let IPC flow). */
const CHUNK_MS = 100;

function send(message: RunnerMessage): void {
  process.send!(message);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]!) as RunnerConfig;
  const target = [...TARGETS, ...SELF_TEST_TARGETS].find((t) => t.name === config.target);
  if (!target) throw new Error(`unknown target ${config.target}`);
  const seeds = target.seeds();
  const progress = openSync(config.progressFile, 'r+');
  const cell = new Float64Array(1);
  const cellBytes = new Uint8Array(cell.buffer);
  const mark = (iteration: number) => {
    cell[0] = iteration;
    writeSync(progress, cellBytes, 0, 8, 0);
  };
  send({ type: 'ready', seeds: seeds.map((s) => `${s.name} (${s.bytes.length} bytes)`) });

  const end = config.files ? config.files.length : (config.to ?? Number.POSITIVE_INFINITY);
  const deadline = config.durationMs === null ? Number.POSITIVE_INFINITY : Date.now() + config.durationMs;
  let iteration = config.from;
  let tally: Tally = {};
  while (iteration < end && Date.now() < deadline) {
    const chunkEnd = performance.now() + CHUNK_MS;
    do {
      mark(iteration);
      const input = config.files
        ? new Uint8Array(readFileSync(config.files[iteration]!))
        : makeInput(seeds, target.dictionary, config.runSeed, target.name, iteration);
      const started = performance.now();
      const outcome = runOne(target, input);
      const elapsedMs = performance.now() - started;
      if (outcome.kind === 'finding') {
        send({ type: 'finding', iteration, problem: outcome.problem, error: outcome.error, elapsedMs });
      } else {
        tally[outcome.label] = (tally[outcome.label] ?? 0) + 1;
        if (config.files) send({ type: 'outcome', iteration, label: outcome.label, elapsedMs });
      }
      if (elapsedMs > config.budgetMs) {
        const error = { name: 'Slow', message: `took ${elapsedMs.toFixed(0)} ms (budget ${config.budgetMs} ms)`, stack: '' };
        send({ type: 'finding', iteration, problem: 'slow', error, elapsedMs });
      }
      iteration++;
    } while (iteration < end && performance.now() < chunkEnd);
    mark(-1);
    send({ type: 'progress', next: iteration, tally });
    tally = {};
    await yieldToEventLoop();
  }
  mark(-1);
  closeSync(progress);
  send({ type: 'done', next: iteration, tally });
  process.disconnect();
}

main().catch((error: unknown) => {
  process.stderr.write(`fuzz runner failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(70);
});

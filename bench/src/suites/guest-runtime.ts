/**
 * The guest runtime's per-call work, natively: what the runtime does for one
 * call between entry and the exit — decode and check the `FunctionCall` in
 * the input buffer, run the guest function, encode the `FunctionCallResult`
 * into the output buffer. C guests run on the same runtime (their C API is a
 * thin layer over it), so one harness measures both: the ignored test
 * `per_call_bench` of packages/guest-rs, built with `cargo test --release`
 * and `--cfg hyperlight_guest_mem`, which gives the test binary the guest's
 * `memcpy` & co. (into packages/guest-rs/target/per-call-bench). It prints
 * one JSON line of samples in ns per call, each the mean of a batch of calls
 * (one call is near the clock's resolution).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize } from '../measure.js';
import { Recorder, type Row } from '../report.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** What a harness prints: the size of its function table and ns-per-call samples by case. */
interface HarnessOutput {
  readonly functions: number;
  readonly samples: Readonly<Record<string, readonly number[]>>;
}

/** The cases the harness runs, by the name it prints, and the row label of each. */
const CASES: readonly (readonly [string, string])[] = [
  ['EchoI32', 'EchoI32'],
  ['VoidFunction', 'VoidFunction'],
  ['EchoString 1000 chars', '1000-char string'],
  ['EchoBytes 1 KiB', '1 KiB bytes'],
];

/** A build or run takes minutes at most (the first release build of the Rust crate is the slow one). */
const HARNESS_TIMEOUT_MS = 10 * 60_000;

/** Throws a readable error unless `tool` runs (`tool --version`). */
function requireTool(tool: string, why: string): void {
  const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const reason = (probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? 'is not installed' : `does not run (${probe.error?.message ?? `exit ${probe.status}`})`;
    throw new Error(`guest runtime: ${tool} ${reason}; it is needed to ${why}`);
  }
}

/** Runs a harness and parses the JSON line it prints. */
function runHarness(label: string, command: string, args: readonly string[], cwd: string, env: Record<string, string>): HarnessOutput {
  const r = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20, timeout: HARNESS_TIMEOUT_MS });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('{"functions"'));
  if (r.error || r.status !== 0 || line === undefined) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    throw new Error(`guest runtime: the ${label} harness failed (${why})\n${`${r.stdout ?? ''}${r.stderr ?? ''}`.slice(-4000)}`);
  }
  return JSON.parse(line) as HarnessOutput;
}

/**
 * Builds and runs the harness and returns one row per case, in µs per call.
 *
 * @throws Error when cargo is missing, or when the harness fails to build,
 *   fails its own check of a call's result, or prints no samples.
 */
export function guestRuntimeSuite(options: { quick: boolean }): { rows: Row[]; notes: string[] } {
  const record = new Recorder('guest runtime');
  requireTool('cargo', 'build the runtime harness');
  const env = options.quick ? { HYPERLIGHT_BENCH_SAMPLES: '20', HYPERLIGHT_BENCH_BATCH: '200' } : { HYPERLIGHT_BENCH_SAMPLES: '1000', HYPERLIGHT_BENCH_BATCH: '1000' };

  const rustflags = [process.env.RUSTFLAGS, '--cfg hyperlight_guest_mem'].filter(Boolean).join(' ');
  const rust = runHarness(
    'Rust',
    'cargo',
    ['test', '--offline', '--release', '--quiet', '--target-dir', 'target/per-call-bench', '-p', 'hyperlight-guest', '--lib', '--', '--ignored', '--exact', 'per_call_bench::per_call_bench', '--nocapture'],
    join(repoRoot, 'packages', 'guest-rs'),
    { ...env, RUSTFLAGS: rustflags },
  );

  record.note(
    'Timed natively, per call: decode and check the FunctionCall already in the input buffer, run a guest function that echoes its argument, ' +
      `encode the FunctionCallResult into the output buffer; not the exit (one \`out\` in a VM). Each sample is the mean of ${env.HYPERLIGHT_BENCH_BATCH} calls.`,
  );
  record.note(
    `The runtime crate in a \`cargo test --release\` build with the guest's mem* functions but std's allocator (${rust.functions} guest functions in the table). ` +
      'C guests run on this runtime too; their C API adds a conversion of the arguments and the result.',
  );
  for (const [key, label] of CASES) {
    const samples = rust.samples[key];
    if (!samples?.length) throw new Error(`guest runtime: the harness printed no samples for ${key}`);
    record.add(label, 'µs', summarize(samples.map((ns) => ns / 1000)));
  }
  return { rows: record.rows, notes: record.notes };
}

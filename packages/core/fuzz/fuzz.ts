/**
 * Mutation fuzzer for the parsers of untrusted guest data: the ELF loader
 * and the message decoders (targets.ts). Run it with `pnpm fuzz` from the
 * repository root; `pnpm fuzz --help` lists the options. README.md beside
 * this file explains the design.
 *
 * This process is the supervisor: it runs each target in a child process
 * (runner.ts) with a capped heap, watches the child's progress file for an
 * input that overruns the per-input time budget, and records as a finding,
 * with the input saved, every error that is not a HyperlightError, every
 * broken oracle, every hang and every crash of the child.
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeInput, type Seed } from './mutate.js';
import type { RunnerConfig, RunnerMessage, Tally } from './runner.js';
import { SELF_TEST_TARGETS, TARGETS, type FuzzTarget, type SerializedError } from './targets.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RUNNER = join(HERE, 'runner.ts');
const DEFAULT_TIME_MS = 60_000;
/** Saved inputs per distinct finding; later ones are only counted. */
const SAVED_PER_SIGNATURE = 3;
/** A runner that is not ready after this long (loading TypeScript, building seeds) is a harness failure. */
const STARTUP_TIMEOUT_MS = 60_000;
/** A target that keeps hanging or crashing is abandoned after this many restarts. */
const MAX_RESTARTS = 25;
const WATCHDOG_INTERVAL_MS = 20;

const USAGE = `Usage: pnpm fuzz [duration] [options]

Mutates valid inputs (ELF files from the test builder and fixtures/guests/out,
encoded messages) and feeds them to the ELF loader and the message decoders.
Any error that is not a HyperlightError, a broken invariant, an input slower
than the budget, or a crash of the runner is a finding: its input is saved and
the run exits with status 1.

  duration              e.g. 30s, 2m (default 60s); same as --time
  --time <duration>     total fuzzing time, shared equally by the targets (runner start-up adds ~1 s each)
  --iterations <n>      run exactly inputs 0..n-1 of each target instead (no time limit)
  --seed <n>            run seed (default 1); input i of a target depends only on seed, target, i
  --target <names>      comma-separated targets (default: all; see --list)
  --jobs <n>            runners at once, one target each (default: min(2, CPUs))
  --budget-ms <n>       per-input time budget (default 1000)
  --max-heap-mb <n>     old-space limit of each runner (default 512)
  --out <dir>           where findings are saved (default packages/core/fuzz/findings)
  --replay <file>       run saved input(s) against --target and print the outcome (repeatable)
  --list                list the targets
  --self-test           check that the harness reports each kind of finding, using broken targets
  --help                this text`;

/** One finding, as reported and saved. */
interface Finding {
  readonly target: string;
  readonly problem: 'unexpected-error' | 'oracle' | 'slow' | 'hang' | 'crash';
  /** Iteration of the input, or null when a crash happened between inputs. */
  readonly iteration: number | null;
  readonly error?: SerializedError;
  readonly detail: string;
  reproducesAlone?: boolean;
  file?: string;
}

interface TargetReport {
  readonly target: string;
  inputs: number;
  activeMs: number;
  tally: Tally;
  findings: number;
  seeds: readonly string[];
}

type ChildEnd =
  | { readonly kind: 'done'; readonly next: number }
  | { readonly kind: 'hang'; readonly iteration: number; readonly next: number }
  | { readonly kind: 'crash'; readonly iteration: number | null; readonly next: number; readonly exit: string; readonly stderr: string };

interface Options {
  readonly timeMs: number | null;
  readonly iterations: number | null;
  readonly seed: number;
  readonly targets: readonly FuzzTarget[];
  readonly jobs: number;
  readonly budgetMs: number;
  readonly maxHeapMb: number;
  readonly out: string;
  readonly replay: readonly string[];
  /** Stop fuzzing a target at its first hang or crash (the self-test). */
  readonly stopAtFirstFinding: boolean;
}

class UsageError extends Error {}

function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`invalid duration ${JSON.stringify(text)} (examples: 500ms, 30s, 2m)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

function parseCount(text: string, what: string, min = 1): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`${what} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
  return value;
}

function parseOptions(argv: string[]): Options | 'help' | 'list' | 'self-test' {
  const { values, positionals } = parseArgs({
    args: argv.filter((arg) => arg !== '--'),
    allowPositionals: true,
    options: {
      time: { type: 'string' },
      iterations: { type: 'string' },
      seed: { type: 'string' },
      target: { type: 'string' },
      jobs: { type: 'string' },
      'budget-ms': { type: 'string' },
      'max-heap-mb': { type: 'string' },
      out: { type: 'string' },
      replay: { type: 'string', multiple: true },
      list: { type: 'boolean' },
      'self-test': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (values.list) return 'list';
  if (values['self-test']) return 'self-test';
  if (positionals.length > 1) throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  const timeText = values.time ?? positionals[0];
  if (timeText !== undefined && values.iterations !== undefined) throw new UsageError('give a duration or --iterations, not both');
  const names = values.target?.split(',').map((name) => name.trim()).filter(Boolean);
  const targets = names ? names.map((name) => {
    const target = TARGETS.find((t) => t.name === name);
    if (!target) throw new UsageError(`unknown target ${JSON.stringify(name)}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
    return target;
  }) : TARGETS;
  const replay = values.replay ?? [];
  if (replay.length > 0 && targets.length !== 1) throw new UsageError('--replay needs exactly one --target');
  const iterations = values.iterations === undefined ? null : parseCount(values.iterations, '--iterations');
  return {
    timeMs: iterations === null ? (timeText === undefined ? DEFAULT_TIME_MS : parseDuration(timeText)) : null,
    iterations,
    seed: values.seed === undefined ? 1 : parseCount(values.seed, '--seed', 0),
    targets,
    jobs: values.jobs === undefined ? Math.min(2, availableParallelism()) : parseCount(values.jobs, '--jobs'),
    budgetMs: values['budget-ms'] === undefined ? 1000 : parseCount(values['budget-ms'], '--budget-ms'),
    maxHeapMb: values['max-heap-mb'] === undefined ? 512 : parseCount(values['max-heap-mb'], '--max-heap-mb', 16),
    out: resolve(values.out ?? join(HERE, 'findings')),
    replay: replay.map((file) => resolve(file)),
    stopAtFirstFinding: false,
  };
}

/** Runs one runner to its end, forwarding its messages; detects hangs and crashes. */
function runChild(config: RunnerConfig, options: Options, onMessage: (message: RunnerMessage) => void): Promise<ChildEnd> {
  writeFileSync(config.progressFile, new Uint8Array(new Float64Array([-1]).buffer));
  const child = fork(RUNNER, [JSON.stringify(config)], {
    execArgv: [...process.execArgv, `--max-old-space-size=${options.maxHeapMb}`],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-6000);
  });
  const progress = openSync(config.progressFile, 'r');
  const cell = new Float64Array(1);
  const readCell = () => {
    readSync(progress, new Uint8Array(cell.buffer), 0, 8, 0);
    return cell[0]!;
  };
  let next = config.from;
  let done = false;
  let hungAt: number | undefined;
  const spawnedAt = Date.now();
  let readyAt: number | undefined;
  let watched = -1;
  let watchedSince = 0;

  return new Promise((resolvePromise) => {
    const watchdog = setInterval(() => {
      const now = Date.now();
      if (readyAt === undefined) {
        if (now - spawnedAt > STARTUP_TIMEOUT_MS) {
          stderr += `\nrunner not ready after ${STARTUP_TIMEOUT_MS} ms`;
          child.kill('SIGKILL');
        }
        return;
      }
      const current = readCell();
      if (current !== watched) {
        watched = current;
        watchedSince = now;
      } else if (current >= 0 && now - watchedSince > options.budgetMs && hungAt === undefined) {
        hungAt = current;
        child.kill('SIGKILL');
      }
    }, WATCHDOG_INTERVAL_MS);

    child.on('message', (message: RunnerMessage) => {
      if (message.type === 'ready') readyAt = Date.now();
      if (message.type === 'progress' || message.type === 'done') next = message.next;
      if (message.type === 'done') done = true;
      onMessage(message);
    });
    child.on('exit', (code, signal) => {
      clearInterval(watchdog);
      const iteration = readCell();
      closeSync(progress);
      if (hungAt !== undefined) {
        resolvePromise({ kind: 'hang', iteration: hungAt, next });
      } else if (done && code === 0) {
        resolvePromise({ kind: 'done', next });
      } else {
        const exit = signal ? `killed by ${signal}` : `exit code ${code}`;
        resolvePromise({ kind: 'crash', iteration: iteration >= 0 ? iteration : null, next, exit, stderr: stderr.trim() });
      }
    });
  });
}

/** Collects findings, saves their inputs and prints the report. */
class Findings {
  readonly all: Finding[] = [];
  readonly #bySignature = new Map<string, Finding[]>();
  readonly #seedCache = new Map<string, Seed[]>();

  constructor(private readonly options: Options) {}

  add(target: FuzzTarget, finding: Finding, input?: Uint8Array): void {
    this.all.push(finding);
    const signature = signatureOf(finding);
    const same = this.#bySignature.get(signature) ?? [];
    same.push(finding);
    this.#bySignature.set(signature, same);
    if (same.length > SAVED_PER_SIGNATURE || (finding.iteration === null && input === undefined)) return;
    const bytes = input ?? this.#regenerate(target, finding.iteration!);
    mkdirSync(this.options.out, { recursive: true });
    const stem = `${target.name}-${finding.problem}-seed${this.options.seed}-${finding.iteration ?? 'x'}`;
    const file = join(this.options.out, `${stem}.bin`);
    writeFileSync(file, bytes);
    finding.file = file;
    writeFileSync(join(this.options.out, `${stem}.txt`), describe(finding, bytes.length, this.options) + '\n');
  }

  #regenerate(target: FuzzTarget, iteration: number): Uint8Array {
    let seeds = this.#seedCache.get(target.name);
    if (!seeds) {
      seeds = target.seeds();
      this.#seedCache.set(target.name, seeds);
    }
    return makeInput(seeds, target.dictionary, this.options.seed, target.name, iteration);
  }

  /** Distinct findings: the first of each signature and how many share it. */
  distinct(): [Finding, number][] {
    return [...this.#bySignature.values()].map((list) => [list[0]!, list.length]);
  }
}

/** Findings with the same target, problem, error type and first frame in core's source count as one. */
function signatureOf(finding: Finding): string {
  const frame = finding.error?.stack.split('\n').find((line) => line.includes('/packages/core/src/'))?.trim() ?? '';
  return [finding.target, finding.problem, finding.error?.name ?? '', frame].join('|');
}

function describe(finding: Finding, size: number, options: Options): string {
  const lines = [
    `target: ${finding.target}`,
    `problem: ${finding.problem}`,
    `run seed: ${options.seed}, iteration: ${finding.iteration ?? 'unknown (between inputs)'}`,
    `input: ${finding.file ?? '(not saved)'} (${size} bytes)`,
    `replay: pnpm fuzz --target ${finding.target} --replay ${finding.file ?? '<file>'}`,
  ];
  if (finding.reproducesAlone !== undefined) lines.push(`reproduces when run alone: ${finding.reproducesAlone ? 'yes' : 'no'}`);
  lines.push(`detail: ${finding.detail}`);
  if (finding.error?.stack) lines.push('', finding.error.stack);
  return lines.join('\n');
}

/** Fuzzes one target for its share of the time or its iterations; restarts the runner after a hang or crash. */
async function fuzzTarget(target: FuzzTarget, options: Options, sliceMs: number | null, findings: Findings, workDir: string): Promise<TargetReport> {
  const report: TargetReport = { target: target.name, inputs: 0, activeMs: 0, tally: {}, findings: 0, seeds: [] };
  let from = 0;
  for (let restart = 0; restart <= MAX_RESTARTS; restart++) {
    let readyAt = 0;
    const config: RunnerConfig = {
      target: target.name, runSeed: options.seed, from, to: options.iterations,
      durationMs: sliceMs === null ? null : Math.max(0, sliceMs - report.activeMs), files: null,
      progressFile: join(workDir, `${target.name}-${restart}.progress`), budgetMs: options.budgetMs,
    };
    const end = await runChild(config, options, (message) => {
      switch (message.type) {
        case 'ready':
          readyAt = Date.now();
          if (report.seeds.length === 0) report.seeds = message.seeds;
          break;
        case 'progress':
        case 'done':
          for (const [label, count] of Object.entries(message.tally)) report.tally[label] = (report.tally[label] ?? 0) + count;
          break;
        case 'finding':
          report.findings++;
          findings.add(target, {
            target: target.name, problem: message.problem, iteration: message.iteration, error: message.error,
            detail: `${message.error.name}: ${message.error.message} (after ${message.elapsedMs.toFixed(1)} ms)`,
          });
          break;
        default:
          break;
      }
    });
    if (readyAt > 0) report.activeMs += Date.now() - readyAt;
    if (end.kind === 'done') {
      report.inputs = end.next;
      return report;
    }
    report.findings++;
    const resumeAt = end.iteration === null ? end.next : end.iteration + 1;
    report.inputs = resumeAt;
    const finding: Finding = end.kind === 'hang'
      ? { target: target.name, problem: 'hang', iteration: end.iteration, detail: `no progress for ${options.budgetMs} ms; the runner was killed` }
      : { target: target.name, problem: 'crash', iteration: end.iteration, detail: `runner ${end.exit}; stderr tail:\n${end.stderr.slice(-3000)}` };
    if (end.iteration !== null) finding.reproducesAlone = await reproducesAlone(target, options, end.iteration, workDir);
    findings.add(target, finding);
    if (options.stopAtFirstFinding) return report;
    if (end.iteration === null && readyAt === 0) {
      process.stderr.write(`fuzz: the ${target.name} runner failed to start: ${end.kind === 'crash' ? end.stderr : ''}\n`);
      return report;
    }
    if ((sliceMs !== null && report.activeMs >= sliceMs) || (options.iterations !== null && resumeAt >= options.iterations)) return report;
    from = resumeAt;
  }
  process.stderr.write(`fuzz: ${target.name} abandoned after ${MAX_RESTARTS} restarts\n`);
  return report;
}

/** Whether input `iteration` hangs or crashes a fresh runner on its own. */
async function reproducesAlone(target: FuzzTarget, options: Options, iteration: number, workDir: string): Promise<boolean> {
  const config: RunnerConfig = {
    target: target.name, runSeed: options.seed, from: iteration, to: iteration + 1, durationMs: null, files: null,
    progressFile: join(workDir, `${target.name}-repro-${iteration}.progress`), budgetMs: options.budgetMs,
  };
  const end = await runChild(config, options, () => undefined);
  return end.kind !== 'done';
}

/** Runs `tasks` with at most `limit` at once. */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

function percent(count: number, total: number): string {
  return total === 0 ? '-' : `${((100 * count) / total).toFixed(count * 1000 < total ? 2 : 1)}%`;
}

function printReport(reports: readonly TargetReport[], findings: Findings, options: Options, wallMs: number): void {
  const rows = reports.map((r) => {
    const total = Object.values(r.tally).reduce((a, b) => a + b, 0);
    const accepted = Object.entries(r.tally).filter(([label]) => !label.startsWith('HL_ERR_')).reduce((a, [, n]) => a + n, 0);
    const rate = r.activeMs > 0 ? Math.round(r.inputs / (r.activeMs / 1000)) : 0;
    return [r.target, String(r.inputs), String(rate), percent(accepted, total), String(r.findings)];
  });
  const header = ['target', 'inputs', 'inputs/s', 'accepted', 'findings'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(`\n${line(header)}\n${rows.map(line).join('\n')}`);
  console.log('\noutcomes:');
  for (const r of reports) {
    const total = Object.values(r.tally).reduce((a, b) => a + b, 0);
    const parts = Object.entries(r.tally).sort((a, b) => b[1] - a[1]).map(([label, n]) => `${label} ${percent(n, total)}`);
    console.log(`  ${r.target}: ${parts.join(', ') || '(none)'}`);
  }
  const distinct = findings.distinct();
  if (distinct.length > 0) {
    console.log(`\nfindings (${findings.all.length}, ${distinct.length} distinct):`);
    for (const [finding, count] of distinct) {
      console.log(`\n- ${finding.target}: ${finding.problem} x${count}${finding.file ? `, input saved to ${finding.file}` : ''}`);
      console.log(`  ${finding.detail.split('\n').join('\n  ')}`);
      const frames = finding.error?.stack.split('\n').slice(1, 6).join('\n') ?? '';
      if (frames) console.log(frames);
    }
  }
  const inputs = reports.reduce((sum, r) => sum + r.inputs, 0);
  console.log(`\nfuzz: ${inputs} inputs in ${(wallMs / 1000).toFixed(1)} s (seed ${options.seed}), ${findings.all.length} finding(s)`);
}

async function replay(options: Options, workDir: string): Promise<number> {
  const target = options.targets[0]!;
  const config: RunnerConfig = {
    target: target.name, runSeed: options.seed, from: 0, to: null, durationMs: null, files: options.replay,
    progressFile: join(workDir, 'replay.progress'), budgetMs: options.budgetMs,
  };
  let problems = 0;
  for (let from = 0; from < options.replay.length;) {
    const end = await runChild({ ...config, from }, options, (message) => {
      const file = message.type === 'outcome' || message.type === 'finding' ? basename(options.replay[message.iteration]!) : '';
      if (message.type === 'outcome') console.log(`${file}: ${message.label} (${message.elapsedMs.toFixed(1)} ms)`);
      if (message.type === 'finding') {
        problems++;
        console.log(`${file}: FINDING ${message.problem}: ${message.error.stack || `${message.error.name}: ${message.error.message}`}`);
      }
    });
    if (end.kind === 'done') break;
    problems++;
    const at = end.iteration ?? end.next;
    console.log(`${basename(options.replay[at] ?? '?')}: FINDING ${end.kind}${end.kind === 'crash' ? ` (${end.exit})\n${end.stderr}` : ` (over ${options.budgetMs} ms)`}`);
    from = at + 1;
  }
  return problems === 0 ? 0 : 1;
}

/** Runs the broken targets and checks each is reported as its kind of finding, with its input saved. */
async function selfTest(workDir: string): Promise<number> {
  const options: Options = {
    timeMs: null, iterations: 2000, seed: 1, targets: SELF_TEST_TARGETS, jobs: Math.min(2, availableParallelism()),
    budgetMs: 500, maxHeapMb: 64, out: join(workDir, 'self-test'), replay: [], stopAtFirstFinding: true,
  };
  const findings = new Findings(options);
  // Running out of heap can take V8 seconds of last-ditch collections on a busy machine; give
  // the crash target a budget long enough that it cannot pass for a hang.
  const budgetFor = (expect: string): Options => (expect === 'crash' ? { ...options, budgetMs: 30_000 } : options);
  await pool(SELF_TEST_TARGETS.map((target) => () => fuzzTarget(target, budgetFor(target.expect), null, findings, workDir)), options.jobs);
  let failures = 0;
  for (const target of SELF_TEST_TARGETS) {
    const found = findings.all.filter((f) => f.target === target.name);
    const good = found.some((f) => f.problem === target.expect && f.file !== undefined &&
      (f.problem === 'hang' || f.problem === 'crash' ? f.reproducesAlone === true : f.error !== undefined));
    if (!good) failures++;
    const first = found[0];
    const summary = first
      ? `${found.length} finding(s), first: ${first.problem}${first.reproducesAlone ? ' (reproduces alone)' : ''}: ${first.detail.split('\n')[0]}`
      : 'nothing reported';
    console.log(`${good ? 'ok  ' : 'FAIL'} ${target.name}: ${summary}`);
  }
  console.log(failures === 0 ? 'fuzz self-test: every kind of finding is reported' : `fuzz self-test: ${failures} kind(s) of finding went unreported`);
  return failures === 0 ? 0 : 1;
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
    console.error(`fuzz: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (parsed === 'list') {
    for (const target of TARGETS) console.log(`${target.name.padEnd(24)}${target.description}`);
    return 0;
  }
  const workDir = mkdtempSync(join(tmpdir(), 'hl-fuzz-'));
  try {
    if (parsed === 'self-test') return await selfTest(workDir);
    const options = parsed;
    if (options.replay.length > 0) return await replay(options, workDir);
    const started = Date.now();
    const limit = options.timeMs === null ? 'iterations 0..' + String(options.iterations! - 1) + ' per target' : `${(options.timeMs / 1000).toFixed(0)} s`;
    console.log(
      `fuzz: ${options.targets.length} targets, ${limit}, seed ${options.seed}, ${options.jobs} at a time, ` +
        `${options.budgetMs} ms per input, ${options.maxHeapMb} MiB heap per runner`,
    );
    // The time is shared equally: each target fuzzes for (time x jobs / targets), not counting
    // the second or so each runner takes to start.
    const sliceMs = options.timeMs === null ? null : (options.timeMs * Math.min(options.jobs, options.targets.length)) / options.targets.length;
    const findings = new Findings(options);
    const reports = await pool(options.targets.map((target) => async () => {
      const report = await fuzzTarget(target, options, sliceMs, findings, workDir);
      console.log(`  ${target.name}: ${report.inputs} inputs, ${report.findings} finding(s)`);
      return report;
    }), options.jobs);
    printReport(reports, findings, options, Date.now() - started);
    return findings.all.length === 0 ? 0 : 1;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

// `pnpm fuzz --help | head` closes stdout early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

main().then((code) => {
  process.exitCode = code;
}, (error: unknown) => {
  console.error(error);
  process.exitCode = 2;
});

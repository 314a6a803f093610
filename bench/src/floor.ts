/**
 * The raw-KVM floor: `floor/floor.c` (what each measurement is, and which of
 * our operations it is the floor for, is written at its top) built with gcc
 * and run in this process's environment, so the bench can give each of its
 * figures as a ratio to the same operation done with bare ioctls.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { summarize, type Iterations, type Summary } from './measure.js';

const SOURCE_PATH = fileURLToPath(new URL('../floor/floor.c', import.meta.url));
/** Under `build/`, which git ignores. */
const BUILD_DIR = fileURLToPath(new URL('../build/', import.meta.url));
const BINARY_PATH = `${BUILD_DIR}floor`;

/** Room for every sample of a full run (~10 bytes each). */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/** What {@link measureFloor} measures. */
export interface FloorOptions {
  /** A few iterations of each measurement (a smoke test) instead of enough for stable figures. */
  readonly quick: boolean;
  /** Guest memory sizes to time VM creation with: multiples of 4096, at least 36 KiB. */
  readonly memorySizesBytes: readonly number[];
  /** Page counts (4 KiB each) to time `memcpy` of. */
  readonly copyPages: readonly number[];
}

/** Creating a VM and running it to its first exit, then tearing it down; each in microseconds. */
export interface FloorCreate {
  /** From the first syscall to the end of teardown. */
  readonly total: Summary;
  /** Guest memory, VM, vCPU, CPUID, system structures, registers, and `KVM_RUN` to the first exit. */
  readonly toFirstExit: Summary;
  /** `munmap` and `close` of the vCPU, the VM and the memory. */
  readonly teardown: Summary;
}

/** How the floor set the guest up on this machine's KVM. */
export interface FloorSettings {
  /** Special registers went through `kvm_run` sync_regs (as the backend does) rather than `KVM_SET_SREGS`. */
  readonly syncSregs: boolean;
  /** XCR0 was set and CR4.OSXSAVE enabled. */
  readonly xsave: boolean;
  /** TR held an available TSS (AMD) rather than a busy one. */
  readonly availableTss: boolean;
}

/** The raw-KVM floor of each operation, in microseconds. */
export interface Floor {
  /** VM creation by guest memory size in bytes. */
  readonly create: ReadonlyMap<number, FloorCreate>;
  /** `KVM_RUN` resuming the guest to its next `out` exit: what one host-function call's exit costs. */
  readonly roundTrip: Summary;
  /** Registers through sync_regs, then `KVM_RUN` to the guest's halt `out`: what one guest call costs. */
  readonly entry: Summary;
  /** `memcpy` into already-written memory, by page count. */
  readonly memcpy: ReadonlyMap<number, Summary>;
  readonly settings: FloorSettings;
}

/** The JSON object floor.c prints. */
interface FloorOutput {
  settings: FloorSettings;
  create: Record<string, { totalUs: number[]; toFirstExitUs: number[]; teardownUs: number[] }>;
  roundTripUs: number[];
  entryUs: number[];
  memcpy: Record<string, number[]>;
}

/** Iteration counts of the hot paths (round trip, entry), of VM creation (per size) and of copies (per page count). */
function iterationCounts(quick: boolean): { hot: Iterations; create: Iterations; copy: Iterations } {
  return quick
    ? { hot: { warmup: 3, timed: 50 }, create: { warmup: 1, timed: 5 }, copy: { warmup: 1, timed: 3 } }
    : { hot: { warmup: 50, timed: 2000 }, create: { warmup: 5, timed: 100 }, copy: { warmup: 2, timed: 20 } };
}

function mtimeMs(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Builds the floor program unless the binary is newer than its source. */
function buildFloor(): string {
  const built = mtimeMs(BINARY_PATH);
  if (built !== undefined && built >= statSync(SOURCE_PATH).mtimeMs) return BINARY_PATH;
  mkdirSync(BUILD_DIR, { recursive: true });
  // Built under a private name and renamed into place, so a concurrent run never executes half a file.
  const temporary = `${BINARY_PATH}.${process.pid}`;
  try {
    execFileSync('gcc', ['-O2', '-Wall', '-o', temporary, SOURCE_PATH], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(temporary, BINARY_PATH);
  } catch (error) {
    rmSync(temporary, { force: true });
    const { code, stderr } = error as { code?: unknown; stderr?: Buffer };
    if (code === 'ENOENT') throw new Error(`gcc is needed to build the raw-KVM floor (${SOURCE_PATH}) and was not found on PATH`, { cause: error });
    throw new Error(`gcc could not build ${SOURCE_PATH}:\n${stderr?.toString().trim() ?? String(error)}`, { cause: error });
  }
  return BINARY_PATH;
}

function checkedSizes(values: readonly number[], option: string): number[] {
  for (const value of values) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${option}: expected positive whole numbers, got ${value}`);
  }
  return [...new Set(values)];
}

/** Summaries of every sample list, by the numeric key floor.c printed. */
function summariesByKey<T, R>(record: Record<string, T>, keys: readonly number[], what: string, map: (value: T) => R): Map<number, R> {
  return new Map(keys.map((key) => {
    const value = record[String(key)];
    if (value === undefined) throw new Error(`the raw-KVM floor printed no ${what} for ${key}`);
    return [key, map(value)];
  }));
}

/**
 * Builds `floor/floor.c` when needed (into `bench/build/`) and runs it. Needs
 * a working `/dev/kvm`: call it where the bench's hypervisor suites run.
 * @throws Error when gcc is missing or cannot build the program, or when the
 *   program fails (the message carries its stderr, which names the failing call).
 * @throws RangeError for a size or page count that is not a positive whole number.
 * @example
 * const floor = measureFloor({ quick: false, memorySizesBytes: [4 << 20], copyPages: [1, 256] });
 * console.log(`call: ${(callMedianUs / floor.entry.median).toFixed(1)}x the floor`);
 */
export function measureFloor(options: FloorOptions): Floor {
  const memorySizes = checkedSizes(options.memorySizesBytes, 'memorySizesBytes');
  const copyPages = checkedSizes(options.copyPages, 'copyPages');
  const counts = iterationCounts(options.quick);
  const args = [
    '--warmup', String(counts.hot.warmup),
    '--iterations', String(counts.hot.timed),
    '--create-warmup', String(counts.create.warmup),
    '--create-iterations', String(counts.create.timed),
    '--copy-warmup', String(counts.copy.warmup),
    '--copy-iterations', String(counts.copy.timed),
    ...memorySizes.flatMap((size) => ['--memory-size', String(size)]),
    ...copyPages.flatMap((pages) => ['--copy-pages', String(pages)]),
  ];
  const binary = buildFloor();
  const result = spawnSync(binary, args, { encoding: 'utf8', maxBuffer: MAX_OUTPUT_BYTES });
  if (result.error !== undefined) throw new Error(`could not run ${binary}: ${result.error.message}`, { cause: result.error });
  if (result.status !== 0) {
    const how = result.signal !== null ? `was killed by ${result.signal}` : `exited with status ${result.status}`;
    throw new Error(`the raw-KVM floor (${binary} ${args.join(' ')}) ${how}:\n${result.stderr.trim()}`);
  }
  let output: FloorOutput;
  try {
    output = JSON.parse(result.stdout) as FloorOutput;
  } catch (error) {
    throw new Error(`the raw-KVM floor printed something other than JSON: ${result.stdout.slice(0, 200)}`, { cause: error });
  }
  return {
    create: summariesByKey(output.create, memorySizes, 'creation samples', (samples) => ({
      total: summarize(samples.totalUs),
      toFirstExit: summarize(samples.toFirstExitUs),
      teardown: summarize(samples.teardownUs),
    })),
    roundTrip: summarize(output.roundTripUs),
    entry: summarize(output.entryUs),
    memcpy: summariesByKey(output.memcpy, copyPages, 'memcpy samples', summarize),
    settings: output.settings,
  };
}

/**
 * Runs the benchmarks and writes results/<name>.md and results/<name>.json.
 *
 *   pnpm bench [--quick] [--name NAME] [--guest rust|c] [--part native|hypervisor|all]
 *
 * Two parts. The native part needs no hypervisor: the host side of a call
 * against an in-process stand-in VM, the guest runtimes' per-call work in a
 * normal process, and the peers (isolated-vm, QuickJS, node:vm, workers).
 * The hypervisor part runs against KVM: the raw-KVM floor, then sandboxes,
 * calls and snapshots, each compared with the floor measured in the same run.
 * Without a usable /dev/kvm the hypervisor part re-runs this script inside
 * tools/kvm-vm/run.sh, where KVM is nested under software emulation.
 *
 * --quick runs a few iterations of everything: a smoke test, the figures mean
 * little; it fails unless every case produced numbers.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkHypervisor, GuestBinary, UninitializedSandbox } from '@hyperlight-ts/core';
import { guestPath } from '@hyperlight-ts/fixture-guests';
import { chartSeries, latencyChart } from './chart.js';
import { CONFIGURATIONS, type ConfigurationName } from './configurations.js';
import { cpuModel, detectEnvironment, HOST_CPU_ENV, IN_KVM_VM_ENV } from './environment.js';
import { floorSuite } from './floor-rows.js';
import { memorySizeBytes } from './internals.js';
import { toMarkdown, writeResults, type Part, type Results, type Row } from './report.js';
import { callsSuite } from './suites/calls.js';
import { guestRuntimeSuite } from './suites/guest-runtime.js';
import { hostSideSuite } from './suites/host-side.js';
import { peersSuite } from './suites/peers.js';
import { sandboxesSuite } from './suites/sandboxes.js';
import { snapshotSuite } from './suites/snapshots.js';
import { tracingSuite } from './suites/tracing.js';

const script = fileURLToPath(import.meta.url);
const benchDir = join(dirname(script), '..');
const repoRoot = join(benchDir, '..');
const resultsDir = join(benchDir, 'results');

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    name: { type: 'string' },
    guest: { type: 'string', default: 'rust' },
    part: { type: 'string', default: 'all' },
    suite: { type: 'string' },
    'part-out': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: pnpm bench [--quick] [--name NAME] [--guest rust|c] [--part native|hypervisor|all] [--suite NAME,...]');
  process.exit(0);
}
if (values.guest !== 'rust' && values.guest !== 'c') throw new Error(`--guest must be rust or c, not ${values.guest}`);
if (!['native', 'hypervisor', 'all'].includes(values.part)) throw new Error(`--part must be native, hypervisor or all, not ${values.part}`);
const guest = values.guest;
const quick = values.quick;
const mode = quick ? 'quick' : 'full';
const name = values.name ?? mode;
/** Only these suites run (a suite compared with an earlier one needs that one too); all when unset. */
const onlySuites = values.suite?.split(',').map((s) => s.trim());

/** A suite's output, as every suite returns it. */
interface SuiteResult {
  readonly rows: readonly Row[];
  readonly notes: readonly string[];
}

/** Runs suites in order; each sees the rows of the ones before it. */
async function runSuites(kind: Part['kind'], suites: readonly [string, (earlier: readonly Row[]) => SuiteResult | Promise<SuiteResult>][]): Promise<Part> {
  const environment = detectEnvironment(kind === 'hypervisor');
  console.error(`bench (${mode}), ${kind}: ${environment.description}; ${environment.cpuModel}; Node ${environment.node}`);
  const rows: Row[] = [];
  const notes: Record<string, readonly string[]> = {};
  for (const [suite, run] of suites) {
    if (onlySuites && !onlySuites.includes(suite)) continue;
    console.error(`${suite}:`);
    const result = await run(rows);
    rows.push(...result.rows);
    notes[suite] = result.notes;
  }
  return { kind, environment, notes, rows };
}

function nativePart(): Promise<Part> {
  return runSuites('native', [
    ['host side', () => hostSideSuite({ quick })],
    ['guest runtime', () => guestRuntimeSuite({ quick })],
    ['peers', () => peersSuite({ quick })],
  ]);
}

/** Guest memory of each configuration's sandbox, in bytes: the floor maps the same. */
function memorySizes(): Record<ConfigurationName, number> {
  const binary = GuestBinary.fromFile(guestPath(guest, 'simpleguest'));
  const sizes = {} as Record<ConfigurationName, number>;
  for (const configuration of Object.keys(CONFIGURATIONS) as ConfigurationName[]) {
    const u = UninitializedSandbox.create(binary, CONFIGURATIONS[configuration]);
    u.register('HostAdd', { params: ['i32', 'i32'], returns: 'i32' }, (a, b) => a + b);
    const sandbox = u.evolve();
    sizes[configuration] = memorySizeBytes(sandbox);
    sandbox.dispose();
  }
  return sizes;
}

function hypervisorHere(): Promise<Part> {
  return runSuites('hypervisor', [
    ['floor', () => floorSuite(quick, memorySizes())],
    ['sandboxes', (earlier) => sandboxesSuite({ quick, guest, earlier })],
    ['calls', (earlier) => callsSuite({ quick, guest, earlier })],
    ['snapshots', () => snapshotSuite({ quick, guest })],
    ['tracing', () => tracingSuite({ quick, guest })],
  ]);
}

/** The hypervisor part: here when KVM works, otherwise inside tools/kvm-vm. */
async function hypervisorPart(): Promise<Part> {
  const availability = checkHypervisor();
  if (availability.backend) return hypervisorHere();
  const why = availability.candidates.map((c) => `${c.backend}: ${c.reason} (${c.detail})`).join('; ');
  if (process.env[IN_KVM_VM_ENV] === '1') throw new Error(`no usable hypervisor inside tools/kvm-vm either: ${why}`);
  console.error(`no usable hypervisor here (${why}); running the hypervisor part inside tools/kvm-vm/run.sh`);
  mkdirSync(resultsDir, { recursive: true });
  const partFile = join(resultsDir, `.${name}-hypervisor.json`);
  rmSync(partFile, { force: true });
  const args = [script, '--part', 'hypervisor', '--part-out', partFile, '--guest', guest, ...(quick ? ['--quick'] : []), ...(values.suite ? ['--suite', values.suite] : [])];
  const run = spawnSync(
    join(repoRoot, 'tools/kvm-vm/run.sh'),
    ['--smp', '1', '--cwd', benchDir, '-e', `${IN_KVM_VM_ENV}=1`, '-e', `${HOST_CPU_ENV}=${cpuModel()}`, '--', process.execPath, ...process.execArgv, ...args],
    // The VM's output is progress: to stderr, like this process's own.
    { stdio: [0, 2, 2] },
  );
  if (run.status !== 0) throw new Error(`the hypervisor part failed inside tools/kvm-vm (status ${run.status ?? run.signal})`);
  const part = JSON.parse(readFileSync(partFile, 'utf8')) as Part;
  rmSync(partFile, { force: true });
  return part;
}

/** Fails a run in which some case produced no number. */
function checkComplete(parts: readonly Part[]): void {
  const bad = parts.flatMap((p) => p.rows).filter((r) => r.n === 0 || ![r.min, r.median, r.p99].every(Number.isFinite));
  if (bad.length > 0) throw new Error(`cases without figures: ${bad.map((r) => r.name).join(', ')}`);
  for (const part of parts) if (part.rows.length === 0) throw new Error(`the ${part.kind} part produced no rows`);
}

if (values['part-out']) {
  // Inside tools/kvm-vm for a parent run: hand the part back as JSON.
  const part = await hypervisorHere();
  checkComplete([part]);
  writeFileSync(values['part-out'], `${JSON.stringify(part)}\n`);
} else {
  const parts: Part[] = [];
  if (values.part !== 'hypervisor') parts.push(await nativePart());
  if (values.part !== 'native') parts.push(await hypervisorPart());
  checkComplete(parts);
  const results: Results = { name, mode, parts };
  const written = writeResults(resultsDir, results);
  const files = [written.markdown, written.json];
  if (chartSeries(results).length > 0) {
    files.push(join(resultsDir, `${name}-latency.svg`));
    writeFileSync(files[2]!, latencyChart(results));
  }
  console.log(toMarkdown(results));
  console.error(`wrote ${files.map((p) => relative(process.cwd(), p)).join(', ')}`);
}

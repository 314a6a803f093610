/**
 * Runs the benchmarks and writes results/<name>.md and results/<name>.json.
 *
 *   pnpm bench [--quick] [--name NAME] [--guest rust|c]
 *
 * --quick runs a few iterations of everything (a smoke test; the figures mean
 * little). Without a usable /dev/kvm the bench re-runs itself inside
 * tools/kvm-vm/run.sh, where KVM is nested under software emulation.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkHypervisor } from '@hyperlight-ts/core';
import { cpuModel, detectEnvironment, HOST_CPU_ENV, IN_KVM_VM_ENV } from './environment.js';
import { toMarkdown, writeResults, type Results } from './report.js';
import { callsSuite } from './suites/calls.js';
import { snapshotSuite } from './suites/snapshots.js';

const script = fileURLToPath(import.meta.url);
const benchDir = join(dirname(script), '..');
const repoRoot = join(benchDir, '..');

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    name: { type: 'string' },
    guest: { type: 'string', default: 'rust' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: pnpm bench [--quick] [--name NAME] [--guest rust|c]');
  process.exit(0);
}
if (values.guest !== 'rust' && values.guest !== 'c') throw new Error(`--guest must be rust or c, not ${values.guest}`);
const guest = values.guest;
const mode = values.quick ? 'quick' : 'full';
const name = values.name ?? mode;

const availability = checkHypervisor();
if (!availability.backend) {
  const why = availability.candidates.map((c) => `${c.backend}: ${c.reason} (${c.detail})`).join('; ');
  if (process.env[IN_KVM_VM_ENV] === '1') {
    console.error(`no usable hypervisor inside tools/kvm-vm either: ${why}`);
    process.exit(1);
  }
  console.error(`no usable hypervisor here (${why}); re-running inside tools/kvm-vm/run.sh`);
  const command = [process.execPath, ...process.execArgv, script, ...process.argv.slice(2)];
  const run = spawnSync(
    join(repoRoot, 'tools/kvm-vm/run.sh'),
    ['--smp', '1', '--cwd', benchDir, '-e', `${IN_KVM_VM_ENV}=1`, '-e', `${HOST_CPU_ENV}=${cpuModel()}`, '--', ...command],
    { stdio: 'inherit' },
  );
  process.exit(run.status ?? 1);
}

const environment = detectEnvironment();
console.error(`bench (${mode}): ${environment.description}; ${environment.cpuModel}; Node ${environment.node}`);
console.error('snapshots:');
const snapshots = snapshotSuite({ quick: values.quick, guest });
console.error('calls:');
const calls = await callsSuite({ quick: values.quick, guest });
const results: Results = {
  name,
  mode,
  environment,
  notes: { snapshots: snapshots.notes, calls: calls.notes },
  rows: [...snapshots.rows, ...calls.rows],
};
const written = writeResults(join(benchDir, 'results'), results);
console.log(toMarkdown(results));
console.error(`wrote ${relative(process.cwd(), written.markdown)} and ${relative(process.cwd(), written.json)}`);

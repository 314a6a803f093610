#!/usr/bin/env node
// `pnpm test`: every suite, on every machine. The host suites run here; the hypervisor suites run
// here too when /dev/kvm is usable, and otherwise in the nested-KVM VM of tools/kvm-vm. One summary
// at the end. `node tools/test.mjs --help` says how; tools/test/plan.mjs decides what runs and
// tools/test/verdict.mjs what the outcome is.
import { writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kvmStatus } from './test/kvm-status.mjs';
import { nextVmStep, parseOptions, planRun, USAGE } from './test/plan.mjs';
import { runStreamed, stopRunning } from './test/run-streamed.mjs';
import { decideVerdict } from './test/verdict.mjs';
import { acquireVmLock } from './test/vm-lock.mjs';
import { addLine, createSummary } from './test/vitest-summary.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

// What the VM runs: every workspace package's test:hypervisor script, one package at a time (the
// VM has one CPU), all of them even after a failure. Inside the VM KVM works: nothing may skip.
const VM_COMMAND = ['pnpm', '-r', '--no-bail', '--workspace-concurrency=1', 'run', 'test:hypervisor'];

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(error.message);
    return 64;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1' };
  // Children write to a pipe (this process reads their output); keep their colours for a terminal.
  if (process.stdout.isTTY && env.FORCE_COLOR === undefined && env.NO_COLOR === undefined) env.FORCE_COLOR = '1';

  const plan = planRun(options, kvmStatus());
  say(plan.notice);
  if (plan.requireHypervisor) env.HYPERLIGHT_REQUIRE_HYPERVISOR = '1';
  // Without KVM the host skips the hypervisor tests on purpose; the VM requires them.
  else delete env.HYPERLIGHT_REQUIRE_HYPERVISOR;

  const host = plan.host ? await runHost(env) : null;
  const vm = plan.vm === 'run' ? await runVm(env, options) : null;
  const verdict = decideVerdict(plan, host, vm);
  const text = `${verdict.lines.join('\n')}\n`;
  process.stdout.write(text);
  if (options.summaryFile) writeFileSync(options.summaryFile, text);
  return verdict.exitCode;
}

/** The host suites: this runner's own tests, then every package's test task (pnpm test:host). */
async function runHost(env) {
  const summary = createSummary('tools');
  const onLine = (line) => addLine(summary, line);
  let status = 0;
  let durationMs = 0;
  for (const args of [['exec', 'vitest', 'run', '--config', 'tools/vitest.config.mjs'], ['run', 'test:host']]) {
    say(`host: pnpm ${args.join(' ')}`);
    const result = await runStreamed('pnpm', args, { cwd: ROOT, env, onLine });
    durationMs += result.durationMs;
    if (status === 0) status = result.status;
  }
  return { status, summary, durationMs };
}

/** The hypervisor suites in the VM: bounded attempts, one retry after a stall. */
async function runVm(env, options) {
  let release = null;
  if (options.lockPath) {
    try {
      release = await acquireVmLock(options.lockPath);
    } catch (error) {
      return { end: { action: 'no-verdict', message: error.message }, attempts: 0, summary: createSummary(), durationMs: 0 };
    }
  }
  const started = Date.now();
  const args = ['--smp', '1', '--cwd', ROOT, '-e', 'HYPERLIGHT_REQUIRE_HYPERVISOR=1', '-e', 'TURBO_TELEMETRY_DISABLED=1'];
  if (env.CI !== undefined) args.push('-e', `CI=${env.CI}`);
  args.push('--', ...VM_COMMAND);
  const attempts = [];
  let summary;
  let end;
  try {
    do {
      summary = createSummary();
      say(`VM: tools/kvm-vm/run.sh ${args.join(' ')}${attempts.length > 0 ? ` (attempt ${attempts.length + 1})` : ''}`);
      const result = await runStreamed(join(ROOT, 'tools/kvm-vm/run.sh'), args, {
        cwd: ROOT,
        env,
        onLine: (line) => addLine(summary, line),
        timeoutMs: options.vmTimeoutMs,
        idleMs: options.vmIdleMs,
      });
      attempts.push(result.stalled ? { kind: 'stalled', reason: result.stalled } : { kind: 'exited', status: result.status });
      end = nextVmStep(attempts);
      if (end.action === 'retry') say(end.message);
    } while (end.action === 'retry');
  } finally {
    await release?.();
  }
  if (end.action === 'no-verdict') say(`NO VERDICT: ${end.message}`);
  return { end, attempts: attempts.length, summary, durationMs: Date.now() - started };
}

function say(message) {
  process.stdout.write(`\n[test] ${message}\n`);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopRunning(signal);
    process.exit(128 + constants.signals[signal]);
  });
}
process.exitCode = await main();

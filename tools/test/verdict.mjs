// The end of `pnpm test`: from what each part reported, decide the exit status and write the one
// summary users and .ci/run read. Pure: no I/O here.
import { formatCounts, skippedByPackage, totals } from './vitest-summary.mjs';

/** Exit status when a test or task failed, or a test was skipped where none may be. */
export const EXIT_FAILED = 1;

/** Exit status when nothing failed but the hypervisor suites gave no verdict (the VM never ran them). */
export const EXIT_NO_VERDICT = 2;

/**
 * What the host suites reported.
 * @typedef {object} HostResult
 * @property {number} status 0 when every host command succeeded, else the first non-zero status
 * @property {import('./vitest-summary.mjs').Summary} summary
 * @property {number} durationMs
 */

/**
 * What the VM part reported.
 * @typedef {object} VmResult
 * @property {import('./plan.mjs').VmNextStep} end how the last attempt ended (`done` or `no-verdict`)
 * @property {number} attempts how many attempts ran
 * @property {import('./vitest-summary.mjs').Summary} summary of the last attempt
 * @property {number} durationMs all attempts (not any wait for the lock)
 */

/**
 * The decision and the summary text.
 * @typedef {{ exitCode: number, lines: string[] }} Verdict
 */

/**
 * Decides the outcome of a run and renders its summary.
 * @param {import('./plan.mjs').Plan} plan what was to run
 * @param {HostResult | null} host null when the host suites did not run
 * @param {VmResult | null} vm null when the VM part did not run
 * @returns {Verdict}
 */
export function decideVerdict(plan, host, vm) {
  const problems = [];
  const lines = ['', '=== summary ==='];
  let noVerdict = null;

  if (host) {
    const counts = totals(host.summary);
    let note = '';
    if (plan.vm === 'run' && counts.skipped > 0) note = '; the hypervisor tests skipped here run in the VM';
    if (plan.vm === 'off' && counts.skipped > 0) note = '; the hypervisor tests among them did NOT run (VM turned off)';
    lines.push(`host suites: ${formatCounts(counts)} (${formatDuration(host.durationMs)}${note})`);
    if (counts.skipped > 0) lines.push(`  skipped: ${skippedByPackage(host.summary)}`);
    if (host.status !== 0) problems.push(`the host suites failed (exit status ${host.status})`);
    else if (counts.failed > 0) problems.push(`${counts.failed} host test(s) failed`);
    if (plan.requireHypervisor && counts.skipped > 0) {
      problems.push(`/dev/kvm is usable but ${counts.skipped} test(s) were skipped (${skippedByPackage(host.summary)})`);
    }
  }

  if (vm) {
    const counts = totals(vm.summary);
    const tries = vm.attempts > 1 ? `, attempt ${vm.attempts} of ${vm.attempts}` : '';
    if (vm.end.action === 'no-verdict') {
      noVerdict = vm.end.message;
      lines.push(`hypervisor suites in the nested-KVM VM: NO VERDICT (${formatDuration(vm.durationMs)}${tries})`);
    } else {
      lines.push(`hypervisor suites in the nested-KVM VM: ${formatCounts(counts)} (${formatDuration(vm.durationMs)}${tries})`);
      if (vm.end.status !== 0) problems.push(`the hypervisor suites in the VM failed (exit status ${vm.end.status})`);
      else if (counts.failed > 0) problems.push(`${counts.failed} hypervisor test(s) failed in the VM`);
      if (counts.skipped > 0) {
        problems.push(`${counts.skipped} test(s) were skipped inside the KVM VM, where nothing may be skipped (${skippedByPackage(vm.summary)})`);
      }
      if (vm.end.status === 0 && counts.passed + counts.failed === 0) problems.push('the VM reported no hypervisor test at all');
    }
  } else if (plan.vm === 'off') {
    lines.push('hypervisor suites: NOT RUN (no usable /dev/kvm, and the VM is turned off by --no-vm or HYPERLIGHT_TEST_VM=0)');
  }

  const failures = [host, vm].filter(Boolean).flatMap((part) => failureLines(part.summary, part === vm ? 'VM' : 'host'));
  if (failures.length > 0) lines.push('failed:', ...failures);
  for (const problem of problems) lines.push(`FAILED: ${problem}`);
  if (noVerdict) {
    lines.push(`NO VERDICT: ${noVerdict}.`, '  The hypervisor suites did not run to the end, so this run proves nothing about them; run `pnpm test:vm` again,', '  or use a machine with /dev/kvm.');
  }

  const sum = { passed: 0, failed: 0, skipped: 0 };
  for (const part of [host, vm]) {
    if (!part || (part === vm && vm.end.action === 'no-verdict')) continue;
    const counts = totals(part.summary);
    sum.passed += counts.passed;
    sum.failed += counts.failed;
    sum.skipped += counts.skipped;
  }
  lines.push(formatCounts(sum));
  const exitCode = problems.length > 0 ? EXIT_FAILED : noVerdict ? EXIT_NO_VERDICT : 0;
  lines.push(`result: ${exitCode === 0 ? 'PASS' : exitCode === EXIT_FAILED ? 'FAIL' : 'NO VERDICT'}`);
  return { exitCode, lines };
}

/**
 * Renders a duration as the summary prints it.
 * @param {number} ms
 * @returns {string} e.g. "42s" or "13m05s"
 */
export function formatDuration(ms) {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

function failureLines(summary, part) {
  const lines = summary.failures.map((name) => `  [${part}] ${name}`);
  if (summary.failuresOmitted > 0) lines.push(`  [${part}] … and ${summary.failuresOmitted} more (see the output above)`);
  for (const task of summary.failedTasks) lines.push(`  [${part}] task ${task}`);
  return lines;
}

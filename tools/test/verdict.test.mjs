import { describe, expect, test } from 'vitest';
import { planRun } from './plan.mjs';
import { decideVerdict, EXIT_FAILED, EXIT_NO_VERDICT, formatDuration } from './verdict.mjs';
import { summarize } from './vitest-summary.mjs';

const WITH_KVM = planRun({ vm: 'auto' }, { usable: true, detail: 'ok' });
const WITHOUT_KVM = planRun({ vm: 'auto' }, { usable: false, detail: 'missing' });
const VM_OFF = planRun({ vm: 'off' }, { usable: false, detail: 'missing' });

const host = (text, status = 0) => ({ status, summary: summarize(text), durationMs: 312_000 });
const vm = (text, end = { action: 'done', status: 0 }, attempts = 1) => ({ end, attempts, summary: summarize(text), durationMs: 790_000 });
const HOST_WITH_SKIPS = '@a/core:test:       Tests  907 passed | 18 skipped (925)';
const HOST_CLEAN = '@a/core:test:       Tests  925 passed (925)';
const VM_CLEAN = '> @a/core@1.0.0 test:hypervisor /r\n      Tests  18 passed (18)';

describe('decideVerdict', () => {
  test('no KVM: host skips are expected when the VM runs them; the summary shows both parts and the totals', () => {
    const verdict = decideVerdict(WITHOUT_KVM, host(HOST_WITH_SKIPS), vm(VM_CLEAN));
    expect(verdict.exitCode).toBe(0);
    expect(verdict.lines).toContain('host suites: 907 passed, 0 failed, 18 skipped (5m12s; the hypervisor tests skipped here run in the VM)');
    expect(verdict.lines).toContain('  skipped: @a/core 18');
    expect(verdict.lines).toContain('hypervisor suites in the nested-KVM VM: 18 passed, 0 failed, 0 skipped (13m10s)');
    expect(verdict.lines.slice(-2)).toEqual(['925 passed, 0 failed, 18 skipped', 'result: PASS']);
  });

  test('KVM usable: a skip on the host fails the run, naming the packages', () => {
    const verdict = decideVerdict(WITH_KVM, host(HOST_WITH_SKIPS), null);
    expect(verdict.exitCode).toBe(EXIT_FAILED);
    expect(verdict.lines).toContain('FAILED: /dev/kvm is usable but 18 test(s) were skipped (@a/core 18)');
    expect(decideVerdict(WITH_KVM, host(HOST_CLEAN), null).exitCode).toBe(0);
  });

  test('a skip inside the VM fails the run', () => {
    const verdict = decideVerdict(WITHOUT_KVM, host(HOST_WITH_SKIPS), vm('> @a/acc@0.0.0 test:hypervisor /r\n Tests  5 passed | 2 skipped (7)'));
    expect(verdict.exitCode).toBe(EXIT_FAILED);
    expect(verdict.lines).toContain('FAILED: 2 test(s) were skipped inside the KVM VM, where nothing may be skipped (@a/acc 2)');
  });

  test('failures in either part fail the run and are listed by part and name', () => {
    const failedHost = host('@a/c:test:  FAIL  t.test.ts > x\n@a/c:test:  Tests  1 failed | 3 passed (4)\nFailed:    @a/c#test', 1);
    const failedVm = vm('> @a/k@1.0.0 test:hypervisor /r\n FAIL  k.kvm.test.ts > y\n Tests  1 failed (1)', { action: 'done', status: 1 });
    const verdict = decideVerdict(WITHOUT_KVM, failedHost, failedVm);
    expect(verdict.exitCode).toBe(EXIT_FAILED);
    expect(verdict.lines).toEqual(expect.arrayContaining([
      'failed:', '  [host] @a/c: t.test.ts > x', '  [host] task @a/c#test', '  [VM] @a/k: k.kvm.test.ts > y',
      'FAILED: the host suites failed (exit status 1)', 'FAILED: the hypervisor suites in the VM failed (exit status 1)',
    ]));
    expect(verdict.lines.at(-1)).toBe('result: FAIL');
  });

  test('a failing exit status fails the run even when no test failed (a build, cargo test)', () => {
    expect(decideVerdict(WITH_KVM, host(HOST_CLEAN, 2), null).exitCode).toBe(EXIT_FAILED);
  });

  test('a VM that ran nothing fails the run', () => {
    const verdict = decideVerdict(WITHOUT_KVM, host(HOST_WITH_SKIPS), vm('Scope: 0 of 15 workspace projects'));
    expect(verdict.exitCode).toBe(EXIT_FAILED);
    expect(verdict.lines).toContain('FAILED: the VM reported no hypervisor test at all');
  });

  test('a VM without a verdict is reported loudly and fails with its own status; its partial counts are left out', () => {
    const end = { action: 'no-verdict', message: 'the nested-KVM VM stalled 2 times (no output for 600 s; no output for 600 s)' };
    const verdict = decideVerdict(WITHOUT_KVM, host(HOST_WITH_SKIPS), vm(VM_CLEAN, end, 2));
    expect(verdict.exitCode).toBe(EXIT_NO_VERDICT);
    expect(verdict.lines).toContain('hypervisor suites in the nested-KVM VM: NO VERDICT (13m10s, attempt 2 of 2)');
    expect(verdict.lines).toContain(`NO VERDICT: ${end.message}.`);
    expect(verdict.lines.slice(-2)).toEqual(['907 passed, 0 failed, 18 skipped', 'result: NO VERDICT']);
    // A real failure outranks the missing verdict.
    expect(decideVerdict(WITHOUT_KVM, host(HOST_CLEAN, 1), vm('', end, 2)).exitCode).toBe(EXIT_FAILED);
  });

  test('the escape hatch passes, but says the hypervisor suites did not run', () => {
    const verdict = decideVerdict(VM_OFF, host(HOST_WITH_SKIPS), null);
    expect(verdict.exitCode).toBe(0);
    expect(verdict.lines).toContain('hypervisor suites: NOT RUN (no usable /dev/kvm, and the VM is turned off by --no-vm or HYPERLIGHT_TEST_VM=0)');
    expect(verdict.lines.some((line) => line.includes('did NOT run (VM turned off)'))).toBe(true);
  });
});

test('formatDuration', () => {
  expect(formatDuration(42_400)).toBe('42s');
  expect(formatDuration(785_000)).toBe('13m05s');
});

import { describe, expect, test } from 'vitest';
import { addLine, createSummary, formatCounts, MAX_FAILURE_NAMES, skippedByPackage, summarize, totals } from './vitest-summary.mjs';

// Shapes copied from real runs: turbo's prefixed lines (pnpm test:host) and pnpm -r's headers (the VM).
const TURBO_OUTPUT = `
@hyperlight-ts/core:test:  Test Files  46 passed | 1 skipped (47)
@hyperlight-ts/core:test:       Tests  907 passed | 18 skipped (925)
@hyperlight-ts/guest-c:test:  FAIL  test/abi.test.ts > abi > matches the schema
@hyperlight-ts/guest-c:test:  Test Files  1 failed | 2 passed (3)
@hyperlight-ts/guest-c:test:       Tests  1 failed | 48 passed (49)
@hyperlight-ts/guest-c#test:  WARNING  command finished with error, but continuing...
 Tasks:    22 successful, 23 total
Failed:    @hyperlight-ts/guest-c#test
`;

const PNPM_OUTPUT = `
Scope: 4 of 15 workspace projects

> @hyperlight-ts/core@0.1.0 test:hypervisor /work/main/packages/core
> vitest run .kvm.test

 Test Files  1 passed (1)
      Tests  18 passed (18)

> @hyperlight-ts/acceptance-tests@0.0.0 test:hypervisor /work/main/tests/acceptance
> vitest run

 FAIL  test/cancel.kvm.test.ts [ test/cancel.kvm.test.ts ]
 FAIL  test/limits.kvm.test.ts > limits > stops a spinning guest
 Test Files  2 failed | 23 passed (25)
      Tests  1 failed | 486 passed | 2 skipped (489)
 ERR_PNPM_RECURSIVE_FAIL

Summary: 1 fails, 3 passes

/work/main/tests/acceptance:
 ERROR  @hyperlight-ts/acceptance-tests@0.0.0 test:hypervisor: \`vitest run\`
`;

describe('summarize', () => {
  test('adds up turbo-prefixed vitest totals per package and takes turbo\'s failed tasks', () => {
    const summary = summarize(TURBO_OUTPUT);
    expect(totals(summary)).toEqual({ passed: 955, failed: 1, skipped: 18 });
    expect(summary.packages.get('@hyperlight-ts/core')).toEqual({ name: '@hyperlight-ts/core', passed: 907, failed: 0, skipped: 18 });
    expect(summary.failures).toEqual(['@hyperlight-ts/guest-c: test/abi.test.ts > abi > matches the schema']);
    expect(summary.failedTasks).toEqual(['@hyperlight-ts/guest-c#test']);
  });

  test('attributes unprefixed lines to the package pnpm announced last, and takes pnpm\'s failed scripts', () => {
    const summary = summarize(PNPM_OUTPUT);
    expect(summary.packages.get('@hyperlight-ts/core')).toMatchObject({ passed: 18, failed: 0, skipped: 0 });
    // The file that failed as a whole is not in vitest's test counts: it is added as one failure.
    expect(summary.packages.get('@hyperlight-ts/acceptance-tests')).toMatchObject({ passed: 486, failed: 2, skipped: 2 });
    expect(summary.failures).toEqual([
      '@hyperlight-ts/acceptance-tests: test/cancel.kvm.test.ts (the whole file)',
      '@hyperlight-ts/acceptance-tests: test/limits.kvm.test.ts > limits > stops a spinning guest',
    ]);
    expect(summary.failedTasks).toEqual(['@hyperlight-ts/acceptance-tests test:hypervisor']);
    expect(skippedByPackage(summary)).toBe('@hyperlight-ts/acceptance-tests 2');
  });

  test('ignores colours and carriage returns, and counts todo tests as skipped', () => {
    const summary = summarize('\x1b[2m      Tests \x1b[22m \x1b[1m\x1b[32m3 passed\x1b[39m\x1b[22m\x1b[2m | \x1b[22m\x1b[33m1 todo\x1b[39m\x1b[90m (4)\x1b[39m\r\n', 'tools');
    expect(summary.packages.get('tools')).toMatchObject({ passed: 3, failed: 0, skipped: 1 });
  });

  test('takes nothing from lines that only look alike', () => {
    const summary = summarize([
      'Tests  no tests',
      'console.log: Tests are fun',
      '@hyperlight-ts/core:test: Failed: not a task list',
      'Failed: the guest said so',
      '> echo hello',
      'FAILED to parse',
    ].join('\n'));
    expect(totals(summary)).toEqual({ passed: 0, failed: 0, skipped: 0 });
    expect(summary.failures).toEqual([]);
    expect(summary.failedTasks).toEqual([]);
  });

  test('keeps one copy of a repeated failure and at most MAX_FAILURE_NAMES names', () => {
    const summary = createSummary('p');
    addLine(summary, ' FAIL  a.test.ts > x');
    addLine(summary, ' FAIL  a.test.ts > x');
    expect(summary.failures).toEqual(['p: a.test.ts > x']);
    for (let i = 0; i < MAX_FAILURE_NAMES + 5; i++) addLine(summary, ` FAIL  b.test.ts > case ${i}`);
    expect(summary.failures).toHaveLength(MAX_FAILURE_NAMES);
    expect(summary.failuresOmitted).toBe(6);
  });
});

test('formatCounts renders the totals line .ci/run has always printed', () => {
  expect(formatCounts({ passed: 2133, failed: 0, skipped: 592 })).toBe('2133 passed, 0 failed, 592 skipped');
});

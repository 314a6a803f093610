// The guest libc (musl) against the host's glibc: the libcconformance C
// guest runs each group of shared C cases, a native build of the same cases
// runs them against glibc, and the outputs must agree line by line (exactly,
// within 1 ulp for math, or as support/libc-differences.ts documents). Then
// what only a guest does: exit, abort, system, stack smashing, the host
// clock, stdout/stderr reaching print, and the host staying unharmed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  GuestBinary, GuestPanicError, MultiUseSandbox, PoisonedSandboxError, UninitializedSandbox, type ClockName, type SandboxConfiguration,
} from '@hyperlight-ts/core';
import { cGuestPath } from '@hyperlight-ts/fixture-guests';
import { describeHypervisor } from './support/guests.js';
import { buildNativeDriver, compareConformance, parseConformanceOutput, runNativeDriver } from './support/libc-conformance.js';
import { LIBC_DIFFERENCES, type LibcDifference } from './support/libc-differences.js';
import { thrownAs } from './support/thrown.js';

const MIB = 1024 * 1024;

/** The case groups, in the guest's order (checked against both sides below). */
const GROUPS = [
  'printf', 'sscanf', 'strtod', 'strtol', 'setjmp', 'qsort', 'locale', 'errno', 'string', 'stdio',
  'math-double', 'math-double-binary', 'math-float', 'math-float-binary', 'math-long-double',
] as const;

/** A conformance sandbox: room for the biggest group's text (~270 KB) and what it allocates. */
function conformanceSandbox(config: SandboxConfiguration = {}): MultiUseSandbox {
  const guest = GuestBinary.fromFile(cGuestPath('libcconformance'));
  return UninitializedSandbox.create(guest, { outputSize: MIB, heapSize: 8 * MIB, ...config }).evolve();
}

/** A sandbox whose prints are collected in `printed`. */
function printingSandbox(printed: string[], config: SandboxConfiguration = {}): MultiUseSandbox {
  return conformanceSandbox({ print: (text) => printed.push(text), ...config });
}

describeHypervisor('libc conformance [c guest on musl vs the host glibc]', () => {
  let dir: string;
  let driver: string;
  let sandbox: MultiUseSandbox;
  const used = new Set<LibcDifference>();

  // Compiling the native reference takes a few seconds here, a minute or more in the nested VM.
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'libc-conformance-'));
    driver = buildNativeDriver(dir);
    sandbox = conformanceSandbox();
  }, 300_000);

  afterAll(() => {
    sandbox?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the guest and the native driver have the same groups', () => {
    expect(parseConformanceOutput(sandbox.call('Groups', 'string')).map((l) => l.id)).toEqual(GROUPS);
    expect(runNativeDriver(driver, ['--groups']).trim().split('\n')).toEqual(GROUPS);
  });

  for (const group of GROUPS) {
    it(`${group}: the guest's output matches glibc's`, () => {
      const guest = sandbox.call('RunGroup', 'string', group);
      const native = runNativeDriver(driver, [group]);
      const result = compareConformance(guest, native);
      for (const d of result.usedDifferences) used.add(d);
      expect(result.failures).toEqual([]);
      expect(result.lines).toBeGreaterThan(10);
      expect(sandbox.poisoned).toBe(false);
    }, 120_000);
  }

  it('every documented difference is still needed', () => {
    expect(LIBC_DIFFERENCES.filter((d) => !used.has(d)).map((d) => d.why)).toEqual([]);
  });

  it('stdout and stderr reach print, in order, as glibc writes them', () => {
    const printed: string[] = [];
    using s = printingSandbox(printed);
    const written = s.call('PrintCase', 'i32');
    const native = runNativeDriver(driver, ['--print']);
    const [, expectedText = '', returned = ''] = /^([\s\S]*)== returned (\d+)\n$/.exec(native) ?? [];
    expect(printed.join('')).toBe(expectedText); // perror's ENOENT text is the same in both libcs
    expect(written).toBe(Number(returned));
  });
});

describeHypervisor('libc behaviour only a guest has [c guest]', () => {
  it('exit(3) runs the atexit handlers, ends the call as a guest abort naming exit(3), and restore() recovers', () => {
    const printed: string[] = [];
    using sandbox = printingSandbox(printed);
    using snapshot = sandbox.snapshot();
    const error = thrownAs(GuestPanicError, () => sandbox.call('ExitWith', 'void', 3));
    expect(error.guestMessage).toBe('exit(3) called');
    expect(printed.join('')).toBe('atexit handler ran\n');
    expect(sandbox.poisoned).toBe(true);
    expect(thrownAs(PoisonedSandboxError, () => sandbox.call('Clock', 'i64')).cause).toBe(error);
    sandbox.restore(snapshot);
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('SmashStack', 'i32', 4)).toBe(65);
    const again = thrownAs(GuestPanicError, () => sandbox.call('ExitWith', 'void', 0));
    expect(again.guestMessage).toBe('exit(0) called');
    expect(printed.join('')).toBe('atexit handler ran\n'.repeat(2)); // one handler again: restore dropped the first registration
  });

  it('abort() ends the call with "abort() called"', () => {
    using sandbox = conformanceSandbox();
    using snapshot = sandbox.snapshot();
    expect(thrownAs(GuestPanicError, () => sandbox.call('CallAbort', 'void')).guestMessage).toBe('abort() called');
    sandbox.restore(snapshot);
    expect(sandbox.call('SmashStack', 'i32', 16)).toBe(65);
  });

  it('a smashed stack canary (-fstack-protector-strong) ends the call with "stack smashing detected", not a fault', () => {
    using sandbox = conformanceSandbox();
    using snapshot = sandbox.snapshot();
    expect(sandbox.call('SmashStack', 'i32', 16)).toBe(65);
    expect(thrownAs(GuestPanicError, () => sandbox.call('SmashStack', 'i32', 64)).guestMessage).toBe('stack smashing detected');
    sandbox.restore(snapshot);
    expect(sandbox.call('SmashStack', 'i32', 1)).toBe(65);
  });

  it('system(NULL) is 0 (no shell) and system("ls") fails with ENOSYS', () => {
    using sandbox = conformanceSandbox();
    expect(sandbox.call('System', 'string')).toBe('system(NULL)=0 system("ls")=-1 errno=38');
  });

  it("time(), gettimeofday() and CLOCK_REALTIME follow the host's Date.now()", () => {
    using sandbox = conformanceSandbox();
    const before = Date.now();
    const seconds = Number(sandbox.call('Time', 'i64'));
    const micros = Number(sandbox.call('GettimeofdayUs', 'i64'));
    const nanos = sandbox.call('ClockGettimeNs', 'i64', 0);
    const after = Date.now();
    expect(seconds).toBeGreaterThanOrEqual(Math.floor(before / 1000));
    expect(seconds).toBeLessThanOrEqual(Math.ceil(after / 1000));
    expect(micros / 1000).toBeGreaterThanOrEqual(before - 1);
    expect(micros / 1000).toBeLessThanOrEqual(after + 1);
    expect(Number(nanos / 1_000_000n)).toBeGreaterThanOrEqual(before - 1);
    expect(Number(nanos / 1_000_000n)).toBeLessThanOrEqual(after + 1);
  });

  it('clock() counts the guest\'s CPU time; CLOCK_MONOTONIC never goes back; unknown clocks are EINVAL', () => {
    using sandbox = conformanceSandbox();
    const start = sandbox.call('Clock', 'i64');
    expect(start).toBeGreaterThanOrEqual(0n);
    expect(sandbox.call('ClockAfterWork', 'i64', 2_000_000)).toBeGreaterThan(start);
    let last = -1n;
    for (let i = 0; i < 20; i++) {
      const now = sandbox.call('ClockGettimeNs', 'i64', 1);
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
    }
    expect(sandbox.call('ClockGettimeNs', 'i64', 12345)).toBe(-22n);
  });

  it('time() and clock() read the clock option', () => {
    const frozen: Record<ClockName, bigint> = { realtime: 1_700_000_000_987_654_321n, monotonic: 5n, cpu: 2_500_000_000n };
    using sandbox = conformanceSandbox({ clock: (clock) => frozen[clock] });
    expect(sandbox.call('Time', 'i64')).toBe(1_700_000_000n);
    expect(sandbox.call('Clock', 'i64')).toBe(2_500_000n);
    expect(sandbox.call('GettimeofdayUs', 'i64')).toBe(1_700_000_000_987_654n);
    expect(sandbox.call('ClockGettimeNs', 'i64', 1)).toBe(5n);
  });
});

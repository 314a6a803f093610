// Time limits (the sandbox's timeoutMs, a call's timeoutMs, initialisation
// included), AbortSignals, and what a stopped guest costs afterwards.
import { expect, it } from 'vitest';
import {
  GuestCancelledError, GuestTimeoutError, hostFunction, PoisonedSandboxError, type CallScope, type GuestTimeoutLimit, type MultiUseSandbox,
} from '@hyperlight-ts/core';
import { forEachGuest, simpleSandbox, simpleUninitialized, type GuestLanguage } from './support/guests.js';
import { thrownAs } from './support/thrown.js';
import { rejection, reportMeasure, sleep } from './support/timing.js';

const TIMEOUT = 120_000;
const SETTLE_MS = 30_000;
/** Init data that makes the simpleguests' initialisation spin for ever. */
const SPIN_IN_INIT = new TextEncoder().encode('spin-in-init');
/** Longer than any test here runs: a limit that must not be the one to fire. */
const LONG_MS = 90_000;

/** Checks a GuestTimeoutError: its code, which limit fired, and its value. */
function expectTimeout(error: unknown, limit: GuestTimeoutLimit, timeoutMs: number): GuestTimeoutError {
  expect(error).toBeInstanceOf(GuestTimeoutError);
  const timeout = error as GuestTimeoutError;
  expect(timeout.code).toBe('HL_ERR_GUEST_TIMEOUT');
  expect({ limit: timeout.limit, timeoutMs: timeout.timeoutMs }).toEqual({ limit, timeoutMs });
  return timeout;
}

/** Runs `fn` (a call that must time out), returning the error and the milliseconds it took. */
async function timed(fn: () => unknown): Promise<{ error: unknown; elapsedMs: number }> {
  const start = performance.now();
  try {
    await Promise.race([
      Promise.resolve().then(fn),
      sleep(SETTLE_MS).then(() => {
        throw new Error(`no error within ${SETTLE_MS} ms`);
      }),
    ]);
  } catch (error) {
    return { error, elapsedMs: performance.now() - start };
  }
  throw new Error('the call returned');
}

/** Expects a poisoned sandbox, then restores it and checks it works. */
function expectPoisonedThenRestored(sandbox: MultiUseSandbox, snapshot: ReturnType<MultiUseSandbox['snapshot']>, poison: Error): void {
  expect(sandbox.poisoned).toBe(true);
  expect(thrownAs(PoisonedSandboxError, () => sandbox.call('Increment', 'i32')).poison).toBe(poison);
  sandbox.restore(snapshot);
  expect(sandbox.poisoned).toBe(false);
  expect(sandbox.call('Increment', 'i32')).toBe(1);
  expect(sandbox.call('CallHostAdd', 'i32', 2, 3)).toBe(5);
}

forEachGuest('timeoutMs', (language: GuestLanguage) => {
  // Both simpleguests spin in their initialisation code on SPIN_IN_INIT
  // (fixtures/guests/README.md, "Initialisation").
  it('bounds initialisation in evolve(): GuestTimeoutError, limit sandbox', async () => {
    const u = simpleUninitialized(language, { initData: SPIN_IN_INIT, timeoutMs: 300 });
    const { error, elapsedMs } = await timed(() => u.evolve());
    expectTimeout(error, 'sandbox', 300);
    expect((error as GuestTimeoutError).functionName).toBeUndefined();
    expect(elapsedMs).toBeGreaterThanOrEqual(290);
    reportMeasure(`evolve() with a 300 ms limit failed after [${language}]`, `${elapsedMs.toFixed(0)} ms`);
  }, TIMEOUT);

  it('bounds initialisation in evolveAsync(): GuestTimeoutError, limit sandbox', async () => {
    const u = simpleUninitialized(language, { initData: SPIN_IN_INIT, timeoutMs: 300 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const { error, elapsedMs } = await timed(() => u.evolveAsync());
    clearInterval(ticker);
    expectTimeout(error, 'sandbox', 300);
    expect(elapsedMs).toBeGreaterThanOrEqual(290);
    expect(ticks).toBeGreaterThan(0); // the event loop ran meanwhile
  }, TIMEOUT);

  it('other init data initialises normally under a time limit', async () => {
    const other = new TextEncoder().encode('spin-in-init?');
    using sandbox = simpleUninitialized(language, { initData: other, timeoutMs: 10_000 }).evolve();
    expect(sandbox.call('ReadInitData', 'bytes')).toEqual(other);
    using viaAsync = await simpleUninitialized(language, { initData: other, timeoutMs: 10_000 }).evolveAsync();
    expect(await viaAsync.callAsync('ReadInitData', 'bytes')).toEqual(other);
  }, TIMEOUT);

  const cases: Array<{ title: string; sandboxMs?: number; callMs?: number; limit: GuestTimeoutLimit; ms: number }> = [
    { title: "the sandbox's limit", sandboxMs: 300, limit: 'sandbox', ms: 300 },
    { title: "the call's limit", callMs: 300, limit: 'call', ms: 300 },
    { title: "both, the sandbox's smaller", sandboxMs: 300, callMs: LONG_MS, limit: 'sandbox', ms: 300 },
    { title: "both, the call's smaller", sandboxMs: LONG_MS, callMs: 300, limit: 'call', ms: 300 },
  ];
  for (const { title, sandboxMs, callMs, limit, ms } of cases) {
    for (const mode of ['call', 'callAsync'] as const) {
      it(`${mode}: ${title} stops Spin, names itself and poisons; restore() recovers`, async () => {
        using sandbox = simpleSandbox(language, { timeoutMs: sandboxMs });
        using snapshot = sandbox.snapshot();
        const scope: CallScope = callMs === undefined ? sandbox : sandbox.with({ timeoutMs: callMs });
        const { error, elapsedMs } = await timed(() => (mode === 'call' ? scope.call('Spin', 'void') : scope.callAsync('Spin', 'void')));
        const timeout = expectTimeout(error, limit, ms);
        expect(timeout.functionName).toBe('Spin');
        expect(elapsedMs).toBeGreaterThanOrEqual(ms - 10);
        reportMeasure(`${mode} with a ${ms} ms ${limit} limit failed after [${language}]`, `${elapsedMs.toFixed(0)} ms`);
        expectPoisonedThenRestored(sandbox, snapshot, timeout);
      }, TIMEOUT);
    }
  }

  it('limits each run, not the sum: short calls adding up to more than the limit all succeed', async () => {
    // Sync and async calls on separate sandboxes: alternating the two on one VM moves its vCPU
    // between threads, which costs an RCU grace period per switch on older kernels (docs/calls.md).
    using syncSandbox = simpleSandbox(language, { timeoutMs: 300 });
    using asyncSandbox = simpleSandbox(language, { timeoutMs: 300 });
    const scoped = asyncSandbox.with({ timeoutMs: 250 });
    const start = performance.now();
    let calls = 0;
    while (performance.now() - start < 900) {
      expect(syncSandbox.call('SpinFor', 'u32', 1000)).toBe(1000);
      expect(await scoped.callAsync('CallHostAddRepeatedly', 'i32', 2)).toBe(2);
      calls += 2;
    }
    expect(calls).toBeGreaterThan(6);
    expect(syncSandbox.poisoned || asyncSandbox.poisoned).toBe(false);
  }, TIMEOUT);

  it('rejects an invalid timeoutMs', () => {
    using sandbox = simpleSandbox(language);
    for (const bad of [0, -1, Number.NaN, Infinity, '100' as unknown as number]) {
      expect(() => sandbox.with({ timeoutMs: bad })).toThrow();
      expect(() => simpleUninitialized(language, { timeoutMs: bad })).toThrow();
    }
  });

  for (const mode of ['call', 'callAsync'] as const) {
    it(`${mode}: a timed-out guest costs no CPU afterwards`, async () => {
      using sandbox = simpleSandbox(language);
      using spinning = simpleSandbox(language);
      using snapshot = sandbox.snapshot();
      using spinningSnapshot = spinning.snapshot();
      const windowMs = 400;
      const scoped = sandbox.with({ timeoutMs: 300 });
      const handle = spinning.interruptHandle();
      // The test VM has no steal-time accounting: while its host is busy, CPU
      // time is misattributed. A window where the spinning guest itself gets
      // under half a CPU shows that; such an attempt is repeated (a guest that
      // really keeps running fails every attempt).
      const attempts: string[] = [];
      let passed = false;
      for (let attempt = 0; attempt < 3 && !passed; attempt++) {
        sandbox.restore(snapshot);
        const { error } = await timed(() => (mode === 'call' ? scoped.call('Spin', 'void') : scoped.callAsync('Spin', 'void')));
        expectTimeout(error, 'call', 300);
        // CPU of the whole process over a window right after the timeout...
        const quiet = await cpuOver(windowMs);
        // ...and over a window of the same length while another guest spins (this thread idles).
        const spin = spinning.callAsync('Spin', 'void');
        await sleep(100);
        const busy = await cpuOver(windowMs);
        expect(handle.kill()).toBe(true);
        expect(await rejection(spin, SETTLE_MS, 'the killed Spin')).toBeInstanceOf(GuestCancelledError);
        spinning.restore(spinningSnapshot);
        const afterKill = await cpuOver(windowMs);
        attempts.push(`after the timeout ${quiet.toFixed(1)} ms, while a guest spins ${busy.toFixed(1)} ms, after a kill ${afterKill.toFixed(1)} ms`);
        passed = busy > windowMs * 0.5 && quiet < busy * 0.25 && afterKill < busy * 0.25;
      }
      reportMeasure(`CPU over ${windowMs} ms [${language}, ${mode}]`, attempts.join('; retried: '));
      expect(passed, attempts.join('\n')).toBe(true);
    }, TIMEOUT);
  }
});

/** CPU time (user + system, all threads of the process) used over the next `ms` milliseconds, in milliseconds. */
async function cpuOver(ms: number): Promise<number> {
  const start = process.cpuUsage();
  await sleep(ms);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

forEachGuest('AbortSignal', (language: GuestLanguage) => {
  /** A sandbox whose HostAdd counts its calls and runs `during` (if set) before answering. */
  function countingSandbox(during?: () => void) {
    const counts = { hostAdd: 0 };
    const sandbox = simpleSandbox(language, {}, {
      HostAdd: hostFunction({ params: ['i32', 'i32'], returns: 'i32' }, (a, b) => {
        counts.hostAdd++;
        during?.();
        return a + b;
      }),
    });
    return { sandbox, counts };
  }

  it('already aborted: GuestCancelledError aborted, the guest never entered, no poison (call and callAsync)', async () => {
    const { sandbox, counts } = countingSandbox();
    using _sandbox = sandbox;
    const reason = new Error('gave up before starting');
    const scoped = sandbox.with({ signal: AbortSignal.abort(reason) });
    const sync = thrownAs(GuestCancelledError, () => scoped.call('CallHostAdd', 'i32', 1, 2));
    expect(sync.code).toBe('HL_ERR_GUEST_CANCELLED');
    expect(sync.reason).toBe('aborted');
    const rejected = await rejection(scoped.callAsync('CallHostAdd', 'i32', 1, 2), SETTLE_MS, 'an aborted callAsync');
    expect(rejected).toBeInstanceOf(GuestCancelledError);
    expect((rejected as GuestCancelledError).reason).toBe('aborted');
    expect(counts.hostAdd).toBe(0);
    expect(sandbox.poisoned).toBe(false);
    // Nothing ran: the guest's state is untouched, and it answers normally.
    expect(sandbox.call('Increment', 'i32')).toBe(1);
    expect(await sandbox.callAsync('CallHostAdd', 'i32', 1, 2)).toBe(3);
    expect(counts.hostAdd).toBe(1);
  }, TIMEOUT);

  it('callAsync: aborted from a timer during Spin, GuestCancelledError aborted, poisoned; restore() recovers', async () => {
    using sandbox = simpleSandbox(language, { timeoutMs: LONG_MS });
    using snapshot = sandbox.snapshot();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('enough')), 300);
    const error = await rejection(sandbox.with({ signal: controller.signal }).callAsync('Spin', 'void'), SETTLE_MS, 'the aborted Spin');
    clearTimeout(timer);
    expect(error).toBeInstanceOf(GuestCancelledError);
    expect((error as GuestCancelledError).reason).toBe('aborted');
    expectPoisonedThenRestored(sandbox, snapshot, error as Error);
  }, TIMEOUT);

  it('call: aborted from inside a host function, the guest makes no further host call', () => {
    const controller = new AbortController();
    const { sandbox, counts } = countingSandbox(() => {
      if (counts.hostAdd === 2) controller.abort();
    });
    using _sandbox = sandbox;
    using snapshot = sandbox.snapshot();
    const error = thrownAs(GuestCancelledError, () => sandbox.with({ signal: controller.signal, timeoutMs: LONG_MS }).call('CallHostAddRepeatedly', 'i32', 10));
    expect(error.reason).toBe('aborted');
    expect(counts.hostAdd).toBe(2);
    expectPoisonedThenRestored(sandbox, snapshot, error);
  }, TIMEOUT);

  it('a signal aborted after its call finished affects no later call', async () => {
    using sandbox = simpleSandbox(language);
    const controller = new AbortController();
    const scoped = sandbox.with({ signal: controller.signal });
    expect(scoped.call('Increment', 'i32')).toBe(1);
    expect(await scoped.callAsync('Increment', 'i32')).toBe(2);
    controller.abort();
    expect(sandbox.call('Increment', 'i32')).toBe(3);
    expect(await sandbox.callAsync('Increment', 'i32')).toBe(4);
    expect(sandbox.poisoned).toBe(false);
  }, TIMEOUT);
});

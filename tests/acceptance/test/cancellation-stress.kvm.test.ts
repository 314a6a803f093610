// 1000 kills per guest at random moments, against calls that spin for ever,
// run short bursts, or call host functions; async calls killed from the main
// thread, and sync calls killed from a worker. Every call that was not
// stopped must return its correct value, every kill() that returned true must
// have stopped exactly one call, nothing may hang, and after each stop the
// sandbox is restored and must work.
import { afterEach, expect, it } from 'vitest';
import { GuestCancelledError, hostFunction, type InterruptHandle, type MultiUseSandbox, type Snapshot } from '@hyperlight-ts/core';
import { CancelWorker, raise, terminateCancelWorkers } from './support/cancel-worker.js';
import { forEachGuest, simpleSandbox, type GuestLanguage } from './support/guests.js';
import { reportMeasure, seededRandom, settle, sleep } from './support/timing.js';

/** Kills from the main thread against async calls, per guest. */
const ASYNC_KILLS = 600;
/** Kills from a worker against sync calls, per guest. */
const SYNC_KILLS = 400;
/** Largest SpinFor burst; small, so most bursts finish within a few of the emulator's milliseconds. */
const BURST_MAX = 20_000;
/** Most host calls in one CallHostAddRepeatedly. */
const HOST_CALLS_MAX = 8;
/** Longest wait before a kill, in milliseconds. */
const DELAY_MAX_MS = 4;
/** Longest any single call may take to settle before it counts as a hang. */
const SETTLE_MS = 30_000;
/** A guest nothing stops times out after this long rather than spinning for ever. */
const SAFETY_TIMEOUT_MS = 60_000;
const TIMEOUT = 900_000;

afterEach(terminateCancelWorkers);

type Kind = 'spin' | 'burst' | 'host' | 'host-kill' | 'increment';

/** One planned guest call and the value it returns when nothing stops it. */
interface Plan {
  kind: Kind;
  name: string;
  returns: 'void' | 'u32' | 'i32';
  args: number[];
  expected: number | undefined;
  /** For `host-kill`: the host call (1-based) during which HostAdd kills. */
  killAt?: number;
}

/** Tallies of one stress run. */
interface Tally {
  kills: number;
  trueKills: number;
  cancelled: Record<Kind, number>;
  completed: Record<Kind, number>;
}

const newTally = (): Tally => ({
  kills: 0,
  trueKills: 0,
  cancelled: { spin: 0, burst: 0, host: 0, 'host-kill': 0, increment: 0 },
  completed: { spin: 0, burst: 0, host: 0, 'host-kill': 0, increment: 0 },
});

/**
 * A sandbox whose HostAdd adds and, when `killAt` says so, kills its own
 * sandbox during that host call (a kill at a random point of the guest's
 * host-call sequence).
 */
function stressSandbox(language: GuestLanguage) {
  const state = { hostCalls: 0, killAt: 0, killResult: undefined as boolean | undefined, handle: undefined as InterruptHandle | undefined };
  const sandbox = simpleSandbox(language, { timeoutMs: SAFETY_TIMEOUT_MS }, {
    HostAdd: hostFunction({ params: ['i32', 'i32'], returns: 'i32' }, (a, b) => {
      state.hostCalls++;
      if (state.hostCalls === state.killAt) state.killResult = state.handle!.kill();
      return a + b;
    }),
  });
  state.handle = sandbox.interruptHandle();
  return { sandbox, state };
}

/** Picks the next call; `counter` is what Increment last returned since the last restore. */
function plan(random: () => number, counter: number, allowHostKill: boolean): Plan {
  const r = random();
  const size = (max: number) => 1 + Math.floor(random() * max);
  if (r < 0.15) return { kind: 'spin', name: 'Spin', returns: 'void', args: [], expected: undefined };
  if (r < 0.5) {
    const n = size(BURST_MAX);
    return { kind: 'burst', name: 'SpinFor', returns: 'u32', args: [n], expected: n };
  }
  if (r < 0.75) {
    const n = size(HOST_CALLS_MAX);
    return { kind: 'host', name: 'CallHostAddRepeatedly', returns: 'i32', args: [n], expected: n };
  }
  if (r < 0.85 && allowHostKill) {
    const n = size(HOST_CALLS_MAX);
    return { kind: 'host-kill', name: 'CallHostAddRepeatedly', returns: 'i32', args: [n], expected: n, killAt: size(n) };
  }
  return { kind: 'increment', name: 'Increment', returns: 'i32', args: [], expected: counter + 1 };
}

const describePlan = (p: Plan) => `${p.name}(${p.args.join(', ')})`;

/** Checks that `error` is a kill's GuestCancelledError. */
function expectKilled(error: unknown, what: string): void {
  expect(error, `${what}: ${String(error)}`).toBeInstanceOf(GuestCancelledError);
  expect((error as GuestCancelledError).reason, what).toBe('killed');
}

/** Restores after a stop; the sandbox must no longer be poisoned. */
function recover(sandbox: MultiUseSandbox, snapshot: Snapshot): void {
  expect(sandbox.poisoned).toBe(true);
  sandbox.restore(snapshot);
  expect(sandbox.poisoned).toBe(false);
}

forEachGuest('1000 kills at random moments', (language: GuestLanguage) => {
  it(`${ASYNC_KILLS} kills from the main thread against async calls`, async () => {
    const { sandbox, state } = stressSandbox(language);
    using _sandbox = sandbox;
    using snapshot = sandbox.snapshot();
    const handle = state.handle!;
    const random = seededRandom(0x5eed + (language === 'rust' ? 1 : 2));
    const tally = newTally();
    let counter = 0;
    const started = performance.now();
    while (tally.kills < ASYNC_KILLS) {
      const p = plan(random, counter, true);
      const what = `call ${tally.kills}: ${describePlan(p)}`;
      state.hostCalls = 0;
      state.killAt = p.killAt ?? 0;
      state.killResult = undefined;
      const call = sandbox.callAsync(p.name, p.returns, ...p.args);
      let killed: boolean;
      if (p.kind === 'host-kill') {
        // HostAdd kills at its killAt-th call.
        killed = false;
      } else {
        // A random moment: at once, after microtasks, after a macrotask, or after a few milliseconds.
        const moment = random();
        if (moment < 0.1) {
          // at once: the call has not started
        } else if (moment < 0.2) {
          await Promise.resolve();
        } else if (moment < 0.3) {
          await new Promise((resolve) => setImmediate(resolve));
        } else {
          await sleep(random() * DELAY_MAX_MS);
        }
        killed = handle.kill();
        tally.kills++;
        // Spin only ends when a kill lands; kill again until one does.
        for (let retry = 0; p.kind === 'spin' && !killed; retry++) {
          expect(retry, `${what}: no kill landed`).toBeLessThan(10_000);
          await sleep(1);
          killed = handle.kill();
          tally.kills++;
        }
      }
      const outcome = await settle(call, SETTLE_MS, what);
      if (p.kind === 'host-kill') {
        tally.kills++;
        expect(state.killResult, what).toBe(true);
        expect(state.hostCalls, `${what}: the guest ran on after the kill`).toBe(p.killAt);
        killed = true;
      }
      if (killed) {
        tally.trueKills++;
        expect(outcome.ok, `${what}: kill() returned true but the call returned`).toBe(false);
        if (!outcome.ok) expectKilled(outcome.error, what);
        tally.cancelled[p.kind]++;
        recover(sandbox, snapshot);
        counter = 0;
      } else {
        expect(outcome, `${what}: kill() returned false`).toEqual({ ok: true, value: p.expected });
        tally.completed[p.kind]++;
        if (p.kind === 'increment') counter++;
      }
    }
    // Usable at the end too.
    sandbox.restore(snapshot);
    expect(await sandbox.callAsync('Increment', 'i32')).toBe(1);
    expect(sandbox.call('CallHostAddRepeatedly', 'i32', 3)).toBe(3);
    reportMeasure(
      `stress, async calls killed from the main thread [${language}]`,
      `${tally.kills} kills (${tally.trueKills} stopped a call) in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `cancelled ${JSON.stringify(tally.cancelled)}; completed ${JSON.stringify(tally.completed)}`,
    );
    expect(tally.kills).toBeGreaterThanOrEqual(ASYNC_KILLS);
    // The random moments must really hit both sides of every kind that can finish.
    for (const kind of ['burst', 'host', 'increment'] as const) expect(tally.completed[kind], kind).toBeGreaterThan(0);
    for (const kind of ['spin', 'burst', 'host', 'host-kill'] as const) expect(tally.cancelled[kind], kind).toBeGreaterThan(0);
  }, TIMEOUT);

  it(`${SYNC_KILLS} kills from a worker against sync calls`, async () => {
    const { sandbox, state } = stressSandbox(language);
    using _sandbox = sandbox;
    using snapshot = sandbox.snapshot();
    const random = seededRandom(0xc0ffee + (language === 'rust' ? 1 : 2));
    // The worker's waits before each kill: a few at zero, the rest up to DELAY_MAX_MS.
    const delaysMs = Float64Array.from({ length: 997 }, () => (random() < 0.1 ? 0 : random() * DELAY_MAX_MS));
    const control = new Int32Array(new SharedArrayBuffer(12)); // [stop, true kills, false kills]
    const killer = await CancelWorker.start();
    killer.post('kill-repeatedly', { handle: state.handle, control, delaysMs });
    const tally = newTally();
    let counter = 0;
    let calls = 0;
    const started = performance.now();
    while (Atomics.load(control, 1) + Atomics.load(control, 2) < SYNC_KILLS) {
      // No host-kill here: the worker does the killing. Spin is safe: the worker kills until told to stop.
      const p = plan(random, counter, false);
      const what = `sync call ${calls++}: ${describePlan(p)}`;
      let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
      try {
        outcome = { ok: true, value: sandbox.call(p.name, p.returns, ...p.args) };
      } catch (error) {
        outcome = { ok: false, error };
      }
      if (outcome.ok) {
        expect(p.kind, `${what}: Spin returned`).not.toBe('spin');
        expect(outcome.value, what).toBe(p.expected);
        tally.completed[p.kind]++;
        if (p.kind === 'increment') counter++;
      } else {
        expectKilled(outcome.error, what);
        tally.cancelled[p.kind]++;
        recover(sandbox, snapshot);
        counter = 0;
      }
      // Let the worker's replies (none expected yet) and timers run now and then.
      if (calls % 50 === 0) await sleep(0);
    }
    raise(control);
    const { trueKills, falseKills } = await killer.expect('kill-repeatedly', SETTLE_MS);
    tally.kills = (trueKills as number) + (falseKills as number);
    tally.trueKills = trueKills as number;
    const cancelled = Object.values(tally.cancelled).reduce((a, b) => a + b, 0);
    reportMeasure(
      `stress, sync calls killed from a worker [${language}]`,
      `${tally.kills} kills (${tally.trueKills} stopped a call) over ${calls} calls in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `cancelled ${JSON.stringify(tally.cancelled)}; completed ${JSON.stringify(tally.completed)}`,
    );
    // Every kill that returned true stopped exactly one call, and no call stopped without one.
    expect(cancelled).toBe(tally.trueKills);
    expect(tally.kills).toBeGreaterThanOrEqual(SYNC_KILLS);
    expect(tally.completed.burst + tally.completed.host + tally.completed.increment).toBeGreaterThan(0);
    expect(cancelled).toBeGreaterThan(0);
    sandbox.restore(snapshot);
    expect(sandbox.call('Increment', 'i32')).toBe(1);
    expect(await sandbox.callAsync('CallHostAddRepeatedly', 'i32', 3)).toBe(3);
  }, TIMEOUT);
});

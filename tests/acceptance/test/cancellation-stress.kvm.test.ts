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
/**
 * Largest SpinFor burst. Bursts are spread log-uniformly from 1 round up to
 * this: the larger ones keep the guest busy for a few milliseconds (under the
 * emulating test VM; far less on hardware), about as long as a call's own
 * overhead, so kills land both inside the guest and around its exits.
 */
const BURST_MAX = 2_000_000;
/** Most host calls in one CallHostAddRepeatedly. */
const HOST_CALLS_MAX = 8;
/** Longest wait before a kill from the main thread, in milliseconds. */
const DELAY_MAX_MS = 4;
/** Longest wait of the killer worker before a kill, in milliseconds. */
const WORKER_DELAY_MAX_MS = 16;
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
    const n = Math.floor(BURST_MAX ** random()) || 1;
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

/** Whether `error` is a kill's GuestCancelledError. */
const isKilled = (error: unknown): boolean => error instanceof GuestCancelledError && error.reason === 'killed';

/** An error in a few words, for anomaly reports. */
const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.name}${'code' in error ? ` ${String(error.code)}` : ''}: ${error.message}` : String(error);

/** Restores the sandbox when the last call left it poisoned; returns whether it did. */
function recoverIfPoisoned(sandbox: MultiUseSandbox, snapshot: Snapshot): boolean {
  if (!sandbox.poisoned) return false;
  sandbox.restore(snapshot);
  expect(sandbox.poisoned).toBe(false);
  return true;
}

/** Fails with every anomaly seen (after reporting them), instead of stopping at the first. */
function expectNoAnomalies(anomalies: readonly string[], label: string): void {
  if (anomalies.length > 0) reportMeasure(`${label} anomalies`, `${anomalies.length}:\n  ${anomalies.slice(0, 20).join('\n  ')}`);
  expect(anomalies).toEqual([]);
}

/** Mean of `values` in ms, or '-' without any. */
const mean = (values: readonly number[]): string => (values.length ? `${(values.reduce((a, b) => a + b, 0) / values.length).toFixed(1)} ms` : '-');

forEachGuest('1000 kills at random moments', (language: GuestLanguage) => {
  it(`${ASYNC_KILLS} kills from the main thread against async calls`, async () => {
    const { sandbox, state } = stressSandbox(language);
    using _sandbox = sandbox;
    using snapshot = sandbox.snapshot();
    const handle = state.handle!;
    const random = seededRandom(0x5eed + (language === 'rust' ? 1 : 2));
    const tally = newTally();
    const anomalies: string[] = [];
    const durations: Record<Kind, number[]> = { spin: [], burst: [], host: [], 'host-kill': [], increment: [] };
    let counter = 0;
    let calls = 0;
    const started = performance.now();
    while (tally.kills < ASYNC_KILLS) {
      const p = plan(random, counter, true);
      const what = `async call ${calls++}: ${describePlan(p)}`;
      state.hostCalls = 0;
      state.killAt = p.killAt ?? 0;
      state.killResult = undefined;
      const callStart = performance.now();
      const call = sandbox.callAsync(p.name, p.returns, ...p.args);
      let killed = false;
      if (p.kind !== 'host-kill') {
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
      // Zero hangs: every call settles in time.
      const outcome = await settle(call, SETTLE_MS, what);
      const elapsedMs = performance.now() - callStart;
      if (p.kind === 'host-kill') {
        // HostAdd killed during its killAt-th call.
        tally.kills++;
        killed = state.killResult === true;
        if (!killed) anomalies.push(`${what}: kill() inside host call ${p.killAt} returned ${String(state.killResult)}`);
        if (state.hostCalls !== p.killAt) anomalies.push(`${what}: killed in host call ${p.killAt}, but the guest made ${state.hostCalls}`);
      }
      if (killed) tally.trueKills++;
      if (outcome.ok) {
        if (outcome.value !== p.expected) anomalies.push(`${what}: returned ${String(outcome.value)}, expected ${String(p.expected)}`);
        if (killed) anomalies.push(`${what}: kill() returned true, but the call returned its value ${String(outcome.value)} after ${elapsedMs.toFixed(1)} ms`);
        else {
          tally.completed[p.kind]++;
          durations[p.kind].push(elapsedMs);
        }
        if (p.kind === 'increment') counter = Number(outcome.value);
      } else if (!isKilled(outcome.error)) {
        anomalies.push(`${what}: failed with ${describeError(outcome.error)} (kill() returned ${killed})`);
      } else if (!killed) {
        anomalies.push(`${what}: cancelled although every kill() returned false`);
      } else {
        tally.cancelled[p.kind]++;
        expect(sandbox.poisoned, `${what}: a stopped call poisons`).toBe(true);
      }
      if (recoverIfPoisoned(sandbox, snapshot)) counter = 0;
    }
    // Usable at the end too.
    sandbox.restore(snapshot);
    expect(await sandbox.callAsync('Increment', 'i32')).toBe(1);
    expect(sandbox.call('CallHostAddRepeatedly', 'i32', 3)).toBe(3);
    reportMeasure(
      `stress, async calls killed from the main thread [${language}]`,
      `${tally.kills} kills (${tally.trueKills} stopped a call) over ${calls} calls in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `cancelled ${JSON.stringify(tally.cancelled)}; completed ${JSON.stringify(tally.completed)}; ` +
        `mean time of completed calls: burst ${mean(durations.burst)}, host ${mean(durations.host)}, increment ${mean(durations.increment)}`,
    );
    expectNoAnomalies(anomalies, `stress, async calls [${language}]`);
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
    // The worker's waits before each kill: a few at zero, the rest up to a few
    // calls' time, so that calls finish unkilled as well as get killed.
    const delaysMs = Float64Array.from({ length: 997 }, () => (random() < 0.1 ? 0 : random() * WORKER_DELAY_MAX_MS));
    const control = new Int32Array(new SharedArrayBuffer(12)); // [stop, true kills, false kills]
    const seq = new Int32Array(new SharedArrayBuffer(4)); // 2i + 1 during call i, 2i + 2 after it
    const killer = await CancelWorker.start();
    killer.post('kill-repeatedly', { handle: state.handle, control, seq, delaysMs });
    const tally = newTally();
    const anomalies: string[] = [];
    const plans: Plan[] = [];
    const cancelledCalls = new Set<number>();
    let counter = 0;
    const started = performance.now();
    while (Atomics.load(control, 1) + Atomics.load(control, 2) < SYNC_KILLS) {
      // No host-kill here: the worker does the killing. Spin is safe: the worker kills until told to stop.
      const p = plan(random, counter, false);
      const i = plans.push(p) - 1;
      const what = `sync call ${i}: ${describePlan(p)}`;
      let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
      Atomics.store(seq, 0, 2 * i + 1);
      try {
        outcome = { ok: true, value: sandbox.call(p.name, p.returns, ...p.args) };
      } catch (error) {
        outcome = { ok: false, error };
      } finally {
        Atomics.store(seq, 0, 2 * i + 2);
      }
      if (outcome.ok) {
        if (p.kind === 'spin') anomalies.push(`${what}: Spin returned`);
        else if (outcome.value !== p.expected) anomalies.push(`${what}: returned ${String(outcome.value)}, expected ${String(p.expected)}`);
        else tally.completed[p.kind]++;
        if (p.kind === 'increment') counter = Number(outcome.value);
      } else if (isKilled(outcome.error)) {
        cancelledCalls.add(i);
        tally.cancelled[p.kind]++;
        expect(sandbox.poisoned, `${what}: a stopped call poisons`).toBe(true);
      } else {
        anomalies.push(`${what}: failed with ${describeError(outcome.error)}`);
      }
      if (recoverIfPoisoned(sandbox, snapshot)) counter = 0;
      // Let timers run now and then.
      if (i % 50 === 49) await sleep(0);
    }
    raise(control);
    const reply = await killer.expect('kill-repeatedly', SETTLE_MS);
    const { trueKills, falseKills, killedCalls, betweenCalls, ambiguous } = reply as unknown as {
      trueKills: number; falseKills: number; killedCalls: number[]; betweenCalls: number[]; ambiguous: number;
    };
    tally.kills = trueKills + falseKills;
    tally.trueKills = trueKills;
    // Every kill that returned true during call i stopped call i...
    const attributed = new Set<number>();
    for (const i of killedCalls) {
      if (attributed.has(i)) anomalies.push(`sync call ${i}: a second kill() returned true for the same call`);
      attributed.add(i);
      if (!cancelledCalls.has(i)) anomalies.push(`sync call ${i}: ${describePlan(plans[i]!)}: kill() returned true during it, but it returned its value`);
    }
    // ...no kill returned true between calls...
    for (const i of betweenCalls) anomalies.push(`kill() returned true between sync calls ${i - 1} and ${i}, with no call in progress`);
    // ...and no call stopped without a kill that returned true.
    const unexplained = [...cancelledCalls].filter((i) => !attributed.has(i));
    if (unexplained.length > ambiguous) anomalies.push(`${unexplained.length - ambiguous} sync calls were cancelled with no kill() returning true: calls ${unexplained.join(', ')}`);
    reportMeasure(
      `stress, sync calls killed from a worker [${language}]`,
      `${tally.kills} kills (${tally.trueKills} stopped a call: ${killedCalls.length} during a known call, ${ambiguous} at a call boundary) ` +
        `over ${plans.length} calls in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `cancelled ${JSON.stringify(tally.cancelled)}; completed ${JSON.stringify(tally.completed)}`,
    );
    expectNoAnomalies(anomalies, `stress, sync calls [${language}]`);
    expect(tally.kills).toBeGreaterThanOrEqual(SYNC_KILLS);
    expect(cancelledCalls.size).toBe(trueKills);
    expect(tally.completed.burst + tally.completed.host + tally.completed.increment).toBeGreaterThan(0);
    expect(cancelledCalls.size).toBeGreaterThan(0);
    sandbox.restore(snapshot);
    expect(sandbox.call('Increment', 'i32')).toBe(1);
    expect(await sandbox.callAsync('CallHostAddRepeatedly', 'i32', 3)).toBe(3);
  }, TIMEOUT);
});

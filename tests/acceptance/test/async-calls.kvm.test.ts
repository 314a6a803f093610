// callAsync() and evolveAsync(): the event loop keeps running, async host
// functions, many sandboxes at once, and the one-call-at-a-time rules.
import { expect, it } from 'vitest';
import {
  GuestCancelledError, GuestTimeoutError, HostFunctionError, hostFunction, PoisonedSandboxError, SandboxStateError,
} from '@hyperlight-ts/core';
import { forEachGuest, simpleSandbox, simpleUninitialized, type GuestLanguage } from './support/guests.js';
import { hypervisorOnly, resources, resourcesWhereCountable } from './support/resources.js';
import { thrownAs } from './support/thrown.js';
import { deferred, rejection, reportMeasure, seededRandom, settle, sleep } from './support/timing.js';

const TIMEOUT = 120_000;
const SETTLE_MS = 30_000;

/** HostAdd as an async function that waits `delayMs()` on a timer before answering. */
const asyncHostAdd = (delayMs: () => number, onCall?: () => void) =>
  hostFunction({ params: ['i32', 'i32'], returns: 'i32' }, async (a, b) => {
    onCall?.();
    await sleep(delayMs());
    return a + b;
  });

forEachGuest('callAsync()', (language: GuestLanguage) => {
  it('the event loop keeps running: a 10 ms interval ticks on while an async call spins for 2 s', async () => {
    using sandbox = simpleSandbox(language);
    expect(await sandbox.callAsync('Add', 'i32', 1, 2)).toBe(3); // the vCPU thread exists
    let ticks = 0;
    const start = performance.now();
    const ticker = setInterval(() => ticks++, 10);
    const error = await rejection(sandbox.with({ timeoutMs: 2000 }).callAsync('Spin', 'void'), SETTLE_MS, 'Spin with a 2 s limit');
    const elapsedMs = performance.now() - start;
    clearInterval(ticker);
    expect(error).toBeInstanceOf(GuestTimeoutError);
    expect((error as GuestTimeoutError).limit).toBe('call');
    const expected = elapsedMs / 10;
    reportMeasure(`interval ticks during a 2 s async Spin [${language}]`, `${ticks} of ${expected.toFixed(0)} (${((100 * ticks) / expected).toFixed(0)}%) over ${elapsedMs.toFixed(0)} ms`);
    expect(elapsedMs).toBeGreaterThanOrEqual(1990);
    // A blocked event loop would tick about once, after the call; a running one ticks throughout. The share
    // of ticks is the emulated VM's scheduling, not ours (75-100% seen), so the bound only separates the two.
    expect(ticks).toBeGreaterThanOrEqual(0.25 * expected);
  }, TIMEOUT);

  it('an async host function that awaits a timer gives the guest its value', async () => {
    let calls = 0;
    using sandbox = await simpleUninitialized(language, {}, { HostAdd: asyncHostAdd(() => 20, () => calls++) }).evolveAsync();
    expect(await sandbox.callAsync('CallHostAdd', 'i32', 20, 22)).toBe(42);
    expect(await sandbox.callAsync('CallHostAddRepeatedly', 'i32', 5)).toBe(5);
    expect(calls).toBe(6);
    expect(sandbox.poisoned).toBe(false);
  }, TIMEOUT);

  it('a rejected async host function: the guest gets a host-function failure, the call throws HostFunctionError', async () => {
    const reason = new Error('no sums today');
    let calls = 0;
    using sandbox = simpleSandbox(language, {}, {
      HostAdd: hostFunction({ params: ['i32', 'i32'], returns: 'i32' }, async (a, b) => {
        calls++;
        await sleep(5);
        if (calls >= 3) throw reason;
        return a + b;
      }),
    });
    expect(await sandbox.callAsync('CallHostAdd', 'i32', 1, 2)).toBe(3);
    const error = await rejection(sandbox.callAsync('CallHostAddRepeatedly', 'i32', 10), SETTLE_MS, 'CallHostAddRepeatedly');
    expect(error).toBeInstanceOf(HostFunctionError);
    const failure = error as HostFunctionError;
    expect(failure.code).toBe('HL_ERR_HOST_FUNCTION_FAILED');
    expect(failure.functionName).toBe('HostAdd');
    expect(failure.cause).toBe(reason);
    expect(calls).toBe(3); // the guest stopped at the failure and passed it on
    expect(sandbox.poisoned).toBe(false);
    expect(await sandbox.callAsync('Increment', 'i32')).toBe(1);
  }, TIMEOUT);

  it('call(): a host function that returns a Promise is a HostFunctionError pointing to callAsync()', async () => {
    using sandbox = simpleSandbox(language, {}, { HostAdd: asyncHostAdd(() => 1) });
    const error = thrownAs(HostFunctionError, () => sandbox.call('CallHostAdd', 'i32', 1, 2));
    expect(error.code).toBe('HL_ERR_HOST_FUNCTION_FAILED');
    expect(error.functionName).toBe('HostAdd');
    expect(error.message).toMatch(/callAsync/);
    expect(sandbox.poisoned).toBe(false);
    expect(await sandbox.callAsync('CallHostAdd', 'i32', 1, 2)).toBe(3);
    expect(sandbox.call('Add', 'i32', 1, 2)).toBe(3);
  }, TIMEOUT);

  it('100 concurrent async calls across 10 sandboxes each return their own value', async () => {
    const random = seededRandom(language === 'rust' ? 11 : 12);
    const sandboxes = await Promise.all(
      Array.from({ length: 10 }, () => simpleUninitialized(language, {}, { HostAdd: asyncHostAdd(() => Math.floor(random() * 5)) }).evolveAsync()),
    );
    try {
      const calls: Array<{ what: string; promise: Promise<unknown>; expected: unknown }> = [];
      sandboxes.forEach((sandbox, s) => {
        let increments = 0;
        for (let j = 0; j < 10; j++) {
          const what = `sandbox ${s} call ${j}`;
          switch (j % 5) {
            case 0:
              calls.push({ what, promise: sandbox.callAsync('Increment', 'i32'), expected: ++increments });
              break;
            case 1:
              calls.push({ what, promise: sandbox.callAsync('EchoString', 'string', `sandbox ${s} call ${j}`), expected: `sandbox ${s} call ${j}` });
              break;
            case 2:
              calls.push({ what, promise: sandbox.callAsync('CallHostAdd', 'i32', s * 1000, j), expected: s * 1000 + j });
              break;
            case 3:
              calls.push({ what, promise: sandbox.callAsync('SpinFor', 'u32', 1000 + s * 10 + j), expected: 1000 + s * 10 + j });
              break;
            default:
              calls.push({ what, promise: sandbox.callAsync('CallHostAddRepeatedly', 'i32', 1 + (s % 4)), expected: 1 + (s % 4) });
          }
        }
      });
      const settled = await Promise.all(calls.map((c) => settle(c.promise, SETTLE_MS, c.what)));
      expect(settled.map((o, k) => [calls[k]!.what, o])).toEqual(calls.map((c) => [c.what, { ok: true, value: c.expected }]));
    } finally {
      for (const sandbox of sandboxes) sandbox.dispose();
    }
  }, TIMEOUT);

  it('concurrent calls on one sandbox run one at a time, in the order made', async () => {
    const random = seededRandom(language === 'rust' ? 21 : 22);
    using sandbox = simpleSandbox(language, {}, { HostAdd: asyncHostAdd(() => Math.floor(random() * 8)) });
    const finished: number[] = [];
    const calls = Array.from({ length: 20 }, (_, k) => {
      const promise = k % 2 === 0 ? sandbox.callAsync('Increment', 'i32') : sandbox.callAsync('CallHostAdd', 'i32', k, 1000);
      return promise.then((value) => {
        finished.push(k);
        return value;
      });
    });
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 20 }, (_, k) => (k % 2 === 0 ? k / 2 + 1 : k + 1000)));
    expect(finished).toEqual(Array.from({ length: 20 }, (_, k) => k));
  }, TIMEOUT);

  it('call(), snapshot() and restore() throw SandboxStateError while an async call runs or is queued', async () => {
    const gate = deferred<void>();
    const entered = deferred<void>();
    let gated = true;
    using sandbox = simpleSandbox(language, {}, {
      HostAdd: hostFunction({ params: ['i32', 'i32'], returns: 'i32' }, async (a, b) => {
        if (gated) {
          entered.resolve();
          await gate.promise;
        }
        return a + b;
      }),
    });
    using snapshot = sandbox.snapshot();
    const expectBusy = () => {
      expect(thrownAs(SandboxStateError, () => sandbox.call('Add', 'i32', 1, 2)).code).toBe('HL_ERR_SANDBOX_STATE');
      thrownAs(SandboxStateError, () => sandbox.snapshot());
      thrownAs(SandboxStateError, () => sandbox.restore(snapshot));
    };

    const first = sandbox.callAsync('CallHostAdd', 'i32', 1, 2);
    expectBusy(); // made, not started yet
    await settle(entered.promise, SETTLE_MS, 'the host function being entered');
    expectBusy(); // running: the guest waits for the host function
    const second = sandbox.callAsync('Increment', 'i32');
    expectBusy(); // running, and one queued
    gated = false;
    gate.resolve();
    expect(await first).toBe(3);
    expect(await second).toBe(1);

    // Idle again: everything works.
    expect(sandbox.call('Add', 'i32', 1, 2)).toBe(3);
    using later = sandbox.snapshot();
    sandbox.restore(later);
    expect(sandbox.call('Increment', 'i32')).toBe(2);
  }, TIMEOUT);

  it('a failed async call does not block the queue; a poisoned sandbox refuses queued calls until restored', async () => {
    using sandbox = simpleSandbox(language);
    using snapshot = sandbox.snapshot();
    const failing = sandbox.with({ timeoutMs: 200 }).callAsync('Spin', 'void');
    const queued = sandbox.callAsync('Increment', 'i32');
    expect(await rejection(failing, SETTLE_MS, 'Spin with a limit')).toBeInstanceOf(GuestTimeoutError);
    expect(await rejection(queued, SETTLE_MS, 'the call queued behind it')).toBeInstanceOf(PoisonedSandboxError);
    sandbox.restore(snapshot);
    expect(await sandbox.callAsync('Increment', 'i32')).toBe(1);
  }, TIMEOUT);

  it('dispose() during an async call: it rejects with GuestCancelledError disposed, queued calls with SandboxStateError', async () => {
    // Warm-up: the first async sandbox may open process-wide handles for good.
    {
      using warm = simpleSandbox(language);
      expect(await warm.callAsync('Add', 'i32', 1, 2)).toBe(3);
    }
    const before = resourcesWhereCountable();
    const sandbox = simpleSandbox(language);
    expect(await sandbox.callAsync('Add', 'i32', 1, 2)).toBe(3);
    const running = sandbox.callAsync('Spin', 'void');
    const queued = [sandbox.callAsync('Increment', 'i32'), sandbox.callAsync('CallHostAdd', 'i32', 1, 2)];
    await sleep(200);
    sandbox.dispose();
    const error = await rejection(running, SETTLE_MS, 'the running call');
    expect(error).toBeInstanceOf(GuestCancelledError);
    expect((error as GuestCancelledError).reason).toBe('disposed');
    for (const call of queued) expect(await rejection(call, SETTLE_MS, 'a queued call')).toBeInstanceOf(SandboxStateError);
    expect(await rejection(sandbox.callAsync('Increment', 'i32'), SETTLE_MS, 'a call after dispose')).toBeInstanceOf(SandboxStateError);
    thrownAs(SandboxStateError, () => sandbox.call('Increment', 'i32'));
    // The VM went as soon as the guest stopped.
    await sleep(50);
    if (before) expect(hypervisorOnly(resources())).toEqual(hypervisorOnly(before));
  }, TIMEOUT);
});

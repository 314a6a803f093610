// InterruptHandle.kill(): its rules, from the main thread, from a worker
// thread and from inside a host function, against both guests.
import { afterEach, expect, it } from 'vitest';
import {
  GuestCancelledError, hostFunction, InterruptHandle, PoisonedSandboxError, type MultiUseSandbox, type Snapshot,
} from '@hyperlight-ts/core';
import { CancelWorker, raise, sharedFlag, terminateCancelWorkers } from './support/cancel-worker.js';
import { forEachGuest, simpleSandbox, type GuestLanguage } from './support/guests.js';
import { thrownAs } from './support/thrown.js';
import { nowMs, rejection, reportMeasure, sleep } from './support/timing.js';

// Generous: everything is slow under nested emulation.
const TIMEOUT = 120_000;
// A guest that nothing stops would spin until the test times out; this
// limit turns such a failure into a GuestTimeoutError instead.
const SAFETY_TIMEOUT_MS = 60_000;
const SETTLE_MS = 30_000;

afterEach(terminateCancelWorkers);

/** Checks a cancelled call's error: killed, poisoning, with the right code. */
function expectKilled(error: unknown): GuestCancelledError {
  expect(error).toBeInstanceOf(GuestCancelledError);
  const cancelled = error as GuestCancelledError;
  expect(cancelled.code).toBe('HL_ERR_GUEST_CANCELLED');
  expect(cancelled.reason).toBe('killed');
  return cancelled;
}

/**
 * The sandbox is poisoned by `error`: sync and async calls refuse with
 * PoisonedSandboxError. Then restore(snapshot) recovers it, and its calls give
 * the values of a sandbox fresh from `snapshot` (taken right after evolve).
 */
async function expectPoisonedThenRestored(sandbox: MultiUseSandbox, snapshot: Snapshot, error: GuestCancelledError): Promise<void> {
  expect(sandbox.poisoned).toBe(true);
  const refused = thrownAs(PoisonedSandboxError, () => sandbox.call('Add', 'i32', 1, 2));
  expect(refused.poison).toBe(error);
  expect(await rejection(sandbox.callAsync('Add', 'i32', 1, 2), SETTLE_MS, 'a call on a poisoned sandbox')).toBeInstanceOf(PoisonedSandboxError);
  sandbox.restore(snapshot);
  expect(sandbox.poisoned).toBe(false);
  expect(sandbox.call('Increment', 'i32')).toBe(1);
  expect(await sandbox.callAsync('Increment', 'i32')).toBe(2);
  expect(sandbox.call('SpinFor', 'u32', 1000)).toBe(1000);
  // Async: some tests' host functions are async.
  expect(await sandbox.callAsync('CallHostAdd', 'i32', 20, 22)).toBe(42);
}

forEachGuest('InterruptHandle.kill()', (language: GuestLanguage) => {
  it('with no call in progress returns false and does nothing, even to the next call', async () => {
    using sandbox = simpleSandbox(language);
    const handle = sandbox.interruptHandle();
    expect(handle.kill()).toBe(false);
    expect(handle.kill()).toBe(false);
    expect(sandbox.call('Increment', 'i32')).toBe(1);
    expect(await sandbox.callAsync('Increment', 'i32')).toBe(2);
    // After calls have finished, sync and async.
    expect(handle.kill()).toBe(false);
    expect(sandbox.call('CallHostAdd', 'i32', 1, 2)).toBe(3);
    expect(handle.kill()).toBe(false);
    expect(await sandbox.callAsync('Increment', 'i32')).toBe(3);
    // A copy made as postMessage would make it, back in this thread.
    expect(InterruptHandle.from(structuredClone(handle)).kill()).toBe(false);
    expect(sandbox.call('Increment', 'i32')).toBe(4);
    expect(sandbox.poisoned).toBe(false);
  }, TIMEOUT);

  it('stops a sync call blocked in Spin from a worker thread', async () => {
    using sandbox = simpleSandbox(language, { timeoutMs: SAFETY_TIMEOUT_MS });
    using snapshot = sandbox.snapshot();
    const killer = await CancelWorker.start();
    const flag = sharedFlag();
    killer.killAfter(sandbox.interruptHandle(), flag, 300);
    raise(flag);
    const error = expectKilled(thrownAs(GuestCancelledError, () => sandbox.call('Spin', 'void')));
    const thrownAt = nowMs();
    const { killed, at } = await killer.expect('kill-after');
    expect(killed).toBe(true);
    reportMeasure(`kill -> throw, sync call killed from a worker [${language}]`, `${(thrownAt - (at as number)).toFixed(1)} ms`);
    await expectPoisonedThenRestored(sandbox, snapshot, error);
  }, TIMEOUT);

  it('stops an async call in Spin from the main thread', async () => {
    using sandbox = simpleSandbox(language, { timeoutMs: SAFETY_TIMEOUT_MS });
    using snapshot = sandbox.snapshot();
    const handle = sandbox.interruptHandle();
    expect(await sandbox.callAsync('Add', 'i32', 1, 1)).toBe(2); // the vCPU thread exists
    const call = sandbox.callAsync('Spin', 'void');
    let settledAt: number | undefined;
    void call.then(
      () => (settledAt = nowMs()),
      () => (settledAt = nowMs()),
    );
    await sleep(300);
    expect(settledAt).toBeUndefined();
    const killedAt = nowMs();
    expect(handle.kill()).toBe(true);
    const error = expectKilled(await rejection(call, SETTLE_MS, 'the killed Spin'));
    reportMeasure(`kill -> reject, async call killed from the main thread [${language}]`, `${(settledAt! - killedAt).toFixed(1)} ms`);
    await expectPoisonedThenRestored(sandbox, snapshot, error);
  }, TIMEOUT);

  for (const mode of ['call', 'callAsync'] as const) {
    it(`from inside a host function (${mode}) takes effect when it returns: the guest makes no further host call`, async () => {
      let hostCalls = 0;
      let killResult: boolean | undefined;
      let handle: InterruptHandle | undefined;
      using sandbox = simpleSandbox(language, { timeoutMs: SAFETY_TIMEOUT_MS }, {
        HostAdd: hostFunction({ params: ['i32', 'i32'], returns: 'i32' }, (a, b) => {
          hostCalls++;
          if (hostCalls === 2) killResult = handle!.kill();
          return a + b;
        }),
      });
      handle = sandbox.interruptHandle();
      using snapshot = sandbox.snapshot();
      const run = mode === 'call'
        ? Promise.resolve().then(() => sandbox.call('CallHostAddRepeatedly', 'i32', 10))
        : sandbox.callAsync('CallHostAddRepeatedly', 'i32', 10);
      const error = expectKilled(await rejection(run, SETTLE_MS, 'CallHostAddRepeatedly'));
      expect(killResult).toBe(true);
      expect(hostCalls).toBe(2);
      await expectPoisonedThenRestored(sandbox, snapshot, error);
      // The restored sandbox calls the host function as often as asked.
      hostCalls = 100;
      expect(sandbox.call('CallHostAddRepeatedly', 'i32', 5)).toBe(5);
      expect(hostCalls).toBe(105);
    }, TIMEOUT);
  }

  it('from a worker while the guest is in a sync host function takes effect when that returns', async () => {
    const killer = await CancelWorker.start();
    const flag = sharedFlag();
    let hostCalls = 0;
    let handle: InterruptHandle | undefined;
    using sandbox = simpleSandbox(language, { timeoutMs: SAFETY_TIMEOUT_MS }, {
      HostAdd: hostFunction({ params: ['i32', 'i32'], returns: 'i32' }, (a, b) => {
        hostCalls++;
        if (hostCalls === 1) {
          // Let the worker kill now, and wait here until it has.
          raise(flag);
          Atomics.wait(flag, 1, 0, SETTLE_MS);
        }
        return a + b;
      }),
    });
    handle = sandbox.interruptHandle();
    using snapshot = sandbox.snapshot();
    killer.killAfter(handle, flag, 0);
    const error = expectKilled(thrownAs(GuestCancelledError, () => sandbox.call('CallHostAddRepeatedly', 'i32', 10)));
    expect(Atomics.load(flag, 1)).toBe(1); // the worker's kill() returned true
    expect((await killer.expect('kill-after')).killed).toBe(true);
    expect(hostCalls).toBe(1);
    await expectPoisonedThenRestored(sandbox, snapshot, error);
  }, TIMEOUT);

  it('from inside an async host function: the guest makes no further host call', async () => {
    let hostCalls = 0;
    let killResult: boolean | undefined;
    let handle: InterruptHandle | undefined;
    using sandbox = simpleSandbox(language, { timeoutMs: SAFETY_TIMEOUT_MS }, {
      HostAdd: hostFunction({ params: ['i32', 'i32'], returns: 'i32' }, async (a, b) => {
        hostCalls++;
        await sleep(10);
        if (hostCalls === 3) killResult = handle!.kill();
        await sleep(10);
        return a + b;
      }),
    });
    handle = sandbox.interruptHandle();
    using snapshot = sandbox.snapshot();
    const error = expectKilled(await rejection(sandbox.callAsync('CallHostAddRepeatedly', 'i32', 10), SETTLE_MS, 'CallHostAddRepeatedly'));
    expect(killResult).toBe(true);
    await sleep(50); // anything still pending from the host function has run
    expect(hostCalls).toBe(3);
    await expectPoisonedThenRestored(sandbox, snapshot, error);
  }, TIMEOUT);

  it('returns true once per stopped call; the handle outlives restore() and returns false after dispose()', async () => {
    const sandbox = simpleSandbox(language, { timeoutMs: SAFETY_TIMEOUT_MS });
    using snapshot = sandbox.snapshot();
    const handle = sandbox.interruptHandle();
    for (let round = 0; round < 3; round++) {
      const call = sandbox.callAsync('Spin', 'void');
      await sleep(100);
      expect(handle.kill()).toBe(true);
      expect(handle.kill()).toBe(false); // that call is already being stopped
      expectKilled(await rejection(call, SETTLE_MS, 'the killed Spin'));
      expect(handle.kill()).toBe(false);
      sandbox.restore(snapshot);
      expect(handle.kill()).toBe(false);
      expect(await sandbox.callAsync('Increment', 'i32')).toBe(1);
    }
    // A second handle names the same sandbox.
    const call = sandbox.callAsync('Spin', 'void');
    await sleep(100);
    expect(sandbox.interruptHandle().kill()).toBe(true);
    expect(handle.kill()).toBe(false);
    expectKilled(await rejection(call, SETTLE_MS, 'the killed Spin'));
    sandbox.dispose();
    expect(handle.kill()).toBe(false);
  }, TIMEOUT);
});

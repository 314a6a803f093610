// The call guard's side of cancellation and timeouts, against a target
// stand-in that implements a native vCPU's side of the call-state word in
// JavaScript (test/support/fake-call-target.ts). The backends' *.kvm.test.ts
// suites run the same behaviour against their addons.
import { describe, expect, it } from 'vitest';
import type { CancelReason } from '../../src/backend/backend.js';
import { CALL_STATE, cancelReasonCode } from '../../src/backend/call-state.js';
import { CallStateGuard } from '../../src/backend/call-state-guard.js';
import { FakeCallTarget } from '../support/fake-call-target.js';

function guardOf(target = new FakeCallTarget()) {
  return { fake: target, guard: new CallStateGuard('kvm', target, target.word), word: target.word };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('CallStateGuard', () => {
  it('begin/end write the word: OPEN with a new sequence number, then the number alone', () => {
    const { guard, word } = guardOf();
    expect(guard.token).toEqual({ backend: 'kvm', id: 7 });
    guard.begin();
    expect(word[0]).toBe((1 << CALL_STATE.seqShift) | CALL_STATE.open);
    expect(guard.end()).toBeUndefined();
    expect(word[0]).toBe(1 << CALL_STATE.seqShift);
    guard.begin();
    expect(word[0]).toBe((2 << CALL_STATE.seqShift) | CALL_STATE.open);
    guard.end();
  });

  it('the sequence number wraps after 2^28 calls', () => {
    const { guard, word } = guardOf();
    word[0] = CALL_STATE.seqMask << CALL_STATE.seqShift; // as if 2^28 - 1 calls had been made
    const wrapped = new CallStateGuard('kvm', new FakeCallTarget(), word);
    wrapped.begin();
    expect(word[0]).toBe(CALL_STATE.open);
    expect(wrapped.end()).toBeUndefined();
    expect(word[0]).toBe(0);
    expect(guard.cancelReason).toBeUndefined();
  });

  it('refuses a second begin() while a call is open, and bad timeouts', () => {
    const { guard } = guardOf();
    guard.begin();
    expect(() => guard.begin()).toThrow(/already open/);
    guard.end();
    for (const bad of [0, -1, Number.NaN, '10' as unknown as number]) {
      expect(() => guard.begin(bad)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    }
    guard.begin(); // the failed begins opened nothing
    guard.end();
  });

  it('cancel() lands on the open call only; the first reason wins; end() returns it and clears it', () => {
    const { guard } = guardOf();
    expect(guard.cancel('killed')).toBe(false); // no call open
    guard.begin();
    expect(guard.cancelReason).toBeUndefined(); // the refused cancel left nothing behind
    expect(guard.cancel('aborted')).toBe(true);
    expect(guard.cancel('killed')).toBe(false);
    expect(guard.cancel('timeout')).toBe(false);
    expect(guard.cancelReason).toBe('aborted');
    expect(guard.end()).toBe('aborted');
    expect(guard.cancelReason).toBeUndefined();
    expect(guard.cancel('killed')).toBe(false); // closed again
    guard.begin();
    expect(guard.cancelReason).toBeUndefined();
    expect(guard.end()).toBeUndefined();
    expect(guard.end()).toBeUndefined(); // no call open
  });

  it.each(['killed', 'timeout', 'aborted', 'disposed'] as const)('carries %s through the word', (reason) => {
    const { guard, word } = guardOf();
    guard.begin();
    guard.cancel(reason);
    expect((word[0]! & CALL_STATE.reasonMask) >>> CALL_STATE.reasonShift).toBe(
      { killed: 1, timeout: 2, aborted: 3, disposed: 4 }[reason],
    );
    expect(guard.end()).toBe(reason);
  });

  it('rejects a reason that is not a CancelReason', () => {
    const { guard } = guardOf();
    guard.begin();
    for (const bad of ['stopped', 'toString', undefined, 1]) {
      expect(() => guard.cancel(bad as CancelReason)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    }
    expect(guard.cancelReason).toBeUndefined();
  });

  it('begin(timeoutMs) arms the watchdog for that call; no timeout or Infinity arms nothing', () => {
    const { guard, fake } = guardOf();
    guard.begin(25);
    guard.end();
    guard.begin();
    guard.end();
    guard.begin(Infinity);
    guard.end();
    guard.begin(0.5);
    guard.end();
    expect(fake.armed).toEqual([
      { timeoutMs: 25, seq: 1 },
      { timeoutMs: 0.5, seq: 4 },
    ]);
  });

  it('onCancel: called once, from the event loop, for a cancel made after it was registered', async () => {
    const { guard, fake } = guardOf();
    const heard: CancelReason[] = [];
    const stop = guard.onCancel((reason) => heard.push(reason));
    expect(fake.listenerChanges).toEqual([true]);
    guard.begin();
    guard.cancel('killed');
    expect(heard).toEqual([]); // never synchronously
    await tick();
    await tick();
    expect(heard).toEqual(['killed']);
    stop();
    stop();
    expect(fake.listenerChanges).toEqual([true, false]);
    guard.end();
  });

  it('onCancel: called soon when the call already was cancelled, and once only', async () => {
    const { guard } = guardOf();
    guard.begin();
    guard.cancel('timeout');
    const heard: CancelReason[] = [];
    const stop = guard.onCancel((reason) => heard.push(reason));
    await tick();
    await tick();
    expect(heard).toEqual(['timeout']);
    stop();
    guard.end();
  });

  it('onCancel: not called once removed, nor for a call that ended before the event arrived', async () => {
    const { guard } = guardOf();
    const heard: string[] = [];
    const stopA = guard.onCancel(() => heard.push('a'));
    const stopB = guard.onCancel(() => heard.push('b'));
    guard.begin();
    guard.cancel('killed');
    stopA();
    await tick();
    await tick();
    expect(heard).toEqual(['b']);
    guard.end();
    guard.begin();
    guard.cancel('aborted');
    guard.end(); // ends before the event is delivered
    await tick();
    await tick();
    expect(heard).toEqual(['b']);
    stopB();
  });

  it('onCancel: every listener is told even when one throws', async () => {
    const { guard } = guardOf();
    const heard: string[] = [];
    const errors: unknown[] = [];
    const onError = (error: unknown): void => void errors.push(error);
    process.on('uncaughtException', onError);
    try {
      guard.onCancel(() => {
        throw new Error('listener failed');
      });
      guard.onCancel((reason) => heard.push(reason));
      guard.begin();
      guard.cancel('killed');
      await tick();
      await tick();
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(heard).toEqual(['killed']);
    expect(errors).toEqual([expect.objectContaining({ message: 'listener failed' })]);
  });
});

describe('CallStateGuard release', () => {
  /** A target with the optional hooks, recording when they are used. */
  class HookedTarget extends FakeCallTarget {
    readonly hooks: string[] = [];
    disarmTimeout(): void {
      this.hooks.push('disarm');
    }
    release(): void {
      this.hooks.push('release');
    }
  }

  it('end() disarms the timeout of an open call; release() releases the target once', () => {
    const target = new HookedTarget();
    const { guard } = guardOf(target);
    guard.end(); // no call open: nothing to disarm
    guard.begin(10);
    guard.end();
    guard.release();
    guard.release();
    expect(target.hooks).toEqual(['disarm', 'release']);
  });

  it('after release: begin throws, cancels are refused, an open call keeps the reason it had', async () => {
    const target = new HookedTarget();
    const { guard, word } = guardOf(target);
    const heard: CancelReason[] = [];
    guard.onCancel((reason) => heard.push(reason));
    guard.begin();
    guard.cancel('disposed');
    guard.release();
    word[0] = 0; // the word may serve another VM now
    expect(guard.cancel('killed')).toBe(false);
    expect(guard.cancelReason).toBe('disposed');
    expect(guard.cancelled).toBe(true);
    await tick();
    expect(heard).toEqual(['disposed']); // once, though both the cancel and the release announced it
    expect(guard.end()).toBe('disposed');
    expect(guard.cancelReason).toBeUndefined();
    expect(() => guard.begin()).toThrow(expect.objectContaining({ code: 'ERR_HYPERLIGHT_DISPOSED' }));
  });

  it('after release the target hears of no listener changes', () => {
    const target = new HookedTarget();
    const { guard } = guardOf(target);
    const stop = guard.onCancel(() => undefined);
    guard.release();
    stop();
    guard.onCancel(() => undefined);
    expect(target.listenerChanges).toEqual([true]);
  });
});

describe('CallStateGuard token and reason codes', () => {
  it('names the backend it was made for', () => {
    const target = new FakeCallTarget();
    expect(new CallStateGuard('mshv', target, target.word).token).toEqual({ backend: 'mshv', id: 7 });
  });

  it('cancelReasonCode maps every reason to its call-state code', () => {
    expect(['killed', 'timeout', 'aborted', 'disposed'].map((reason) => cancelReasonCode(reason as CancelReason))).toEqual([
      CALL_STATE.killed, CALL_STATE.timeout, CALL_STATE.aborted, CALL_STATE.disposed,
    ]);
  });
});

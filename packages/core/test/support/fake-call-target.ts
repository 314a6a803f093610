import { CALL_STATE, setCancelReason } from '../../src/backend/call-state.js';
import type { CallGuardTarget } from '../../src/backend/call-state-guard.js';

/**
 * A stand-in {@link CallGuardTarget} that plays a native vCPU's side of the
 * call-state word in JavaScript (the same compare-and-swap; listeners told
 * through the event loop, as an addon's event channel does), so call guards
 * and the VMs around them are tested without an addon. Shared with the
 * backends' tests (backend-kvm's FakeVcpu extends it).
 */
export class FakeCallTarget implements CallGuardTarget {
  /** The call-state word, as a native vCPU exposes it. */
  readonly callState = new ArrayBuffer(4);
  /** A view of {@link callState} for the guard. */
  readonly word = new Uint32Array(this.callState);
  readonly cancelId = 7;
  /** Every armTimeout() argument with the sequence number it armed. */
  readonly armed: { timeoutMs: number; seq: number }[] = [];
  /** setCancelListener() calls: true for a function, false for null. */
  readonly listenerChanges: boolean[] = [];
  #listener: ((seq: number, code: number) => void) | null = null;

  cancel(code: number): boolean {
    const word = setCancelReason(this.word, 0, code);
    if (word === undefined) return false;
    const listener = this.#listener;
    if (listener) setImmediate(() => listener(word >>> CALL_STATE.seqShift, code));
    return true;
  }

  armTimeout(timeoutMs: number): void {
    this.armed.push({ timeoutMs, seq: Atomics.load(this.word, 0) >>> CALL_STATE.seqShift });
  }

  setCancelListener(listener: ((seq: number, code: number) => void) | null): void {
    this.#listener = listener;
    this.listenerChanges.push(listener !== null);
  }
}

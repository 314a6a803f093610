import { CALL_STATE, type CallGuardVcpu } from '../../src/index.js';

/**
 * A stand-in for a native vCPU's call-guard members that implements the
 * addon's side of the call-state word in JavaScript (the same
 * compare-and-swap; listeners told through the event loop, as the addon's
 * event channel does), so VcpuCallGuard is tested without an addon.
 */
export class FakeCallVcpu implements CallGuardVcpu {
  readonly callState = new ArrayBuffer(4);
  readonly cancelId = 7;
  /** Every armTimeout() argument with the sequence number it armed. */
  readonly armed: { timeoutMs: number; seq: number }[] = [];
  /** setCancelListener() calls: true for a function, false for null. */
  readonly listenerChanges: boolean[] = [];
  #listener: ((seq: number, code: number) => void) | null = null;
  readonly #word = new Uint32Array(this.callState);

  cancel(code: number): boolean {
    let word = Atomics.load(this.#word, 0);
    for (;;) {
      if ((word & CALL_STATE.open) === 0 || (word & CALL_STATE.reasonMask) !== 0) return false;
      const seen = Atomics.compareExchange(this.#word, 0, word, (word | (code << CALL_STATE.reasonShift)) >>> 0);
      if (seen === word) break;
      word = seen;
    }
    const listener = this.#listener;
    if (listener) setImmediate(() => listener(word >>> CALL_STATE.seqShift, code));
    return true;
  }

  armTimeout(timeoutMs: number): void {
    this.armed.push({ timeoutMs, seq: Atomics.load(this.#word, 0) >>> CALL_STATE.seqShift });
  }

  setCancelListener(listener: ((seq: number, code: number) => void) | null): void {
    this.#listener = listener;
    this.listenerChanges.push(listener !== null);
  }
}

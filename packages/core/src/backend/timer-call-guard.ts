/**
 * A {@link CallGuard} for in-process stand-in VMs that run on the caller's
 * thread: a cancel lands on the open call, a time limit is a timer (so it
 * fires only while the event loop runs, i.e. during async runs), and
 * listeners hear of a cancel from a microtask. Real backends stop a vCPU
 * from any thread instead (see backend-kvm's call guard).
 */
import type { CallGuard, CancelReason, CancelToken } from './backend.js';

let nextTokenId = 1;

/** A single-threaded {@link CallGuard} with timer-based time limits. */
export class TimerCallGuard implements CallGuard {
  readonly token: CancelToken;
  private open = false;
  private reason: CancelReason | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(reason: CancelReason) => void>();

  /** @param backend - the name its tokens carry */
  constructor(backend: CancelToken['backend']) {
    this.token = { backend, id: nextTokenId++ };
  }

  /**
   * Opens a call; `timeoutMs` cancels it with `'timeout'` after that long.
   * @throws Error when a call is already open.
   */
  begin(timeoutMs?: number): void {
    if (this.open) throw new Error('a call is already open');
    this.open = true;
    this.reason = undefined;
    if (timeoutMs !== undefined) this.timer = setTimeout(() => this.cancel('timeout'), timeoutMs);
  }

  /** Closes the call; returns why it was cancelled, if it was. */
  end(): CancelReason | undefined {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.open = false;
    const { reason } = this;
    this.reason = undefined;
    return reason;
  }

  /** Why the open call was cancelled, if it was. */
  get cancelReason(): CancelReason | undefined {
    return this.reason;
  }

  /** Cancels the open call; false when none is open or it was cancelled already. */
  cancel(reason: CancelReason): boolean {
    if (!this.open || this.reason !== undefined) return false;
    this.reason = reason;
    for (const listener of this.listeners) queueMicrotask(() => listener(reason));
    return true;
  }

  /** Calls `listener` (from a microtask) on a cancel, or at once if the open call was cancelled; returns the unsubscribe function. */
  onCancel(listener: (reason: CancelReason) => void): () => void {
    this.listeners.add(listener);
    const { reason } = this;
    if (reason !== undefined) queueMicrotask(() => listener(reason));
    return () => this.listeners.delete(listener);
  }
}

/**
 * The {@link CallGuard} of a VM whose open call lives in a call-state word
 * ({@link CALL_STATE}): `begin`, `end` and `cancelReason` are one `Atomics`
 * operation each on the VM's thread, and cancels from any thread (this
 * guard, `backend.cancelCall` on another thread, a timeout watchdog)
 * compare-and-swap a reason into the word and stop the vCPU. What a backend
 * adds is a {@link CallGuardTarget}: how to cancel and stop its vCPU, arm a
 * time limit and hear of cancels made elsewhere.
 *
 *   closed --begin()--> open --cancel()/cancelCall()/timeout--> open, cancelled (first reason wins)
 *   open | open, cancelled --end()--> closed (returns the reason; later cancels do nothing)
 *   any --release()--> released (no more calls or cancels; an open call keeps the reason it had)
 */
import type { BackendName, CallGuard, CancelReason, CancelToken } from './backend.js';
import { CALL_STATE, cancelReasonCode, reasonOf, reasonOfCode, seqOf } from './call-state.js';
import { DISPOSED_ERROR_CODE } from './vm-use.js';

/**
 * What a {@link CallStateGuard} uses of its VM: the members a Linux addon's
 * native vCPU object has as they are; other backends adapt theirs.
 */
export interface CallGuardTarget {
  /** The id the guard's {@link CancelToken} carries for `backend.cancelCall`, unique in the process. */
  readonly cancelId: number;
  /**
   * Cancels the open call with reason code `reasonCode` (1-4) if it is open
   * and not cancelled yet, and stops the vCPU if it runs.
   * @returns whether this cancel took effect.
   */
  cancel(reasonCode: number): boolean;
  /** Has the open call cancelled with `'timeout'` `timeoutMs` from now (a call that ended by then is left alone). */
  armTimeout(timeoutMs: number): void;
  /**
   * Sets (or, with null, removes) the listener told on this thread's event
   * loop of each cancel, made on any thread: call `seq` got reason code `reasonCode`.
   */
  setCancelListener(listener: ((seq: number, reasonCode: number) => void) | null): void;
  /** Optional: the call ended, so a time limit armed for it may be dropped. */
  disarmTimeout?(): void;
  /**
   * Optional: the VM is being disposed; once this returns no cancel may
   * change the word any more (and the listener is no longer needed).
   * Without it the backend must ensure that itself before `release()`.
   */
  release?(): void;
}

interface ListenerEntry {
  readonly listener: (reason: CancelReason) => void;
  /** The call it was last called for (once per call). */
  deliveredSeq: number;
}

/** A {@link CallGuard} over a call-state word; each virtual machine of a real backend has one as `callGuard`. */
export class CallStateGuard implements CallGuard {
  readonly token: CancelToken;
  readonly #word: Uint32Array;
  readonly #target: CallGuardTarget;
  readonly #listeners = new Set<ListenerEntry>();
  /** This thread's copy of the word's OPEN bit and sequence number (only this thread writes them). */
  #open = false;
  #seq = 0;
  /** The VM was disposed: no more calls, cancels or listeners on the target. */
  #released = false;
  /** The open call's reason when released (the word may serve another VM since). */
  #reasonAtRelease: CancelReason | undefined;

  /**
   * Guards the call-state word `word[0]` of `target`'s VM. `backend` names
   * the backend in the guard's {@link CancelToken}.
   * @throws Error `ERR_HYPERLIGHT_DISPOSED` when a native target was disposed.
   */
  constructor(backend: BackendName, target: CallGuardTarget, word: Uint32Array) {
    this.#target = target;
    this.#word = word;
    this.#seq = seqOf(Atomics.load(word, 0));
    this.token = Object.freeze({ backend, id: target.cancelId });
  }

  /**
   * Opens a call; with `timeoutMs` the target cancels it with `'timeout'`
   * that many milliseconds from now unless `end()` comes first (also while
   * this thread is blocked in a run). `Infinity` means no timeout.
   * @throws RangeError (`ERR_OUT_OF_RANGE`) unless `timeoutMs` is undefined or a number > 0;
   *   Error when a call is already open; Error `ERR_HYPERLIGHT_DISPOSED` after the VM's dispose().
   */
  begin(timeoutMs?: number): void {
    if (this.#released) throw Object.assign(new Error('CallGuard.begin: the VM was disposed'), { code: DISPOSED_ERROR_CODE });
    if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0)) {
      const error = new RangeError(`CallGuard.begin(timeoutMs): timeoutMs must be a number > 0; got ${String(timeoutMs)}`);
      throw Object.assign(error, { code: 'ERR_OUT_OF_RANGE' });
    }
    if (this.#open) throw new Error('CallGuard.begin(): a call is already open; end() it first');
    this.#seq = (this.#seq + 1) & CALL_STATE.seqMask;
    this.#open = true;
    Atomics.store(this.#word, 0, (this.#seq << CALL_STATE.seqShift) | CALL_STATE.open);
    if (timeoutMs !== undefined && timeoutMs !== Infinity) this.#target.armTimeout(timeoutMs);
  }

  /**
   * Closes the call: later cancels do nothing and its timeout can no longer fire.
   * @returns the reason it was cancelled, or undefined (also when no call was open).
   */
  end(): CancelReason | undefined {
    if (!this.#open) return undefined;
    this.#open = false;
    if (this.#released) return this.#reasonAtRelease;
    this.#target.disarmTimeout?.();
    // An exchange: a cancel racing with it either lands before (and is returned) or finds no call.
    return reasonOf(Atomics.exchange(this.#word, 0, this.#seq << CALL_STATE.seqShift));
  }

  /** Why the open call was cancelled; undefined when it was not or no call is open. */
  get cancelReason(): CancelReason | undefined {
    if (this.#released) return this.#open ? this.#reasonAtRelease : undefined;
    return reasonOf(Atomics.load(this.#word, 0));
  }

  /** Whether the open call was cancelled (what a VM checks before and after each run). */
  get cancelled(): boolean {
    return this.cancelReason !== undefined;
  }

  /**
   * Cancels the open call from this thread and stops the vCPU if it runs
   * (any thread may use the backend's `cancelCall`).
   * @returns false when no call is open, it was already cancelled, or the VM was disposed.
   * @throws TypeError (`ERR_INVALID_ARG_TYPE`) for a reason that is not a CancelReason.
   */
  cancel(reason: CancelReason): boolean {
    const code = cancelReasonCode(reason);
    if (this.#released || !this.#target.cancel(code)) return false;
    this.#deliverAll(this.#seq);
    return true;
  }

  /**
   * Calls `listener` from the event loop once the open call is cancelled, by
   * any thread or its timeout (soon, if it already is); at most once per
   * call. Until removed, it keeps the event loop alive.
   * @returns a function that removes the listener (idempotent).
   */
  onCancel(listener: (reason: CancelReason) => void): () => void {
    const entry: ListenerEntry = { listener, deliveredSeq: -1 };
    this.#listeners.add(entry);
    // Set before reading the word: a cancel either is told to the listener or happened before this read.
    if (this.#listeners.size === 1 && !this.#released) this.#target.setCancelListener(this.#onTargetCancel);
    if (this.cancelled) {
      const seq = this.#seq;
      queueMicrotask(() => this.#deliver(entry, seq));
    }
    return () => {
      if (this.#listeners.delete(entry) && this.#listeners.size === 0 && !this.#released) {
        this.#target.setCancelListener(null);
      }
    };
  }

  /**
   * The VM is being disposed: the target stops taking cancels (its `release`),
   * cancels and calls are refused from now on, and listeners hear of a
   * cancel the dispose made. For the backend's virtual machine.
   */
  release(): void {
    if (this.#released) return;
    this.#target.release?.();
    this.#released = true;
    // Read after the target's release: no cancel can land any more.
    const word = Atomics.load(this.#word, 0);
    this.#reasonAtRelease = this.#open && (word & CALL_STATE.open) !== 0 ? reasonOf(word) : undefined;
    if (this.#reasonAtRelease !== undefined) this.#deliverAll(this.#seq);
  }

  /** The target's cancel event (on this thread's event loop): call `seq` was cancelled. */
  readonly #onTargetCancel = (seq: number, code: number): void => {
    if (reasonOfCode(code) !== undefined) this.#deliverAll(seq);
  };

  /** One microtask per listener, so one that throws cannot starve the others. */
  #deliverAll(seq: number): void {
    for (const entry of this.#listeners) queueMicrotask(() => this.#deliver(entry, seq));
  }

  /** Calls `entry` if call `seq` is still open, cancelled, and it has not been told yet. */
  #deliver(entry: ListenerEntry, seq: number): void {
    if (!this.#listeners.has(entry) || entry.deliveredSeq === seq) return;
    const reason = this.#open && this.#seq === seq ? this.cancelReason : undefined;
    if (reason === undefined) return;
    entry.deliveredSeq = seq;
    entry.listener(reason);
  }
}

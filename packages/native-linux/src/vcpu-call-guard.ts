/**
 * The {@link CallGuard} of a Linux backend's vCPU: the open call's state lives
 * in the vCPU's call-state word ({@link CALL_STATE}), shared with the addon.
 * `begin`, `end` and `cancelReason` are one `Atomics` operation each on this
 * thread (no call into the addon, unless `begin` arms a timeout); `cancel` and
 * the addon's `cancelCall` compare-and-swap a reason into the word from any
 * thread and then stop the vCPU if it is inside the hypervisor's run ioctl (see
 * `src/native/run_control.h`).
 *
 *   closed --begin()--> open --cancel()/cancelCall()/timeout--> open, cancelled (first reason wins)
 *   open | open, cancelled --end()--> closed (returns the reason; later cancels do nothing)
 */
import type { BackendName, CallGuard, CancelReason, CancelToken } from '@hyperlight-ts/core';
import { CALL_STATE, CANCEL_REASON_CODES, reasonOf, reasonOfCode, seqOf } from './call-state.js';

/**
 * What a {@link VcpuCallGuard} uses of its vCPU: the members every Linux
 * backend's native vCPU object has (`src/native/run_control.h` behind them).
 */
export interface CallGuardVcpu {
  /** The call-state word (layout: {@link CALL_STATE}), 4 bytes shared zero-copy with the addon. */
  readonly callState: ArrayBuffer;
  /** The vCPU's id for the addon's `cancelCall(id, reasonCode)`, unique in the process. */
  readonly cancelId: number;
  /** Cancels the open call with reason code `reasonCode` (1-4); whether this cancel won. */
  cancel(reasonCode: number): boolean;
  /** Has the addon's watchdog cancel the open call with `'timeout'` `timeoutMs` from now. */
  armTimeout(timeoutMs: number): void;
  /** Sets (or, with null, removes) the listener the addon calls on this thread for each cancel. */
  setCancelListener(listener: ((seq: number, reasonCode: number) => void) | null): void;
}

interface ListenerEntry {
  readonly listener: (reason: CancelReason) => void;
  /** The call it was last called for (once per call). */
  deliveredSeq: number;
}

/** A vCPU's {@link CallGuard}; each virtual machine of a Linux backend has one as `callGuard`. */
export class VcpuCallGuard implements CallGuard {
  readonly token: CancelToken;
  readonly #word: Uint32Array;
  readonly #vcpu: CallGuardVcpu;
  readonly #listeners = new Set<ListenerEntry>();
  /** This thread's copy of the word's OPEN bit and sequence number (only this thread writes them). */
  #open = false;
  #seq = 0;
  /** The vCPU was disposed: no more calls, cancels or native listeners. */
  #released = false;

  /**
   * Wraps `vcpu`'s call-state word; `word` may be a view of it the caller shares.
   * `backend` names the backend in the guard's {@link CancelToken}.
   * @throws Error `ERR_HYPERLIGHT_DISPOSED` when the vCPU was disposed.
   */
  constructor(backend: BackendName, vcpu: CallGuardVcpu, word: Uint32Array = new Uint32Array(vcpu.callState)) {
    this.#vcpu = vcpu;
    this.#word = word;
    this.#seq = seqOf(Atomics.load(word, 0));
    this.token = Object.freeze({ backend, id: vcpu.cancelId });
  }

  /**
   * Opens a call; with `timeoutMs` the addon's watchdog cancels it with
   * `'timeout'` that many milliseconds from now unless `end()` comes first.
   * `Infinity` means no timeout.
   * @throws RangeError (`ERR_OUT_OF_RANGE`) unless `timeoutMs` is undefined or a number > 0;
   *   Error when a call is already open; Error `ERR_HYPERLIGHT_DISPOSED` after the VM's dispose().
   */
  begin(timeoutMs?: number): void {
    if (this.#released) throw disposedError('begin');
    if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0)) {
      const error = new RangeError(`CallGuard.begin(timeoutMs): timeoutMs must be a number > 0; got ${String(timeoutMs)}`);
      throw Object.assign(error, { code: 'ERR_OUT_OF_RANGE' });
    }
    if (this.#open) throw new Error('CallGuard.begin(): a call is already open; end() it first');
    this.#seq = (this.#seq + 1) & CALL_STATE.seqMask;
    this.#open = true;
    Atomics.store(this.#word, 0, (this.#seq << CALL_STATE.seqShift) | CALL_STATE.open);
    if (timeoutMs !== undefined && timeoutMs !== Infinity) this.#vcpu.armTimeout(timeoutMs);
  }

  /**
   * Closes the call: later cancels do nothing and its timeout can no longer fire.
   * @returns the reason it was cancelled, or undefined (also when no call was open).
   */
  end(): CancelReason | undefined {
    if (!this.#open) return undefined;
    this.#open = false;
    // An exchange: a cancel racing with it either lands before (and is returned) or finds no call.
    return reasonOf(Atomics.exchange(this.#word, 0, this.#seq << CALL_STATE.seqShift));
  }

  /** Why the open call was cancelled; undefined when it was not or no call is open. */
  get cancelReason(): CancelReason | undefined {
    return reasonOf(Atomics.load(this.#word, 0));
  }

  /**
   * Cancels the open call from this thread (any thread may use the backend's `cancelCall`).
   * @returns false when no call is open, it was already cancelled, or the VM was disposed.
   * @throws TypeError for a reason that is not a CancelReason.
   */
  cancel(reason: CancelReason): boolean {
    const code = cancelReasonCode(reason);
    if (this.#released) return false;
    return this.#vcpu.cancel(code);
  }

  /**
   * Calls `listener` from the event loop once the open call is cancelled
   * (soon, if it already is); the addon wakes this thread for cancels made
   * by other threads or the watchdog. Until removed, it keeps the event loop
   * alive. Called at most once per call.
   * @returns a function that removes the listener (idempotent).
   */
  onCancel(listener: (reason: CancelReason) => void): () => void {
    const entry: ListenerEntry = { listener, deliveredSeq: -1 };
    this.#listeners.add(entry);
    // Set before reading the word: a cancel either sees the listener and
    // posts an event, or happened before this read (run_control.h).
    if (this.#listeners.size === 1 && !this.#released) this.#vcpu.setCancelListener(this.#onNativeCancel);
    const word = Atomics.load(this.#word, 0);
    if ((word & CALL_STATE.open) !== 0 && reasonOf(word) !== undefined) {
      queueMicrotask(() => this.#deliver(entry, seqOf(word)));
    }
    return () => {
      if (this.#listeners.delete(entry) && this.#listeners.size === 0 && !this.#released) {
        this.#vcpu.setCancelListener(null);
      }
    };
  }

  /**
   * The VM was disposed (its vCPU too): cancels are refused from now on, and
   * listeners hear of a cancel the dispose made. For the backend's virtual machine.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    const word = Atomics.load(this.#word, 0);
    if ((word & CALL_STATE.open) !== 0 && reasonOf(word) !== undefined) {
      for (const entry of this.#listeners) queueMicrotask(() => this.#deliver(entry, seqOf(word)));
    }
  }

  /** The addon's cancel event (on this thread's event loop): call `seq` was cancelled. */
  readonly #onNativeCancel = (seq: number, code: number): void => {
    if (reasonOfCode(code) === undefined) return;
    // One microtask per listener, so one that throws cannot starve the others.
    for (const entry of this.#listeners) queueMicrotask(() => this.#deliver(entry, seq));
  };

  /** Calls `entry` if call `seq` is still open, cancelled, and it has not been told yet. */
  #deliver(entry: ListenerEntry, seq: number): void {
    if (!this.#listeners.has(entry) || entry.deliveredSeq === seq) return;
    const word = Atomics.load(this.#word, 0);
    const reason = reasonOf(word);
    if ((word & CALL_STATE.open) === 0 || seqOf(word) !== seq || reason === undefined) return;
    entry.deliveredSeq = seq;
    entry.listener(reason);
  }
}

/**
 * The call-state reason code of `reason`.
 * @throws TypeError (`ERR_INVALID_ARG_TYPE`) for a value that is not a CancelReason.
 */
export function cancelReasonCode(reason: CancelReason): number {
  if (typeof reason !== 'string' || !Object.hasOwn(CANCEL_REASON_CODES, reason)) {
    const error = new TypeError(`not a cancel reason: ${String(reason)} (expected killed, timeout, aborted or disposed)`);
    throw Object.assign(error, { code: 'ERR_INVALID_ARG_TYPE' });
  }
  return CANCEL_REASON_CODES[reason];
}

function disposedError(method: string): Error {
  const error = new Error(`CallGuard.${method}: the VM was disposed`);
  return Object.assign(error, { code: 'ERR_HYPERLIGHT_DISPOSED' });
}

/**
 * The WHP backend's {@link CallGuard}. The open call's state is the VM's
 * call-state word in the process-wide {@link CancelRegistry}: `begin`, `end`
 * and `cancelReason` are one `Atomics` operation on this thread, and a
 * cancel from any thread (this guard, `backend.cancelCall` on a worker, the
 * timeout watchdog) swaps a reason in and stops the vCPU with
 * WHvCancelRunVirtualProcessor. Every cancel is also announced on a
 * `BroadcastChannel`, so `onCancel` listeners on this thread hear of cancels
 * made elsewhere.
 *
 *   closed --begin()--> open --cancel()/cancelCall()/timeout--> open, cancelled (first reason wins)
 *   open | open, cancelled --end()--> closed (returns the reason; later cancels do nothing)
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { CallGuard, CancelReason, CancelToken } from '@hyperlight-ts/core/backend';
import { CALL_STATE, CANCEL_REASON_CODES, type CancelRegistry, reasonOf, type RegistrySlot, seqOf } from './cancel-registry.js';

/** The channel every cancel is announced on: `{ id, seq }`. */
export const CANCEL_CHANNEL_NAME = 'hyperlight-ts-whp-cancel';

/** What a {@link WhpCallGuard} needs for time limits: something that cancels call `seq` of VM `id` after `timeoutMs`. */
export interface CallTimer {
  arm(id: number, seq: number, timeoutMs: number): void;
  disarm(id: number): void;
}

/** A cancel announcement on {@link CANCEL_CHANNEL_NAME}. */
export interface CancelAnnouncement {
  readonly id: number;
  readonly seq: number;
}

interface ListenerEntry {
  readonly listener: (reason: CancelReason) => void;
  deliveredSeq: number;
}

/**
 * Cancels call `id` and announces it on the cancel channel.
 * @returns whether the cancel took effect.
 */
export function cancelAndAnnounce(registry: CancelRegistry, id: number, code: number, seq?: number): boolean {
  if (!registry.cancel(id, code, seq)) return false;
  const channel = new BroadcastChannel(CANCEL_CHANNEL_NAME);
  channel.postMessage({ id, seq: seq ?? -1 } satisfies CancelAnnouncement);
  channel.close();
  return true;
}

/** A WHP VM's {@link CallGuard}; each `WhpVirtualMachine` has one as `callGuard`. */
export class WhpCallGuard implements CallGuard {
  readonly token: CancelToken;
  readonly #slot: RegistrySlot;
  readonly #registry: CancelRegistry;
  readonly #timer: CallTimer;
  readonly #word: Int32Array;
  readonly #listeners = new Set<ListenerEntry>();
  #channel: BroadcastChannel | undefined;
  #open = false;
  #seq = 0;
  #released = false;
  /** The open call's reason when the VM was disposed (the slot may serve another VM since). */
  #reasonAtRelease: CancelReason | undefined;

  /** Guards the VM of registry slot `slot`. */
  constructor(slot: RegistrySlot, registry: CancelRegistry, timer: CallTimer) {
    this.#slot = slot;
    this.#registry = registry;
    this.#timer = timer;
    this.#word = slot.state;
    this.token = Object.freeze({ backend: 'whp', id: slot.id });
  }

  /**
   * Opens a call; with `timeoutMs` the watchdog cancels it with `'timeout'`
   * that many milliseconds from now unless `end()` comes first (also while
   * this thread is blocked in a run). `Infinity` means no timeout.
   * @throws RangeError (`ERR_OUT_OF_RANGE`) unless `timeoutMs` is undefined or a number > 0;
   *   Error when a call is already open or the VM was disposed.
   */
  begin(timeoutMs?: number): void {
    if (this.#released) throw Object.assign(new Error('CallGuard.begin: the VM was disposed'), { code: 'ERR_HYPERLIGHT_DISPOSED' });
    if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0)) {
      const error = new RangeError(`CallGuard.begin(timeoutMs): timeoutMs must be a number > 0; got ${String(timeoutMs)}`);
      throw Object.assign(error, { code: 'ERR_OUT_OF_RANGE' });
    }
    if (this.#open) throw new Error('CallGuard.begin(): a call is already open; end() it first');
    this.#seq = (this.#seq + 1) & CALL_STATE.seqMask;
    this.#open = true;
    Atomics.store(this.#word, 0, (this.#seq << CALL_STATE.seqShift) | CALL_STATE.open);
    if (timeoutMs !== undefined && timeoutMs !== Infinity) this.#timer.arm(this.#slot.id, this.#seq, timeoutMs);
  }

  /**
   * Closes the call: later cancels do nothing and its timeout is disarmed.
   * @returns the reason it was cancelled, or undefined.
   */
  end(): CancelReason | undefined {
    if (!this.#open) return undefined;
    this.#open = false;
    if (this.#released) return this.#reasonAtRelease;
    this.#timer.disarm(this.#slot.id);
    return reasonOf(Atomics.exchange(this.#word, 0, this.#seq << CALL_STATE.seqShift));
  }

  /** Why the open call was cancelled; undefined when it was not or no call is open. */
  get cancelReason(): CancelReason | undefined {
    return this.#released ? this.#reasonAtRelease : reasonOf(Atomics.load(this.#word, 0));
  }

  /** Whether the open call was cancelled (the VM's check before and after each run). */
  get cancelled(): boolean {
    return this.cancelReason !== undefined;
  }

  /**
   * Cancels the open call and stops the vCPU if it runs.
   * @returns false when no call is open, it was already cancelled, or the VM was disposed.
   * @throws TypeError (`ERR_INVALID_ARG_TYPE`) for a reason that is not a CancelReason.
   */
  cancel(reason: CancelReason): boolean {
    const code = cancelReasonCode(reason);
    if (this.#released || !cancelAndAnnounce(this.#registry, this.#slot.id, code)) return false;
    this.#deliverAll(this.#seq);
    return true;
  }

  /**
   * Calls `listener` from the event loop once the open call is cancelled, by
   * any thread (soon, if it already was); at most once per call. Until
   * removed it keeps the event loop alive.
   * @returns a function that removes the listener (idempotent).
   */
  onCancel(listener: (reason: CancelReason) => void): () => void {
    const entry: ListenerEntry = { listener, deliveredSeq: -1 };
    this.#listeners.add(entry);
    if (this.#channel === undefined && !this.#released) {
      // Subscribed before reading the word: a later cancel is announced to it.
      this.#channel = new BroadcastChannel(CANCEL_CHANNEL_NAME);
      this.#channel.onmessage = (event: unknown) => {
        const { id } = (event as { data: CancelAnnouncement }).data;
        if (id === this.#slot.id) this.#deliverAll(seqOf(Atomics.load(this.#word, 0)));
      };
    }
    const word = Atomics.load(this.#word, 0);
    if ((word & CALL_STATE.open) !== 0 && reasonOf(word) !== undefined) queueMicrotask(() => this.#deliver(entry, seqOf(word)));
    return () => {
      if (this.#listeners.delete(entry) && this.#listeners.size === 0) this.#closeChannel();
    };
  }

  /**
   * The VM is being disposed: frees the registry slot (waiting out cancels
   * in flight, so WHvDeletePartition may follow) and tells listeners of a
   * cancel the dispose made. For `WhpVirtualMachine`.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#timer.disarm(this.#slot.id);
    this.#slot.release();
    // Read after release: no cancel can land any more.
    const word = Atomics.load(this.#word, 0);
    const reason = (word & CALL_STATE.open) !== 0 ? reasonOf(word) : undefined;
    this.#reasonAtRelease = this.#open ? reason : undefined;
    if (reason !== undefined) {
      for (const entry of this.#listeners) {
        queueMicrotask(() => {
          if (this.#listeners.has(entry) && entry.deliveredSeq !== seqOf(word)) {
            entry.deliveredSeq = seqOf(word);
            entry.listener(reason);
          }
        });
      }
    }
    this.#closeChannel();
  }

  #deliverAll(seq: number): void {
    for (const entry of this.#listeners) queueMicrotask(() => this.#deliver(entry, seq));
  }

  /** Calls `entry` if call `seq` is still open, cancelled, and it has not been told yet. */
  #deliver(entry: ListenerEntry, seq: number): void {
    if (!this.#listeners.has(entry) || entry.deliveredSeq === seq || this.#released) return;
    const word = Atomics.load(this.#word, 0);
    const reason = reasonOf(word);
    if ((word & CALL_STATE.open) === 0 || seqOf(word) !== seq || reason === undefined) return;
    entry.deliveredSeq = seq;
    entry.listener(reason);
  }

  #closeChannel(): void {
    this.#channel?.close();
    this.#channel = undefined;
  }
}

/**
 * The reason code of `reason`.
 * @throws TypeError (`ERR_INVALID_ARG_TYPE`) for a value that is not a CancelReason.
 */
export function cancelReasonCode(reason: CancelReason): number {
  if (typeof reason !== 'string' || !Object.hasOwn(CANCEL_REASON_CODES, reason)) {
    const error = new TypeError(`not a cancel reason: ${String(reason)} (expected killed, timeout, aborted or disposed)`);
    throw Object.assign(error, { code: 'ERR_INVALID_ARG_TYPE' });
  }
  return CANCEL_REASON_CODES[reason]!;
}

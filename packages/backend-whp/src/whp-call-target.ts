/**
 * What core's `CallStateGuard` needs of a WHP VM ({@link WhpCallTarget}):
 * the open call's state is the VM's call-state word in the process-wide
 * {@link CancelRegistry}, so a cancel from any thread (the guard,
 * `backend.cancelCall` on a worker, the timeout watchdog) swaps a reason in
 * and stops the vCPU with WHvCancelRunVirtualProcessor. Every cancel is also
 * announced on a `BroadcastChannel`, so the guard's listeners on the VM's
 * thread hear of cancels made elsewhere.
 *
 *   live --release(): timer disarmed, slot freed, channel closed--> released
 */
import { BroadcastChannel } from 'node:worker_threads';
import { CALL_STATE, type CallGuardTarget, seqOf } from '@hyperlight-ts/core/backend';
import type { CancelRegistry, RegistrySlot } from './cancel-registry.js';

/** The channel every cancel is announced on: `{ id, seq }`. */
export const CANCEL_CHANNEL_NAME = 'hyperlight-ts-whp-cancel';

/** What a {@link WhpCallTarget} needs for time limits: something that cancels call `seq` of VM `id` after `timeoutMs`. */
export interface CallTimer {
  arm(id: number, seq: number, timeoutMs: number): void;
  disarm(id: number): void;
}

/** A cancel announcement on {@link CANCEL_CHANNEL_NAME}. */
export interface CancelAnnouncement {
  readonly id: number;
  readonly seq: number;
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

/** The {@link CallGuardTarget} of the WHP VM in registry slot `slot`. */
export class WhpCallTarget implements CallGuardTarget {
  readonly cancelId: number;
  readonly #slot: RegistrySlot;
  readonly #registry: CancelRegistry;
  readonly #timer: CallTimer;
  #channel: BroadcastChannel | undefined;

  /** Acts for the VM of registry slot `slot`; the guard's word is `slot.state`. */
  constructor(slot: RegistrySlot, registry: CancelRegistry, timer: CallTimer) {
    this.#slot = slot;
    this.#registry = registry;
    this.#timer = timer;
    this.cancelId = slot.id;
  }

  /** Cancels the open call with `reasonCode` and stops the vCPU if it runs; whether this cancel won. */
  cancel(reasonCode: number): boolean {
    return cancelAndAnnounce(this.#registry, this.#slot.id, reasonCode);
  }

  /** Has the watchdog cancel the open call `timeoutMs` from now (also while this thread is blocked in a run). */
  armTimeout(timeoutMs: number): void {
    this.#timer.arm(this.#slot.id, seqOf(Atomics.load(this.#slot.state, 0)), timeoutMs);
  }

  /** Drops the ended call's deadline. */
  disarmTimeout(): void {
    this.#timer.disarm(this.#slot.id);
  }

  /** Listens on the cancel channel for this VM's cancels (null: stops listening). */
  setCancelListener(listener: ((seq: number, reasonCode: number) => void) | null): void {
    this.#channel?.close();
    this.#channel = undefined;
    if (listener === null) return;
    this.#channel = new BroadcastChannel(CANCEL_CHANNEL_NAME);
    this.#channel.onmessage = (event: unknown) => {
      if ((event as { data: CancelAnnouncement }).data.id !== this.#slot.id) return;
      const word = Atomics.load(this.#slot.state, 0);
      listener(seqOf(word), (word & CALL_STATE.reasonMask) >>> CALL_STATE.reasonShift);
    };
  }

  /**
   * The VM is being disposed: frees the registry slot (waiting out cancels
   * in flight, so WHvDeletePartition may follow) and stops listening.
   */
  release(): void {
    this.#timer.disarm(this.#slot.id);
    this.#slot.release();
    this.setCancelListener(null);
  }
}

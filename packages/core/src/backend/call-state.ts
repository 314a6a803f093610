/**
 * Layout of a VM's call-state word: one uint32 that the VM's thread and
 * every canceller share (a native vCPU's word in its addon, a slot of a
 * process-wide table, ...). `CallGuard.begin/end/cancelReason` are plain
 * `Atomics` operations on it on the VM's thread, while cancels from any
 * thread compare-and-swap a reason into it ({@link setCancelReason}). Native
 * addons restate the layout in C++ and check on load that it equals
 * {@link CALL_STATE}.
 *
 *   bit 0 OPEN | bits 1-3 reason (0 = none) | bits 4-31 call sequence number
 */
import type { CancelReason } from './backend.js';

/** Bits and reason codes of the call-state word. */
export const CALL_STATE = {
  /** A guest call is open. */
  open: 1,
  reasonShift: 1,
  reasonMask: 0x7 << 1,
  seqShift: 4,
  /** The sequence number's bits after shifting (it wraps). */
  seqMask: 0x0fff_ffff,
  killed: 1,
  timeout: 2,
  aborted: 3,
  disposed: 4,
} as const;

/** Reason code (bits 1-3, shifted down) of each cancel reason. */
export const CANCEL_REASON_CODES: Readonly<Record<CancelReason, number>> = {
  killed: CALL_STATE.killed,
  timeout: CALL_STATE.timeout,
  aborted: CALL_STATE.aborted,
  disposed: CALL_STATE.disposed,
};

const REASONS_BY_CODE: readonly (CancelReason | undefined)[] = [undefined, 'killed', 'timeout', 'aborted', 'disposed'];

/** The cancel reason a call-state word holds, or undefined. */
export function reasonOf(word: number): CancelReason | undefined {
  return REASONS_BY_CODE[(word & CALL_STATE.reasonMask) >>> CALL_STATE.reasonShift];
}

/** The reason named by code `code` (1-4), or undefined. */
export function reasonOfCode(code: number): CancelReason | undefined {
  return REASONS_BY_CODE[code];
}

/** The call sequence number of a call-state word. */
export function seqOf(word: number): number {
  return word >>> CALL_STATE.seqShift;
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

/**
 * Compare-and-swaps reason code `code` into `state[index]` when it holds an
 * open call that is not cancelled yet (and, with `seq`, is call `seq`): the
 * first reason wins. What a canceller on any thread does.
 * @returns the word as it was before the cancel, or undefined when the cancel did nothing.
 */
export function setCancelReason(state: Uint32Array, index: number, code: number, seq?: number): number | undefined {
  let word = Atomics.load(state, index);
  for (;;) {
    if ((word & CALL_STATE.open) === 0 || (word & CALL_STATE.reasonMask) !== 0) return undefined;
    if (seq !== undefined && seqOf(word) !== seq) return undefined;
    const seen = Atomics.compareExchange(state, index, word, (word | (code << CALL_STATE.reasonShift)) >>> 0);
    if (seen === word) return word;
    word = seen;
  }
}

/**
 * Layout of a vCPU's call-state word (the native vCPU's `callState`, one
 * uint32 shared zero-copy with the addon), which makes
 * `CallGuard.begin/end/cancelReason` plain `Atomics` operations on the JS
 * thread while cancels from any thread compare-and-swap a reason into it. The
 * C++ definition and the protocol are in `src/native/run_control.h`; each
 * backend checks on load that its addon's `abi.callState` equals
 * {@link CALL_STATE}.
 *
 *   bit 0 OPEN | bits 1-3 reason (0 = none) | bits 4-31 call sequence number
 */
import type { CancelReason } from '@hyperlight-ts/core';

/** Bits and codes of the call-state word. */
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

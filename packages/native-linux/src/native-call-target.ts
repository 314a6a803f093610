/**
 * The call-guard members of a Linux backend's native vCPU object (`src/native/run_control.h`
 * behind them): a core `CallGuardTarget` as it is, plus the word it guards.
 */
import type { CallGuardTarget } from '@hyperlight-ts/core/backend';

/** What every Linux addon's vCPU object exposes for its `CallStateGuard`. */
export interface NativeCallTarget extends CallGuardTarget {
  /**
   * The call-state word (layout: core's `CALL_STATE`), 4 bytes shared
   * zero-copy with the addon; use it with `Atomics` only. It stays valid after dispose.
   * @throws `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  readonly callState: ArrayBuffer;
  /**
   * This vCPU's id for the addon's `cancelCall(id, reasonCode)`: unique in the process, never reused.
   * @throws `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  readonly cancelId: number;
  /**
   * Cancels the open call with reason code `reasonCode` (1-4), as the addon's
   * `cancelCall` does from any thread, and kicks the vCPU out of its run.
   * @returns false when no call is open or it was already cancelled.
   * @throws TypeError/RangeError for a bad code; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  cancel(reasonCode: number): boolean;
  /**
   * The addon's watchdog thread cancels the open call with `'timeout'`
   * `timeoutMs` from now unless it has ended by then (it never reaches a later
   * call). Replaces the previous call's deadline.
   * @throws TypeError/RangeError unless `timeoutMs` is a number > 0; Error when no
   *   call is open; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  armTimeout(timeoutMs: number): void;
  /**
   * `listener(seq, reasonCode)` is called on this thread's event loop after
   * each successful cancel, whichever thread made it; while one is set the
   * event loop stays alive. `null` removes it.
   * @throws TypeError for anything but a function or null; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  setCancelListener(listener: ((seq: number, reasonCode: number) => void) | null): void;
}

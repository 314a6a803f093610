/**
 * `@hyperlight-ts/core/backend` — for authors of backends: the interface a
 * backend implements, the call guard over a call-state word that real
 * backends share, and the guest's side of the ABI (docs/abi.md) for
 * in-process stand-in VMs that play the guest in tests and benchmarks: the
 * constants of the PEB, ports and frames, and encoders of the messages a
 * guest writes. Applications import `@hyperlight-ts/core` instead.
 *
 * @example
 * import { Abi, encodeFunctionCallResult, Ports, writeFrame } from '@hyperlight-ts/core/backend';
 * const payload = encodeFunctionCallResult({ ok: true, value: { type: 'i32', value: 42 } });
 * writeFrame(output, payload, 'result', 'outputSize');
 * return { kind: 'io-out', port: Ports.HALT, size: 1, value: 0 };
 */
export type * from './backend.js';
export { VM_EXIT_KINDS } from './backend.js';
export { BackendError } from './backend-error.js';
export { TimerCallGuard } from './timer-call-guard.js';
export {
  CALL_STATE, CANCEL_REASON_CODES, cancelReasonCode, reasonOf, reasonOfCode, seqOf, setCancelReason,
} from './call-state.js';
export { CallStateGuard, type CallGuardTarget } from './call-state-guard.js';
export { checkRegionRange, type MappedRange } from './region-range.js';
export { assertVmIdle, DISPOSED_ERROR_CODE, RUN_PENDING_ERROR_CODE } from './vm-use.js';
export { Abi, PebOffset, Ports } from '../abi/generated.js';
export {
  encodeFunctionCall, encodeFunctionCallResult, encodeGuestFunctionDetails, ErrorCode,
  type CallResult, type FunctionCallMessage, type GuestFunctionSignature,
} from '../protocol/codec.js';
export { readFrame, writeFrame } from '../protocol/framing.js';
export type { TypedValue, ValueTypeName } from '../protocol/values.js';

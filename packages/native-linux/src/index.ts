/**
 * @hyperlight-ts/native-linux — what the Linux backends of hyperlight-ts share.
 *
 * The C++ half (`src/native`, reached from a backend's binding.gyp through
 * `@hyperlight-ts/native-linux/gyp`) is compiled into each backend's own
 * Node-API addon. This TypeScript half is the call guard over the call-state
 * word those addons share with JavaScript. Applications do not use this
 * package directly.
 *
 * @example
 * import { VcpuCallGuard } from '@hyperlight-ts/native-linux';
 * const guard = new VcpuCallGuard('kvm', vcpu); // vcpu: the addon's native vCPU object
 * guard.begin(1000); // cancelled with 'timeout' unless end() comes within 1 s
 */
export { VcpuCallGuard, cancelReasonCode, type CallGuardVcpu } from './vcpu-call-guard.js';
export { CALL_STATE, CANCEL_REASON_CODES, reasonOf, reasonOfCode, seqOf } from './call-state.js';

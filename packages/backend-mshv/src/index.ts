/**
 * @hyperlight-ts/backend-mshv — the MSHV backend of hyperlight-ts: guests in
 * Microsoft Hypervisor partitions through `/dev/mshv` (Linux running as the
 * hypervisor's root partition: mainline 6.15+ or Azure Linux).
 *
 * `backend` implements core's `Backend` interface; core finds it at run time.
 * `createBackend` builds the same backend over another `MshvSurface` (the
 * tests' recording stand-in).
 *
 * @example
 * import { backend } from '@hyperlight-ts/backend-mshv';
 * console.log(backend.check()); // { usable: false, reason: 'device-missing', detail: '/dev/mshv does not exist: ...' }
 */
export { backend, createBackend, MSHV_DEVICE_PATH } from './backend.js';
export { MshvError, type MshvErrorOptions } from './mshv-error.js';
export { MshvVirtualMachine } from './mshv-virtual-machine.js';
export { DISPOSED_ERROR_CODE, RUN_PENDING_ERROR_CODE } from '@hyperlight-ts/core/backend';
export { loadNative, NATIVE_LOAD_ERROR_CODE } from './load-native.js';
export type {
  GuestMemory, MshvDevice, MshvFd, MshvPartition, MshvSurface, MshvVp, PointerArg, SnapshotMemory,
} from './mshv-ioctls.js';

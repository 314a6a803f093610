/**
 * @hyperlight-ts/backend-kvm — the KVM backend of hyperlight-ts.
 *
 * `backend` implements core's `Backend` interface; core finds it at run time.
 * The native classes (`Kvm`, `VmFd`, `VcpuFd`, `GuestMemory`, `SnapshotMemory`) are available
 * through `loadNative()` for tests and advanced use.
 *
 * @example
 * import { backend } from '@hyperlight-ts/backend-kvm';
 * console.log(backend.check()); // { usable: true, detail: 'KVM API 12 on /dev/kvm' }
 */
export { backend, KVM_DEVICE_PATH } from './backend.js';
export { guestCpuid, HYPERVISOR_LEAF, HYPERVISOR_SIGNATURE } from './guest-cpuid.js';
export { KvmVirtualMachine, type KvmVirtualMachineParts } from './kvm-virtual-machine.js';
export { KvmError } from './kvm-error.js';
export { KvmGuestRegion } from './kvm-guest-region.js';
export { CALL_STATE, CANCEL_REASON_CODES, DISPOSED_ERROR_CODE, RUN_PENDING_ERROR_CODE } from '@hyperlight-ts/core/backend';
export { loadNative, NATIVE_LOAD_ERROR_CODE } from './load-native.js';
export { KVM, KVM_MEM } from './kvm-constants.js';
export { RUN_BLOCK, REGISTER_NAMES } from './run-block.js';
export type {
  CpuidEntry, InternalConstructor, Kvm, KvmConstructor, NativeAbi, NativeAddon, UserMemoryRegion, VcpuFd, VmFd, Xcr,
} from './native.js';
export type { GuestMemory, GuestMemoryConstructor, SnapshotMemory } from '@hyperlight-ts/native-linux';

/**
 * @hyperlight-ts/native-linux — what the Linux backends of hyperlight-ts share.
 *
 * The C++ half (`src/native`, reached from a backend's binding.gyp through
 * `@hyperlight-ts/native-linux/gyp`) is compiled into each backend's own
 * Node-API addon. This TypeScript half declares the types of the shared
 * native classes as each addon exposes them (the call guard over their
 * call-state word is core's `CallStateGuard`). Applications do not use this
 * package directly.
 *
 * @example
 * import type { GuestMemory } from '@hyperlight-ts/native-linux';
 * import { CallStateGuard } from '@hyperlight-ts/core/backend';
 * const guard = new CallStateGuard('kvm', vcpu, new Uint32Array(vcpu.callState)); // vcpu: a NativeCallTarget
 */
export type { GuestMemory, GuestMemoryConstructor, SnapshotMemory } from './guest-memory.js';
export type { NativeCallTarget } from './native-call-target.js';

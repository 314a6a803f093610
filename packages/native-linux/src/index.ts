/**
 * @hyperlight-ts/native-linux — what the Linux backends of hyperlight-ts share.
 *
 * At run time: the loader of their prebuilt Node-API addons
 * ({@link loadPrebuiltAddon}: picks `prebuilds/linux-x64-<gnu|musl>/` with
 * detect-libc and names the real cause when an addon cannot load), and the
 * types of the shared native classes as each addon exposes them (the call
 * guard over their call-state word is core's `CallStateGuard`). In the
 * repository only: the C++ sources compiled into each backend's addon
 * (`src/native`) and the tool that builds them (`tools/build-addon.mjs`).
 * Applications do not use this package directly.
 *
 * @example
 * import { loadPrebuiltAddon } from '@hyperlight-ts/native-linux';
 * const addon = loadPrebuiltAddon({ packageName: '@hyperlight-ts/backend-kvm', packageRoot, fileName: 'hyperlight_kvm.node' });
 */
export type { GuestMemory, GuestMemoryConstructor, SnapshotMemory } from './guest-memory.js';
export type { NativeCallTarget } from './native-call-target.js';
export { EM_X86_64, inspectElf, machineName, type ElfFinding } from './prebuilt/elf-header.js';
export { currentHost, describeLibc, prebuildLibc, type HostSystem, type PrebuildLibc } from './prebuilt/host-system.js';
export { explainLoadFailure, truncationOf, type FailedLoad } from './prebuilt/load-failure.js';
export {
  loadPrebuiltAddon, NATIVE_LOAD_ERROR_CODE, nativeLoadError, prebuildDirName, prebuildPath, type PrebuiltAddon,
} from './prebuilt/load-prebuilt.js';
export { PREBUILD_REQUIREMENTS } from './prebuilt/prebuild-requirements.js';

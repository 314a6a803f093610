/**
 * Loads the prebuilt native addon
 * (`prebuilds/linux-x64-<gnu|musl>/hyperlight_mshv.node`) through
 * native-linux's loader and presents it as an {@link MshvSurface}. Failures
 * name the real cause (see native-linux's `loadPrebuiltAddon`), or an addon
 * built from other sources, so `check()` can report them as `load-failed`.
 */
import { fileURLToPath } from 'node:url';
import { CALL_STATE } from '@hyperlight-ts/core/backend';
import {
  currentHost, type HostSystem, loadPrebuiltAddon, NATIVE_LOAD_ERROR_CODE, nativeLoadError, prebuildPath, type PrebuiltAddon,
} from '@hyperlight-ts/native-linux';
import { CREATE_PARTITION, HV_MESSAGE, MSHV_IOCTL, REGISTER_PAGE, ROOT_HVCALL, USER_MEM_REGION, VP_STATE } from './mshv-abi.js';
import type { GuestMemory, MshvDevice, MshvSurface, SnapshotMemory } from './mshv-ioctls.js';

export { NATIVE_LOAD_ERROR_CODE };

/** What the addon exports. */
export interface MshvAddon {
  openDevice(path: string): MshvDevice;
  readonly GuestMemory: new (memorySize: number, snapshot?: SnapshotMemory) => GuestMemory;
  readonly SnapshotMemory: { readonly prototype: SnapshotMemory };
  mapSnapshotFile(fd: number, offset: number, size: number): SnapshotMemory;
  cancelCall(id: number, reasonCode: number): boolean;
  /** The numbers the addon was compiled with, compared with {@link expectedAbi} at load. */
  readonly abi: { readonly mshv: Readonly<Record<string, number>>; readonly callState: Readonly<Record<string, number>> };
}

/** The ABI numbers the TypeScript side relies on, by the names the addon reports them under. */
export function expectedAbi(): Record<string, number> {
  return {
    ...MSHV_IOCTL,
    createPartitionSize: CREATE_PARTITION.size,
    userMemRegionSize: USER_MEM_REGION.size,
    userMemRegionUserspaceAddr: USER_MEM_REGION.userspaceAddr,
    rootHvcallSize: ROOT_HVCALL.size,
    rootHvcallStatus: ROOT_HVCALL.status,
    rootHvcallInPtr: ROOT_HVCALL.inPtr,
    rootHvcallOutPtr: ROOT_HVCALL.outPtr,
    vpStateSize: VP_STATE.size,
    vpStateBufPtr: VP_STATE.bufPtr,
    hvMessageSize: HV_MESSAGE.size,
    registerPageSize: REGISTER_PAGE.size,
    registerPageIsValid: REGISTER_PAGE.isValid,
    registerPageDirty: REGISTER_PAGE.dirty,
    registerPageRip: REGISTER_PAGE.rip,
    registerPageRflags: REGISTER_PAGE.rflags,
  };
}

/** This package's addon, as native-linux's loader takes it (this module runs from `src/` or `dist/`). */
export function prebuiltAddon(): PrebuiltAddon {
  return {
    packageName: '@hyperlight-ts/backend-mshv',
    packageRoot: fileURLToPath(new URL('..', import.meta.url)),
    fileName: 'hyperlight_mshv.node',
  };
}

/** `prebuilds/linux-x64-<gnu|musl>/hyperlight_mshv.node` under the package root, for `host`'s C library. */
export function defaultAddonPath(host: HostSystem = currentHost()): string {
  return prebuildPath(prebuiltAddon(), host);
}

let loaded: { readonly surface: MshvSurface } | { readonly error: Error } | undefined;

/**
 * Loads the addon once per process and returns it as a surface (later calls
 * return the same one, or throw the same error).
 * @throws Error with `code: 'ERR_HYPERLIGHT_NATIVE_LOAD'` saying why it cannot be loaded.
 */
export function loadNative(): MshvSurface {
  if (loaded === undefined) {
    try {
      loaded = { surface: surfaceOf(openAddon()) };
    } catch (error) {
      loaded = { error: error as Error };
    }
  }
  if ('error' in loaded) throw loaded.error;
  return loaded.surface;
}

/**
 * Loads the addon without caching (for tests and tools) and checks its compiled-in numbers.
 * @param host the system to choose the variant for (default: this one)
 * @param addonPath the file to load (default {@link defaultAddonPath})
 * @throws Error with `code: 'ERR_HYPERLIGHT_NATIVE_LOAD'`.
 */
export function openAddon(host: HostSystem = currentHost(), addonPath: string = defaultAddonPath(host)): MshvAddon {
  const addon = loadPrebuiltAddon(prebuiltAddon(), host, addonPath) as MshvAddon;
  const mismatches: string[] = [];
  const compare = (group: string, expected: Record<string, number>, actual: Readonly<Record<string, number>> | undefined): void => {
    for (const [name, value] of Object.entries(expected)) {
      if (actual?.[name] !== value) mismatches.push(`${group} ${name}: addon ${String(actual?.[name])}, TypeScript ${value}`);
    }
  };
  compare('mshv', expectedAbi(), addon.abi?.mshv);
  compare('call state', CALL_STATE, addon.abi?.callState);
  if (mismatches.length > 0) {
    throw nativeLoadError(`the MSHV addon ${addonPath} was built from other sources than this package (${mismatches.join('; ')}). Rebuild it with "pnpm build" (and "pnpm build:musl").`);
  }
  return addon;
}

/** The addon as an {@link MshvSurface}. */
export function surfaceOf(addon: MshvAddon): MshvSurface {
  return {
    openDevice: (path) => addon.openDevice(path),
    createGuestMemory: (memorySize, snapshot) => new addon.GuestMemory(memorySize, snapshot),
    isSnapshot: (value): value is SnapshotMemory => Object.prototype.isPrototypeOf.call(addon.SnapshotMemory.prototype, value as object),
    mapSnapshotFile: (fd, offset, size) => addon.mapSnapshotFile(fd, offset, size),
    cancelCall: (id, reasonCode) => addon.cancelCall(id, reasonCode),
  };
}

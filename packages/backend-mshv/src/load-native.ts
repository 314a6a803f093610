/**
 * Finds and loads the native addon (`build/Release/hyperlight_mshv.node`) and
 * presents it as an {@link MshvSurface}. Failures say what went wrong (wrong
 * platform, addon not built, the loader's message, an addon built from other
 * sources) so `check()` can report them as `load-failed`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CALL_STATE } from '@hyperlight-ts/core/backend';
import { CREATE_PARTITION, HV_MESSAGE, MSHV_IOCTL, REGISTER_PAGE, ROOT_HVCALL, USER_MEM_REGION, VP_STATE } from './mshv-abi.js';
import type { GuestMemory, MshvDevice, MshvSurface, SnapshotMemory } from './mshv-ioctls.js';

/** Error `code` of every failure to load the addon. */
export const NATIVE_LOAD_ERROR_CODE = 'ERR_HYPERLIGHT_NATIVE_LOAD';

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

/** `build/Release/hyperlight_mshv.node` under the package root (this module runs from `src/` or `dist/`). */
export function defaultAddonPath(): string {
  return join(fileURLToPath(new URL('..', import.meta.url)), 'build', 'Release', 'hyperlight_mshv.node');
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
      loaded = { surface: surfaceOf(openAddon(defaultAddonPath(), process.platform, process.arch)) };
    } catch (error) {
      loaded = { error: error as Error };
    }
  }
  if ('error' in loaded) throw loaded.error;
  return loaded.surface;
}

/**
 * Loads the addon at `addonPath` without caching (for tests and tools).
 * @throws Error with `code: 'ERR_HYPERLIGHT_NATIVE_LOAD'`.
 */
export function openAddon(addonPath: string, platform: string, arch: string): MshvAddon {
  if (platform !== 'linux' || arch !== 'x64') {
    throw loadError(`@hyperlight-ts/backend-mshv runs only on Linux x86-64 (/dev/mshv); this is ${platform}/${arch}`);
  }
  if (!existsSync(addonPath)) {
    throw loadError(`the MSHV addon is not built: ${addonPath} does not exist. Run "pnpm build" in packages/backend-mshv (needs g++, make and python3).`);
  }
  let addon: MshvAddon;
  try {
    addon = createRequire(import.meta.url)(addonPath) as MshvAddon;
  } catch (error) {
    throw loadError(`cannot load the MSHV addon ${addonPath}: ${error instanceof Error ? error.message : String(error)}. Rebuild it with "pnpm build".`, error);
  }
  const mismatches: string[] = [];
  const compare = (group: string, expected: Record<string, number>, actual: Readonly<Record<string, number>> | undefined): void => {
    for (const [name, value] of Object.entries(expected)) {
      if (actual?.[name] !== value) mismatches.push(`${group} ${name}: addon ${String(actual?.[name])}, TypeScript ${value}`);
    }
  };
  compare('mshv', expectedAbi(), addon.abi?.mshv);
  compare('call state', CALL_STATE, addon.abi?.callState);
  if (mismatches.length > 0) {
    throw loadError(`the MSHV addon ${addonPath} was built from other sources than this package (${mismatches.join('; ')}). Rebuild it with "pnpm build".`);
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

function loadError(message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code: NATIVE_LOAD_ERROR_CODE });
}

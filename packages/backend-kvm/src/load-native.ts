/**
 * Loads the prebuilt native addon through native-linux's loader (which picks
 * the glibc or musl build and names the real cause of a failure) and refuses
 * one built from other sources than this package's TypeScript.
 */
import { fileURLToPath } from 'node:url';
import { CALL_STATE } from '@hyperlight-ts/core/backend';
import {
  currentHost, type HostSystem, loadPrebuiltAddon, NATIVE_LOAD_ERROR_CODE, nativeLoadError, prebuildPath, type PrebuiltAddon,
} from '@hyperlight-ts/native-linux';
import { KVM, type KvmConstantName } from './kvm-constants.js';
import type { NativeAddon } from './native.js';
import { RUN_BLOCK } from './run-block.js';

export { NATIVE_LOAD_ERROR_CODE };

/** File name of the addon in `prebuilds/linux-x64-<gnu|musl>/`. */
export const ADDON_FILE_NAME = 'hyperlight_kvm.node';

/**
 * The package's root directory. This module runs from `src/` (tests) or
 * `dist/` (the ESM and CJS builds); both are one level below the root.
 */
export function packageRoot(): string {
  return fileURLToPath(new URL('..', import.meta.url));
}

/** This package's addon, as native-linux's loader takes it. */
export function prebuiltAddon(): PrebuiltAddon {
  return { packageName: '@hyperlight-ts/backend-kvm', packageRoot: packageRoot(), fileName: ADDON_FILE_NAME };
}

/** `prebuilds/linux-x64-<gnu|musl>/hyperlight_kvm.node` under the package root, for `host`'s C library. */
export function defaultAddonPath(host: HostSystem = currentHost()): string {
  return prebuildPath(prebuiltAddon(), host);
}

let loaded: { readonly addon: NativeAddon } | { readonly error: Error } | undefined;

/**
 * Loads the addon once per process and returns it (later calls return the
 * same object, or throw the same error).
 * @throws Error with `code: 'ERR_HYPERLIGHT_NATIVE_LOAD'` saying why it cannot be loaded.
 * @example
 * const { Kvm } = loadNative();
 * using kvm = new Kvm();
 * console.log(kvm.getApiVersion()); // 12
 */
export function loadNative(): NativeAddon {
  if (loaded === undefined) {
    try {
      loaded = { addon: openAddon() };
    } catch (error) {
      loaded = { error: error as Error };
    }
  }
  if ('error' in loaded) throw loaded.error;
  return loaded.addon;
}

/**
 * Loads the addon without caching (for tests and tools) and checks its
 * compiled-in constants.
 * @param host the system to choose the variant for (default: this one)
 * @param addonPath the file to load (default {@link defaultAddonPath})
 * @throws Error with `code: 'ERR_HYPERLIGHT_NATIVE_LOAD'` saying why it cannot be loaded
 *   (see native-linux's `loadPrebuiltAddon`).
 */
export function openAddon(host: HostSystem = currentHost(), addonPath: string = defaultAddonPath(host)): NativeAddon {
  const addon = loadPrebuiltAddon(prebuiltAddon(), host, addonPath) as NativeAddon;
  checkAbi(addon, addonPath);
  return addon;
}

/**
 * Refuses an addon whose compiled-in constants differ from the TypeScript copies.
 * @throws Error with `code: 'ERR_HYPERLIGHT_NATIVE_LOAD'` listing every difference.
 */
export function checkAbi(addon: NativeAddon, addonPath: string): void {
  const mismatches: string[] = [];
  for (const [name, value] of Object.entries(KVM)) {
    const native = addon.abi?.kvm?.[name as KvmConstantName];
    if (native !== value) mismatches.push(`${name}: addon ${String(native)}, TypeScript ${value}`);
  }
  for (const [name, value] of Object.entries(RUN_BLOCK)) {
    const native = addon.abi?.runBlock?.[name as keyof typeof RUN_BLOCK];
    if (native !== value) mismatches.push(`run block ${name}: addon ${String(native)}, TypeScript ${value}`);
  }
  for (const [name, value] of Object.entries(CALL_STATE)) {
    const native = addon.abi?.callState?.[name as keyof typeof CALL_STATE];
    if (native !== value) mismatches.push(`call state ${name}: addon ${String(native)}, TypeScript ${value}`);
  }
  if (mismatches.length > 0) {
    throw nativeLoadError(
      `the KVM addon ${addonPath} was built from other sources than this package (${mismatches.join('; ')}). ` +
        'Rebuild it with "pnpm build" (and "pnpm build:musl").',
    );
  }
}

/**
 * Finds and loads the native addon. Failures say what actually went wrong
 * (wrong platform, addon never built, the dynamic loader's own message, an
 * addon built from other sources) rather than a generic "could not load".
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CALL_STATE } from '@hyperlight-ts/core/backend';
import { KVM, type KvmConstantName } from './kvm-constants.js';
import type { NativeAddon } from './native.js';
import { RUN_BLOCK } from './run-block.js';

/** File name node-gyp gives the addon (target `hyperlight_kvm` in binding.gyp). */
export const ADDON_FILE_NAME = 'hyperlight_kvm.node';

/** Error `code` of every failure to load the addon. */
export const NATIVE_LOAD_ERROR_CODE = 'ERR_HYPERLIGHT_NATIVE_LOAD';

/** Where and for which platform to load the addon; see {@link openAddon}. */
export interface AddonTarget {
  /** Absolute path of the `.node` file. */
  addonPath: string;
  /** `process.platform` to check against. */
  platform: string;
  /** `process.arch` to check against. */
  arch: string;
}

/**
 * The package's root directory. This module runs from `src/` (tests) or
 * `dist/` (the ESM and CJS builds); both are one level below the root.
 */
export function packageRoot(): string {
  return fileURLToPath(new URL('..', import.meta.url));
}

/** `build/Release/hyperlight_kvm.node` under the package root. */
export function defaultAddonPath(): string {
  return join(packageRoot(), 'build', 'Release', ADDON_FILE_NAME);
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
      loaded = { addon: openAddon({ addonPath: defaultAddonPath(), platform: process.platform, arch: process.arch }) };
    } catch (error) {
      loaded = { error: error as Error };
    }
  }
  if ('error' in loaded) throw loaded.error;
  return loaded.addon;
}

/**
 * Loads the addon at `target.addonPath` without caching (for tests and tools).
 * @throws Error with `code: 'ERR_HYPERLIGHT_NATIVE_LOAD'` saying why it cannot be loaded.
 */
export function openAddon(target: AddonTarget): NativeAddon {
  const { addonPath, platform, arch } = target;
  if (platform !== 'linux' || arch !== 'x64') {
    throw loadError(`@hyperlight-ts/backend-kvm runs only on Linux x86-64 (KVM); this is ${platform}/${arch}`);
  }
  if (!existsSync(addonPath)) {
    throw loadError(
      `the KVM addon is not built: ${addonPath} does not exist. ` +
        'Run "pnpm build" in packages/backend-kvm (it compiles the addon with node-gyp; needs g++, make and python3).',
    );
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(addonPath) as NativeAddon;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw loadError(
      `cannot load the KVM addon ${addonPath}: ${reason}. ` +
        'If it was built for another Node.js or system, rebuild it here with "pnpm build".',
      error,
    );
  }
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
    throw loadError(
      `the KVM addon ${addonPath} was built from other sources than this package (${mismatches.join('; ')}). ` +
        'Rebuild it with "pnpm build".',
    );
  }
}

function loadError(message: string, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  return Object.assign(error, { code: NATIVE_LOAD_ERROR_CODE });
}

/**
 * Loads a Linux backend's prebuilt Node-API addon from its package's
 * `prebuilds/linux-x64-<gnu|musl>/` directory, choosing the C library with
 * detect-libc, and when it cannot be loaded says why in terms a user can act on.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { currentHost, describeLibc, type HostSystem, prebuildLibc, type PrebuildLibc } from './host-system.js';
import { explainLoadFailure, truncationOf } from './load-failure.js';

/** Error `code` of every failure to load an addon. */
export const NATIVE_LOAD_ERROR_CODE = 'ERR_HYPERLIGHT_NATIVE_LOAD';

/** Which addon of which package. */
export interface PrebuiltAddon {
  /** The npm name of the package that ships it, e.g. `@hyperlight-ts/backend-kvm`. */
  readonly packageName: string;
  /** The package's root directory (holds `prebuilds/`). */
  readonly packageRoot: string;
  /** The addon's file name, e.g. `hyperlight_kvm.node`. */
  readonly fileName: string;
}

/** The directory name of a variant under `prebuilds/`. */
export function prebuildDirName(libc: PrebuildLibc): string {
  return `linux-x64-${libc}`;
}

/** `<packageRoot>/prebuilds/linux-x64-<libc>/<fileName>` for the variant `host` needs. */
export function prebuildPath(addon: PrebuiltAddon, host: HostSystem = currentHost()): string {
  return join(addon.packageRoot, 'prebuilds', prebuildDirName(prebuildLibc(host)), addon.fileName);
}

/**
 * An Error with `code: 'ERR_HYPERLIGHT_NATIVE_LOAD'` (and the loader's error as
 * `cause`, when there is one).
 */
export function nativeLoadError(message: string, cause?: unknown): Error & { code: string } {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  return Object.assign(error, { code: NATIVE_LOAD_ERROR_CODE });
}

/**
 * Loads `addon` (uncached; `require` caches the module itself).
 * @param host the system to choose for and to describe in errors (default: this one)
 * @param path the file to load (default {@link prebuildPath}; tests pass damaged copies)
 * @returns the addon's exports, unchecked
 * @throws Error `ERR_HYPERLIGHT_NATIVE_LOAD` naming the cause: not Linux x86-64, the
 *   variant's file missing, the wrong C library's build, glibc or libstdc++ too old,
 *   Node-API too old, another architecture's binary, a damaged file.
 * @example
 * const exports = loadPrebuiltAddon({ packageName: '@hyperlight-ts/backend-kvm', packageRoot, fileName: 'hyperlight_kvm.node' });
 */
export function loadPrebuiltAddon(addon: PrebuiltAddon, host: HostSystem = currentHost(), path: string = prebuildPath(addon, host)): unknown {
  const { packageName } = addon;
  if (host.platform !== 'linux' || host.arch !== 'x64') {
    throw nativeLoadError(`${packageName} runs only on Linux x86-64; this is ${host.platform}/${host.arch}.`);
  }
  const libc = prebuildLibc(host);
  if (!existsSync(path)) throw nativeLoadError(missingMessage(addon, libc, host, path));
  // Never hand a cut-short file to the dynamic loader: mapping past its end can kill the process (SIGBUS).
  const truncated = truncationOf(path);
  if (truncated !== undefined) throw nativeLoadError(`${packageName}: cannot load its native addon ${path}: ${truncated}`);
  try {
    return createRequire(import.meta.url)(path);
  } catch (error) {
    const loaderMessage = error instanceof Error ? error.message : String(error);
    const why = explainLoadFailure({ path, libc, host, loaderMessage });
    throw nativeLoadError(`${packageName}: cannot load its native addon ${path}: ${why} (${loaderMessage})`, error);
  }
}

/** Which variant is missing, which exist, and how to get it back. */
function missingMessage(addon: PrebuiltAddon, libc: PrebuildLibc, host: HostSystem, path: string): string {
  // <root>/prebuilds/<variant>/<file>: look where the file was expected.
  const prebuildsDir = dirname(dirname(path));
  const packageRoot = dirname(prebuildsDir);
  const present = existsSync(prebuildsDir)
    ? readdirSync(prebuildsDir).filter((dir) => existsSync(join(prebuildsDir, dir, addon.fileName)))
    : [];
  const sourceCheckout = existsSync(join(packageRoot, 'src', 'native'));
  const remedy = sourceCheckout
    ? `This is a source checkout: build it with "pnpm build" (glibc) or "pnpm build:musl" (musl) in ${packageRoot}.`
    : `The published package ships both variants: reinstall ${addon.packageName} (e.g. delete node_modules and install again).`;
  return `${addon.packageName}: the prebuilt addon for ${prebuildDirName(libc)} (this system: ${describeLibc(host)}) is missing: ` +
    `${path} does not exist. Present: ${present.length > 0 ? present.join(', ') : 'none'}. ${remedy}`;
}

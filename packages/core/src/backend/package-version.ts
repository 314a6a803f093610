/**
 * Core and its backends are released together with one version. A backend
 * from another release may expect another backend interface, so discovery
 * refuses one whose version is not compatible with core's.
 */
import { createRequire } from 'node:module';
import type { PackageLoader } from './discover.js';

const CORE_PACKAGE = '@hyperlight-ts/core';

/** Core's own version (from its package.json), or undefined if it cannot be read. */
export const CORE_VERSION: string | undefined = versionOf(() => createRequire(import.meta.url)(`${CORE_PACKAGE}/package.json`));

function versionOf(read: () => unknown): string | undefined {
  try {
    const version = (read() as { version?: unknown } | undefined)?.version;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether two semver versions are compatible: the same major, and at 0.x
 * the same minor too (prerelease and build suffixes are ignored).
 */
export function versionsCompatible(a: string, b: string): boolean {
  const [aMajor, aMinor] = a.split('.');
  const [bMajor, bMinor] = b.split('.');
  if (aMajor !== bMajor) return false;
  return aMajor !== '0' || aMinor === bMinor;
}

/**
 * Why the installed `packageName` cannot be used with this core, or undefined
 * when its version is compatible or either version is unknown.
 */
export function versionMismatch(packageName: string, load: PackageLoader, coreVersion: string | undefined): string | undefined {
  const version = versionOf(() => load(`${packageName}/package.json`));
  if (version === undefined || coreVersion === undefined || versionsCompatible(version, coreVersion)) return undefined;
  return (
    `${packageName} ${version} does not match ${CORE_PACKAGE} ${coreVersion}: ` +
    `they are released together; install the same version of both (${packageName}@${coreVersion})`
  );
}

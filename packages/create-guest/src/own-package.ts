/**
 * This package's own version and Node range: the generated project depends on
 * `^<version>` of every hyperlight-ts package (they are released together)
 * and asks for the same Node.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The root of this package: `src/` (tests) and `dist/` (published) are both one level below it. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The fields of this package's package.json the generated project takes over. */
export interface OwnPackage {
  /** The version, e.g. `0.1.0`. */
  readonly version: string;
  /** `engines.node`, e.g. `>=20.19`. */
  readonly nodeRange: string;
}

/**
 * @returns this package's version and Node range, from its package.json
 * @throws Error when the package.json lacks them (a broken install)
 */
export function ownPackage(): OwnPackage {
  const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: unknown; engines?: { node?: unknown } };
  const { version } = manifest;
  const nodeRange = manifest.engines?.node;
  if (typeof version !== 'string' || typeof nodeRange !== 'string') {
    throw new Error(`${join(PACKAGE_ROOT, 'package.json')} has no version or engines.node`);
  }
  return { version, nodeRange };
}

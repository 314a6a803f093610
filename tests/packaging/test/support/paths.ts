/**
 * Where the packaging tests keep their work (a gitignored `.work/` in this
 * package) and the index of the tarballs the global setup packed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** Scratch space of this package (gitignored). */
export const WORK_DIR = fileURLToPath(new URL('../../.work/', import.meta.url));
/** Where the global setup packs the packages. */
export const TARBALL_DIR = join(WORK_DIR, 'tarballs');
/** JSON list of {@link PackedPackage}, written by the global setup. */
export const TARBALL_INDEX = join(TARBALL_DIR, 'index.json');

/** One packed publishable package (what tools/pack-packages.mjs returns). */
export interface PackedPackage {
  /** Package directory in the workspace. */
  readonly dir: string;
  /** npm name. */
  readonly name: string;
  /** Version packed. */
  readonly version: string;
  /** Absolute path of the tarball. */
  readonly tarball: string;
}

/** @returns every package the global setup packed, sorted by name */
export function packedPackages(): PackedPackage[] {
  return JSON.parse(readFileSync(TARBALL_INDEX, 'utf8')) as PackedPackage[];
}

/**
 * Where the consumer tests keep things. Tarballs and readiness markers live in
 * this package's gitignored `.work/`; the apps live outside the repository, so
 * neither npm nor pnpm sees the workspace (its `pnpm-workspace.yaml`, its
 * `node_modules`) from them. Both places are outside `/tmp`, so the nested-KVM
 * VM (own tmpfs `/tmp`, host `/` over 9p) sees what the host prepared.
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This package's directory (tests/consumer). */
export const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** The repository root. */
export const REPO_ROOT = join(PACKAGE_DIR, '..', '..');

/** Gitignored scratch directory of this package. */
export const WORK_DIR = join(PACKAGE_DIR, '.work');

/** Where the global setup packs every publishable package. */
export const TARBALL_DIR = join(WORK_DIR, 'tarballs');

/** JSON map from package name to tarball path, written after packing. */
export const TARBALL_INDEX = join(TARBALL_DIR, 'index.json');

/** One JSON marker per app the host prepared, read by the `.kvm.test.ts` files. */
export const READY_DIR = join(WORK_DIR, 'ready');

/**
 * Root of the apps: in the user's cache directory, one per checkout (the
 * repository path's hash), so two checkouts never share apps.
 */
export const APPS_ROOT = join(
  process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'),
  'hyperlight-ts',
  'consumer-apps',
  createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12),
);

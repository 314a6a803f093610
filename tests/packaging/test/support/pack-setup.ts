/**
 * Global setup: packs every publishable package once, exactly as publishing
 * would (tools/pack-packages.mjs), and writes the index the test files read.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, TARBALL_DIR, TARBALL_INDEX, type PackedPackage } from './paths.js';

interface PackModule { packPackages(destDir: string): PackedPackage[] }

/** Packs the packages into {@link TARBALL_DIR}; vitest calls it before any test file. */
export default async function setup(): Promise<void> {
  const { packPackages } = (await import(pathToFileURL(join(REPO_ROOT, 'tools', 'pack-packages.mjs')).href)) as PackModule;
  rmSync(TARBALL_DIR, { recursive: true, force: true });
  mkdirSync(TARBALL_DIR, { recursive: true });
  writeFileSync(TARBALL_INDEX, JSON.stringify(packPackages(TARBALL_DIR), null, 2));
}

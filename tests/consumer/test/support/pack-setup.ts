/**
 * Global setup of the `host` project: packs every publishable package once,
 * exactly as publishing would (tools/pack-packages.mjs), and indexes the
 * tarballs by package name for the test files.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, TARBALL_DIR, TARBALL_INDEX } from './paths.js';

interface PackedPackage { readonly name: string; readonly tarball: string }
interface PackModule { packPackages(destDir: string): PackedPackage[] }

/** Packs the packages into {@link TARBALL_DIR}; vitest calls it before any host test file. */
export default async function setup(): Promise<void> {
  const { packPackages } = (await import(pathToFileURL(join(REPO_ROOT, 'tools', 'pack-packages.mjs')).href)) as PackModule;
  rmSync(TARBALL_DIR, { recursive: true, force: true });
  mkdirSync(TARBALL_DIR, { recursive: true });
  const packed = packPackages(TARBALL_DIR);
  writeFileSync(TARBALL_INDEX, JSON.stringify(Object.fromEntries(packed.map((p) => [p.name, p.tarball])), null, 2));
}

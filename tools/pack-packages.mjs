#!/usr/bin/env node
// Packs every publishable package (each non-private package under packages/)
// into one directory with `pnpm pack`, exactly as `pnpm publish` would pack it
// (workspace: ranges replaced by versions). Used by the release script, the
// package checks and the consumer tests.
//   node tools/pack-packages.mjs <dest-dir>     prints one "<name> <tarball>" line per package
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Every publishable package of the workspace: directory, name and version.
 * @returns {{ dir: string, name: string, version: string }[]} sorted by name
 */
export function publishablePackages() {
  const packagesDir = join(REPO_ROOT, 'packages');
  return readdirSync(packagesDir)
    .map((entry) => join(packagesDir, entry))
    .flatMap((dir) => {
      let manifest;
      try {
        manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      } catch {
        return [];
      }
      return manifest.private ? [] : [{ dir, name: manifest.name, version: manifest.version }];
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The file name `pnpm pack` gives a package's tarball. */
export function tarballName(name, version) {
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

/**
 * Packs every publishable package into `destDir` (created if missing).
 * Packages must be built first.
 * @param {string} destDir
 * @returns {{ dir: string, name: string, version: string, tarball: string }[]}
 */
export function packPackages(destDir) {
  const dest = resolve(destDir);
  mkdirSync(dest, { recursive: true });
  const packages = publishablePackages();
  for (const pkg of packages) {
    execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd: pkg.dir, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return packages.map((pkg) => ({ ...pkg, tarball: join(dest, tarballName(pkg.name, pkg.version)) }));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dest = process.argv[2];
  if (!dest) {
    process.stderr.write('usage: node tools/pack-packages.mjs <dest-dir>\n');
    process.exit(2);
  }
  for (const { name, tarball } of packPackages(dest)) process.stdout.write(`${name} ${tarball}\n`);
}

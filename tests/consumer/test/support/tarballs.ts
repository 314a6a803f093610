/** The tarballs the global setup packed (./pack-setup.ts). */
import { existsSync, readFileSync } from 'node:fs';
import { TARBALL_INDEX } from './paths.js';

/**
 * Every packed package: name → absolute tarball path.
 * @throws Error when the global setup did not run (run the `host` project)
 */
export function packedTarballs(): Readonly<Record<string, string>> {
  if (!existsSync(TARBALL_INDEX)) throw new Error(`${TARBALL_INDEX} is missing: the host project's global setup packs the packages`);
  return JSON.parse(readFileSync(TARBALL_INDEX, 'utf8')) as Record<string, string>;
}

/**
 * The `file:` spec of one packed package.
 * @throws Error when that package was not packed
 */
export function tarballSpec(name: string): string {
  const tarball = packedTarballs()[name];
  if (tarball === undefined) throw new Error(`${name} was not packed (not a publishable package?)`);
  return `file:${tarball}`;
}

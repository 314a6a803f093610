/**
 * Fresh consumer apps outside the workspace, installed from the packed
 * tarballs with npm or pnpm at their default settings. The registry has no
 * @hyperlight-ts packages, so every one of them (also those only depended on
 * transitively, such as native-linux) is pinned to its tarball with the
 * package manager's own overrides; third-party packages come from the
 * registry.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APPS_ROOT } from './paths.js';
import { runOk } from './process.js';
import { packedTarballs, tarballSpec } from './tarballs.js';

/** The package managers the consumer tests install with. */
export type PackageManager = 'npm' | 'pnpm';

/** What an app depends on: @hyperlight-ts package names (from the tarballs), and registry packages. */
export interface AppDependencies {
  readonly dependencies: readonly string[];
  readonly devDependencies?: readonly string[];
  /** Registry packages (development dependencies): name → exact version. */
  readonly registry?: Readonly<Record<string, string>>;
}

/** An empty directory for app `name` under {@link APPS_ROOT} (a previous one is removed). */
export function freshAppDir(name: string): string {
  const dir = join(APPS_ROOT, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

const fromTarballs = (names: readonly string[]): Record<string, string> => Object.fromEntries(names.map((n) => [n, tarballSpec(n)]));

/**
 * `manifest` with its @hyperlight-ts dependencies pointing at the tarballs and
 * every packed package overridden to its tarball (npm `overrides`, pnpm
 * `pnpm.overrides`). npm accepts an override of a direct dependency only when
 * both specs are equal, hence the direct dependencies are rewritten as well.
 */
export function installFromTarballs(manifest: Record<string, unknown>, pm: PackageManager): Record<string, unknown> {
  const rewrite = (deps: unknown): Record<string, string> | undefined => {
    if (deps === undefined) return undefined;
    const entries = Object.entries(deps as Record<string, string>);
    return Object.fromEntries(entries.map(([name, spec]) => [name, name.startsWith('@hyperlight-ts/') ? tarballSpec(name) : spec]));
  };
  const overrides = fromTarballs(Object.keys(packedTarballs()));
  const result: Record<string, unknown> = { ...manifest, dependencies: rewrite(manifest['dependencies']), devDependencies: rewrite(manifest['devDependencies']) };
  if (pm === 'npm') result['overrides'] = overrides;
  else result['pnpm'] = { ...(manifest['pnpm'] as object | undefined), overrides };
  return result;
}

/** Installs the app in `dir` with `pm` (`npm install` / `pnpm install`, nothing else). */
export function install(dir: string, pm: PackageManager): void {
  runOk(pm, ['install'], dir);
}

/**
 * Creates and installs an ESM app `name` that depends on `deps` from the tarballs.
 * @returns the app's directory
 */
export function createApp(name: string, pm: PackageManager, deps: AppDependencies): string {
  const dir = freshAppDir(name);
  const manifest = {
    name: `consumer-${name}`,
    version: '1.0.0',
    private: true,
    type: 'module',
    dependencies: fromTarballs(deps.dependencies),
    devDependencies: { ...fromTarballs(deps.devDependencies ?? []), ...deps.registry },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(installFromTarballs(manifest, pm), null, 2)}\n`);
  install(dir, pm);
  return dir;
}

/** The parsed package.json of the app in `dir`. */
export function readManifest(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
}

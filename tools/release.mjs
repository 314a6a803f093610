#!/usr/bin/env node
// Releases every publishable package: build -> test -> pack -> publish
// (docs/releasing.md). Run after `pnpm version-packages` has been committed.
//   pnpm release [--dry-run] [--skip-build] [--skip-tests] [--allow-dirty] [--allow-pending]
// --dry-run does everything but the upload: `npm publish --dry-run` still
// reads and validates each tarball. Packages are published in dependency
// order (a package after every package it depends on), so a registry never
// holds a package whose dependencies are missing; versions the registry
// already has are skipped, so a release that failed half-way can be re-run.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { packPackages, REPO_ROOT } from './pack-packages.mjs';

const USAGE = 'usage: node tools/release.mjs [--dry-run] [--skip-build] [--skip-tests] [--allow-dirty] [--allow-pending]';
const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies'];

/** A release refused or failed; the message says why and what to do. */
export class ReleaseError extends Error {
  name = 'ReleaseError';
}

/**
 * Changesets not yet turned into versions (`.changeset/*.md` other than its README).
 * @param {string} root repository root
 * @returns {string[]} file names
 */
export function pendingChangesets(root = REPO_ROOT) {
  return readdirSync(join(root, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md').sort();
}

/**
 * Orders packages so that each comes after every package of the list it
 * depends on (dependencies, peer and optional dependencies); ties by name.
 * @param {{ name: string, manifest: Record<string, any> }[]} packages
 * @returns {string[]} names in publishing order
 * @throws {ReleaseError} on a dependency cycle
 */
export function publishOrder(packages) {
  const names = new Set(packages.map((p) => p.name));
  const needs = new Map(
    packages.map((p) => [p.name, new Set(DEPENDENCY_FIELDS.flatMap((f) => Object.keys(p.manifest[f] ?? {})).filter((d) => names.has(d) && d !== p.name))]),
  );
  const order = [];
  while (needs.size > 0) {
    const ready = [...needs].filter(([, deps]) => [...deps].every((d) => order.includes(d))).map(([name]) => name).sort();
    if (ready.length === 0) throw new ReleaseError(`dependency cycle among ${[...needs.keys()].join(', ')}`);
    for (const name of ready) {
      order.push(name);
      needs.delete(name);
    }
  }
  return order;
}

/** Runs a command in the repository, output to this process's; throws when it fails. */
function run(command, args) {
  console.log(`release: $ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new ReleaseError(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
}

/** Whether the registry already has `name@version`; `undefined` when it cannot be asked. */
function onRegistry(name, version) {
  const result = spawnSync('npm', ['view', `${name}@${version}`, 'version', '--json'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (result.status === 0) return result.stdout.trim() !== '';
  return /E404|404 Not Found/.test(result.stdout + result.stderr) ? false : undefined;
}

/** Whether npm can sign provenance here: in CI with an OIDC token (GitHub Actions `id-token: write`). */
function canSignProvenance(env) {
  return Boolean(env.CI && env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
}

/**
 * The release. Refuses a dirty tree and pending changesets unless allowed.
 * @param {{ dryRun?: boolean, skipBuild?: boolean, skipTests?: boolean, allowDirty?: boolean, allowPending?: boolean }} options
 */
export function release(options) {
  const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  if (dirty && !options.allowDirty) {
    throw new ReleaseError(`the working tree has uncommitted changes; commit them first (or pass --allow-dirty):\n${dirty}`);
  }
  const pending = pendingChangesets();
  if (pending.length > 0 && !options.allowPending) {
    throw new ReleaseError(`${pending.length} changeset(s) are not versioned yet (${pending.join(', ')}); run \`pnpm version-packages\` and commit (or pass --allow-pending)`);
  }
  const provenance = canSignProvenance(process.env);
  if (!options.dryRun && !provenance) {
    throw new ReleaseError('publishing needs provenance (publishConfig.provenance): run the release in CI with an OIDC token (GitHub Actions, permissions: id-token: write), or pass --dry-run');
  }

  // Both libc variants of the Linux addons: the backends' prepack refuses to pack without them.
  if (!options.skipBuild) run('pnpm', ['exec', 'turbo', 'run', 'build', 'build:musl']);
  if (!options.skipTests) run('pnpm', ['test']);

  const packDir = mkdtempSync(join(tmpdir(), 'hyperlight-release-'));
  try {
    console.log(`release: packing into ${packDir}`);
    const packed = packPackages(packDir).map((p) => ({ ...p, manifest: JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')) }));
    const byName = new Map(packed.map((p) => [p.name, p]));
    const order = publishOrder(packed);
    console.log(`release: publishing order: ${order.join(' -> ')}`);
    for (const name of order) {
      const { version, tarball } = byName.get(name);
      const known = onRegistry(name, version);
      if (known === true) {
        console.log(`release: ${name}@${version} is already on the registry; skipped`);
        continue;
      }
      if (known === undefined && !options.dryRun) throw new ReleaseError(`cannot ask the registry whether ${name}@${version} exists`);
      console.log(`release: publishing ${name}@${version}${options.dryRun ? ' (dry run)' : ''}${known === undefined ? ' (registry not reachable)' : ''}`);
      run('npm', ['publish', tarball, '--access', 'public', ...(options.dryRun ? ['--dry-run'] : []), ...(provenance ? ['--provenance'] : [])]);
    }
    console.log(`release: ${options.dryRun ? 'dry run complete, nothing uploaded' : 'done'}`);
  } finally {
    rmSync(packDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'dry-run': { type: 'boolean' },
        'skip-build': { type: 'boolean' },
        'skip-tests': { type: 'boolean' },
        'allow-dirty': { type: 'boolean' },
        'allow-pending': { type: 'boolean' },
      },
    }));
  } catch (e) {
    console.error(`release: ${e.message}\n${USAGE}`);
    process.exit(2);
  }
  try {
    release({
      dryRun: values['dry-run'],
      skipBuild: values['skip-build'],
      skipTests: values['skip-tests'],
      allowDirty: values['allow-dirty'],
      allowPending: values['allow-pending'],
    });
  } catch (e) {
    if (!(e instanceof ReleaseError)) throw e;
    console.error(`release: ${e.message}`);
    process.exit(1);
  }
}

/**
 * What every packed package ships: exactly the expected files, a licence and
 * README, executable bins, a publishable manifest (no `workspace:` ranges, no
 * install scripts, provenance-ready metadata, engines) and self-contained
 * source maps.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPECTED_FILES, RUST_TEST_MODULES, globToRegExp } from './support/expected-files.js';
import { REPO_ROOT, packedPackages } from './support/paths.js';
import { readTarball, type TarEntry } from './support/tarball.js';

const REPOSITORY_URL = 'git+https://github.com/hyperlight-ts/hyperlight-ts.git';
const LICENSE_TEXT = readFileSync(join(REPO_ROOT, 'LICENSE'));
/** Lifecycle scripts npm and pnpm run when a package is installed. */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare'];
const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'] as const;

interface Manifest {
  name: string;
  version: string;
  license?: string;
  private?: boolean;
  description?: string;
  keywords?: string[];
  repository?: { type?: string; url?: string; directory?: string };
  homepage?: string;
  bugs?: { url?: string };
  publishConfig?: { access?: string; provenance?: boolean };
  engines?: { node?: string };
  bin?: Record<string, string>;
  scripts?: Record<string, string>;
  [field: string]: unknown;
}

const packages = packedPackages();

/** Numeric parts of a version, missing parts 0. */
const parts = (version: string): number[] => [0, 1, 2].map((i) => Number(version.trim().split('.')[i] ?? 0));
const compare = (a: number[], b: number[]): number => a.reduce((acc, x, i) => acc || x - (b[i] ?? 0), 0);

/**
 * Whether `version` is within an `engines.node` range made of `>=X[.Y[.Z]]`,
 * `^X[.Y[.Z]]` and `||` alternatives (the forms our dependencies use).
 * @throws Error for any other form, so a new one gets a look
 */
function nodeVersionSatisfies(version: string, range: string): boolean {
  return range.split('||').some((alternative) => {
    const m = /^\s*(>=|\^)\s*(\d+(?:\.\d+){0,2})\s*$/.exec(alternative);
    if (!m) throw new Error(`unsupported engines range ${range}`);
    const [v, low] = [parts(version), parts(m[2] ?? '')];
    return compare(v, low) >= 0 && (m[1] === '>=' || v[0] === low[0]);
  });
}

it('packs every package that has an expectation, and nothing else', () => {
  expect(packages.map((p) => p.name).sort()).toEqual(Object.keys(EXPECTED_FILES).sort());
});

describe.each(packages)('$name', ({ name, dir, tarball }) => {
  const entries = readTarball(tarball);
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const file = (path: string): TarEntry => {
    const entry = byPath.get(path);
    if (!entry) throw new Error(`${name}: ${path} is not in the tarball`);
    return entry;
  };
  const manifest = JSON.parse(file('package.json').data.toString('utf8')) as Manifest;
  const dirName = dir.split(/[\\/]/).filter(Boolean).pop() ?? '';

  it('ships exactly the expected files', () => {
    const patterns = (EXPECTED_FILES[name] ?? []).map((p) => ({ ...p, regex: globToRegExp(p.glob) }));
    const unexpected = entries.map((e) => e.path).filter((path) => !patterns.some((p) => p.regex.test(path)));
    const missing = patterns.filter((p) => !p.optional && !entries.some((e) => p.regex.test(e.path))).map((p) => p.glob);
    expect(unexpected, 'files no pattern expects').toEqual([]);
    expect(missing, 'patterns no file matches').toEqual([]);
    expect(entries.filter((e) => RUST_TEST_MODULES.test(e.path) || /\.tsbuildinfo$|(^|\/)(test|tests|fixtures|__tests__)\//.test(e.path)).map((e) => e.path)).toEqual([]);
  });

  it('ships the Apache-2.0 licence and a README that links only to absolute URLs', () => {
    expect(manifest.license).toBe('Apache-2.0');
    expect(file('LICENSE').data.equals(LICENSE_TEXT)).toBe(true);
    const readme = file('README.md').data.toString('utf8');
    expect(readme.startsWith(`# ${name}`)).toBe(true);
    // The registry page shows the README alone: a relative link would lead nowhere.
    const relativeLinks = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '').filter((href) => !/^(https?:|mailto:|#)/.test(href));
    expect(relativeLinks).toEqual([]);
  });

  it('has provenance-ready metadata and engines', () => {
    expect(manifest.private).toBeUndefined();
    expect(manifest.description).toBeTruthy();
    expect(manifest.keywords?.length).toBeGreaterThan(0);
    expect(manifest.repository).toEqual({ type: 'git', url: REPOSITORY_URL, directory: `packages/${dirName}` });
    expect(manifest.homepage).toBe(`https://github.com/hyperlight-ts/hyperlight-ts/tree/main/packages/${dirName}#readme`);
    expect(manifest.bugs).toEqual({ url: 'https://github.com/hyperlight-ts/hyperlight-ts/issues' });
    expect(manifest.publishConfig).toEqual({ access: 'public', provenance: true });
    expect(manifest.engines).toEqual({ node: '>=20.19' });
  });

  it('claims no Node.js its runtime dependencies do not support', () => {
    const floor = (manifest.engines?.node ?? '').replace(/^>=/, '');
    for (const dep of Object.keys((manifest.dependencies ?? {}) as Record<string, string>)) {
      const depManifest = JSON.parse(readFileSync(join(dir, 'node_modules', dep, 'package.json'), 'utf8')) as Manifest;
      const range = depManifest.engines?.node;
      if (range !== undefined) expect(nodeVersionSatisfies(floor, range), `${dep} engines.node ${range}`).toBe(true);
    }
  });

  it('has no workspace: ranges and no install scripts', () => {
    for (const field of DEPENDENCY_FIELDS) {
      const deps = (manifest[field] ?? {}) as Record<string, string>;
      for (const [dep, range] of Object.entries(deps)) expect(range, `${field}.${dep}`).not.toMatch(/^(workspace|link|file):/);
    }
    expect(Object.keys(manifest.scripts ?? {}).filter((s) => INSTALL_SCRIPTS.includes(s))).toEqual([]);
    expect(entries.some((e) => e.path === 'binding.gyp')).toBe(false);
  });

  it('ships executable bins that start with a node shebang', () => {
    for (const [bin, target] of Object.entries(manifest.bin ?? {})) {
      const entry = file(target.replace(/^\.\//, ''));
      expect(entry.mode & 0o111, `${bin} is executable`).toBe(0o111);
      expect(entry.data.subarray(0, 32).toString('utf8'), `${bin} shebang`).toMatch(/^#!\/usr\/bin\/env node\n/);
    }
  });

  it('ships no source maps', () => {
    expect(entries.filter((e) => e.path.endsWith('.map')).map((e) => e.path)).toEqual([]);
  });
});

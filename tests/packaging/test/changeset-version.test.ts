/**
 * A dry run of `changeset version` on a copy of the repository (HEAD plus the
 * working tree's .changeset directory, in a temporary directory): one version
 * for the whole fixed group, the bump the changesets ask for (no 1.0.0 from a
 * minor while at 0.x), changelogs with every changeset's text, internal
 * ranges that the new versions satisfy, and private packages left alone.
 */
import { execFileSync, execSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT } from './support/paths.js';

interface Manifest { name: string; version: string; private?: boolean; [field: string]: unknown }
interface Changeset { file: string; releases: Map<string, 'major' | 'minor' | 'patch'>; summary: string }
interface Semver { inc(version: string, type: string): string | null; satisfies(version: string, range: string): boolean }

const changesetsCli = createRequire(join(REPO_ROOT, 'package.json')).resolve('@changesets/cli/package.json');
const semver = createRequire(changesetsCli)('semver') as Semver;
const CHANGESET_BIN = join(changesetsCli, '..', 'bin.js');
const BUMPS = ['patch', 'minor', 'major'] as const;
const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'];

/** Every workspace package's manifest path under `root` (packages/*, tests/*, examples/*, fixtures/guests, bench). */
function workspaceManifests(root: string): string[] {
  const inDirs = ['packages', 'tests', 'examples'].flatMap((d) => readdirSync(join(root, d)).map((e) => join(root, d, e, 'package.json')));
  return [...inDirs, join(root, 'fixtures', 'guests', 'package.json'), join(root, 'bench', 'package.json')].filter((p) => existsSync(p));
}

/** The pending changesets of the working tree, parsed. */
function readChangesets(dir: string): Changeset[] {
  return readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md').map((file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const [, front = '', summary = ''] = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text) ?? [];
    const releases = new Map([...front.matchAll(/^"([^"]+)":\s*(major|minor|patch)\s*$/gm)].map((m) => [m[1] ?? '', m[2] as 'major' | 'minor' | 'patch']));
    return { file, releases, summary: summary.trim() };
  });
}

const readJson = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;
let copy: string;
const changesets = readChangesets(join(REPO_ROOT, '.changeset'));
const before = new Map<string, string>();

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'hyperlight-changeset-'));
  execSync(`git archive HEAD | tar -x -C ${JSON.stringify(copy)}`, { cwd: REPO_ROOT });
  rmSync(join(copy, '.changeset'), { recursive: true, force: true });
  cpSync(join(REPO_ROOT, '.changeset'), join(copy, '.changeset'), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(copy, 'node_modules'));
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=dry run', '-c', 'user.email=dry-run@localhost', ...args], { cwd: copy, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'copy');
  for (const path of workspaceManifests(copy)) before.set(relative(copy, path), readFileSync(path, 'utf8'));
  execFileSync(process.execPath, [CHANGESET_BIN, 'version'], { cwd: copy, stdio: 'pipe' });
});

afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

it('has changesets to version', () => {
  expect(changesets.length).toBeGreaterThan(0);
});

it('gives every publishable package the one version the changesets ask for', () => {
  const manifests = [...before.keys()].map((p) => readJson(join(copy, p))).filter((m) => !m.private);
  const oldVersion = readJson(join(REPO_ROOT, 'packages', 'core', 'package.json')).version;
  const asked = Math.max(...changesets.flatMap((c) => [...c.releases.values()].map((t) => BUMPS.indexOf(t))));
  // At 0.x only a changeset that says major may leave 0.x.
  const expected = semver.inc(oldVersion, BUMPS[asked] ?? 'patch');
  expect(new Set(manifests.map((m) => `${m.version}`))).toEqual(new Set([expected]));
  expect(manifests.map((m) => m.name).sort()).toContain('@hyperlight-ts/create-guest');
});

it('writes every changeset into the changelogs of its packages, and consumes it', () => {
  for (const path of before.keys()) {
    const manifest = readJson(join(copy, path));
    if (manifest.private) continue;
    const changelog = readFileSync(join(copy, path, '..', 'CHANGELOG.md'), 'utf8');
    expect(changelog).toContain(`## ${manifest.version}`);
    for (const c of changesets.filter((c) => c.releases.has(manifest.name))) {
      expect(changelog, `${c.file} in ${manifest.name}`).toContain(c.summary.split('\n')[0]);
    }
  }
  expect(readdirSync(join(copy, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md')).toEqual([]);
});

it('keeps internal ranges satisfiable by the new versions', () => {
  const manifests = [...before.keys()].map((p) => readJson(join(copy, p)));
  const versions = new Map(manifests.map((m) => [m.name, m.version]));
  for (const m of manifests.filter((m) => !m.private)) {
    for (const field of DEPENDENCY_FIELDS) {
      for (const [dep, spec] of Object.entries((m[field] ?? {}) as Record<string, string>)) {
        const version = versions.get(dep);
        if (version === undefined) continue;
        expect(spec, `${m.name} ${field}.${dep}`).toMatch(/^workspace:/);
        // pnpm publishes workspace:* as the version, workspace:^ / ~ as ^version / ~version, else the range.
        const range = spec.replace(/^workspace:/, '').replace(/^([*^~])$/, (s) => (s === '*' ? version : `${s}${version}`));
        expect(semver.satisfies(version, range), `${m.name} ${field}.${dep} ${spec} against ${version}`).toBe(true);
      }
    }
  }
});

it('leaves private packages alone', () => {
  for (const [path, text] of before) {
    if (!(JSON.parse(text) as Manifest).private) continue;
    expect(JSON.parse(readFileSync(join(copy, path), 'utf8')), path).toEqual(JSON.parse(text));
    expect(existsSync(join(copy, path, '..', 'CHANGELOG.md')), `${path} changelog`).toBe(false);
  }
});

it('lists every private workspace package in the changesets ignore list, and only those', () => {
  const config = JSON.parse(readFileSync(join(REPO_ROOT, '.changeset', 'config.json'), 'utf8')) as { ignore: string[]; fixed: string[][] };
  const manifests = workspaceManifests(REPO_ROOT).map(readJson);
  expect([...config.ignore].sort()).toEqual(manifests.filter((m) => m.private).map((m) => m.name).sort());
  expect(config.fixed).toHaveLength(1);
  expect([...(config.fixed[0] ?? [])].sort()).toEqual(manifests.filter((m) => !m.private).map((m) => m.name).sort());
});

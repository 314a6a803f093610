/**
 * tools/release.mjs: the publishing order, the refusal of unversioned
 * changesets, and a whole dry run (pack, then `npm publish --dry-run` of each
 * tarball) against a registry address where nothing listens, which proves
 * nothing is uploaded.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/paths.js';

interface ReleaseModule {
  publishOrder(packages: { name: string; manifest: Record<string, unknown> }[]): string[];
  pendingChangesets(root?: string): string[];
}
const RELEASE = join(REPO_ROOT, 'tools', 'release.mjs');
const { publishOrder, pendingChangesets } = (await import(pathToFileURL(RELEASE).href)) as ReleaseModule;

/** Runs the release script with npm pointed at a closed local port. */
function releaseScript(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [RELEASE, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, npm_config_registry: 'http://127.0.0.1:9/', npm_config_fetch_retries: '0', CI: '', ACTIONS_ID_TOKEN_REQUEST_URL: '' },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('publishOrder', () => {
  it('puts every package after the packages it depends on', () => {
    const manifest = (deps: Record<string, Record<string, string>>) => deps;
    const order = publishOrder([
      { name: 'b-kvm', manifest: manifest({ dependencies: { native: '1' }, peerDependencies: { core: '1' } }) },
      { name: 'core', manifest: manifest({ dependencies: { flatbuffers: '1' } }) },
      { name: 'native', manifest: manifest({ peerDependencies: { core: '1' } }) },
      { name: 'a-guest', manifest: manifest({ dependencies: { core: '1' } }) },
    ]);
    expect(order).toEqual(['core', 'a-guest', 'native', 'b-kvm']);
  });

  it('refuses a cycle', () => {
    expect(() => publishOrder([{ name: 'a', manifest: { dependencies: { b: '1' } } }, { name: 'b', manifest: { dependencies: { a: '1' } } }])).toThrow(/cycle/);
  });
});

it('refuses to release while changesets are not versioned', () => {
  // The repository always has pending changesets between releases; this
  // check is meaningless right after `pnpm version-packages`.
  if (pendingChangesets().length === 0) return;
  const { status, output } = releaseScript('--dry-run', '--skip-build', '--skip-tests', '--allow-dirty');
  expect(status).toBe(1);
  expect(output).toMatch(/changeset\(s\) are not versioned yet/);
  expect(output).not.toMatch(/publishing/);
});

it('refuses a real publish without a provenance token', () => {
  const { status, output } = releaseScript('--skip-build', '--skip-tests', '--allow-dirty', '--allow-pending');
  expect(status).toBe(1);
  expect(output).toMatch(/needs provenance/);
});

it('dry-runs the whole release in dependency order and uploads nothing', () => {
  const { status, output } = releaseScript('--dry-run', '--skip-build', '--skip-tests', '--allow-dirty', '--allow-pending');
  expect(status, output).toBe(0);
  const published = [...output.matchAll(/^release: publishing (\S+)@/gm)].map((m) => m[1] ?? '');
  expect(published).toHaveLength(10);
  const before = (a: string, b: string) => expect(published.indexOf(a), `${a} before ${b}`).toBeLessThan(published.indexOf(b));
  for (const backend of ['@hyperlight-ts/backend-kvm', '@hyperlight-ts/backend-mshv', '@hyperlight-ts/backend-whp']) before('@hyperlight-ts/core', backend);
  before('@hyperlight-ts/native-linux', '@hyperlight-ts/backend-kvm');
  before('@hyperlight-ts/native-linux', '@hyperlight-ts/backend-mshv');
  before('@hyperlight-ts/guest-rs', '@hyperlight-ts/guest-c');
  before('@hyperlight-ts/tracing', '@hyperlight-ts/trace-dump');
  // Every tarball went through npm's own (dry-run) publish, to the unreachable registry.
  expect(output.match(/^\+ @hyperlight-ts\/\S+@/gm) ?? []).toHaveLength(10);
  expect(output).toMatch(/Publishing to http:\/\/127\.0\.0\.1:9\/ .*\(dry-run\)/);
  expect(output).toMatch(/dry run complete, nothing uploaded/);
});

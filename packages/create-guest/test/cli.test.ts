// The built command (bin/create-guest.mjs -> dist/cli.js), as npm/pnpm create run it.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/create-guest.mjs', import.meta.url));

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'create-guest-cli-'));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

/** Runs the command in `cwd` as `pnpm create` would. */
function createGuest(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, npm_config_user_agent: 'pnpm/10.34.9 npm/? node/v20.19.0 linux x64' };
  return spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: 'utf8' });
}

describe('create-guest', () => {
  it('creates a project and prints the next steps with the invoking package manager', async () => {
    const { status, stdout } = createGuest('hello', '--lang', 'c');
    expect(status).toBe(0);
    expect(stdout).toContain('Created hello, a C guest and its Node.js app, in hello:\n  package.json\n');
    expect(stdout).toMatch(/Next:\n {2}cd hello\n {2}pnpm install\n {2}pnpm build\n {2}pnpm start\n$/);
    expect((await readdir(join(cwd, 'hello'))).sort()).toEqual(['.gitignore', 'README.md', 'guest', 'index.mjs', 'package.json']);
  });

  it('prints the help', () => {
    const { status, stdout } = createGuest('--help');
    expect(status).toBe(0);
    expect(stdout).toMatch(/^usage: create-guest <dir>/);
  });

  it('exits 2 with the usage for a bad command line', () => {
    const { status, stderr } = createGuest();
    expect(status).toBe(2);
    expect(stderr).toContain('create-guest: name the project directory');
    expect(stderr).toContain('usage: create-guest');
  });

  it('exits 1 for a non-empty directory or a bad name', () => {
    createGuest('taken');
    const taken = createGuest('taken', '--lang', 'c');
    expect(taken.status).toBe(1);
    expect(taken.stderr).toMatch(/^create-guest: .*taken is not empty/);
    const badName = createGuest('Bad Name');
    expect(badName.status).toBe(1);
    expect(badName.stderr).toContain('pass --name <npm-name>');
  });
});

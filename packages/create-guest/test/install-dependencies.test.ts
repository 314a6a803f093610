import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { installDependencies } from '../src/install-dependencies.js';
import type { PackageManager } from '../src/package-manager.js';

/** A stand-in package manager whose "install" is `node -e <script>`. */
const fake = (script: string): PackageManager => ({ name: 'npm', installArgs: [process.execPath, '-e', script], runBuild: '', runStart: '' });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'create-guest-install-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('installDependencies', () => {
  it('runs the install in the project directory', async () => {
    await installDependencies(dir, fake('require("fs").writeFileSync("installed", process.cwd())'));
    expect(await readFile(join(dir, 'installed'), 'utf8')).toBe(dir);
  });

  it('fails with the exit status', async () => {
    await expect(installDependencies(dir, fake('process.exit(3)'))).rejects.toMatchObject({
      reason: 'install-failed',
      message: expect.stringContaining('failed (exit status 3)'),
    });
  });

  it('fails when the package manager cannot start', async () => {
    const missing: PackageManager = { name: 'bun', installArgs: ['/nonexistent/bun', 'install'], runBuild: '', runStart: '' };
    await expect(installDependencies(dir, missing)).rejects.toMatchObject({
      reason: 'install-failed',
      message: expect.stringContaining('cannot run `/nonexistent/bun install`'),
    });
  });
});

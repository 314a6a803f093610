import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createGuestProject } from '../src/create-guest-project.js';
import { ownPackage } from '../src/own-package.js';
import { detectPackageManager } from '../src/package-manager.js';
import { PLACEHOLDER } from '../src/render-template.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'create-guest-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const npm = detectPackageManager(undefined);
const pnpm = detectPackageManager('pnpm/10.34.9 npm/? node/v20.19.0 linux x64');

describe('createGuestProject', () => {
  it('writes a Rust project and lists its files', async () => {
    const project = await createGuestProject({ dir: join(root, 'rs'), name: '@me/my.guest', language: 'rust', packageManager: npm });
    expect(project).toEqual({
      dir: join(root, 'rs'),
      files: ['package.json', '.gitignore', 'index.mjs', 'README.md', 'guest/Cargo.toml', 'guest/src/main.rs'],
    });
    const cargo = await readFile(join(project.dir, 'guest/Cargo.toml'), 'utf8');
    expect(cargo).toContain('name = "my-guest"');
    expect(cargo).toContain('hyperlight-guest = { path = "../node_modules/@hyperlight-ts/guest-rs/crates/hyperlight-guest" }');
    expect(await readFile(join(project.dir, 'guest/src/main.rs'), 'utf8')).toContain('#[guest_function("Greet")]');
  });

  it('writes a C project', async () => {
    const project = await createGuestProject({ dir: join(root, 'c'), name: 'cg', language: 'c', packageManager: npm });
    expect(project.files).toEqual(['package.json', '.gitignore', 'index.mjs', 'README.md', 'guest/main.c']);
    expect(await readFile(join(project.dir, 'guest/main.c'), 'utf8')).toContain('hl_register_function("Greet", greet');
  });

  it.each(['rust', 'c'] as const)('fills in every placeholder of a %s project', async (language) => {
    const project = await createGuestProject({ dir: join(root, `all-${language}`), name: 'all', language, packageManager: pnpm });
    for (const file of project.files) {
      const text = await readFile(join(project.dir, file), 'utf8');
      expect(text.match(PLACEHOLDER), file).toBeNull();
    }
    const readme = await readFile(join(project.dir, 'README.md'), 'utf8');
    expect(readme).toContain(language === 'rust' ? '### The Rust guest' : '### The C guest');
    expect(readme).toContain('pnpm install\npnpm build');
    expect(await readFile(join(project.dir, 'index.mjs'), 'utf8')).toContain('build the guest first (pnpm build)');
  });

  it('writes the package.json of the contract', async () => {
    const { version, nodeRange } = ownPackage();
    const project = await createGuestProject({ dir: join(root, 'manifest'), name: 'm', language: 'c', packageManager: npm });
    const manifest = JSON.parse(await readFile(join(project.dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      name: 'm',
      private: true,
      type: 'module',
      scripts: { build: expect.stringContaining('hyperlight-build-c-guest'), start: 'node index.mjs' },
      dependencies: { '@hyperlight-ts/core': `^${version}`, '@hyperlight-ts/backend-kvm': `^${version}` },
      devDependencies: { '@hyperlight-ts/guest-c': `^${version}` },
      engines: { node: nodeRange },
    });
  });

  it('uses an existing empty directory', async () => {
    await mkdir(join(root, 'empty'));
    await expect(createGuestProject({ dir: join(root, 'empty'), name: 'e', language: 'rust', packageManager: npm })).resolves.toBeDefined();
  });

  it('refuses a directory with something in it, or a file, and writes nothing', async () => {
    await mkdir(join(root, 'full'));
    await writeFile(join(root, 'full', 'keep.txt'), 'mine');
    await expect(createGuestProject({ dir: join(root, 'full'), name: 'f', language: 'rust', packageManager: npm })).rejects.toMatchObject({
      reason: 'target-not-empty',
      message: `${join(root, 'full')} is not empty (it has 1 entries); choose a new or empty directory`,
    });
    await expect(readFile(join(root, 'full', 'package.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(createGuestProject({ dir: join(root, 'full', 'keep.txt'), name: 'f', language: 'c', packageManager: npm })).rejects.toMatchObject({
      reason: 'target-not-empty',
    });
  });
});

/**
 * A generated project wired to the workspace's packages, as pnpm would wire
 * an installed one: node_modules/@hyperlight-ts/* are symlinks to the
 * workspace packages and node_modules/.bin has their bins. It lives in
 * `.work/` inside this package (gitignored), not under /tmp: the nested-KVM
 * VM shares the host's tree but has a /tmp of its own.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, realpath, rm, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { createGuestProject, type CreatedGuestProject } from '../../src/create-guest-project.js';
import type { GuestLanguage } from '../../src/guest-language.js';
import { detectPackageManager } from '../../src/package-manager.js';

/** The gitignored directory the tests create projects in. */
export const WORK_DIR = fileURLToPath(new URL('../../.work/', import.meta.url));

const requireHere = createRequire(import.meta.url);
const run = promisify(execFile);

/** Where the workspace package `name` is (this package's devDependencies link them all). */
async function workspacePackage(name: string): Promise<{ dir: string; bin: Record<string, string> }> {
  const dir = await realpath(dirname(requireHere.resolve(`${name}/package.json`)));
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  return { dir, bin: manifest.bin ?? {} };
}

/**
 * Creates project `name` in {@link WORK_DIR} (replacing an old one) and links
 * the packages its package.json asks for to the workspace's.
 *
 * @param name - the project's directory and package name
 * @param language - the guest language
 * @returns the created project
 */
export async function createLinkedProject(name: string, language: GuestLanguage): Promise<CreatedGuestProject> {
  const dir = join(WORK_DIR, name);
  await rm(dir, { recursive: true, force: true });
  const project = await createGuestProject({ dir, name, language, packageManager: detectPackageManager('npm/11 node/v20') });
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
  const names = [...Object.keys(manifest['dependencies'] ?? {}), ...Object.keys(manifest['devDependencies'] ?? {})];
  await mkdir(join(dir, 'node_modules', '@hyperlight-ts'), { recursive: true });
  await mkdir(join(dir, 'node_modules', '.bin'));
  for (const pkgName of names) {
    const pkg = await workspacePackage(pkgName);
    const link = join(dir, 'node_modules', pkgName);
    await symlink(relative(dirname(link), pkg.dir), link, 'dir');
    for (const [bin, target] of Object.entries(pkg.bin)) {
      await symlink(join('..', pkgName, target), join(dir, 'node_modules', '.bin', bin));
    }
  }
  return project;
}

/**
 * The environment for scripts: rustup's `~/.cargo/bin` is put on `PATH` when it is not there,
 * as a login shell would (the nested-KVM VM starts its commands with a bare `PATH`).
 */
function scriptEnv(): NodeJS.ProcessEnv {
  const cargoBin = join(process.env['CARGO_HOME'] ?? join(homedir(), '.cargo'), 'bin');
  const path = process.env['PATH'] ?? '';
  const onPath = path.split(delimiter).includes(cargoBin);
  return onPath || !existsSync(cargoBin) ? process.env : { ...process.env, PATH: `${path}${delimiter}${cargoBin}` };
}

/**
 * Runs a script of a project the way a user does (`npm run <script>`).
 *
 * @param dir - the project directory
 * @param script - `build` or `start`
 * @returns its stdout and stderr
 * @throws the child process error (with `stdout`/`stderr`) when it fails
 */
export async function runScript(dir: string, script: string): Promise<{ stdout: string; stderr: string }> {
  return run('npm', ['run', '--silent', script], { cwd: dir, env: scriptEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/**
 * {@link createLinkedProject} and its `build` script.
 *
 * @returns the project and the build's duration
 */
export async function createAndBuild(name: string, language: GuestLanguage): Promise<{ project: CreatedGuestProject; buildMs: number }> {
  const project = await createLinkedProject(name, language);
  const started = performance.now();
  await runScript(project.dir, 'build');
  return { project, buildMs: performance.now() - started };
}

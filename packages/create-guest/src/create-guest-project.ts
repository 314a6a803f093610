/**
 * Writes a new guest project: the templates of its language, rendered, plus
 * its package.json. Never touches a directory that already has something in it.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

import { CreateGuestError } from './create-guest-error.js';
import type { GuestLanguage } from './guest-language.js';
import { ownPackage } from './own-package.js';
import type { PackageManager } from './package-manager.js';
import { projectManifest } from './project-manifest.js';
import { projectValues } from './project-values.js';
import { renderTemplate } from './render-template.js';
import { templateFiles } from './template-files.js';

/** What {@link createGuestProject} creates. */
export interface CreateGuestProjectOptions {
  /** The project directory: created, or an existing empty one. */
  readonly dir: string;
  /** The project's npm package name (already validated). */
  readonly name: string;
  /** The guest language. */
  readonly language: GuestLanguage;
  /** The package manager whose commands the README shows. */
  readonly packageManager: PackageManager;
}

/** A created project. */
export interface CreatedGuestProject {
  /** The project directory, absolute. */
  readonly dir: string;
  /** The files written, relative to `dir`, with `/` separators. */
  readonly files: readonly string[];
}

/**
 * @throws {@link CreateGuestError} `target-not-empty` when `dir` is a file or a non-empty directory
 */
async function requireEmptyTarget(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined) return;
  if (!info.isDirectory()) throw new CreateGuestError('target-not-empty', `${dir} exists and is not a directory; choose another name`);
  const entries = await readdir(dir);
  if (entries.length > 0) {
    throw new CreateGuestError('target-not-empty', `${dir} is not empty (it has ${entries.length} entries); choose a new or empty directory`);
  }
}

/**
 * Creates a guest project in `options.dir`: package.json, index.mjs, README.md,
 * .gitignore and the guest's sources. Installs nothing.
 *
 * @param options - see {@link CreateGuestProjectOptions}
 * @returns the directory and the files written
 * @throws {@link CreateGuestError} `target-not-empty` when the directory has something in it
 * @example
 * await createGuestProject({ dir: 'my-guest', name: 'my-guest', language: 'c', packageManager: detectPackageManager(undefined) });
 */
export async function createGuestProject(options: CreateGuestProjectOptions): Promise<CreatedGuestProject> {
  const dir = resolve(options.dir);
  await requireEmptyTarget(dir);
  const own = ownPackage();
  const values = await projectValues({ name: options.name, language: options.language, packageManager: options.packageManager, own });
  const rendered = await Promise.all(
    (await templateFiles(options.language)).map(async ({ source, target }) => ({
      target,
      text: renderTemplate(await readFile(source, 'utf8'), values, source),
    })),
  );
  const manifest = projectManifest({ name: options.name, language: options.language, own });
  const files = [{ target: 'package.json', text: `${JSON.stringify(manifest, null, 2)}\n` }, ...rendered];
  for (const { target, text } of files) {
    const path = join(dir, target);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text, { flag: 'wx' });
  }
  return { dir, files: files.map((f) => f.target) };
}

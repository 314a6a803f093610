/**
 * Where the templates are. `templates/common/` and `templates/<language>/` are
 * file trees copied into the project (through {@link renderTemplate});
 * `templates/fragments/<language>.md` is the language's section of the
 * README. A file named `gitignore` becomes `.gitignore`: npm leaves
 * `.gitignore` files out of published packages.
 */
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

import type { GuestLanguage } from './guest-language.js';
import { PACKAGE_ROOT } from './own-package.js';

/** The templates directory of this package. */
export const TEMPLATES_DIR = join(PACKAGE_ROOT, 'templates');

/** One file to write into a new project. */
export interface TemplateFile {
  /** Absolute path of the template. */
  readonly source: string;
  /** Path in the project, relative, with `/` separators. */
  readonly target: string;
}

/** Files under `dir`, recursively, as absolute paths. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/**
 * @param language - the guest language
 * @returns the project's files, common ones first, each list sorted by target path
 */
export async function templateFiles(language: GuestLanguage): Promise<TemplateFile[]> {
  const trees = [join(TEMPLATES_DIR, 'common'), join(TEMPLATES_DIR, language)];
  const lists = await Promise.all(
    trees.map(async (tree) =>
      (await filesUnder(tree))
        .map((source) => ({ source, target: relative(tree, source).split(sep).join('/').replace(/(^|\/)gitignore$/, '$1.gitignore') }))
        .sort((a, b) => a.target.localeCompare(b.target)),
    ),
  );
  return lists.flat();
}

/**
 * @param language - the guest language
 * @returns the path of the language's README section
 */
export function readmeFragment(language: GuestLanguage): string {
  return join(TEMPLATES_DIR, 'fragments', `${language}.md`);
}

/** The values of the templates' placeholders for one project. */
import { readFile } from 'node:fs/promises';

import { GUEST_LANGUAGES, type GuestLanguage } from './guest-language.js';
import type { OwnPackage } from './own-package.js';
import type { PackageManager } from './package-manager.js';
import { crateName } from './package-name.js';
import { readmeFragment } from './template-files.js';

/** The project a set of placeholder values is for. */
export interface ProjectValuesOptions {
  /** The project's npm package name. */
  readonly name: string;
  /** The guest language. */
  readonly language: GuestLanguage;
  /** The package manager whose commands the README and comments show. */
  readonly packageManager: PackageManager;
  /** This package's version and Node range. */
  readonly own: OwnPackage;
}

const REPOSITORY_URL = 'https://github.com/hyperlight-ts/hyperlight-ts';

/**
 * @param options - see {@link ProjectValuesOptions}
 * @returns every placeholder's value: `name`, `crateName`, `languageName`, `guestSource`,
 *   `guestPackage`, `guestPackageUrl`, `buildScript`, `toolchain`, `nodeVersion`, `install`,
 *   `runBuild`, `runStart` and `guestGuide` (the language's README section)
 */
export async function projectValues(options: ProjectValuesOptions): Promise<Record<string, string>> {
  const language = GUEST_LANGUAGES[options.language];
  const pm = options.packageManager;
  const values: Record<string, string> = {
    name: options.name,
    crateName: crateName(options.name),
    languageName: language.displayName,
    guestSource: language.guestSource,
    guestPackage: language.guestPackage,
    guestPackageUrl: `${REPOSITORY_URL}/tree/main/packages/${language.guestPackage.replace('@hyperlight-ts/', '')}#readme`,
    buildScript: language.buildScript,
    toolchain: language.toolchain,
    nodeVersion: options.own.nodeRange,
    install: pm.installArgs.join(' '),
    runBuild: pm.runBuild,
    runStart: pm.runStart,
  };
  values['guestGuide'] = (await readFile(readmeFragment(options.language), 'utf8')).trimEnd();
  return values;
}

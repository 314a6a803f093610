/** The command line of `create-guest`, checked and turned into what to create. */
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { CreateGuestError } from './create-guest-error.js';
import { DEFAULT_GUEST_LANGUAGE, GUEST_LANGUAGES, isGuestLanguage, type GuestLanguage } from './guest-language.js';
import { packageNameProblem } from './package-name.js';

/** The help text. */
export const USAGE = `usage: create-guest <dir> [--lang ${Object.keys(GUEST_LANGUAGES).join('|')}] [--name <npm-name>] [--install]
       npm create @hyperlight-ts/guest <dir> -- [options]
       pnpm create @hyperlight-ts/guest <dir> [options]

Starts a hyperlight-ts guest project in <dir> (new, or empty): the guest's
sources, a Node.js app (index.mjs) that runs it in a micro VM, a package.json
with "build" and "start" scripts, a README and a .gitignore.

  --lang <lang>      the guest's language: rust (default) or c
  --name <npm-name>  the project's package name (default: the name of <dir>)
  --install          install the dependencies with the package manager that
                     ran this command (npm, pnpm, yarn or bun)
  -h, --help         show this help`;

/** A checked command line that asks for a project. */
export interface CreateGuestArgs {
  /** The project directory, absolute. */
  readonly dir: string;
  /** The project's npm package name. */
  readonly name: string;
  /** The guest language. */
  readonly language: GuestLanguage;
  /** Whether to install the dependencies afterwards. */
  readonly install: boolean;
}

/**
 * @param argv - the arguments after the program name
 * @param cwd - the directory `<dir>` is relative to
 * @returns `'help'` for `--help`, else what to create
 * @throws {@link CreateGuestError} `usage` for an unknown option, a missing or extra directory or
 *   an unknown language; `bad-name` when the name (given, or taken from `<dir>`) is not a valid
 *   npm package name
 * @example
 * parseCreateGuestArgs(['my-guest', '--lang', 'c'], process.cwd()); // { dir: '/…/my-guest', name: 'my-guest', language: 'c', install: false }
 */
export function parseCreateGuestArgs(argv: readonly string[], cwd: string): CreateGuestArgs | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        lang: { type: 'string' },
        name: { type: 'string' },
        install: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new CreateGuestError('usage', (error as Error).message, { cause: error });
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length !== 1 || positionals[0] === '') {
    throw new CreateGuestError('usage', positionals.length === 0 ? 'name the project directory: create-guest <dir>' : `one project directory, please (got ${positionals.join(', ')})`);
  }
  const dir = resolve(cwd, positionals[0] ?? '');
  const language = values.lang ?? DEFAULT_GUEST_LANGUAGE;
  if (!isGuestLanguage(language)) {
    throw new CreateGuestError('usage', `unknown language "${language}" (--lang takes ${Object.keys(GUEST_LANGUAGES).join(' or ')})`);
  }
  const name = values.name ?? basename(dir);
  const problem = packageNameProblem(name);
  if (problem !== undefined) {
    throw new CreateGuestError(
      'bad-name',
      `"${name}" is not a valid npm package name: ${problem}${values.name === undefined ? '; pass --name <npm-name>' : ''}`,
    );
  }
  return { dir, name, language, install: values.install };
}

/**
 * `create-guest <dir> [--lang rust|c] [--name <npm-name>] [--install]`: starts
 * a guest project and prints the next steps. Exit status 0 on success, 1 when
 * creating or installing failed, 2 for a bad command line.
 */
import { relative } from 'node:path';

import { createGuestProject } from './create-guest-project.js';
import { CreateGuestError } from './create-guest-error.js';
import { GUEST_LANGUAGES } from './guest-language.js';
import { installDependencies } from './install-dependencies.js';
import { detectPackageManager } from './package-manager.js';
import { parseCreateGuestArgs, USAGE } from './parse-args.js';

/** Runs the command; returns the exit status. */
async function main(): Promise<number> {
  const packageManager = detectPackageManager(process.env['npm_config_user_agent']);
  try {
    const args = parseCreateGuestArgs(process.argv.slice(2), process.cwd());
    if (args === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const project = await createGuestProject({ dir: args.dir, name: args.name, language: args.language, packageManager });
    const shownDir = relative(process.cwd(), project.dir) || '.';
    process.stdout.write(
      `Created ${args.name}, a ${GUEST_LANGUAGES[args.language].displayName} guest and its Node.js app, in ${shownDir}:\n` +
        project.files.map((f) => `  ${f}\n`).join(''),
    );
    if (args.install) await installDependencies(project.dir, packageManager);
    const steps = [...(shownDir === '.' ? [] : [`cd ${shownDir}`]), ...(args.install ? [] : [packageManager.installArgs.join(' ')]), packageManager.runBuild, packageManager.runStart];
    process.stdout.write(`\nNext:\n${steps.map((s) => `  ${s}\n`).join('')}`);
    return 0;
  } catch (error) {
    if (!(error instanceof CreateGuestError)) throw error;
    process.stderr.write(`create-guest: ${error.message}\n`);
    if (error.reason === 'usage') process.stderr.write(`\n${USAGE}\n`);
    return error.reason === 'usage' ? 2 : 1;
  }
}

void main().then((code) => {
  process.exitCode = code;
});

/** `--install`: runs the package manager's install in the new project. */
import { spawn } from 'node:child_process';

import { CreateGuestError } from './create-guest-error.js';
import type { PackageManager } from './package-manager.js';

/**
 * Runs `packageManager`'s install in `dir`, its output going to this process's.
 *
 * @param dir - the project directory
 * @param packageManager - the package manager to run
 * @throws {@link CreateGuestError} `install-failed` when it cannot start or exits non-zero
 */
export async function installDependencies(dir: string, packageManager: PackageManager): Promise<void> {
  const [command = '', ...args] = packageManager.installArgs;
  const shown = packageManager.installArgs.join(' ');
  const code = await new Promise<number>((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: dir, stdio: 'inherit' });
    child.on('error', (error) => reject(new CreateGuestError('install-failed', `cannot run \`${shown}\`: ${error.message}`, { cause: error })));
    child.on('close', (exitCode, signal) => resolvePromise(exitCode ?? (signal ? 128 : 1)));
  });
  if (code !== 0) throw new CreateGuestError('install-failed', `\`${shown}\` failed (exit status ${code}) in ${dir}`);
}

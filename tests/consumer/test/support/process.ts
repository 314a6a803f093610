/** Runs the package managers, builds and programs of the consumer apps. */
import { spawnSync } from 'node:child_process';
import { delimiter } from 'node:path';
import { REPO_ROOT } from './paths.js';

/** What a finished command left. */
export interface RunResult { readonly status: number | null; readonly stdout: string; readonly stderr: string }

/**
 * The environment an app's user would have: this process's, without what the
 * workspace's `pnpm run` and pnpm's bin shims add (npm_* and pnpm variables,
 * `NODE_PATH` with the workspace's hoisted packages, the workspace's
 * `node_modules/.bin` on PATH), so nothing of the workspace leaks into an app.
 */
export function userEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_)/i.test(key) || key === 'NODE_OPTIONS' || key === 'NODE_PATH' || key.startsWith('VITEST')) continue;
    env[key] = value;
  }
  env['PATH'] = (process.env['PATH'] ?? '').split(delimiter).filter((dir) => !dir.startsWith(REPO_ROOT)).join(delimiter);
  return { ...env, ...extra };
}

/** Runs `command` in `cwd` with {@link userEnv}; never throws for a failing command. */
export function run(command: string, args: readonly string[], cwd: string, extraEnv?: Readonly<Record<string, string>>): RunResult {
  const result = spawnSync(command, args, { cwd, env: userEnv(extraEnv), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs `command` like {@link run}.
 * @returns its standard output
 * @throws Error with the command, its exit status and its output when it fails
 */
export function runOk(command: string, args: readonly string[], cwd: string, extraEnv?: Readonly<Record<string, string>>): string {
  const result = run(command, args, cwd, extraEnv);
  if (result.status !== 0) {
    throw new Error(`\`${[command, ...args].join(' ')}\` in ${cwd} exited with ${result.status}\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

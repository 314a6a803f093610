/** Running build commands: output shown as it comes, failures with the command line and exit code. */
import { spawn } from 'node:child_process';

/**
 * Runs `command args` in `cwd` with `env` added to this process's environment
 * (a value of undefined removes the variable). Output goes to this process's
 * stderr, so `pnpm build` shows compiler warnings.
 * @returns the captured stdout when `capture` is set, else ''
 * @throws Error naming the command when it cannot start or exits non-zero
 */
export function run(command, args, { cwd, env = {}, capture = false } = {}) {
  const merged = { ...process.env };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: merged, stdio: ['ignore', capture ? 'pipe' : process.stderr, process.stderr] });
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.on('error', (e) => reject(new Error(`cannot run ${command}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${[command, ...args].join(' ')} (in ${cwd ?? process.cwd()}) failed: ${signal ?? `exit ${code}`}`));
    });
  });
}

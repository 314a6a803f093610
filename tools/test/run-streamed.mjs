// Runs one command with its output streamed live to this process's stdout and stderr, hands each
// line to a callback, and can stop it when it runs too long or goes silent.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** How long a stopped command gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 10_000;

/**
 * How a command ended.
 * @typedef {{ status: number, stalled: string | null, durationMs: number }} StreamedResult
 *   `status` is the exit status (128 + signal number when a signal ended it); `stalled` says
 *   which limit stopped it, or is null when it ended by itself
 */

/** The command running now, so that Ctrl-C in tools/test.mjs can stop it. */
let running = null;

/**
 * Runs `command` in its own process group (so that a stop ends every process it started).
 * @param {string} command
 * @param {readonly string[]} args
 * @param {object} options
 * @param {string} options.cwd
 * @param {NodeJS.ProcessEnv} options.env
 * @param {(line: string) => void} options.onLine gets every line of stdout and stderr
 * @param {number} [options.timeoutMs] stop the command after this long
 * @param {number} [options.idleMs] stop the command after this long without output
 * @returns {Promise<StreamedResult>} never rejects: a command that cannot start has status 127
 */
export function runStreamed(command, args, { cwd, env, onLine, timeoutMs, idleMs }) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running = child;
    let stalled = null;
    let idleTimer = null;
    const stop = (reason) => {
      if (stalled) return;
      stalled = reason;
      killGroup(child, 'SIGTERM');
      setTimeout(() => killGroup(child, 'SIGKILL'), KILL_GRACE_MS).unref();
    };
    const armIdle = () => {
      if (!idleMs) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => stop(`no output for ${Math.round(idleMs / 1000)} s`), idleMs);
    };
    const totalTimer = timeoutMs ? setTimeout(() => stop(`still running after ${Math.round(timeoutMs / 1000)} s`), timeoutMs) : null;
    armIdle();

    for (const [stream, sink] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        sink.write(chunk);
        armIdle();
        const lines = (partial + chunk).split('\n');
        partial = lines.pop();
        for (const line of lines) onLine(line);
      });
      stream.on('end', () => {
        if (partial) onLine(partial);
      });
    }

    const finish = (status) => {
      clearTimeout(idleTimer);
      clearTimeout(totalTimer);
      running = null;
      resolve({ status, stalled, durationMs: Date.now() - started });
    };
    child.on('error', (error) => {
      process.stderr.write(`cannot run ${command}: ${error.message}\n`);
      finish(127);
    });
    child.on('close', (code, signal) => finish(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
}

/**
 * Stops the command that {@link runStreamed} is running, if any (for Ctrl-C).
 * @param {NodeJS.Signals} signal
 * @returns {void}
 */
export function stopRunning(signal) {
  if (running) killGroup(running, signal);
}

function killGroup(child, signal) {
  try {
    // A negative pid signals the whole process group the detached child leads.
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}


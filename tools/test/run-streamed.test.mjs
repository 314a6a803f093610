import { expect, test } from 'vitest';
import { runStreamed } from './run-streamed.mjs';

const run = (script, limits = {}) => {
  const lines = [];
  const result = runStreamed('sh', ['-c', script], { cwd: process.cwd(), env: process.env, onLine: (line) => lines.push(line), ...limits });
  return result.then((r) => ({ ...r, lines }));
};

test('hands every line of stdout and stderr to onLine, a last unterminated one too, and returns the exit status', async () => {
  const result = await run('echo one; echo two >&2; printf three; exit 3');
  expect(result).toMatchObject({ status: 3, stalled: null });
  expect(result.lines.sort()).toEqual(['one', 'three', 'two']);
});

test('stops a silent command, with everything it started, after idleMs', async () => {
  // The background sleep holds the output pipe: only killing the whole group ends the run.
  const result = await run('echo started; sleep 30 & sleep 30', { idleMs: 300 });
  expect(result.stalled).toBe('no output for 0 s');
  expect(result.status).toBe(128 + 15);
  expect(result.durationMs).toBeLessThan(5000);
});

test('stops a command that talks but runs past timeoutMs', async () => {
  const result = await run('while :; do echo tick; sleep 0.05; done', { idleMs: 10_000, timeoutMs: 500 });
  expect(result.stalled).toBe('still running after 1 s');
  expect(result.lines.length).toBeGreaterThan(2);
});

test('a command that cannot start has status 127', async () => {
  const result = await runStreamed('/nonexistent/command', [], { cwd: process.cwd(), env: process.env, onLine: () => {} });
  expect(result).toMatchObject({ status: 127, stalled: null });
});
